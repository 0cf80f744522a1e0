//! `selftest`: a diagnostic job an operator enqueues with `icf jobs selftest` to check
//! the workers end to end. It is also the reference for an idempotent handler.

use std::time::Duration;

use icf_core::jobs::{self, JobPayload};
use serde_json::Value;

use crate::handler::{JobContext, JobHandler, Outcome, parse_payload};

/// Waits `work_ms`, then writes one `job_selftest_runs` row keyed by the job id **in
/// the same transaction that marks the job succeeded**. That is how it is idempotent:
/// if the worker dies before the commit, neither the row nor the completion exist and
/// the re-run starts clean; after the commit, the job is done and never runs again. The
/// `ON CONFLICT DO NOTHING` on the job id is a second line of defence.
pub struct Selftest;

impl JobHandler for Selftest {
    fn kind(&self) -> &'static str {
        jobs::Selftest::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        // Crash tests kill workers on purpose; a lost attempt still counts.
        25
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let p: jobs::Selftest = match parse_payload(payload) {
            Ok(p) => p,
            Err(abandon) => return abandon,
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(p.work_ms)) => {}
            () = ctx.soft_stop().cancelled() => return Outcome::RetryAfter(Duration::ZERO),
        }
        let result = async {
            let mut tx = ctx.db.begin().await?;
            icf_store::jobs::selftest::record_run(
                &mut tx,
                ctx.job_id(),
                &p.batch,
                ctx.attempt(),
                ctx.worker(),
            )
            .await?;
            if ctx.succeed_in(&mut tx).await? {
                tx.commit().await?;
                Ok(true)
            } else {
                tx.rollback().await?;
                Ok::<_, icf_store::StoreError>(false)
            }
        }
        .await;
        match result {
            Ok(true) => Outcome::Success,
            Ok(false) => Outcome::Failure("lost the lease before completing".into()),
            Err(e) => Outcome::Failure(format!("cannot record the run: {e}")),
        }
    }
}
