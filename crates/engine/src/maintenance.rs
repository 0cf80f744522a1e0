//! Periodic upkeep (`maintain_accounts`, every few minutes, once per period however many
//! workers run): cooldowns that ran out end, warm-up stages follow the accounts' age,
//! sessions older than `INSTAGRAM_SESSION_LIFETIME_DAYS` are dropped (the next action
//! logs in afresh on the same device: `cleanup_old_sessions` of the specification), and
//! activity logs past their retention are deleted.

use std::time::{Duration, Instant};

use chrono::Utc;
use icf_core::enums::AccountStatus;
use icf_core::jobs::{self, JobPayload};
use icf_store::maintenance;
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::error::EngineError;
/// How often the upkeep runs.
pub const MAINTENANCE_EVERY: Duration = Duration::from_secs(300);

/// What one round of upkeep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Upkeep {
    pub cooldowns_ended: usize,
    pub warmup_changes: usize,
    pub sessions_dropped: usize,
    pub logs_pruned: u64,
}

/// How long things are kept.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Sessions older than this are dropped.
    pub session_lifetime: chrono::Duration,
    /// Activity logs older than this are deleted; `None` keeps them.
    pub logs: Option<chrono::Duration>,
}

impl Engine {
    pub async fn maintain(&self, retention: &Retention) -> Result<Upkeep, EngineError> {
        let now = Utc::now();
        let mut done = Upkeep::default();
        for id in maintenance::cooldowns_over(&self.db, now).await? {
            self.set_state(
                id,
                AccountStatus::Active,
                "the cooldown is over",
                None,
                None,
            )
            .await?;
            done.cooldowns_ended += 1;
        }
        for (id, since, stage) in maintenance::warmup_states(&self.db).await? {
            let age_days = (now - since).num_days().max(0);
            let due = i32::from(self.settings.pacing.warmup_stage(age_days));
            if due != stage {
                maintenance::set_warmup_stage(&self.db, id, due).await?;
                done.warmup_changes += 1;
            }
        }
        let started = Instant::now();
        for id in maintenance::drop_old_sessions(&self.db, now - retention.session_lifetime).await?
        {
            self.log(
                id,
                "cleanup_session",
                started,
                json!({"reason": "older than INSTAGRAM_SESSION_LIFETIME_DAYS"}),
                None,
            )
            .await;
            done.sessions_dropped += 1;
        }
        if let Some(keep) = retention.logs {
            done.logs_pruned = maintenance::prune_activity(&self.db, now - keep).await?;
        }
        Ok(done)
    }
}

/// Runs [`jobs::MaintainAccounts`].
pub struct MaintainAccounts {
    pub engine: Engine,
    pub retention: Retention,
}

impl JobHandler for MaintainAccounts {
    fn kind(&self) -> &'static str {
        jobs::MaintainAccounts::KIND.as_str()
    }

    async fn run(&self, _ctx: JobContext, payload: Value) -> Outcome {
        if let Err(abandon) = parse_payload::<jobs::MaintainAccounts>(payload) {
            return abandon;
        }
        match self.engine.maintain(&self.retention).await {
            Ok(done) => {
                if done != Upkeep::default() {
                    tracing::info!(?done, "account upkeep");
                }
                Outcome::Success
            }
            Err(e) => Outcome::Failure(e.to_string()),
        }
    }
}
