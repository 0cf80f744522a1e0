//! Periodic account status checks (`check_account_status`): is each account's session still
//! accepted by Instagram? A cheap request through the account's own proxy; what Instagram
//! answers (a ban, a challenge, a cooldown, a dead proxy) updates the account's status.

use std::time::Duration;

use icf_core::ids::AccountId;
use icf_worker::{JobContext, JobHandler, Outcome};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Engine, EngineError};

pub const CHECK_ACCOUNT_STATUS: &str = icf_worker::kinds::CHECK_ACCOUNT_STATUS;
/// The periodic job that enqueues one check per account.
pub const SCHEDULE_ACCOUNT_CHECKS: &str = "schedule_account_checks";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckPayload {
    pub account_id: AccountId,
}

/// Checks one account's session.
pub struct CheckAccountStatus {
    pub engine: Engine,
}

impl JobHandler for CheckAccountStatus {
    fn kind(&self) -> &'static str {
        CHECK_ACCOUNT_STATUS
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    async fn run(&self, _ctx: JobContext, payload: Value) -> Outcome {
        let p: CheckPayload = match serde_json::from_value(payload) {
            Ok(p) => p,
            Err(e) => return Outcome::Abandon(format!("invalid payload: {e}")),
        };
        let mut conn = match self.engine.connect(p.account_id).await {
            Ok(c) => c,
            Err(EngineError::Store(icf_store::StoreError::NotFound)) => {
                return Outcome::Abandon("the account no longer exists".into());
            }
            Err(EngineError::Instagram(e)) => {
                // No usable proxy and the like: the account's status says so.
                if let Err(e) = self.engine.apply_error(p.account_id, &e).await {
                    return Outcome::Failure(e.to_string());
                }
                return Outcome::Success;
            }
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        // An expired session is not a problem yet: the next action logs in again with the
        // same device. The check is logged either way; errors already moved the status.
        match self.engine.check_session(&mut conn).await {
            Ok(_) => Outcome::Success,
            Err(e) if e.class() == Some(icf_instagram::ErrorClass::Retryable) => {
                Outcome::Failure(e.to_string())
            }
            Err(_) => Outcome::Success,
        }
    }
}

/// Enqueues a `check_account_status` for every account with a session that is not banned,
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
        SCHEDULE_ACCOUNT_CHECKS
    }

    async fn run(&self, ctx: JobContext, _payload: Value) -> Outcome {
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
            let job =
                icf_store::jobs::NewJob::new(CHECK_ACCOUNT_STATUS, json!({ "account_id": id }))
                    .priority(icf_core::enums::JobPriority::Low)
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
