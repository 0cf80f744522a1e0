//! Taking the next job. The one place where the two engines need different SQL.

use chrono::{DateTime, Utc};
use icf_core::enums::JobPriority;
use icf_core::ids::JobId;
use serde_json::Value;
use uuid::Uuid;

use crate::{Db, DbUuid, StoreError, on_pool, on_tx};

/// A kind this worker can run, and the most jobs of that kind that may run at once
/// across every worker process (`None`: no limit).
#[derive(Debug, Clone, Copy)]
pub struct KindFilter<'a> {
    pub kind: &'a str,
    pub cap: Option<u32>,
}

/// A job this worker now holds a lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    pub priority: JobPriority,
    /// 1 for the first run.
    pub attempt: i32,
    pub max_attempts: i32,
    pub concurrency_key: Option<String>,
    pub lease_expires_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// The `job_attempts` row of this run.
    pub attempt_id: Uuid,
}

/// A value bound into the claim's kind filter.
enum KindBind<'a> {
    Kind(&'a str),
    Cap(i64),
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: DbUuid,
    kind: String,
    payload: sqlx::types::Json<Value>,
    priority: i16,
    attempts: i32,
    max_attempts: i32,
    concurrency_key: Option<String>,
}

/// Claims the most urgent due job among `kinds` (priority, then `run_at`), leasing it to
/// `worker` for `lease`, and records the attempt. `None` when nothing is due.
pub async fn claim(
    db: &Db,
    worker: &str,
    kinds: &[KindFilter<'_>],
    lease: std::time::Duration,
) -> Result<Option<ClaimedJob>, StoreError> {
    // On PostgreSQL two claimers may pick different jobs of the same concurrency key at
    // once; the partial unique index refuses the second (23505) and we look again, now
    // seeing the first one's running job.
    for _ in 0..8 {
        match try_claim(db, worker, kinds, lease).await {
            Err(StoreError::Conflict { .. }) => continue,
            other => return other,
        }
    }
    Ok(None)
}

async fn try_claim(
    db: &Db,
    worker: &str,
    kinds: &[KindFilter<'_>],
    lease: std::time::Duration,
) -> Result<Option<ClaimedJob>, StoreError> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;

    let mut capped: Vec<(&str, u32)> = kinds
        .iter()
        .filter_map(|k| k.cap.map(|c| (k.kind, c)))
        .collect();
    // A fixed lock order, so two claimers never wait on each other in a cycle.
    capped.sort_unstable();
    if let crate::tx::TxConn::Postgres(t) = tx.conn_mut() {
        for (kind, _) in &capped {
            // Serialises the count-then-claim of a capped kind across processes until
            // this transaction ends; the claim below is a later statement, so its
            // snapshot sees every job the previous holder started. On SQLite,
            // BEGIN IMMEDIATE already serialises it.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("icf_jobs_cap:{kind}"))
                .execute(&mut **t)
                .await?;
        }
    }
    // Read the clock only now that any lock waits are over, so the attempt's start is
    // after the end of whatever job freed the slot.
    let now = Utc::now();
    let lease_expires_at = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let attempt_id = Uuid::now_v7();

    let (sql, binds) = claim_sql(db, kinds, &capped);
    let row: Option<ClaimRow> = on_tx!(tx, |conn| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(worker)
            .bind(lease_expires_at)
            .bind(now)
            .bind(DbUuid(attempt_id));
        for b in &binds {
            q = match b {
                KindBind::Kind(k) => q.bind(*k),
                KindBind::Cap(c) => q.bind(*c),
            };
        }
        q.fetch_optional(conn).await?
    });
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };

    if let crate::tx::TxConn::Sqlite(t) = tx.conn_mut() {
        sqlx::query(
            "INSERT INTO job_attempts (id, job_id, attempt, worker, started_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(DbUuid(attempt_id))
        .bind(row.id)
        .bind(row.attempts)
        .bind(worker)
        .bind(now)
        .execute(&mut **t)
        .await?;
    }
    tx.commit().await?;

    Ok(Some(ClaimedJob {
        id: row.id.into_id(),
        kind: row.kind,
        payload: row.payload.0,
        priority: JobPriority::from_rank(row.priority),
        attempt: row.attempts,
        max_attempts: row.max_attempts,
        concurrency_key: row.concurrency_key,
        lease_expires_at,
        started_at: now,
        attempt_id,
    }))
}

/// The claim's statement and the values bound after its first four (`$1` worker, `$2` lease
/// end, `$3` now, `$4` the attempt's id).
fn claim_sql<'a>(
    db: &Db,
    kinds: &[KindFilter<'a>],
    capped: &[(&'a str, u32)],
) -> (String, Vec<KindBind<'a>>) {
    // Which kinds may be taken: the uncapped ones, and each capped one while fewer of its
    // jobs run than its cap — counted inside the claim itself, one statement fewer per
    // claim than a count before it (#20).
    let mut binds: Vec<KindBind<'_>> = Vec::new();
    let mut which: Vec<String> = Vec::new();
    let first = 5; // $1 worker, $2 lease end, $3 now, $4 the attempt's id
    let uncapped: Vec<String> = kinds
        .iter()
        .filter(|k| k.cap.is_none())
        .map(|k| {
            binds.push(KindBind::Kind(k.kind));
            format!("${}", first + binds.len() - 1)
        })
        .collect();
    if !uncapped.is_empty() {
        which.push(format!("j.kind IN ({})", uncapped.join(", ")));
    }
    for (kind, cap) in capped {
        binds.push(KindBind::Kind(kind));
        let k = first + binds.len() - 1;
        binds.push(KindBind::Cap(i64::from(*cap)));
        which.push(format!(
            "(j.kind = ${k} AND (SELECT COUNT(*) FROM jobs c \
             WHERE c.kind = ${k} AND c.state = 'running') < ${})",
            k + 1
        ));
    }
    let pick = format!(
        "SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= $3 \
           AND ({which}) \
           AND (j.concurrency_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r \
                WHERE r.concurrency_key = j.concurrency_key AND r.state = 'running')) \
           ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1",
        which = which.join(" OR "),
    );
    let update = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
         lease_expires_at = $2, updated_at = $3";
    let returning = "id, kind, payload, priority, attempts, max_attempts, concurrency_key";
    let sql = match db {
        // The attempt's row in the same statement (a data-modifying CTE).
        Db::Postgres(_) => format!(
            "WITH claimed AS ({update} WHERE id = ({pick} FOR UPDATE SKIP LOCKED) \
               RETURNING {returning}), \
             attempt AS (INSERT INTO job_attempts (id, job_id, attempt, worker, started_at) \
               SELECT $4, id, attempts, $1, $3 FROM claimed) \
             SELECT {returning} FROM claimed"
        ),
        // $4 is not used by this statement; SQLite binds it to nothing.
        Db::Sqlite(_) => format!("{update} WHERE id = ({pick}) RETURNING {returning}"),
    };
    (sql, binds)
}

/// When the next queued job of these kinds is due (possibly in the past), so an idle
/// worker can sleep exactly until then.
pub async fn next_due(db: &Db, kinds: &[&str]) -> Result<Option<DateTime<Utc>>, StoreError> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 1)).collect();
    let sql = format!(
        "SELECT run_at FROM jobs WHERE state = 'queued' AND kind IN ({}) \
         ORDER BY run_at LIMIT 1",
        placeholders.join(", ")
    );
    Ok(on_pool!(db, |pool| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
        for kind in kinds {
            q = q.bind(*kind);
        }
        q.fetch_optional(pool).await?
    }))
}
