//! The job queue: the database is the broker.
//!
//! A job is a row in `jobs`. It is enqueued inside the caller's [`Tx`], so it exists
//! exactly when the data it acts on does. Workers [`claim`] a job, which takes a lease
//! (`lease_owner`, `lease_expires_at`) and records an attempt; they renew the lease while
//! the job runs ([`heartbeat`]) and end it with [`finish`]. A job whose worker died is
//! put back by [`reap_expired`] once its lease has expired, so delivery is at least once.
//!
//! At most one job per `concurrency_key` runs at a time (a partial unique index is the
//! guarantee, the claim query avoids most collisions), and a kind may have a global cap
//! on running jobs that holds across every worker process.

mod claim;
mod lifecycle;
mod overview;
pub mod selftest;
pub(crate) mod wakeup;

use chrono::{DateTime, Utc};
use icf_core::enums::JobPriority;
use icf_core::ids::JobId;
use icf_core::jobs::JobPayload;
use serde_json::Value;

use crate::{Db, DbUuid, StoreError, Tx, on_tx};

pub use claim::{ClaimedJob, KindFilter, claim, next_due};
pub use lifecycle::{
    AttemptOutcome, Finish, finish, heartbeat, prune_finished, reap_expired, release, succeed_in,
};
pub use overview::{
    KindStateCount, QueueOverview, RunningJob, WorkerInfo, overview, register_worker, stop_worker,
    worker_heartbeat,
};
pub use wakeup::local_wakeup;

/// The PostgreSQL channel on which an enqueue announces a job (payload: its kind).
pub const NOTIFY_CHANNEL: &str = "icf_jobs";

/// Attempts a job gets when its enqueuer does not say: the first run and the four
/// retries of the specification's backoff (1 min, 5 min, 15 min, 1 h).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub priority: JobPriority,
    /// Not before this time; `None` means now.
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: u32,
    /// Enqueuing a second job with the same key (while the first row exists) does nothing.
    pub unique_key: Option<String>,
    /// At most one running job per key (icf uses the account id).
    pub concurrency_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            priority: JobPriority::Normal,
            run_at: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
            concurrency_key: None,
        }
    }

    /// A job of one of icf's kinds (`icf_core::jobs`), its payload serialized here, once.
    pub fn of<P: JobPayload>(payload: &P) -> Self {
        Self::new(P::KIND.as_str(), payload.to_json())
    }

    pub fn priority(mut self, priority: JobPriority) -> Self {
        self.priority = priority;
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn concurrency_key(mut self, key: impl Into<String>) -> Self {
        self.concurrency_key = Some(key.into());
        self
    }
}

/// Enqueues `job` inside `tx`. Returns its id, or `None` when a job with the same unique
/// key already exists (the enqueue is then a no-op). Workers learn about it only when
/// `tx` commits: PostgreSQL delivers the NOTIFY at commit, and [`Tx::commit`] wakes the
/// workers of this process.
pub async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<Option<JobId>, StoreError> {
    let now = Utc::now();
    let id = JobId::new();
    let max_attempts = i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX);
    let inserted: Option<DbUuid> = on_tx!(tx, |conn| sqlx::query_scalar(
        "INSERT INTO jobs (id, kind, payload, priority, state, run_at, attempts, max_attempts, \
         unique_key, concurrency_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $8, $9, $9) \
         ON CONFLICT (unique_key) DO NOTHING RETURNING id"
    )
    .bind(DbUuid::from(id))
    .bind(&job.kind)
    .bind(sqlx::types::Json(&job.payload))
    .bind(job.priority.rank())
    .bind(job.run_at.unwrap_or(now))
    .bind(max_attempts)
    .bind(job.unique_key.as_deref())
    .bind(job.concurrency_key.as_deref())
    .bind(now)
    .fetch_optional(conn)
    .await?);
    if inserted.is_none() {
        return Ok(None);
    }
    if let crate::tx::TxConn::Postgres(t) = tx.conn_mut() {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(&job.kind)
            .execute(&mut **t)
            .await?;
    }
    tx.wake_workers = true;
    Ok(Some(id))
}

/// Enqueues many jobs inside `tx` in a few statements (a post to 10,000 accounts is
/// 10,000 jobs: one round trip each would take seconds): arrays unnested on PostgreSQL,
/// multi-row inserts on SQLite. Jobs whose unique key exists are skipped, as [`enqueue`]
/// does. Returns how many were inserted.
pub async fn enqueue_many(tx: &mut Tx, jobs: &[NewJob]) -> Result<usize, StoreError> {
    // 12 parameters a row on SQLite.
    const ROWS: usize = 1_000;
    if jobs.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let max_attempts = |job: &NewJob| i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX);
    let inserted: u64 = match tx.conn_mut() {
        crate::tx::TxConn::Postgres(t) => {
            let n = sqlx::query(
                "INSERT INTO jobs (id, kind, payload, priority, state, run_at, attempts, max_attempts, \
                 unique_key, concurrency_key, created_at, updated_at) \
                 SELECT u.id, u.kind, u.payload, u.priority, 'queued', u.run_at, 0, u.max_attempts, \
                 u.unique_key, u.concurrency_key, $1, $1 \
                 FROM UNNEST($2::uuid[], $3::text[], $4::jsonb[], $5::int2[], $6::timestamptz[], \
                 $7::int4[], $8::text[], $9::text[]) \
                 AS u(id, kind, payload, priority, run_at, max_attempts, unique_key, concurrency_key) \
                 ON CONFLICT (unique_key) DO NOTHING",
            )
            .bind(now)
            .bind(jobs.iter().map(|_| uuid::Uuid::from(JobId::new())).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.payload.clone()).collect::<Vec<Value>>())
            .bind(jobs.iter().map(|j| j.priority.rank()).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.run_at.unwrap_or(now)).collect::<Vec<_>>())
            .bind(jobs.iter().map(max_attempts).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.unique_key.as_deref()).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.concurrency_key.as_deref()).collect::<Vec<_>>())
            .execute(&mut **t)
            .await?
            .rows_affected();
            if n > 0 {
                let mut kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                for kind in kinds {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(NOTIFY_CHANNEL)
                        .bind(kind)
                        .execute(&mut **t)
                        .await?;
                }
            }
            n
        }
        crate::tx::TxConn::Sqlite(t) => {
            let mut n = 0;
            for chunk in jobs.chunks(ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO jobs (id, kind, payload, priority, state, run_at, attempts, max_attempts, \
                     unique_key, concurrency_key, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut b, job| {
                    b.push_bind(DbUuid::from(JobId::new()))
                        .push_bind(&job.kind)
                        .push_bind(sqlx::types::Json(&job.payload))
                        .push_bind(job.priority.rank())
                        .push_bind("queued")
                        .push_bind(job.run_at.unwrap_or(now))
                        .push_bind(0i32)
                        .push_bind(max_attempts(job))
                        .push_bind(job.unique_key.as_deref())
                        .push_bind(job.concurrency_key.as_deref())
                        .push_bind(now)
                        .push_bind(now);
                });
                q.push(" ON CONFLICT (unique_key) DO NOTHING");
                n += q.build().execute(&mut **t).await?.rows_affected();
            }
            n
        }
    };
    if inserted > 0 {
        tx.wake_workers = true;
    }
    Ok(usize::try_from(inserted).unwrap_or(0))
}

/// Enqueues one job in a transaction of its own.
pub async fn enqueue_now(db: &Db, job: &NewJob) -> Result<Option<JobId>, StoreError> {
    let mut tx = db.begin().await?;
    let id = enqueue(&mut tx, job).await?;
    tx.commit().await?;
    Ok(id)
}

/// One job as stored, for inspection.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    pub priority: JobPriority,
    pub state: icf_core::enums::JobState,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub unique_key: Option<String>,
    pub concurrency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the job came to, for kinds that record it ([`set_result`]).
    pub result: Option<Value>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: DbUuid,
    kind: String,
    payload: sqlx::types::Json<Value>,
    priority: i16,
    state: String,
    run_at: DateTime<Utc>,
    attempts: i32,
    max_attempts: i32,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    unique_key: Option<String>,
    concurrency_key: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    result: Option<sqlx::types::Json<Value>>,
}

const JOB_COLUMNS: &str = "id, kind, payload, priority, state, run_at, attempts, max_attempts, \
    last_error, lease_owner, lease_expires_at, unique_key, concurrency_key, created_at, finished_at, result";

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        Ok(Job {
            id: r.id.into_id(),
            kind: r.kind,
            payload: r.payload.0,
            priority: JobPriority::from_rank(r.priority),
            state: r
                .state
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("jobs.state: {e}")))?,
            run_at: r.run_at,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            last_error: r.last_error,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at,
            unique_key: r.unique_key,
            concurrency_key: r.concurrency_key,
            created_at: r.created_at,
            finished_at: r.finished_at,
            result: r.result.map(|j| j.0),
        })
    }
}

pub async fn get(db: &Db, id: JobId) -> Result<Job, StoreError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    let row: JobRow = crate::on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    row.try_into()
}

/// Records what a job came to, for whoever waits on it. Written by the handler before it
/// reports its outcome; a retried attempt overwrites it.
pub async fn set_result(db: &Db, id: JobId, result: &Value) -> Result<(), StoreError> {
    crate::on_pool!(db, |pool| sqlx::query(
        "UPDATE jobs SET result = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(sqlx::types::Json(result))
    .bind(Utc::now())
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

/// The newest job of `kind` for `concurrency_key` (an account's last login, say), in
/// whatever state.
pub async fn latest(db: &Db, kind: &str, concurrency_key: &str) -> Result<Option<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND concurrency_key = $2 \
         ORDER BY created_at DESC LIMIT 1"
    );
    let row: Option<JobRow> =
        crate::on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(kind)
            .bind(concurrency_key)
            .fetch_optional(pool)
            .await?);
    row.map(Job::try_from).transpose()
}

/// The newest job of `kind` for `concurrency_key` that is due by `now` (running, finished,
/// or queued to run already): a job queued for later (a periodic check spread over the
/// coming hours, a retry waiting out its backoff) is left out.
pub async fn latest_due(
    db: &Db,
    kind: &str,
    concurrency_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND concurrency_key = $2 \
         AND run_at <= $3 ORDER BY created_at DESC LIMIT 1"
    );
    let row: Option<JobRow> =
        crate::on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(kind)
            .bind(concurrency_key)
            .bind(now)
            .fetch_optional(pool)
            .await?);
    row.map(Job::try_from).transpose()
}

/// One recorded attempt of a job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    pub attempt: i32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i32>,
    pub outcome: Option<String>,
    pub error: Option<String>,
}

/// The attempts of a job, oldest first.
pub async fn attempts(db: &Db, id: JobId) -> Result<Vec<Attempt>, StoreError> {
    Ok(crate::on_pool!(db, |pool| sqlx::query_as(
        "SELECT attempt, worker, started_at, finished_at, duration_ms, outcome, error \
         FROM job_attempts WHERE job_id = $1 ORDER BY started_at, attempt"
    )
    .bind(DbUuid::from(id))
    .fetch_all(pool)
    .await?))
}

/// Cancels a job that has not started. Returns false when it is running or finished.
pub async fn cancel(db: &Db, id: JobId) -> Result<bool, StoreError> {
    let now = Utc::now();
    let n = crate::on_pool!(db, |pool| sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2 \
         WHERE id = $1 AND state = 'queued'"
    )
    .bind(DbUuid::from(id))
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(n == 1)
}
