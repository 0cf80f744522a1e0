//! A claimed job's life: lease renewal, the end of an attempt, release, and recovery
//! of jobs whose worker died. Every write is guarded by the lease owner, so a worker
//! that lost its lease can never overwrite what the job's new owner did.

use chrono::{DateTime, Utc};

use super::claim::ClaimedJob;
use crate::{Db, DbUuid, StoreError, Tx, on_tx};

/// How an attempt ended, as `job_attempts.outcome` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded,
    /// Failed, another attempt is scheduled (or the handler asked for one).
    Retry,
    Failed,
    /// Stopped at the hard time limit.
    Timeout,
    /// The worker died or shut down before the attempt ended.
    Lost,
}

impl AttemptOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Lost => "lost",
        }
    }
}

/// What becomes of a job at the end of an attempt.
#[derive(Debug, Clone)]
pub enum Finish {
    Succeeded,
    /// Back to the queue at `low` priority, not before `at`.
    Retry {
        at: DateTime<Utc>,
        outcome: AttemptOutcome,
        error: String,
    },
    /// No more attempts.
    Failed {
        outcome: AttemptOutcome,
        error: String,
    },
}

/// Extends the lease of a running job. `false`: the lease is no longer this worker's
/// (it expired and the job was reaped), so the worker must stop the job.
pub async fn heartbeat(
    db: &Db,
    job: &ClaimedJob,
    worker: &str,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let n = crate::on_pool!(db, |pool| sqlx::query(
        "UPDATE jobs SET lease_expires_at = $3, updated_at = $4 \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
    )
    .bind(DbUuid::from(job.id))
    .bind(worker)
    .bind(until)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Records the end of an attempt. `false`: the job was no longer this worker's (its
/// lease expired, or the handler already completed it with [`succeed_in`]); nothing
/// was written.
pub async fn finish(
    db: &Db,
    job: &ClaimedJob,
    worker: &str,
    how: &Finish,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let done = finish_in(&mut tx, job, worker, how).await?;
    if done {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(done)
}

/// Marks the job succeeded inside the handler's own transaction, so its effects and its
/// completion commit together: a crash before the commit leaves neither, and the retry
/// starts clean. `false`: the lease is lost; the handler must roll back.
pub async fn succeed_in(tx: &mut Tx, job: &ClaimedJob, worker: &str) -> Result<bool, StoreError> {
    finish_in(tx, job, worker, &Finish::Succeeded).await
}

async fn finish_in(
    tx: &mut Tx,
    job: &ClaimedJob,
    worker: &str,
    how: &Finish,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let id = DbUuid::from(job.id);
    let n = match how {
        Finish::Succeeded => on_tx!(tx, |conn| sqlx::query(
            "UPDATE jobs SET state = 'succeeded', lease_expires_at = NULL, last_error = NULL, \
             finished_at = $3, updated_at = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected()),
        Finish::Retry { at, error, .. } => on_tx!(tx, |conn| sqlx::query(
            "UPDATE jobs SET state = 'queued', priority = 0, run_at = $3, last_error = $4, \
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $5 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(*at)
        .bind(error)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected()),
        Finish::Failed { error, .. } => on_tx!(tx, |conn| sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_expires_at = NULL, last_error = $3, \
             finished_at = $4, updated_at = $4 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected()),
    };
    if n != 1 {
        return Ok(false);
    }
    let (outcome, error) = match how {
        Finish::Succeeded => (AttemptOutcome::Succeeded, None),
        Finish::Retry { outcome, error, .. } | Finish::Failed { outcome, error } => {
            (*outcome, Some(error.as_str()))
        }
    };
    let duration_ms =
        i32::try_from((now - job.started_at).num_milliseconds().max(0)).unwrap_or(i32::MAX);
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE job_attempts SET finished_at = $2, duration_ms = $3, outcome = $4, error = $5 \
         WHERE id = $1"
    )
    .bind(DbUuid(job.attempt_id))
    .bind(now)
    .bind(duration_ms)
    .bind(outcome.as_str())
    .bind(error)
    .execute(conn)
    .await?
    .rows_affected());
    Ok(true)
}

/// Gives a running job back to the queue at once (worker shutdown past its grace
/// period). The attempt is recorded as lost.
pub async fn release(
    db: &Db,
    job: &ClaimedJob,
    worker: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let n = on_tx!(tx, |conn| sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $3, last_error = $4, lease_owner = NULL, \
         lease_expires_at = NULL, updated_at = $3 \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'"
    )
    .bind(DbUuid::from(job.id))
    .bind(worker)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected());
    if n == 1 {
        close_open_attempts(&mut tx, DbUuid::from(job.id), now, reason).await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

async fn close_open_attempts(
    tx: &mut Tx,
    job: DbUuid,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE job_attempts SET finished_at = $2, outcome = 'lost', error = $3, \
         duration_ms = NULL WHERE job_id = $1 AND finished_at IS NULL"
    )
    .bind(job)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected());
    Ok(())
}

/// Puts back running jobs whose lease expired: their worker died or hung. A job that
/// had used its last attempt fails instead, so a job that kills its worker cannot loop
/// forever. Returns how many jobs were recovered or failed.
pub async fn reap_expired(db: &Db) -> Result<u64, StoreError> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let lock = match db {
        Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT id, attempts, max_attempts FROM jobs \
         WHERE state = 'running' AND lease_expires_at < $1 {lock}"
    );
    let expired: Vec<(DbUuid, i32, i32)> =
        on_tx!(tx, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .fetch_all(conn)
            .await?);
    const LOST: &str = "lease expired: the worker running it stopped renewing it";
    for (id, attempts, max_attempts) in &expired {
        if attempts >= max_attempts {
            on_tx!(tx, |conn| sqlx::query(
                "UPDATE jobs SET state = 'failed', last_error = $2, lease_expires_at = NULL, \
                 finished_at = $3, updated_at = $3 WHERE id = $1"
            )
            .bind(*id)
            .bind(format!("{LOST} (last attempt)"))
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected());
        } else {
            on_tx!(tx, |conn| sqlx::query(
                "UPDATE jobs SET state = 'queued', run_at = $3, last_error = $2, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 WHERE id = $1"
            )
            .bind(*id)
            .bind(LOST)
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected());
        }
        close_open_attempts(&mut tx, *id, now, LOST).await?;
    }
    tx.commit().await?;
    Ok(expired.len() as u64)
}

/// Deletes finished jobs (with their attempts), diagnostic runs and stopped workers
/// older than `before`. Returns how many jobs went.
pub async fn prune_finished(db: &Db, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let jobs = crate::on_pool!(db, |pool| sqlx::query(
        "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') \
         AND finished_at < $1"
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected());
    crate::on_pool!(db, |pool| sqlx::query(
        "DELETE FROM job_selftest_runs WHERE finished_at < $1"
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected());
    crate::on_pool!(db, |pool| sqlx::query(
        "DELETE FROM job_workers WHERE heartbeat_at < $1"
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(jobs)
}
