//! Before a publish: the pacing rules checked again, at the moment the job runs, and the
//! start claimed in the spacing scope. The plan already respected both, but jobs run late
//! (downtime, retries, other posts of the account) and the rules must hold when Instagram
//! sees the publish, not only when it was planned.

use std::time::Instant;

use chrono::{DateTime, Utc};
use icf_core::account::Account;
use icf_core::enums::AccountStatus;
use icf_core::pacing::{AccountPacing, Deferral, Wait, check_before_publish, random_spacing};
use icf_store::publishing::{self, ConnectionParts, ExecutionRun};
use serde_json::json;

use super::end::End;
use super::scope::spacing_scope;
use crate::engine::Engine;
use crate::error::EngineError;

/// `Some` when the execution may not go now: moved to a later time (same-account gap,
/// daily limit, a cooldown, outside its group's posting hours, the scope's spacing), or
/// failed when the account can never post. `None`: go.
pub(super) async fn hold(
    engine: &Engine,
    exec: &ExecutionRun,
    account: &Account,
    parts: &ConnectionParts,
    busy: Vec<DateTime<Utc>>,
) -> Result<Option<End>, EngineError> {
    if let Some(end) = check_rules(engine, exec, account, parts, busy).await? {
        return Ok(Some(end));
    }
    claim_spacing(engine, exec).await
}

/// The account's pacing rules, with what it has published and is publishing (`busy`, read
/// with the execution: [`publishing::attempt_start`]).
async fn check_rules(
    engine: &Engine,
    exec: &ExecutionRun,
    account: &Account,
    parts: &ConnectionParts,
    busy: Vec<DateTime<Utc>>,
) -> Result<Option<End>, EngineError> {
    let now = Utc::now();
    end_cooldown_if_over(engine, account, now).await?;
    let pacing = account_pacing(account, parts, busy);
    match check_before_publish(&engine.settings.pacing, &pacing, now) {
        Ok(()) => Ok(None),
        Err(Deferral::Until(at, wait)) => {
            let why = format!("moved by pacing ({})", json!(wait).as_str().unwrap_or(""));
            log_deferred(engine, exec, at, json!(wait)).await;
            Ok(Some(End::Defer(at, why)))
        }
        Err(Deferral::Never(why)) => {
            let msg = format!(
                "the account cannot post ({})",
                json!(why).as_str().unwrap_or("")
            );
            publishing::mark_failed(&engine.db, exec.id, "account", &msg).await?;
            Ok(Some(End::Failed(msg)))
        }
    }
}

/// A cooldown that ran out ends now rather than at the next upkeep. The pacing check still
/// sees the account as it was read (its cooldown, now over, holds nothing back).
async fn end_cooldown_if_over(
    engine: &Engine,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    if account.status == AccountStatus::Cooldown
        && account.cooldown_until.is_none_or(|until| until <= now)
    {
        engine
            .set_state(
                account.id,
                AccountStatus::Active,
                "the cooldown is over",
                None,
                None,
            )
            .await?;
    }
    Ok(())
}

/// What the pacing check needs of the account: its publishes that count (this execution's
/// own excluded), its group's posting hours and its clock.
fn account_pacing(
    account: &Account,
    parts: &ConnectionParts,
    busy: Vec<DateTime<Utc>>,
) -> AccountPacing {
    AccountPacing {
        id: account.id,
        status: account.status,
        cooldown_until: account.cooldown_until,
        age_days: account.account_age_days,
        posts_limit_per_day: u32::try_from(account.posts_limit_per_day).unwrap_or(0),
        busy,
        active_hours: parts.active_hours,
        utc_offset: parts.utc_offset,
    }
}

/// The random 2–5 min between the publishes of a scope, enforced here too and not only by
/// the plan: after downtime every overdue job is due at once, and they must go out spaced
/// exactly as a fresh plan would space them. One that finds the scope taken joins the end of
/// the scope's line (a random spacing after the latest start handed out), so a backlog of N
/// is moved about N times, not N²/2. A retry that only asks Instagram whether the last
/// attempt published posts nothing and is not spaced.
async fn claim_spacing(engine: &Engine, exec: &ExecutionRun) -> Result<Option<End>, EngineError> {
    let rules = &engine.settings.pacing;
    if exec.upload_id.is_some() || rules.min_spacing <= chrono::Duration::zero() {
        return Ok(None);
    }
    let now = Utc::now();
    let scope = spacing_scope(engine, exec);
    let Some(taken) = publishing::claim_spacing(&engine.db, &scope, now, rules.min_spacing).await?
    else {
        return Ok(None);
    };
    let until = taken.line_end() + random_spacing(rules, &mut rand::rng());
    publishing::join_spacing_queue(&engine.db, &scope, until).await?;
    log_deferred(engine, exec, until, json!(Wait::Spacing)).await;
    Ok(Some(End::Defer(until, "moved by pacing (spacing)".into())))
}

async fn log_deferred(
    engine: &Engine,
    exec: &ExecutionRun,
    until: DateTime<Utc>,
    waits_for: serde_json::Value,
) {
    engine
        .log(
            exec.account_id,
            "publish_deferred",
            Instant::now(),
            json!({"execution_id": exec.id, "until": until, "waits_for": waits_for}),
            None,
        )
        .await;
}
