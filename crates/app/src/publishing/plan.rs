//! The plan of a post: every account of its groups with the time it is expected to
//! publish, and who is left out and why. Computed before anything is written, so the
//! composer can preview it and publishing can write exactly what was shown.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use icf_core::enums::{ExecutionStatus, PostStatus};
use icf_core::ids::{AccountId, GroupId, PostId};
use icf_core::pacing::{AccountPacing, Exclusion, SpacingScope, plan};
use icf_store::executions::{Candidate, ExecutionView};
use serde::Serialize;

use crate::{App, AppError, AppResult};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanItem {
    pub account_id: AccountId,
    pub username: String,
    pub language: String,
    /// When this account is expected to publish (UTC).
    pub eta: DateTime<Utc>,
    /// What the time waits for: none, cooldown, same_account_gap, daily_limit, spacing,
    /// active_hours (the group's posting window), planned.
    pub waits_for: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub account_id: AccountId,
    pub username: String,
    /// banned, login_required, proxy_error, no_proxy, no_quota, already_planned.
    pub reason: String,
}

/// The plan: every account with its expected time, the last one, and who is left out.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanResponse {
    pub post_id: PostId,
    pub status: PostStatus,
    pub items: Vec<PlanItem>,
    pub last_eta: Option<DateTime<Utc>>,
    pub excluded: Vec<Skipped>,
    /// Executions created by this call (0 when publishing again).
    pub created: usize,
}

fn reason(e: Exclusion) -> &'static str {
    match e {
        Exclusion::Banned => "banned",
        Exclusion::LoginRequired => "login_required",
        Exclusion::ProxyError => "proxy_error",
        Exclusion::NoQuota => "no_quota",
    }
}

/// A plan before it is written: the new accounts with their times, those left out, and
/// the executions an earlier publish already made.
pub(crate) struct Computed {
    /// Each new account, its expected time and what that time waits for.
    pub(crate) items: Vec<(Candidate, DateTime<Utc>, String)>,
    pub(crate) excluded: Vec<Skipped>,
    /// The post's executions before this plan.
    pub(crate) existing: Vec<ExecutionView>,
}

/// Plans the accounts of the post's groups that have no execution of it yet.
pub(crate) async fn compute(
    app: &App,
    post_id: PostId,
    groups: &[GroupId],
    start: DateTime<Utc>,
) -> AppResult<Computed> {
    let now = Utc::now();
    let candidates = icf_store::executions::candidates(&app.db, groups, now).await?;
    let before = icf_store::executions::list(&app.db, post_id).await?;
    let existing: HashSet<AccountId> = before.iter().map(|e| e.account_id).collect();
    let mut excluded = Vec::new();
    let mut plannable = Vec::new();
    for c in candidates {
        if existing.contains(&c.id) {
            continue;
        }
        if !c.has_proxy {
            excluded.push(Skipped {
                account_id: c.id,
                username: c.username.clone(),
                reason: "no_proxy".into(),
            });
            continue;
        }
        plannable.push(c);
    }
    let pacing: Vec<AccountPacing> = plannable
        .iter()
        .map(|c| AccountPacing {
            id: c.id,
            status: c.status,
            cooldown_until: c.cooldown_until,
            age_days: c.age_days,
            posts_limit_per_day: c.posts_limit_per_day,
            busy: c.busy.clone(),
            active_hours: c.active_hours,
            utc_offset: c.utc_offset,
        })
        .collect();
    // A global scope spaces this post after every publish already planned.
    let after_previous = match app.pacing.scope {
        SpacingScope::Global => icf_store::executions::latest_planned(&app.db).await?,
        SpacingScope::Post => None,
    };
    let the_plan = plan(
        &app.pacing,
        &pacing,
        start.max(now),
        after_previous,
        icf_core::pacing::order_seed(post_id),
        &mut rand::rng(),
    );
    // By id: a plan of 10,000 accounts must not search 10,000 for each.
    let by_id: HashMap<AccountId, &Candidate> = plannable.iter().map(|c| (c.id, c)).collect();
    for (id, why) in &the_plan.excluded {
        if let Some(c) = by_id.get(id) {
            excluded.push(Skipped {
                account_id: *id,
                username: c.username.clone(),
                reason: reason(*why).into(),
            });
        }
    }
    let mut items = Vec::with_capacity(the_plan.slots.len());
    for slot in the_plan.slots {
        if let Some(c) = by_id.get(&slot.account_id) {
            // The wait's wire name (`same_account_gap`…), as the API has always shown it.
            let wait = serde_json::to_value(slot.waits_for)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            items.push(((*c).clone(), slot.eta, wait));
        }
    }
    Ok(Computed {
        items,
        excluded,
        existing: before,
    })
}

/// The answer: the plan just computed plus what earlier publishes planned (read from
/// the executions already loaded: a post to 10,000 accounts is not read back).
pub(crate) fn response(
    post_id: PostId,
    status: PostStatus,
    computed: Computed,
    created: usize,
) -> PlanResponse {
    let mut items: Vec<PlanItem> = computed
        .items
        .into_iter()
        .map(|(cand, eta, wait)| PlanItem {
            account_id: cand.id,
            username: cand.username,
            language: cand.language,
            eta,
            waits_for: wait,
        })
        .collect();
    // Accounts already planned by an earlier publish keep their time.
    let planned_now: HashSet<AccountId> = items.iter().map(|i| i.account_id).collect();
    for e in computed
        .existing
        .iter()
        .filter(|e| matches!(e.status, ExecutionStatus::Queued | ExecutionStatus::Posting))
    {
        if let Some(eta) = e.planned_at
            && !planned_now.contains(&e.account_id)
        {
            items.push(PlanItem {
                account_id: e.account_id,
                username: e.username.clone(),
                language: e.language.clone(),
                eta,
                waits_for: "planned".into(),
            });
        }
    }
    items.sort_by_key(|i| i.eta);
    PlanResponse {
        post_id,
        status,
        last_eta: items.iter().map(|i| i.eta).max(),
        items,
        excluded: computed.excluded,
        created,
    }
}

/// What publishing would do if the post went out at `start` (default: its schedule, else
/// now). Writes nothing: the API's plan preview, and the composer's for other times.
pub async fn plan_at(
    app: &App,
    id: PostId,
    start: Option<DateTime<Utc>>,
) -> AppResult<PlanResponse> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    let start = start.or(post.scheduled_at).unwrap_or_else(Utc::now);
    let computed = compute(app, id, &post.target_groups, start).await?;
    Ok(response(id, post.status, computed, 0))
}
