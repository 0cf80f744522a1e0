//! What a job kind implements, and what it gets while it runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use icf_core::ids::JobId;
use icf_core::jobs::JobPayload;
use icf_store::jobs::ClaimedJob;
use icf_store::{Db, StoreError, Tx};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// How an attempt of a job ended, in the handler's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Not now: run again after this delay (e.g. a server's `Retry-After`), at `low`
    /// priority, if attempts remain.
    RetryAfter(Duration),
    /// This attempt failed; the job is retried with the kind's backoff while attempts
    /// remain.
    Failure(String),
    /// Retrying cannot help (the account is banned, the payload is invalid): the job
    /// fails now, whatever attempts remain.
    Abandon(String),
}

/// Per-kind time limits (Celery's `soft_time_limit` / `time_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// After this the handler's [`JobContext::soft_stop`] is cancelled: finish up.
    pub soft: Duration,
    /// After this the handler is stopped and the attempt counts as a retryable failure.
    pub hard: Duration,
}

impl Default for TimeLimits {
    fn default() -> Self {
        Self {
            soft: Duration::from_secs(240),
            hard: Duration::from_secs(300),
        }
    }
}

/// The specification's retry delays: 1 min, 5 min, 15 min, then 1 h. `attempt` is the
/// attempt that just failed (1 for the first run).
pub fn default_backoff(attempt: u32) -> Duration {
    const STEPS: [u64; 4] = [60, 5 * 60, 15 * 60, 60 * 60];
    let i = usize::try_from(attempt.saturating_sub(1))
        .unwrap_or(usize::MAX)
        .min(STEPS.len() - 1);
    Duration::from_secs(STEPS[i])
}

/// The typed payload of a job of one of icf's kinds. A payload that does not parse can
/// never run, however often it is tried: `Err` is the outcome that fails the job at once.
pub fn parse_payload<P: JobPayload>(payload: Value) -> Result<P, Outcome> {
    P::from_json(payload).map_err(|e| Outcome::Abandon(format!("invalid payload: {e}")))
}

/// One kind of job.
///
/// Delivery is at least once: a handler may be run again for a job whose previous run
/// did its work but died before the completion was recorded. It must be idempotent:
/// either do its database writes and the completion in one transaction
/// ([`JobContext::succeed_in`]), or make every external effect checkable and check it
/// first (e.g. store the Instagram upload id before publishing, and ask Instagram for
/// it on a re-run).
pub trait JobHandler: Send + Sync + 'static {
    /// The kind name stored in `jobs.kind`.
    fn kind(&self) -> &'static str;

    /// Attempts a job of this kind gets (written into the job row at enqueue).
    fn max_attempts(&self) -> u32 {
        icf_store::jobs::DEFAULT_MAX_ATTEMPTS
    }

    fn limits(&self) -> TimeLimits {
        TimeLimits::default()
    }

    /// The most jobs of this kind that may run at once across all workers.
    fn global_cap(&self) -> Option<u32> {
        None
    }

    /// The delay before retrying after attempt `attempt` failed.
    fn backoff(&self, attempt: u32) -> Duration {
        default_backoff(attempt)
    }

    fn run(&self, ctx: JobContext, payload: Value) -> impl Future<Output = Outcome> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`JobHandler`] made object-safe, so a registry can hold different kinds.
pub(crate) trait ErasedHandler: Send + Sync {
    fn kind(&self) -> &'static str;
    fn max_attempts(&self) -> u32;
    fn limits(&self) -> TimeLimits;
    fn global_cap(&self) -> Option<u32>;
    fn backoff(&self, attempt: u32) -> Duration;
    fn run_boxed(&self, ctx: JobContext, payload: Value) -> BoxFuture<'_, Outcome>;
}

impl<H: JobHandler> ErasedHandler for H {
    fn kind(&self) -> &'static str {
        JobHandler::kind(self)
    }
    fn max_attempts(&self) -> u32 {
        JobHandler::max_attempts(self)
    }
    fn limits(&self) -> TimeLimits {
        JobHandler::limits(self)
    }
    fn global_cap(&self) -> Option<u32> {
        JobHandler::global_cap(self)
    }
    fn backoff(&self, attempt: u32) -> Duration {
        JobHandler::backoff(self, attempt)
    }
    fn run_boxed(&self, ctx: JobContext, payload: Value) -> BoxFuture<'_, Outcome> {
        Box::pin(self.run(ctx, payload))
    }
}

/// What a running job can reach.
#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    job: Arc<ClaimedJob>,
    worker: Arc<str>,
    soft_stop: CancellationToken,
    completed: Arc<AtomicBool>,
}

impl JobContext {
    pub(crate) fn new(
        db: Db,
        job: Arc<ClaimedJob>,
        worker: Arc<str>,
        soft_stop: CancellationToken,
        completed: Arc<AtomicBool>,
    ) -> Self {
        Self {
            db,
            job,
            worker,
            soft_stop,
            completed,
        }
    }

    pub fn job_id(&self) -> JobId {
        self.job.id
    }

    /// 1 for the first run.
    pub fn attempt(&self) -> i32 {
        self.job.attempt
    }

    pub fn max_attempts(&self) -> i32 {
        self.job.max_attempts
    }

    /// The worker running the job (its lease owner).
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Cancelled at the soft time limit and when the worker shuts down: the handler
    /// should wrap up (or return `RetryAfter`) soon.
    pub fn soft_stop(&self) -> &CancellationToken {
        &self.soft_stop
    }

    /// The job as claimed, for a handler that writes the job's success in a statement of
    /// its own (as [`icf_store::jobs::succeed_in`] does) together with its other writes;
    /// it then calls [`JobContext::succeeded`].
    pub fn claimed(&self) -> &ClaimedJob {
        &self.job
    }

    /// The job's success was written by the handler, with the job's row still this
    /// worker's, and committed: the runner writes nothing more for this attempt.
    pub fn succeeded(&self) {
        self.completed.store(true, Ordering::SeqCst);
    }

    /// Marks the job succeeded inside `tx`, so the handler's writes and the completion
    /// commit together: after a crash either both happened or neither did, and the
    /// re-run starts clean. `false` means this worker lost the lease (another may run
    /// the job): roll `tx` back and return. After `true`, return [`Outcome::Success`] only
    /// once `tx` has committed: the runner then writes nothing more for this attempt (a
    /// failed commit must end in another outcome, which the runner records).
    pub async fn succeed_in(&self, tx: &mut Tx) -> Result<bool, StoreError> {
        let done = icf_store::jobs::succeed_in(tx, &self.job, &self.worker).await?;
        if done {
            self.completed.store(true, Ordering::SeqCst);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_the_specification_then_stays_at_an_hour() {
        let mins: Vec<u64> = (1..=6).map(|a| default_backoff(a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 5, 15, 60, 60, 60]);
        assert_eq!(default_backoff(0), Duration::from_secs(60));
    }
}
