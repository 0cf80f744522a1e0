//! What the queue looks like: for `GET /api/queue`, the dashboard and the CLI. Also the
//! worker registry those views name running jobs by.

use chrono::{DateTime, Utc};
use icf_core::ids::JobId;
use serde::Serialize;

use crate::{Db, DbUuid, StoreError, on_pool};

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct KindStateCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

/// A job being run now, and by whom.
#[derive(Debug, Clone, Serialize)]
pub struct RunningJob {
    pub id: JobId,
    pub kind: String,
    pub attempt: i32,
    pub worker: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub concurrency_key: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RunningRow {
    id: DbUuid,
    kind: String,
    attempts: i32,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    concurrency_key: Option<String>,
}

/// A worker process as it last reported itself.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WorkerInfo {
    pub id: String,
    pub hostname: String,
    pub pid: i32,
    pub concurrency: i32,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueOverview {
    pub counts: Vec<KindStateCount>,
    /// `run_at` of the longest-waiting job that is due and not running.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    pub running: Vec<RunningJob>,
    /// Workers that reported since `alive_since`.
    pub workers: Vec<WorkerInfo>,
}

/// The queue now. Running jobs are listed up to `running_limit`, soonest lease first.
pub async fn overview(
    db: &Db,
    alive_since: DateTime<Utc>,
    running_limit: i64,
) -> Result<QueueOverview, StoreError> {
    let now = Utc::now();
    let counts: Vec<KindStateCount> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT kind, state, COUNT(*) AS count FROM jobs GROUP BY kind, state ORDER BY kind, state"
    )
    .fetch_all(pool)
    .await?
    });
    let oldest_waiting_since: Option<DateTime<Utc>> = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE state = 'queued' AND run_at <= $1 ORDER BY run_at LIMIT 1"
    )
    .bind(now)
    .fetch_optional(pool)
    .await?
    });
    let rows: Vec<RunningRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, kind, attempts, lease_owner, lease_expires_at, concurrency_key FROM jobs \
         WHERE state = 'running' ORDER BY lease_expires_at, id LIMIT $1"
    )
    .bind(running_limit)
    .fetch_all(pool)
    .await?);
    let workers: Vec<WorkerInfo> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, hostname, pid, concurrency, started_at, heartbeat_at FROM job_workers \
         WHERE stopped_at IS NULL AND heartbeat_at >= $1 ORDER BY started_at, id"
    )
    .bind(alive_since)
    .fetch_all(pool)
    .await?);
    Ok(QueueOverview {
        counts,
        oldest_waiting_since,
        running: rows
            .into_iter()
            .map(|r| RunningJob {
                id: r.id.into_id(),
                kind: r.kind,
                attempt: r.attempts,
                worker: r.lease_owner,
                lease_expires_at: r.lease_expires_at,
                concurrency_key: r.concurrency_key,
            })
            .collect(),
        workers,
    })
}

/// Announces a worker process.
pub async fn register_worker(
    db: &Db,
    id: &str,
    hostname: &str,
    pid: u32,
    concurrency: u32,
) -> Result<(), StoreError> {
    let now = Utc::now();
    on_pool!(db, |pool| sqlx::query(
        "INSERT INTO job_workers (id, hostname, pid, concurrency, started_at, heartbeat_at) \
         VALUES ($1, $2, $3, $4, $5, $5)"
    )
    .bind(id)
    .bind(hostname)
    .bind(i32::try_from(pid).unwrap_or(i32::MAX))
    .bind(i32::try_from(concurrency).unwrap_or(i32::MAX))
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn worker_heartbeat(db: &Db, id: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE job_workers SET heartbeat_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Utc::now())
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn stop_worker(db: &Db, id: &str) -> Result<(), StoreError> {
    let now = Utc::now();
    on_pool!(db, |pool| sqlx::query(
        "UPDATE job_workers SET stopped_at = $2, heartbeat_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}
