//! Alert events waiting to be sent, grouped by kind.

use chrono::{DateTime, Utc};

use crate::jobs::NewJob;
use crate::types::DbUuid;
use crate::{Db, StoreError, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub id: uuid::Uuid,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Records an event and makes sure a delivery of its kind is queued (`delivery`, unless
/// one already waits): events of the same kind arriving meanwhile go out with it.
pub async fn raise(
    db: &Db,
    kind: &str,
    subject: &str,
    message: &str,
    delivery: NewJob,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    crate::on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO alert_events (id, kind, subject, message, created_at) \
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(DbUuid(uuid::Uuid::now_v7()))
    .bind(kind)
    .bind(subject)
    .bind(message)
    .bind(Utc::now())
    .execute(conn)
    .await?
    .rows_affected());
    // One delivery waits per kind (the job's concurrency key): the events raised until it
    // runs go with it, and two deliveries never run side by side.
    let waiting: i64 = crate::on_tx!(&mut tx, |conn| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND concurrency_key = $2 AND state = 'queued'"
    )
    .bind(&delivery.kind)
    .bind(delivery.concurrency_key.as_deref())
    .fetch_one(conn)
    .await?
    });
    if waiting == 0 {
        crate::jobs::enqueue(&mut tx, &delivery).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The unsent events of a kind, oldest first.
pub async fn unsent(db: &Db, kind: &str, limit: i64) -> Result<Vec<AlertEvent>, StoreError> {
    let rows: Vec<(DbUuid, String, String, String, DateTime<Utc>)> =
        on_pool!(db, |pool| sqlx::query_as(
            "SELECT id, kind, subject, message, created_at FROM alert_events \
             WHERE kind = $1 AND sent_at IS NULL ORDER BY created_at, id LIMIT $2"
        )
        .bind(kind)
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(id, kind, subject, message, created_at)| AlertEvent {
            id: id.0,
            kind,
            subject,
            message,
            created_at,
        })
        .collect())
}

pub async fn mark_sent(db: &Db, ids: &[uuid::Uuid]) -> Result<(), StoreError> {
    let now = Utc::now();
    for id in ids {
        on_pool!(db, |pool| sqlx::query(
            "UPDATE alert_events SET sent_at = $2 WHERE id = $1"
        )
        .bind(DbUuid(*id))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
    }
    Ok(())
}

/// Whether an event of this kind and subject was raised since `since` (sent or not): a
/// condition that lasts (no worker alive) is reported once per period, not every minute.
pub async fn raised_since(
    db: &Db,
    kind: &str,
    subject: &str,
    since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_events WHERE kind = $1 AND subject = $2 AND created_at > $3"
    )
    .bind(kind)
    .bind(subject)
    .bind(since)
    .fetch_one(pool)
    .await?);
    Ok(n > 0)
}

/// A post's outcome for an alert: its caption's start and its execution counts.
pub async fn post_outcome(
    db: &Db,
    post: icf_core::ids::PostId,
) -> Result<(String, i64, i64), StoreError> {
    let (caption, ok, failed): (String, i64, i64) = on_pool!(db, |pool| sqlx::query_as(
        "SELECT p.caption_original, \
         COALESCE(SUM(CASE WHEN e.status = 'success' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN e.status = 'failed' THEN 1 ELSE 0 END), 0) \
         FROM posts p LEFT JOIN post_executions e ON e.post_id = p.id \
         WHERE p.id = $1 GROUP BY p.caption_original"
    )
    .bind(DbUuid::from(post))
    .fetch_one(pool)
    .await?);
    Ok((caption, ok, failed))
}

/// Whether a worker has shown signs of life since `since`, and whether jobs are due.
pub async fn workers_and_due_jobs(db: &Db, since: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let alive: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_workers WHERE stopped_at IS NULL AND heartbeat_at > $1"
    )
    .bind(since)
    .fetch_one(pool)
    .await?);
    let due: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND run_at <= $1"
    )
    .bind(since)
    .fetch_one(pool)
    .await?);
    Ok((alive, due))
}
