//! Account status checks (`check_account_status`): is the account's session still accepted
//! by Instagram? A cheap request through the account's own proxy; what Instagram answers (a
//! ban, a challenge, a cooldown, a dead proxy) updates the account's status. Run as jobs
//! with the account's concurrency key, like everything that talks to Instagram, so a check
//! never overlaps the account's publishing (nor races its session write): periodically for
//! every account, and on demand (`GET /api/accounts/{id}/status`), when the API waits for
//! the outcome the job records.

use std::time::Duration;

use icf_core::enums::{JobPriority, JobState};
use icf_core::ids::{AccountId, JobId};
use icf_core::jobs::{self, JobKind, JobPayload};
use icf_instagram::IgError;
use icf_store::jobs::NewJob;
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Engine;
use crate::error::{EngineError, class_name};

/// What a check came to, as recorded on its job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    /// `valid`, `expired` (icf logs in again before the next action), `none` (no session
    /// stored) or `failed` (the check itself failed: see `error`).
    pub session: String,
    /// When it failed: `proxy`, `banned`, `challenge`, `cooldown`, `retryable`, …
    pub error_class: Option<String>,
    pub error: Option<String>,
}

impl CheckReport {
    pub fn none() -> CheckReport {
        CheckReport::session("none")
    }

    fn session(session: &str) -> CheckReport {
        CheckReport {
            session: session.into(),
            error_class: None,
            error: None,
        }
    }

    fn failed(e: &IgError) -> CheckReport {
        CheckReport {
            session: "failed".into(),
            error_class: Some(class_name(e.class()).into()),
            error: Some(e.to_string()),
        }
    }
}

impl Engine {
    /// Checks the account's session (`accounts/current_user`, through its proxy), unless
    /// it has none. Instagram's (and the proxy's) answers are in the report, the
    /// account's status already moved by them; `Err` is icf's own trouble. Call it only
    /// from a job holding the account's concurrency key.
    pub async fn check_account(&self, id: AccountId) -> Result<CheckReport, EngineError> {
        if !icf_store::accounts::get(&self.db, id).await?.has_session {
            return Ok(CheckReport::none());
        }
        let mut conn = match self.connect(id).await {
            Ok(c) => c,
            Err(EngineError::Instagram(e)) => {
                // No usable proxy and the like: the account's status says so.
                self.apply_error(id, &e).await?;
                return Ok(CheckReport::failed(&e));
            }
            Err(e) => return Err(e),
        };
        // An expired session is not a problem yet: the next action logs in again with the
        // same device. The check is logged either way; errors already moved the status.
        let report = match self.check_session(&mut conn).await {
            Ok(true) => CheckReport::session("valid"),
            Ok(false) => CheckReport::session("expired"),
            Err(EngineError::Instagram(e)) => CheckReport::failed(&e),
            Err(e) => return Err(e),
        };
        self.finish(conn).await?;
        Ok(report)
    }
}

/// A check of the account asked for by a person: high priority, one attempt (the person
/// asks again), serialized with the account's other Instagram work. A check already
/// running or due for the account is joined rather than doubled; the unique key (the
/// account and the check it follows) keeps simultaneous requests to one new job.
pub async fn enqueue_check(
    db: &icf_store::Db,
    id: AccountId,
) -> Result<JobId, icf_store::StoreError> {
    let key = id.to_string();
    // A second pass finds the job a simultaneous request enqueued under the same key.
    for _ in 0..2 {
        let latest = icf_store::jobs::latest_due(
            db,
            JobKind::CheckAccountStatus.as_str(),
            &key,
            chrono::Utc::now(),
        )
        .await?;
        if let Some(job) = &latest
            && matches!(job.state, JobState::Queued | JobState::Running)
        {
            return Ok(job.id);
        }
        let after = latest.map_or_else(|| "none".to_owned(), |j| j.id.to_string());
        let job = NewJob::of(&jobs::CheckAccountStatus { account_id: id })
            .priority(JobPriority::High)
            .max_attempts(1)
            .unique_key(format!("status_check:{id}:after:{after}"))
            .concurrency_key(key.clone());
        if let Some(job) = icf_store::jobs::enqueue_now(db, &job).await? {
            return Ok(job);
        }
    }
    Err(icf_store::StoreError::Constraint(
        "another status check of the account was being queued: ask again".into(),
    ))
}

/// Runs [`jobs::CheckAccountStatus`]: checks one account's session, and records what it
/// came to on the job.
pub struct CheckAccountStatus {
    pub engine: Engine,
}

impl JobHandler for CheckAccountStatus {
    fn kind(&self) -> &'static str {
        jobs::CheckAccountStatus::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let p: jobs::CheckAccountStatus = match parse_payload(payload) {
            Ok(p) => p,
            Err(abandon) => return abandon,
        };
        let report = match self.engine.check_account(p.account_id).await {
            Ok(r) => r,
            Err(EngineError::Store(icf_store::StoreError::NotFound)) => {
                return Outcome::Abandon("the account no longer exists".into());
            }
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        let value = serde_json::to_value(&report).unwrap_or(Value::Null);
        if let Err(e) = icf_store::jobs::set_result(&ctx.db, ctx.job_id(), &value).await {
            return Outcome::Failure(e.to_string());
        }
        // A passing fault (a timeout, a 5xx) is tried again while attempts remain; the
        // report already says what this attempt met.
        if report.error_class.as_deref() == Some(class_name(icf_instagram::ErrorClass::Retryable)) {
            return Outcome::Failure(report.error.unwrap_or_default());
        }
        Outcome::Success
    }
}

/// Runs [`jobs::ScheduleAccountChecks`]: enqueues a `check_account_status` for every account with a session that is not banned,
/// about a minute apart (at most over half the period), so hundreds of accounts do not all
/// check at once. Unique per account and period, however often the scheduler runs; the
/// concurrency key keeps a check from running beside the account's publishing.
pub struct ScheduleAccountChecks {
    pub every: Duration,
    /// `ICF_PACING_SPEED`: the spread shrinks with it in demos and tests.
    pub speed: u32,
}

impl JobHandler for ScheduleAccountChecks {
    fn kind(&self) -> &'static str {
        jobs::ScheduleAccountChecks::KIND.as_str()
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        if let Err(abandon) = parse_payload::<jobs::ScheduleAccountChecks>(payload) {
            return abandon;
        }
        let ids = match icf_store::publishing::accounts_to_check(&ctx.db).await {
            Ok(ids) => ids,
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        let now = chrono::Utc::now();
        let period =
            now.timestamp() / i64::try_from(self.every.as_secs().max(1)).unwrap_or(i64::MAX);
        let spread_ms = (ids.len() as u64 * 60_000).min(self.every.as_millis() as u64 / 2)
            / u64::from(self.speed.max(1));
        for id in ids {
            let delay = rand::rng().random_range(0..=spread_ms);
            let job = NewJob::of(&jobs::CheckAccountStatus { account_id: id })
                .priority(JobPriority::Low)
                .run_at(now + chrono::Duration::milliseconds(delay as i64))
                .max_attempts(3)
                .unique_key(format!("check:{id}:{period}"))
                .concurrency_key(id.to_string());
            if let Err(e) = icf_store::jobs::enqueue_now(&ctx.db, &job).await {
                return Outcome::Failure(e.to_string());
            }
        }
        Outcome::Success
    }
}
