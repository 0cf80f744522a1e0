//! The durable job queue and its workers, on both engines.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use icf_core::enums::{JobPriority, JobState, Role};
use icf_core::ids::JobId;
use icf_core::jobs::Selftest as SelftestPayload;
use icf_store::jobs::{self, Finish, KindFilter, NewJob};
use icf_store::{Db, on_pool};
use icf_worker::builtin::Selftest;
use icf_worker::{JobContext, JobHandler, Outcome, Registry, TimeLimits, Worker, WorkerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    claims_follow_priority_then_run_at,
    a_worker_waits_for_run_at,
    an_idle_worker_wakes_up_for_new_and_due_jobs_without_waiting_for_its_poll,
    one_running_job_per_concurrency_key_under_8_claimers,
    the_global_cap_holds_under_8_claimers,
    an_expired_lease_makes_the_job_claimable_again,
    a_job_enqueued_in_a_rolled_back_transaction_never_runs,
    unique_keys_deduplicate,
    a_cancelled_job_never_runs_and_a_running_one_cannot_be_cancelled,
    periodic_jobs_run_once_per_period_with_several_workers,
    failures_retry_with_backoff_at_low_priority_and_every_attempt_is_recorded,
    the_hard_time_limit_stops_a_job_after_the_soft_one_warned_it,
    shutdown_lets_short_jobs_finish_and_gives_long_ones_back,
    the_queue_api_shows_counts_running_jobs_and_workers,
    finished_jobs_past_the_retention_are_pruned_by_the_periodic_job,
    a_configured_cap_holds_across_workers,
    a_worker_that_lost_its_lease_stops_the_job_and_leaves_it_to_the_new_owner,
    a_worker_cut_off_from_the_database_stops_the_job_when_its_lease_runs_out,
);

const KIND: &str = "test_kind";
const LEASE: Duration = Duration::from_secs(30);

fn any(kind: &str) -> Vec<KindFilter<'_>> {
    vec![KindFilter { kind, cap: None }]
}

fn quick_config(concurrency: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(200),
        shutdown_grace: Duration::from_secs(5),
    }
}

/// Starts a worker in this process; cancel the token to stop it.
fn start_worker(
    db: &Db,
    registry: Registry,
    config: WorkerConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let worker = Worker::new(db.clone(), registry, config);
    let handle = tokio::spawn({
        let stop = stop.clone();
        async move {
            worker
                .run(stop.cancelled_owned())
                .await
                .expect("worker runs")
        }
    });
    (stop, handle)
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn state_of(db: &Db, id: JobId) -> JobState {
    jobs::get(db, id).await.unwrap().state
}

async fn count_jobs(db: &Db, kind: &str) -> i64 {
    on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE kind = $1"
    )
    .bind(kind)
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn enqueue(db: &Db, job: NewJob) -> JobId {
    jobs::enqueue_now(db, &job)
        .await
        .unwrap()
        .expect("enqueued")
}

async fn claimed_order_of(db: &Db) -> Vec<String> {
    let mut order = Vec::new();
    while let Some(job) = jobs::claim(db, "w", &any(KIND), LEASE).await.unwrap() {
        order.push(job.payload["name"].as_str().unwrap().to_owned());
        assert!(
            jobs::finish(db, &job, "w", &Finish::Succeeded)
                .await
                .unwrap()
        );
    }
    order
}

async fn claims_follow_priority_then_run_at(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let now = Utc::now();
    let secs = chrono::Duration::seconds;
    let cases = [
        ("low-oldest", JobPriority::Low, now - secs(50)),
        ("normal-late", JobPriority::Normal, now - secs(10)),
        ("high", JobPriority::High, now - secs(1)),
        ("normal-early", JobPriority::Normal, now - secs(30)),
        ("high-future", JobPriority::High, now + secs(3600)),
    ];
    for (name, priority, at) in cases {
        enqueue(
            db,
            NewJob::new(KIND, json!({ "name": name }))
                .priority(priority)
                .run_at(at),
        )
        .await;
    }
    assert_eq!(
        claimed_order_of(db).await,
        ["high", "normal-early", "normal-late", "low-oldest"],
        "priority first, then the earliest run_at; a job not yet due is left alone"
    );
    assert_eq!(count_jobs(db, KIND).await, 5);
}

async fn a_worker_waits_for_run_at(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut registry = Registry::new();
    registry.register(Selftest);
    let run_at = Utc::now() + chrono::Duration::milliseconds(1500);
    let job = registry
        .new_job(
            "selftest",
            serde_json::to_value(SelftestPayload {
                batch: "later".into(),
                work_ms: 0,
            })
            .unwrap(),
        )
        .run_at(run_at);
    let id = enqueue(&app.db, job).await;
    let (stop, handle) = start_worker(&app.db, registry, quick_config(2));
    wait_until("the delayed job", Duration::from_secs(20), || async {
        state_of(&app.db, id).await == JobState::Succeeded
    })
    .await;
    let attempts = jobs::attempts(&app.db, id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(
        attempts[0].started_at >= run_at,
        "started {} before its run_at {run_at}",
        attempts[0].started_at
    );
    stop.cancel();
    handle.await.unwrap();
}

async fn an_idle_worker_wakes_up_for_new_and_due_jobs_without_waiting_for_its_poll(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut registry = Registry::new();
    registry.register(Selftest);
    let payload = serde_json::to_value(SelftestPayload {
        batch: "wake".into(),
        work_ms: 0,
    })
    .unwrap();
    // A poll far longer than the waits below: only a wake-up can start these jobs in time.
    let config = WorkerConfig {
        poll_interval: Duration::from_secs(120),
        ..quick_config(2)
    };
    let (stop, handle) = start_worker(&app.db, registry.clone(), config);
    tokio::time::sleep(Duration::from_millis(500)).await; // idle, waiting
    let now = enqueue(&app.db, registry.new_job("selftest", payload.clone())).await;
    wait_until(
        "a job enqueued while idle",
        Duration::from_secs(15),
        || async { state_of(&app.db, now).await == JobState::Succeeded },
    )
    .await;
    let soon = enqueue(
        &app.db,
        registry
            .new_job("selftest", payload)
            .run_at(Utc::now() + chrono::Duration::seconds(2)),
    )
    .await;
    wait_until("a job due in 2 s", Duration::from_secs(15), || async {
        state_of(&app.db, soon).await == JobState::Succeeded
    })
    .await;
    stop.cancel();
    handle.await.unwrap();
}

/// Eight claimers race over jobs of three keys; each checks that no other job of its
/// key is running while it holds one.
async fn one_running_job_per_concurrency_key_under_8_claimers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = app.db.clone();
    for i in 0..30 {
        enqueue(
            &db,
            NewJob::new(KIND, json!({ "i": i })).concurrency_key(format!("account-{}", i % 3)),
        )
        .await;
    }
    let active: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let peak = Arc::new(AtomicU32::new(0));
    let mut claimers = tokio::task::JoinSet::new();
    for c in 0..8 {
        let (db, active, peak) = (db.clone(), active.clone(), peak.clone());
        claimers.spawn(async move {
            let me = format!("claimer-{c}");
            let mut idle = 0;
            while idle < 20 {
                let Some(job) = jobs::claim(&db, &me, &any(KIND), LEASE).await.unwrap() else {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                idle = 0;
                let key = job.concurrency_key.clone().unwrap();
                {
                    let mut a = active.lock().unwrap();
                    let n = a.entry(key.clone()).or_default();
                    assert_eq!(*n, 0, "two jobs of {key} running at once");
                    *n += 1;
                    let total: u32 = a.values().sum();
                    peak.fetch_max(total, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
                // Leave the in-memory record before the database one, so a claimer that
                // sees the key free in the database also sees it free here.
                *active.lock().unwrap().get_mut(&key).unwrap() -= 1;
                assert!(
                    jobs::finish(&db, &job, &me, &Finish::Succeeded)
                        .await
                        .unwrap()
                );
            }
        });
    }
    while let Some(r) = claimers.join_next().await {
        r.unwrap();
    }
    let succeeded: i64 = on_pool!(&app.db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(succeeded, 30, "every job ran");
    assert!(
        peak.load(Ordering::SeqCst) >= 2,
        "different keys should run side by side"
    );
}

async fn the_global_cap_holds_under_8_claimers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = app.db.clone();
    for i in 0..24 {
        enqueue(&db, NewJob::new("capped", json!({ "i": i }))).await;
        enqueue(&db, NewJob::new("free", json!({ "i": i }))).await;
    }
    let running_capped = Arc::new(AtomicU32::new(0));
    let peak_capped = Arc::new(AtomicU32::new(0));
    let mut claimers = tokio::task::JoinSet::new();
    for c in 0..8 {
        let (db, running, peak) = (db.clone(), running_capped.clone(), peak_capped.clone());
        claimers.spawn(async move {
            let me = format!("claimer-{c}");
            let kinds = [
                KindFilter {
                    kind: "capped",
                    cap: Some(2),
                },
                KindFilter {
                    kind: "free",
                    cap: None,
                },
            ];
            let mut idle = 0;
            while idle < 20 {
                let Some(job) = jobs::claim(&db, &me, &kinds, LEASE).await.unwrap() else {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                idle = 0;
                let capped = job.kind == "capped";
                if capped {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= 2, "{now} capped jobs running at once; the cap is 2");
                    peak.fetch_max(now, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                if capped {
                    running.fetch_sub(1, Ordering::SeqCst);
                }
                assert!(
                    jobs::finish(&db, &job, &me, &Finish::Succeeded)
                        .await
                        .unwrap()
                );
            }
        });
    }
    while let Some(r) = claimers.join_next().await {
        r.unwrap();
    }
    let left: i64 = on_pool!(&app.db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE state <> 'succeeded'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(left, 0, "every job ran");
    assert_eq!(
        peak_capped.load(Ordering::SeqCst),
        2,
        "the cap is reached, not serialised to one"
    );
}

async fn an_expired_lease_makes_the_job_claimable_again(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let id = enqueue(db, NewJob::new(KIND, json!({})).max_attempts(3)).await;
    // A worker claims it with a short lease, then "crashes": it never renews.
    let lost = jobs::claim(db, "crashed", &any(KIND), Duration::from_millis(500))
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(lost.id, id);
    assert!(
        jobs::claim(db, "other", &any(KIND), LEASE)
            .await
            .unwrap()
            .is_none(),
        "a leased job is not handed out twice"
    );
    assert_eq!(
        jobs::reap_expired(db).await.unwrap(),
        0,
        "lease still valid"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(jobs::reap_expired(db).await.unwrap(), 1);
    let again = jobs::claim(db, "other", &any(KIND), LEASE)
        .await
        .unwrap()
        .expect("claimable again after the lease expired");
    assert_eq!((again.id, again.attempt), (id, 2));
    // The crashed worker, were it to come back, can neither renew nor complete the job.
    assert!(!jobs::heartbeat(db, &lost, "crashed", LEASE).await.unwrap());
    assert!(
        !jobs::finish(db, &lost, "crashed", &Finish::Succeeded)
            .await
            .unwrap()
    );
    assert!(
        jobs::finish(db, &again, "other", &Finish::Succeeded)
            .await
            .unwrap()
    );
    let attempts = jobs::attempts(db, id).await.unwrap();
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.attempt, a.worker.as_str(), a.outcome.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, "crashed", Some("lost")),
            (2, "other", Some("succeeded"))
        ]
    );
    assert_eq!(state_of(db, id).await, JobState::Succeeded);
}

async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let mut tx = db.begin().await.unwrap();
    jobs::enqueue(&mut tx, &NewJob::new(KIND, json!({ "name": "ghost" })))
        .await
        .unwrap()
        .expect("enqueued inside the transaction");
    tx.rollback().await.unwrap();
    {
        // Dropping a transaction without commit rolls back too.
        let mut tx = db.begin().await.unwrap();
        jobs::enqueue(&mut tx, &NewJob::new(KIND, json!({ "name": "dropped" })))
            .await
            .unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    jobs::enqueue(&mut tx, &NewJob::new(KIND, json!({ "name": "kept" })))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed_order_of(db).await, ["kept"]);
    assert_eq!(count_jobs(db, KIND).await, 1);
}

async fn unique_keys_deduplicate(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let job = NewJob::new(KIND, json!({ "name": "once" })).unique_key("check:account-1:day-1");
    let first = jobs::enqueue_now(db, &job).await.unwrap();
    assert!(first.is_some());
    assert_eq!(jobs::enqueue_now(db, &job).await.unwrap(), None);
    // Also within one transaction, and after the first one ran.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(jobs::enqueue(&mut tx, &job).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(claimed_order_of(db).await, ["once"]);
    assert_eq!(jobs::enqueue_now(db, &job).await.unwrap(), None);
    assert_eq!(count_jobs(db, KIND).await, 1);
}

async fn a_cancelled_job_never_runs_and_a_running_one_cannot_be_cancelled(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let running = enqueue(db, NewJob::new(KIND, json!({ "name": "running" }))).await;
    let job = jobs::claim(db, "w", &any(KIND), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, running);
    let waiting = enqueue(db, NewJob::new(KIND, json!({ "name": "waiting" }))).await;
    assert!(jobs::cancel(db, waiting).await.unwrap());
    assert!(!jobs::cancel(db, running).await.unwrap());
    assert!(
        !jobs::cancel(db, waiting).await.unwrap(),
        "already cancelled"
    );
    assert!(
        jobs::finish(db, &job, "w", &Finish::Succeeded)
            .await
            .unwrap()
    );
    assert!(claimed_order_of(db).await.is_empty());
    let cancelled = jobs::get(db, waiting).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert!(cancelled.finished_at.is_some());
}

async fn periodic_jobs_run_once_per_period_with_several_workers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let payload = serde_json::to_value(SelftestPayload {
        batch: "periodic".into(),
        work_ms: 0,
    })
    .unwrap();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let mut registry = Registry::new();
        registry
            .register(Selftest)
            .every("selftest", Duration::from_secs(1), payload.clone());
        workers.push(start_worker(&app.db, registry, quick_config(2)));
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    for (stop, _) in &workers {
        stop.cancel();
    }
    for (_, handle) in workers {
        handle.await.unwrap();
    }
    let rows: Vec<(String, chrono::DateTime<Utc>, String, i32)> =
        on_pool!(&app.db, |pool| sqlx::query_as(
            "SELECT unique_key, run_at, state, attempts FROM jobs WHERE kind = 'selftest' \
             ORDER BY run_at"
        )
        .fetch_all(pool)
        .await
        .unwrap());
    // Four workers, 3.5 s, a 1 s period: never two jobs for one period. (A period may be
    // skipped when the machine stalls for a second; that is not what this test is about.)
    assert!(
        (2..=5).contains(&rows.len()),
        "about one job per second: {rows:?}"
    );
    for pair in rows.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(
            gap.num_seconds() >= 1 && gap.num_milliseconds() % 1000 == 0,
            "one job per period: {rows:?}"
        );
    }
    for (key, at, _, _) in &rows {
        assert_eq!(key, &format!("periodic:selftest:{}", at.timestamp()));
    }
    let finished: Vec<_> = rows
        .iter()
        .filter(|r| r.2 == "succeeded")
        .map(|r| r.3)
        .collect();
    assert!(finished.len() >= rows.len() - 1, "{rows:?}");
    assert!(finished.iter().all(|a| *a == 1), "each ran once: {rows:?}");
    let runs = jobs::selftest::runs(&app.db, "periodic").await.unwrap();
    assert_eq!(runs.len(), finished.len());
}

/// Fails until its third attempt.
struct Flaky {
    backoff: Option<Duration>,
    max_attempts: u32,
}

impl JobHandler for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    fn backoff(&self, attempt: u32) -> Duration {
        self.backoff
            .unwrap_or_else(|| icf_worker::default_backoff(attempt))
    }
    async fn run(&self, ctx: JobContext, _payload: Value) -> Outcome {
        if ctx.attempt() < 3 {
            Outcome::Failure(format!("flaked on attempt {}", ctx.attempt()))
        } else {
            Outcome::Success
        }
    }
}

async fn failures_retry_with_backoff_at_low_priority_and_every_attempt_is_recorded(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;

    // The default backoff: the first retry waits a minute, at low priority.
    let mut registry = Registry::new();
    registry.register(Flaky {
        backoff: None,
        max_attempts: 5,
    });
    let slow = enqueue(
        db,
        registry
            .new_job("flaky", json!({}))
            .priority(JobPriority::High),
    )
    .await;
    let (stop, handle) = start_worker(db, registry, quick_config(2));
    wait_until("the first failure", Duration::from_secs(20), || async {
        jobs::get(db, slow).await.unwrap().attempts == 1
            && state_of(db, slow).await == JobState::Queued
    })
    .await;
    stop.cancel();
    handle.await.unwrap();
    let job = jobs::get(db, slow).await.unwrap();
    let failed_at = jobs::attempts(db, slow).await.unwrap()[0]
        .finished_at
        .unwrap();
    let delay = (job.run_at - failed_at).num_seconds();
    assert!((59..=61).contains(&delay), "retry in {delay} s, not 60");
    assert_eq!(job.priority, JobPriority::Low);
    assert_eq!(job.max_attempts, 5);
    assert_eq!(job.last_error.as_deref(), Some("flaked on attempt 1"));

    // A short backoff: it succeeds on the third attempt; a kind with two attempts fails.
    let mut registry = Registry::new();
    registry.register(Flaky {
        backoff: Some(Duration::from_millis(100)),
        max_attempts: 5,
    });
    let ok = enqueue(db, registry.new_job("flaky", json!({}))).await;
    let doomed = enqueue(db, registry.new_job("flaky", json!({})).max_attempts(2)).await;
    let (stop, handle) = start_worker(db, registry, quick_config(2));
    wait_until("both jobs to end", Duration::from_secs(20), || async {
        state_of(db, ok).await == JobState::Succeeded
            && state_of(db, doomed).await == JobState::Failed
    })
    .await;
    stop.cancel();
    handle.await.unwrap();
    let outcomes = |attempts: Vec<jobs::Attempt>| -> Vec<(i32, Option<String>, Option<String>)> {
        attempts
            .into_iter()
            .map(|a| {
                assert!(a.finished_at.is_some() && a.duration_ms.is_some());
                (a.attempt, a.outcome, a.error)
            })
            .collect()
    };
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        outcomes(jobs::attempts(db, ok).await.unwrap()),
        [
            (1, s("retry"), s("flaked on attempt 1")),
            (2, s("retry"), s("flaked on attempt 2")),
            (3, s("succeeded"), None),
        ]
    );
    assert_eq!(
        outcomes(jobs::attempts(db, doomed).await.unwrap()),
        [
            (1, s("retry"), s("flaked on attempt 1")),
            (2, s("failed"), s("flaked on attempt 2")),
        ]
    );
    let job = jobs::get(db, doomed).await.unwrap();
    assert!(job.finished_at.is_some());
    assert_eq!(job.last_error.as_deref(), Some("flaked on attempt 2"));
}

/// Never finishes; notes whether it was told to.
struct Stubborn {
    warned: Arc<AtomicBool>,
}

impl JobHandler for Stubborn {
    fn kind(&self) -> &'static str {
        "stubborn"
    }
    fn max_attempts(&self) -> u32 {
        1
    }
    fn limits(&self) -> TimeLimits {
        TimeLimits {
            soft: Duration::from_millis(300),
            hard: Duration::from_millis(800),
        }
    }
    async fn run(&self, ctx: JobContext, _payload: Value) -> Outcome {
        ctx.soft_stop().cancelled().await;
        self.warned.store(true, Ordering::SeqCst);
        std::future::pending::<()>().await;
        Outcome::Success
    }
}

async fn the_hard_time_limit_stops_a_job_after_the_soft_one_warned_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let warned = Arc::new(AtomicBool::new(false));
    let mut registry = Registry::new();
    registry.register(Stubborn {
        warned: warned.clone(),
    });
    let id = enqueue(db, registry.new_job("stubborn", json!({}))).await;
    let (stop, handle) = start_worker(db, registry, quick_config(1));
    wait_until("the time limit", Duration::from_secs(20), || async {
        state_of(db, id).await == JobState::Failed
    })
    .await;
    stop.cancel();
    handle.await.unwrap();
    assert!(
        warned.load(Ordering::SeqCst),
        "the soft limit was signalled"
    );
    let attempts = jobs::attempts(db, id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome.as_deref(), Some("timeout"));
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("hard time limit")
    );
}

/// Sleeps `ms` from the payload, ignoring the soft stop.
struct Sleeper;

impl JobHandler for Sleeper {
    fn kind(&self) -> &'static str {
        "sleeper"
    }
    async fn run(&self, _ctx: JobContext, payload: Value) -> Outcome {
        let ms = payload["ms"].as_u64().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Outcome::Success
    }
}

async fn shutdown_lets_short_jobs_finish_and_gives_long_ones_back(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let mut registry = Registry::new();
    registry.register(Sleeper);
    let short = enqueue(db, registry.new_job("sleeper", json!({ "ms": 1500 }))).await;
    let long = enqueue(db, registry.new_job("sleeper", json!({ "ms": 60_000 }))).await;
    let config = WorkerConfig {
        shutdown_grace: Duration::from_millis(4000),
        ..quick_config(2)
    };
    let (stop, handle) = start_worker(db, registry, config);
    wait_until("both jobs to start", Duration::from_secs(20), || async {
        // On a loaded machine the short job may even be over before the long one starts.
        state_of(db, short).await != JobState::Queued
            && state_of(db, long).await == JobState::Running
    })
    .await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the worker stops after its grace period")
        .unwrap();
    assert_eq!(state_of(db, short).await, JobState::Succeeded);
    let job = jobs::get(db, long).await.unwrap();
    assert_eq!(job.state, JobState::Queued, "given back for another worker");
    assert_eq!(job.lease_owner, None);
    let attempts = jobs::attempts(db, long).await.unwrap();
    assert_eq!(attempts[0].outcome.as_deref(), Some("lost"));
    // The worker said goodbye: no live worker is left.
    let q = jobs::overview(db, Utc::now() - chrono::Duration::minutes(1), 10)
        .await
        .unwrap();
    assert!(q.workers.is_empty(), "{:?}", q.workers);
}

async fn the_queue_api_shows_counts_running_jobs_and_workers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let admin = app.admin_token().await;
    let editor_pw = app.create_user("writer", Role::Editor).await;
    let editor = app.login("writer", &editor_pw).await;

    let (status, body) = app
        .call(Method::GET, "/api/queue", Some(&editor), None)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.call(Method::GET, "/api/queue", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    let (status, body) = app
        .call(Method::GET, "/api/queue/", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["by_kind"], json!({}));
    assert_eq!(body["oldest_waiting_age_secs"], Value::Null);
    assert_eq!(body["worker_alive"], false);

    let old = Utc::now() - chrono::Duration::seconds(90);
    for _ in 0..3 {
        enqueue(db, NewJob::new("check_proxy", json!({})).run_at(old)).await;
    }
    enqueue(
        db,
        NewJob::new("translate_text", json!({})).concurrency_key("acc-1"),
    )
    .await;
    jobs::register_worker(db, "host:42:abcd", "host", 42, 4)
        .await
        .unwrap();
    let running = jobs::claim(db, "host:42:abcd", &any("translate_text"), LEASE)
        .await
        .unwrap()
        .unwrap();

    let (status, body) = app
        .call(Method::GET, "/api/queue", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["by_kind"]["check_proxy"], json!({ "queued": 3 }));
    assert_eq!(body["by_kind"]["translate_text"], json!({ "running": 1 }));
    assert_eq!(body["totals"], json!({ "queued": 3, "running": 1 }));
    let age = body["oldest_waiting_age_secs"].as_i64().unwrap();
    assert!((89..200).contains(&age), "age {age}");
    assert_eq!(body["worker_alive"], true);
    assert_eq!(body["workers"][0]["id"], "host:42:abcd");
    assert_eq!(body["running"][0]["id"], running.id.to_string());
    assert_eq!(body["running"][0]["worker"], "host:42:abcd");
    assert_eq!(body["running"][0]["concurrency_key"], "acc-1");
    assert!(body["running"][0]["lease_expires_at"].is_string());
}

async fn finished_jobs_past_the_retention_are_pruned_by_the_periodic_job(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_JOB_RETENTION_DAYS", "3")]).await;
    let db = &app.db;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let id = enqueue(db, NewJob::new(KIND, json!({}))).await;
        let job = jobs::claim(db, "w", &any(KIND), LEASE)
            .await
            .unwrap()
            .unwrap();
        assert!(
            jobs::finish(db, &job, "w", &Finish::Succeeded)
                .await
                .unwrap()
        );
        ids.push(id);
    }
    let waiting = enqueue(
        db,
        NewJob::new(KIND, json!({})).run_at(Utc::now() + chrono::Duration::days(30)),
    )
    .await;
    // Two finished four days ago, one two days ago, one now; one still waiting.
    for (id, days) in [(ids[0], 4), (ids[1], 4), (ids[2], 2)] {
        on_pool!(db, |pool| sqlx::query(
            "UPDATE jobs SET finished_at = $2, created_at = $2 WHERE id = $1"
        )
        .bind(icf_store::DbUuid::from(id))
        .bind(Utc::now() - chrono::Duration::days(days))
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    }
    // The registry `icf worker` runs: its hourly prune job is due at once.
    let registry = icf::startup::job_registry(&app.settings, &app.db).unwrap();
    let (stop, handle) = start_worker(db, registry, quick_config(1));
    wait_until("the prune job", Duration::from_secs(20), || async {
        on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'prune_finished_jobs' AND state = 'succeeded'"
        )
        .fetch_one(pool)
        .await
        .unwrap())
            == 1
    })
    .await;
    stop.cancel();
    handle.await.unwrap();
    for (id, kept) in [
        (ids[0], false),
        (ids[1], false),
        (ids[2], true),
        (ids[3], true),
        (waiting, true),
    ] {
        assert_eq!(jobs::get(db, id).await.is_ok(), kept, "job {id}");
        assert_eq!(
            !jobs::attempts(db, id).await.unwrap().is_empty(),
            kept && id != waiting
        );
    }
}

/// `Registry::cap` (how `MAX_CONCURRENT_TASKS` is applied) reaches the claim of every
/// worker: with a cap of one, two workers of four slots each never overlap two jobs.
async fn a_configured_cap_holds_across_workers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let mut registry = Registry::new();
    registry.register(Sleeper).cap("sleeper", 1);
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(enqueue(db, registry.new_job("sleeper", json!({ "ms": 150 }))).await);
    }
    let workers: Vec<_> = (0..2)
        .map(|_| start_worker(db, registry.clone(), quick_config(4)))
        .collect();
    wait_until("all capped jobs", Duration::from_secs(30), || async {
        let mut done = true;
        for id in &ids {
            done &= state_of(db, *id).await == JobState::Succeeded;
        }
        done
    })
    .await;
    for (stop, handle) in workers {
        stop.cancel();
        handle.await.unwrap();
    }
    let mut spans = Vec::new();
    for id in &ids {
        let a = jobs::attempts(db, *id).await.unwrap();
        assert_eq!(a.len(), 1);
        spans.push((
            a[0].started_at,
            a[0].finished_at.unwrap(),
            a[0].worker.clone(),
        ));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two capped jobs overlapped: {spans:?}"
        );
    }
}

/// Runs until dropped; says when it is dropped.
struct Holder {
    dropped: Arc<AtomicBool>,
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl JobHandler for Holder {
    fn kind(&self) -> &'static str {
        "holder"
    }
    async fn run(&self, _ctx: JobContext, _payload: Value) -> Outcome {
        let _guard = SetOnDrop(self.dropped.clone());
        std::future::pending::<()>().await;
        Outcome::Success
    }
}

/// A queued job that a [`Holder`] runs until stopped, and a worker configuration with a
/// one-second lease. The flag says when the run was stopped.
async fn a_held_job(db: &Db) -> (Registry, JobId, Arc<AtomicBool>, WorkerConfig) {
    let dropped = Arc::new(AtomicBool::new(false));
    let mut registry = Registry::new();
    registry.register(Holder {
        dropped: dropped.clone(),
    });
    let id = enqueue(db, registry.new_job("holder", json!({}))).await;
    let config = WorkerConfig {
        lease: Duration::from_secs(1),
        ..quick_config(1)
    };
    (registry, id, dropped, config)
}

async fn a_worker_that_lost_its_lease_stops_the_job_and_leaves_it_to_the_new_owner(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let (registry, id, dropped, config) = a_held_job(db).await;
    let (stop, handle) = start_worker(db, registry, config);
    wait_until("the job to start", Duration::from_secs(20), || async {
        state_of(db, id).await == JobState::Running
    })
    .await;
    // As if the lease had expired and another worker had claimed the job meanwhile.
    on_pool!(db, |pool| sqlx::query(
        "UPDATE jobs SET lease_owner = 'new-owner', lease_expires_at = $2 WHERE id = $1"
    )
    .bind(icf_store::DbUuid::from(id))
    .bind(Utc::now() + chrono::Duration::hours(1))
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    wait_until(
        "the handler to be stopped",
        Duration::from_secs(20),
        || async { dropped.load(Ordering::SeqCst) },
    )
    .await;
    stop.cancel();
    handle.await.unwrap();
    let job = jobs::get(db, id).await.unwrap();
    assert_eq!(
        job.state,
        JobState::Running,
        "the new owner's run is untouched"
    );
    assert_eq!(job.lease_owner.as_deref(), Some("new-owner"));
}

/// A worker that cannot reach the database cannot renew its lease; once the lease has run out
/// another worker may be given the job, so this one stops its run instead of acting beside it.
async fn a_worker_cut_off_from_the_database_stops_the_job_when_its_lease_runs_out(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    // The worker's own connections, which the test takes away.
    let worker_db = Db::connect(&app.test_db.url, &icf_store::PoolSettings::default())
        .await
        .unwrap();
    let (registry, id, dropped, config) = a_held_job(db).await;
    let stop = CancellationToken::new();
    let worker = Worker::new(worker_db.clone(), registry, config);
    let handle = tokio::spawn({
        let stop = stop.clone();
        // Its other work fails too while it is cut off; only the job matters here.
        async move { worker.run(stop.cancelled_owned()).await.map(|_| ()) }
    });
    wait_until("the job to start", Duration::from_secs(20), || async {
        state_of(db, id).await == JobState::Running
    })
    .await;
    worker_db.close().await;
    wait_until(
        "the handler to be stopped",
        Duration::from_secs(20),
        || async { dropped.load(Ordering::SeqCst) },
    )
    .await;
    stop.cancel();
    handle.abort();
    let job = jobs::get(db, id).await.unwrap();
    assert_eq!(job.state, JobState::Running, "left for lease recovery");
    assert!(
        job.lease_expires_at.is_some_and(|t| t <= Utc::now()),
        "the lease has run out: {:?}",
        job.lease_expires_at
    );
}
