//! `prune_finished_jobs`: deletes finished jobs older than the retention.

use chrono::Utc;
use icf_core::jobs::{self, JobPayload};
use serde_json::Value;

use crate::handler::{JobContext, JobHandler, Outcome};

/// Deletes succeeded, failed and cancelled jobs (and their attempts) that finished more
/// than `retention` ago. Idempotent by nature: a second run finds less to delete.
pub struct PruneFinishedJobs {
    pub retention: chrono::Duration,
}

impl JobHandler for PruneFinishedJobs {
    fn kind(&self) -> &'static str {
        jobs::PruneFinishedJobs::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    async fn run(&self, ctx: JobContext, _payload: Value) -> Outcome {
        let before = Utc::now() - self.retention;
        match icf_store::jobs::prune_finished(&ctx.db, before).await {
            Ok(n) => {
                tracing::info!(jobs = n, before = %before, "pruned finished jobs");
                Outcome::Success
            }
            Err(e) => Outcome::Failure(format!("cannot prune: {e}")),
        }
    }
}
