//! The `selftest` diagnostic job's table: one row per completed job, written in the
//! transaction that completes the job (see `icf jobs selftest`).

use chrono::Utc;
use icf_core::ids::JobId;

use crate::{Db, DbUuid, StoreError, Tx, on_pool, on_tx};

/// Records a selftest run inside the handler's transaction. The job id is the key and a
/// second insert does nothing: even if two attempts of one job ever reached this point,
/// the row would say the job ran once, with the attempt that completed it first.
pub async fn record_run(
    tx: &mut Tx,
    job: JobId,
    batch: &str,
    attempt: i32,
    worker: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO job_selftest_runs (job_id, batch, attempt, worker, finished_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING"
    )
    .bind(DbUuid::from(job))
    .bind(batch)
    .bind(attempt)
    .bind(worker)
    .bind(Utc::now())
    .execute(conn)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// A completed selftest job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SelftestRun {
    pub job_id: DbUuid,
    pub attempt: i32,
    pub worker: String,
}

/// The completed jobs of a batch.
pub async fn runs(db: &Db, batch: &str) -> Result<Vec<SelftestRun>, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_as(
        "SELECT job_id, attempt, worker FROM job_selftest_runs WHERE batch = $1"
    )
    .bind(batch)
    .fetch_all(pool)
    .await?))
}

/// How many jobs of a batch have completed.
pub async fn completed(db: &Db, batch: &str) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_selftest_runs WHERE batch = $1"
    )
    .bind(batch)
    .fetch_one(pool)
    .await?))
}
