//! Publishing a post: the plan (every account's time, before anything is sent), then one
//! execution and one job per account, written in one transaction; the executions view.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use icf_core::enums::{ExecutionStatus, JobPriority, PostStatus, TranslationOrigin};
use icf_core::ids::{AccountId, PostId};
use icf_core::pacing::{AccountPacing, Exclusion, SpacingScope, plan};
use icf_store::executions::{Candidate, ExecutionView, PlannedExecution};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdPath, parse_json};
use crate::state::AppState;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// `now` (default) or an RFC 3339 time.
    #[schema(example = "now")]
    when: Option<String>,
    /// `high` or `normal` (default).
    priority: Option<JobPriority>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanItem {
    account_id: AccountId,
    username: String,
    language: String,
    /// When this account is expected to publish (UTC).
    eta: DateTime<Utc>,
    /// What the time waits for: none, cooldown, same_account_gap, daily_limit, spacing,
    /// active_hours (the group's posting window), planned.
    waits_for: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Skipped {
    account_id: AccountId,
    username: String,
    /// banned, login_required, proxy_error, no_proxy, no_quota, already_planned.
    reason: String,
}

/// The plan: every account with its expected time, the last one, and who is left out.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanResponse {
    post_id: PostId,
    status: PostStatus,
    items: Vec<PlanItem>,
    last_eta: Option<DateTime<Utc>>,
    excluded: Vec<Skipped>,
    /// Executions created by this call (0 when publishing again).
    created: usize,
}

fn reason(e: Exclusion) -> &'static str {
    match e {
        Exclusion::Banned => "banned",
        Exclusion::LoginRequired => "login_required",
        Exclusion::ProxyError => "proxy_error",
        Exclusion::NoQuota => "no_quota",
    }
}

struct Computed {
    items: Vec<(Candidate, DateTime<Utc>, String)>,
    excluded: Vec<Skipped>,
    /// The post's executions before this plan.
    existing: Vec<ExecutionView>,
}

/// Plans the accounts of the post's groups that have no execution of it yet.
async fn compute(
    state: &AppState,
    post_id: PostId,
    groups: &[icf_core::ids::GroupId],
    start: DateTime<Utc>,
) -> ApiResult<Computed> {
    let now = Utc::now();
    let candidates = icf_store::executions::candidates(&state.app.db, groups, now).await?;
    let before = icf_store::executions::list(&state.app.db, post_id).await?;
    let existing: std::collections::HashSet<AccountId> =
        before.iter().map(|e| e.account_id).collect();
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
    let after_previous = match state.app.pacing.scope {
        SpacingScope::Global => icf_store::executions::latest_planned(&state.app.db).await?,
        SpacingScope::Post => None,
    };
    let the_plan = plan(
        &state.app.pacing,
        &pacing,
        start.max(now),
        after_previous,
        icf_core::pacing::order_seed(post_id),
        &mut rand::rng(),
    );
    // By id: a plan of 10,000 accounts must not search 10,000 for each.
    let by_id: std::collections::HashMap<AccountId, &Candidate> =
        plannable.iter().map(|c| (c.id, c)).collect();
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

fn parse_when(raw: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    match raw.map(str::trim) {
        None | Some("") | Some("now") => Ok(None),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::validation(
                    "when",
                    "must be \"now\" or an RFC 3339 time, like 2026-12-01T09:30:00Z",
                )
            }),
    }
}

fn response(
    post_id: PostId,
    status: PostStatus,
    c: Computed,
    created: usize,
    executions: &[ExecutionView],
) -> PlanResponse {
    let mut items: Vec<PlanItem> = c
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
    let planned_now: std::collections::HashSet<AccountId> =
        items.iter().map(|i| i.account_id).collect();
    for e in executions
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
        excluded: c.excluded,
        created,
    }
}

/// What publishing would do now: every account's expected time. Writes nothing.
#[utoipa::path(get, path = "/api/posts/{id}/plan", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<PlanResponse>> {
    plan_at(&state, id, None).await.map(Json)
}

/// The plan if the post went out at `start` (default: its schedule, else now). The web
/// UI's composer previews other times with it.
pub(crate) async fn plan_at(
    state: &AppState,
    id: PostId,
    start: Option<DateTime<Utc>>,
) -> ApiResult<PlanResponse> {
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    let start = start.or(post.scheduled_at).unwrap_or_else(Utc::now);
    let mut computed = compute(state, id, &post.target_groups, start).await?;
    let executions = std::mem::take(&mut computed.existing);
    Ok(response(id, post.status, computed, 0, &executions))
}

/// Publishes the post to every account of its groups that can post, now or at a time:
/// captions are ensured for every language and checked against Instagram's caption rules
/// (422 naming the language, nothing queued), then one execution per account (with its final
/// caption) and its job are written in one transaction. Publishing again creates nothing twice.
#[utoipa::path(post, path = "/api/posts/{id}/publish", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), request_body(content = PublishRequest, description = "Optional"),
    responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::ErrorBody),
    (status = 409, body = crate::error::ErrorBody), (status = 422, description = "A language has no caption, or a language's caption breaks Instagram's caption rules", body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PlanResponse>> {
    let req: PublishRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PublishRequest::default()
    } else {
        parse_json(&body)?
    };
    if req.priority == Some(JobPriority::Low) {
        return Err(ApiError::validation(
            "priority",
            "must be high or normal (low is for retries)",
        ));
    }
    let priority = req.priority.unwrap_or(JobPriority::Normal);
    let when = parse_when(req.when.as_deref())?;
    Ok(Json(publish_post(&state, id, when, priority).await?))
}

/// Plans and queues the post (see [`publish`]); also used to re-plan an edited post.
pub(crate) async fn publish_post(
    state: &AppState,
    id: PostId,
    when: Option<DateTime<Utc>>,
    priority: JobPriority,
) -> ApiResult<PlanResponse> {
    let state = state.clone();
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    if post.target_groups.is_empty() {
        return Err(ApiError::validation(
            "target_groups",
            "the post has no target groups",
        ));
    }
    if post.status == PostStatus::Draft
        && post.caption_original.trim().is_empty()
        && post.media.is_empty()
    {
        return Err(ApiError::validation(
            "media",
            "the post has nothing to publish",
        ));
    }
    let start = when.or(post.scheduled_at).unwrap_or_else(Utc::now);
    let mut computed = compute(&state, id, &post.target_groups, start).await?;

    // Every language must have a caption before anything is queued.
    let translations = icf_store::post_translations::list(&state.app.db, id).await?;
    let mut captions = std::collections::HashMap::new();
    captions.insert(
        post.original_language.clone(),
        post.caption_original.clone(),
    );
    for t in translations
        .iter()
        .filter(|t| t.origin != TranslationOrigin::Source)
    {
        captions.insert(t.language.clone(), t.text.clone());
    }
    let missing: Vec<String> = {
        let mut m: Vec<String> = computed
            .items
            .iter()
            .map(|(c, _, _)| c.language.clone())
            .filter(|l| !captions.contains_key(l))
            .collect();
        m.sort();
        m.dedup();
        m
    };
    if !missing.is_empty() {
        let preview = super::post_translations::refresh(&state, &post, &[], false).await?;
        for item in preview.items {
            if let Some(text) = item.text {
                captions.entry(item.language).or_insert(text);
            }
        }
        let still: Vec<&String> = missing
            .iter()
            .filter(|l| !captions.contains_key(*l))
            .collect();
        if !still.is_empty() {
            let list = still
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::validation(
                "translations",
                format!(
                    "no caption for {list}: translate the post or write them with PUT /api/posts/{{id}}/translations/{{lang}}"
                ),
            ));
        }
    }

    // Every language's final caption keeps Instagram's rules, machine translations and
    // captions saved under older rules included: one that does not stops the whole post.
    let mut languages: Vec<&String> = computed.items.iter().map(|(c, _, _)| &c.language).collect();
    languages.sort();
    languages.dedup();
    for language in languages {
        let Some(caption) = captions.get(language) else {
            continue;
        };
        if let Err(problem) = state.app.caption_rules.check(caption) {
            let (field, fix) = if *language == post.original_language {
                ("caption".to_owned(), "PUT /api/posts/{id}".to_owned())
            } else {
                (
                    format!("translations.{language}.text"),
                    format!("PUT /api/posts/{{id}}/translations/{language}"),
                )
            };
            return Err(ApiError::validation(
                field,
                format!(
                    "the {language} caption {problem}: correct it with {fix} and publish again"
                ),
            ));
        }
    }

    let rows: Vec<PlannedExecution> = computed
        .items
        .iter()
        .map(|(c, eta, _)| PlannedExecution {
            account_id: c.id,
            language: c.language.clone(),
            caption: captions.get(&c.language).cloned().unwrap_or_default(),
            planned_at: *eta,
        })
        .collect();
    let mut tx = state.app.db.begin().await?;
    let created = icf_store::executions::create_with_jobs(&mut tx, id, priority, &rows).await?;
    let scheduled = when.filter(|t| *t > Utc::now()).or(post.scheduled_at);
    icf_store::posts::mark_pending(&mut tx, id, priority, scheduled).await?;
    tx.commit().await?;
    tracing::info!(post = %id, created, excluded = computed.excluded.len(), "post queued for publishing");
    // The answer is the plan just written plus what earlier publishes planned: no need to
    // read 10,000 executions back.
    let executions = std::mem::take(&mut computed.existing);
    Ok(response(
        id,
        PostStatus::Pending,
        computed,
        created,
        &executions,
    ))
}

#[derive(Serialize, Default, utoipa::ToSchema)]
pub struct Totals {
    total: usize,
    queued: usize,
    posting: usize,
    success: usize,
    failed: usize,
    cancelled: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Executions {
    #[schema(value_type = Vec<Object>)]
    items: Vec<ExecutionView>,
    totals: Totals,
}

/// Every account's state for the post (queued, posting, success, failed, cancelled) and the totals.
#[utoipa::path(get, path = "/api/posts/{id}/executions", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Executions), (status = 404, body = crate::error::ErrorBody)))]
pub async fn executions(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Executions>> {
    icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    let items = icf_store::executions::list(&state.app.db, id).await?;
    let mut totals = Totals {
        total: items.len(),
        ..Totals::default()
    };
    for e in &items {
        match e.status {
            ExecutionStatus::Queued => totals.queued += 1,
            ExecutionStatus::Posting => totals.posting += 1,
            ExecutionStatus::Success => totals.success += 1,
            ExecutionStatus::Failed => totals.failed += 1,
            ExecutionStatus::Cancelled => totals.cancelled += 1,
        }
    }
    Ok(Json(Executions { items, totals }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Cancelled {
    cancelled: usize,
}

/// Cancels the post's queued executions (those already posting finish).
#[utoipa::path(post, path = "/api/posts/{id}/cancel", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Cancelled), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Cancelled>> {
    icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    let cancelled = icf_store::executions::cancel_queued(&state.app.db, id).await?;
    Ok(Json(Cancelled { cancelled }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Retried {
    retried: usize,
}

/// Puts the post's failed executions back in the queue (with the anti-ban spacing between
/// them); accounts that published already are untouched.
#[utoipa::path(post, path = "/api/posts/{id}/retry-failed", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Retried), (status = 404, body = crate::error::ErrorBody)))]
pub async fn retry_failed(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Retried>> {
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    let retried = icf_store::executions::retry_failed(
        &state.app.db,
        id,
        post.priority,
        Utc::now(),
        state.app.pacing.min_spacing,
    )
    .await?;
    Ok(Json(Retried { retried }))
}
