//! The worker: a claim loop, one task per running job, and a maintenance task.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use icf_store::jobs::{self, AttemptOutcome, ClaimedJob, Finish, KindFilter};
use icf_store::{Db, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::handler::{ErasedHandler, JobContext, Outcome};
use crate::registry::Registry;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once by this worker.
    pub concurrency: u32,
    /// How long a claim holds a job without renewal; renewed every third of it. A job
    /// whose worker died runs again about this long after the death.
    pub lease: Duration,
    /// The safety-net poll when no wake-up arrives (missed NOTIFY, another process on
    /// a shared database finishing a job that blocked a concurrency key).
    pub poll_interval: Duration,
    /// On shutdown, how long running jobs may take to finish before they are stopped
    /// and given back to the queue.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 8,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the worker cannot reach the queue: {0}")]
    Store(#[from] StoreError),
    #[error("the worker has no job kinds registered")]
    NoHandlers,
}

/// A worker bound to a database and a registry of handlers.
pub struct Worker {
    db: Db,
    registry: Registry,
    config: WorkerConfig,
    id: Arc<str>,
}

/// What every job task shares.
struct Shared {
    db: Db,
    id: Arc<str>,
    lease: Duration,
    /// Set after the grace period: stop running jobs and give them back.
    force_stop: CancellationToken,
    /// Set at shutdown: tells handlers (through their soft stop) to wrap up.
    stopping: CancellationToken,
    /// Something may be claimable: a job ended (freeing a key or a cap slot), or a
    /// NOTIFY arrived.
    wake: Notify,
}

impl Worker {
    pub fn new(db: Db, registry: Registry, config: WorkerConfig) -> Self {
        let id = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            db,
            registry,
            config,
            id: id.into(),
        }
    }

    /// The lease owner name of this worker: `host:pid:random`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `shutdown` completes; then stops claiming, lets running jobs finish
    /// within the grace period and gives the rest back to the queue.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), WorkerError> {
        if self.registry.handlers.is_empty() {
            return Err(WorkerError::NoHandlers);
        }
        let concurrency = self.config.concurrency.max(1);
        jobs::register_worker(
            &self.db,
            &self.id,
            &hostname(),
            std::process::id(),
            concurrency,
        )
        .await?;
        tracing::info!(worker = %self.id, concurrency, kinds = ?self.registry.kinds(), "worker started");

        let shared = Arc::new(Shared {
            db: self.db.clone(),
            id: self.id.clone(),
            lease: self.config.lease,
            force_stop: CancellationToken::new(),
            stopping: CancellationToken::new(),
            wake: Notify::new(),
        });
        let mut background = self.spawn_background(&shared);
        let running = self.claim_until(shutdown, &shared, concurrency).await;
        self.drain(&shared, running).await;
        background.shutdown().await;
        jobs::stop_worker(&self.db, &self.id).await?;
        tracing::info!(worker = %self.id, "worker stopped");
        Ok(())
    }

    /// The tasks beside the claim loop: the worker's own heartbeat and the periodic jobs,
    /// and on PostgreSQL the LISTEN for new jobs.
    fn spawn_background(&self, shared: &Arc<Shared>) -> JoinSet<()> {
        let mut background = JoinSet::new();
        if let Db::Postgres(pool) = &self.db {
            background.spawn(listen(pool.clone(), shared.clone()));
        }
        background.spawn(maintain(
            shared.clone(),
            self.registry.clone(),
            // Bounded so `GET /api/queue` can call a worker silent for a minute dead.
            self.config
                .poll_interval
                .min(self.config.lease / 2)
                .min(Duration::from_secs(15)),
        ));
        background
    }

    /// Claims and starts jobs while a permit is free, until `shutdown`; waits for a wake-up,
    /// the next due job or a poll when nothing is claimable. Returns the jobs still running.
    async fn claim_until(
        &self,
        shutdown: impl Future<Output = ()> + Send,
        shared: &Arc<Shared>,
        concurrency: u32,
    ) -> JoinSet<()> {
        let caps: Vec<(&'static str, Option<u32>)> = self
            .registry
            .handlers
            .values()
            .map(|h| (h.kind(), self.registry.cap_of(h.kind())))
            .collect();
        let filters: Vec<KindFilter<'_>> = caps
            .iter()
            .map(|(kind, cap)| KindFilter { kind, cap: *cap })
            .collect();
        let kinds: Vec<&str> = caps.iter().map(|(k, _)| *k).collect();

        let permits = Arc::new(Semaphore::new(concurrency as usize));
        let mut running = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            while running.try_join_next().is_some() {}
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            // Register for wake-ups before looking, so an enqueue in between is not missed.
            let local = jobs::local_wakeup().notified();
            let remote = shared.wake.notified();
            tokio::pin!(local, remote);
            local.as_mut().enable();
            remote.as_mut().enable();

            let looked_at = Utc::now();
            let idle_for = match jobs::claim(&self.db, &self.id, &filters, self.config.lease).await
            {
                Ok(Some(job)) => {
                    let Some(handler) = self.registry.handlers.get(job.kind.as_str()).cloned()
                    else {
                        continue; // claim only returns registered kinds
                    };
                    running.spawn(run_job(shared.clone(), handler, job, permit));
                    continue;
                }
                Ok(None) => {
                    drop(permit);
                    self.idle_time(&kinds, looked_at).await
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(worker = %self.id, error = %e, "cannot claim a job; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = &mut local => {},
                () = &mut remote => {},
                () = tokio::time::sleep(idle_for) => {},
                () = &mut shutdown => break,
            }
        }
        running
    }

    /// After `shutdown`: handlers are told to wrap up, and the jobs still running after the
    /// grace period are stopped and given back to the queue.
    async fn drain(&self, shared: &Shared, mut running: JoinSet<()>) {
        shared.stopping.cancel();
        tracing::info!(
            worker = %self.id,
            running = running.len(),
            grace_secs = self.config.shutdown_grace.as_secs(),
            "worker stopping: no new jobs; waiting for the running ones"
        );
        let grace = tokio::time::sleep(self.config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                r = running.join_next() => if r.is_none() { break },
                () = &mut grace => {
                    tracing::warn!(worker = %self.id, running = running.len(),
                        "grace period over: giving the remaining jobs back to the queue");
                    shared.force_stop.cancel();
                    while running.join_next().await.is_some() {}
                    break;
                }
            }
        }
    }

    /// How long to wait when nothing was claimable at `looked_at`: until the next job is
    /// due, or a poll.
    async fn idle_time(&self, kinds: &[&str], looked_at: DateTime<Utc>) -> Duration {
        let poll = self.config.poll_interval;
        match jobs::next_due(&self.db, kinds).await {
            // It fell due after the claim looked: claim it now, not a poll later (this race
            // made 1 scheduled publish in 50 start a second late).
            Ok(Some(at)) if at > looked_at && at <= Utc::now() => Duration::ZERO,
            Ok(Some(at)) => {
                let until = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                if until.is_zero() {
                    // Due but blocked (busy concurrency key or cap): a job ending here
                    // wakes us; one ending in another process is seen by this poll.
                    poll.min(Duration::from_secs(1))
                } else {
                    until.min(poll)
                }
            }
            Ok(None) => poll,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the queue");
                poll
            }
        }
    }
}

/// How a job's run ended, from the runner's side.
enum Ended {
    Returned(Outcome),
    TimedOut(Duration),
    Panicked,
}

async fn run_job(
    shared: Arc<Shared>,
    handler: Arc<dyn ErasedHandler>,
    job: ClaimedJob,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let job = Arc::new(job);
    let limits = handler.limits();
    let soft_stop = shared.stopping.child_token();
    let completed = Arc::new(AtomicBool::new(false));
    let ctx = JobContext::new(
        shared.db.clone(),
        job.clone(),
        shared.id.clone(),
        soft_stop.clone(),
        completed.clone(),
    );
    tracing::debug!(job = %job.id, kind = %job.kind, attempt = job.attempt, "job started");
    let payload = job.payload.clone();
    let h = handler.clone();
    let mut task = tokio::spawn(async move { h.run_boxed(ctx, payload).await });

    let soft = tokio::time::sleep(limits.soft);
    let hard = tokio::time::sleep(limits.hard);
    tokio::pin!(soft, hard);
    let mut beat = tokio::time::interval((shared.lease / 3).max(Duration::from_millis(100)));
    beat.tick().await; // the first tick is immediate; the claim just set the lease
    // When the lease surely ends, as far as this worker knows: renewed by each beat that
    // reaches the database.
    let mut lease_until = tokio::time::Instant::now() + shared.lease;
    let ended = loop {
        tokio::select! {
            r = &mut task => break match r {
                Ok(outcome) => Ended::Returned(outcome),
                Err(_) => Ended::Panicked,
            },
            () = &mut soft, if !soft_stop.is_cancelled() => soft_stop.cancel(),
            () = &mut hard => {
                task.abort();
                break Ended::TimedOut(limits.hard);
            }
            _ = beat.tick() => match jobs::heartbeat(&shared.db, &job, &shared.id, shared.lease).await {
                Ok(true) => lease_until = tokio::time::Instant::now() + shared.lease,
                Ok(false) => {
                    task.abort();
                    tracing::warn!(job = %job.id, kind = %job.kind,
                        "lease lost (the job was given to another worker); stopped it here");
                    return;
                }
                // Cut off from the database past the lease's end: the job may already be
                // another worker's (expired leases are given back to the queue), and two
                // runs of one job must not act side by side. Stopped here; the job runs again.
                Err(e) if tokio::time::Instant::now() >= lease_until => {
                    task.abort();
                    tracing::warn!(job = %job.id, kind = %job.kind, error = %e,
                        "the lease ran out while the database was unreachable; stopped the job here");
                    return;
                }
                // The lease is still valid for a while; the next beat may get through.
                Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot renew the lease"),
            },
            () = shared.force_stop.cancelled() => {
                task.abort();
                match jobs::release(&shared.db, &job, &shared.id, "released: the worker shut down").await {
                    Ok(_) => tracing::info!(job = %job.id, kind = %job.kind, "job given back to the queue"),
                    Err(e) => tracing::warn!(job = %job.id, error = %e,
                        "cannot give the job back; it runs again when its lease expires"),
                }
                return;
            }
        }
    };

    let finish = decide(&*handler, &job, ended);
    // The handler already recorded the success in its own transaction (`succeed_in`):
    // nothing left to write, and asking would cost a transaction that changes nothing.
    let recorded = matches!(finish, Finish::Succeeded) && completed.load(Ordering::SeqCst);
    let written = if recorded {
        Ok(true)
    } else {
        jobs::finish(&shared.db, &job, &shared.id, &finish).await
    };
    match written {
        Ok(true) => {}
        Ok(false) if completed.load(Ordering::SeqCst) => {}
        Ok(false) => tracing::warn!(job = %job.id, kind = %job.kind,
            "the lease expired before the outcome was recorded; the job will run again"),
        Err(e) => tracing::error!(job = %job.id, kind = %job.kind, error = %e,
            "cannot record the outcome; the job runs again when its lease expires"),
    }
    match &finish {
        Finish::Succeeded => {
            tracing::debug!(job = %job.id, kind = %job.kind, "job succeeded");
        }
        Finish::Retry { at, error, .. } => {
            tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempt,
                retry_at = %at, error = %error, "job will be retried");
        }
        Finish::Failed { error, .. } => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt,
                error = %error, "job failed");
        }
    }
    shared.wake.notify_one();
}

/// Turns the end of an attempt into the job's next state.
fn decide(handler: &dyn ErasedHandler, job: &ClaimedJob, ended: Ended) -> Finish {
    let attempts_left = job.attempt < job.max_attempts;
    let attempt = u32::try_from(job.attempt).unwrap_or(1);
    let retry_or_fail = |outcome: AttemptOutcome, error: String, delay: Duration| {
        if attempts_left {
            Finish::Retry {
                at: Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
                outcome,
                error,
            }
        } else {
            let outcome = if outcome == AttemptOutcome::Retry {
                AttemptOutcome::Failed
            } else {
                outcome
            };
            Finish::Failed { outcome, error }
        }
    };
    match ended {
        Ended::Returned(Outcome::Success) => Finish::Succeeded,
        Ended::Returned(Outcome::RetryAfter(delay)) => retry_or_fail(
            AttemptOutcome::Retry,
            format!("the handler asked to retry in {} s", delay.as_secs()),
            delay,
        ),
        Ended::Returned(Outcome::Failure(reason)) => {
            retry_or_fail(AttemptOutcome::Retry, reason, handler.backoff(attempt))
        }
        Ended::Returned(Outcome::Abandon(reason)) => Finish::Failed {
            outcome: AttemptOutcome::Failed,
            error: reason,
        },
        Ended::TimedOut(limit) => retry_or_fail(
            AttemptOutcome::Timeout,
            format!("stopped at the hard time limit of {} s", limit.as_secs()),
            handler.backoff(attempt),
        ),
        Ended::Panicked => retry_or_fail(
            AttemptOutcome::Retry,
            "the handler panicked".to_owned(),
            handler.backoff(attempt),
        ),
    }
}

/// Periodic work of every worker: its own heartbeat, periodic jobs, expired leases.
async fn maintain(shared: Arc<Shared>, registry: Registry, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = jobs::worker_heartbeat(&shared.db, &shared.id).await {
            tracing::warn!(error = %e, "cannot record the worker heartbeat");
        }
        let now = Utc::now();
        for p in &registry.periodic {
            let secs = i64::try_from(p.every.as_secs()).unwrap_or(i64::MAX).max(1);
            let period = now.timestamp().div_euclid(secs);
            let Some(start) = chrono::DateTime::from_timestamp(period.saturating_mul(secs), 0)
            else {
                continue;
            };
            let job = registry
                .new_job(p.kind, p.payload.clone())
                .run_at(start)
                .unique_key(format!("periodic:{}:{}", p.kind, start.timestamp()));
            match jobs::enqueue_now(&shared.db, &job).await {
                Ok(Some(id)) => tracing::debug!(job = %id, kind = p.kind, "periodic job enqueued"),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(kind = p.kind, error = %e, "cannot enqueue a periodic job")
                }
            }
        }
        match jobs::reap_expired(&shared.db).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(
                    jobs = n,
                    "recovered jobs whose worker stopped renewing its lease"
                );
                shared.wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "cannot recover expired leases"),
        }
    }
}

/// PostgreSQL wake-ups: every enqueue NOTIFYs at commit. `PgListener` reconnects by
/// itself; notifications sent while it is down are lost, which the poll covers.
async fn listen(pool: sqlx::PgPool, shared: Arc<Shared>) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for new jobs; polling meanwhile");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(jobs::NOTIFY_CHANNEL).await {
            tracing::warn!(error = %e, "cannot LISTEN for new jobs; polling meanwhile");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(_) => shared.wake.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the LISTEN connection; reconnecting");
                    break;
                }
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::JobHandler;

    struct Quick;
    impl JobHandler for Quick {
        fn kind(&self) -> &'static str {
            "quick"
        }
        fn backoff(&self, attempt: u32) -> Duration {
            Duration::from_secs(u64::from(attempt) * 10)
        }
        async fn run(&self, _ctx: JobContext, _payload: serde_json::Value) -> Outcome {
            Outcome::Success
        }
    }

    fn job(attempt: i32, max_attempts: i32) -> ClaimedJob {
        ClaimedJob {
            id: icf_core::ids::JobId::new(),
            kind: "quick".into(),
            payload: serde_json::json!({}),
            priority: icf_core::enums::JobPriority::Normal,
            attempt,
            max_attempts,
            concurrency_key: None,
            lease_expires_at: Utc::now(),
            started_at: Utc::now(),
            attempt_id: uuid::Uuid::now_v7(),
        }
    }

    fn retry_delay_secs(f: &Finish) -> Option<i64> {
        match f {
            // Rounded up: a little time passed since `decide` read the clock.
            Finish::Retry { at, .. } => Some(((*at - Utc::now()).num_milliseconds() + 999) / 1000),
            _ => None,
        }
    }

    #[test]
    fn failures_retry_with_the_kind_backoff_until_the_last_attempt() {
        let failed = || Ended::Returned(Outcome::Failure("boom".into()));
        let f = decide(&Quick, &job(2, 3), failed());
        assert_eq!(retry_delay_secs(&f), Some(20));
        assert!(matches!(
            f,
            Finish::Retry {
                outcome: AttemptOutcome::Retry,
                ..
            }
        ));
        let f = decide(&Quick, &job(3, 3), failed());
        assert!(
            matches!(&f, Finish::Failed { outcome: AttemptOutcome::Failed, error } if error == "boom")
        );
    }

    #[test]
    fn timeouts_and_panics_are_retryable_and_abandon_is_final() {
        let f = decide(
            &Quick,
            &job(1, 3),
            Ended::TimedOut(Duration::from_secs(300)),
        );
        assert!(matches!(
            f,
            Finish::Retry {
                outcome: AttemptOutcome::Timeout,
                ..
            }
        ));
        let f = decide(
            &Quick,
            &job(3, 3),
            Ended::TimedOut(Duration::from_secs(300)),
        );
        assert!(matches!(
            f,
            Finish::Failed {
                outcome: AttemptOutcome::Timeout,
                ..
            }
        ));
        let f = decide(&Quick, &job(1, 3), Ended::Panicked);
        assert!(matches!(f, Finish::Retry { .. }));
        let f = decide(
            &Quick,
            &job(1, 3),
            Ended::Returned(Outcome::Abandon("banned".into())),
        );
        assert!(matches!(f, Finish::Failed { .. }));
    }

    #[test]
    fn retry_after_uses_the_handlers_delay() {
        let f = decide(
            &Quick,
            &job(1, 3),
            Ended::Returned(Outcome::RetryAfter(Duration::from_secs(90))),
        );
        assert_eq!(retry_delay_secs(&f), Some(90));
        let f = decide(
            &Quick,
            &job(3, 3),
            Ended::Returned(Outcome::RetryAfter(Duration::from_secs(90))),
        );
        assert!(matches!(
            f,
            Finish::Failed {
                outcome: AttemptOutcome::Failed,
                ..
            }
        ));
    }

    #[test]
    fn a_configured_cap_overrides_the_handlers() {
        let mut registry = Registry::new();
        registry.register(Quick);
        assert_eq!(registry.cap_of("quick"), None);
        registry.cap("quick", 3);
        assert_eq!(registry.cap_of("quick"), Some(3));
        assert_eq!(
            registry
                .new_job("quick", serde_json::json!({}))
                .max_attempts,
            5
        );
    }
}
