//! `activity_logs`: written for every Instagram action, proxy check and status change;
//! read newest first with a cursor, so a million rows page as fast as a hundred.

use chrono::{DateTime, Utc};
use icf_core::activity::{ActivityLog, NewActivity};
use icf_core::enums::ActivityStatus;
use icf_core::ids::AccountId;
use icf_core::redact::{redact_json, redact_text};
use sqlx::types::Json;

use crate::{Db, DbUuid, StoreError, on_pool};

/// Writes a log entry. Secrets are removed here, whatever the caller passed.
pub async fn record(db: &Db, entry: NewActivity) -> Result<(), StoreError> {
    let details = redact_json(&entry.details);
    let error = entry.error_message.as_deref().map(redact_text);
    on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO activity_logs (id, account_id, action, status, details, error_message, duration_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(DbUuid(uuid::Uuid::now_v7()))
    .bind(entry.account_id.map(DbUuid::from))
    .bind(&entry.action)
    .bind(entry.status.as_str())
    .bind(Json(&details))
    .bind(error.as_deref())
    .bind(entry.duration_ms.clamp(0, i64::from(i32::MAX)) as i32)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?
    });
    Ok(())
}

/// Where a page starts: strictly older than this (time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

impl Cursor {
    /// Opaque to clients: `<unix micros>_<uuid>`.
    pub fn encode(&self) -> String {
        format!(
            "{}_{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let (micros, id) = raw.split_once('_')?;
        Some(Cursor {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: uuid::Uuid::parse_str(id).ok()?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub account_id: Option<AccountId>,
    pub action: Option<String>,
    pub status: Option<ActivityStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct LogRow {
    id: DbUuid,
    account_id: Option<DbUuid>,
    account_username: Option<String>,
    action: String,
    status: String,
    details: Json<serde_json::Value>,
    error_message: Option<String>,
    duration_ms: i32,
    created_at: DateTime<Utc>,
}

/// The statement behind [`page`] (public so a test can ask the planner about it). Each
/// filter is `$n IS NULL OR …`, so one statement serves every combination and the planner,
/// which sees the bound values, still uses the (created_at, id) index for the order and the
/// cursor, and the account index for one account.
pub const PAGE_SQL: &str = "SELECT l.id, l.account_id, a.username AS account_username, \
    l.action, l.status, l.details, l.error_message, l.duration_ms, l.created_at \
    FROM activity_logs l LEFT JOIN accounts a ON a.id = l.account_id \
    WHERE ($1 IS NULL OR l.account_id = $1) AND ($2 IS NULL OR l.action = $2) \
    AND ($3 IS NULL OR l.status = $3) AND ($4 IS NULL OR l.created_at >= $4) \
    AND ($5 IS NULL OR l.created_at < $5) \
    AND ($6 IS NULL OR l.created_at < $6 OR (l.created_at = $6 AND l.id < $7)) \
    ORDER BY l.created_at DESC, l.id DESC LIMIT $8";

/// Newest first; `limit` rows and the cursor of the next page, if there is one.
pub async fn page(
    db: &Db,
    filter: &LogFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<ActivityLog>, Option<Cursor>), StoreError> {
    let sql = PAGE_SQL;
    let rows: Vec<LogRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(filter.account_id.map(DbUuid::from))
        .bind(filter.action.as_deref())
        .bind(filter.status.map(ActivityStatus::as_str))
        .bind(filter.from)
        .bind(filter.to)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| DbUuid(c.id)))
        .bind(limit + 1)
        .fetch_all(pool)
        .await?);
    let more = rows.len() as i64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows.into_iter().take(limit as usize) {
        items.push(ActivityLog {
            id: r.id.0,
            account_id: r.account_id.map(DbUuid::into_id),
            account_username: r.account_username,
            action: r.action,
            status: r
                .status
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("activity_logs.status: {e}")))?,
            details: r.details.0,
            error_message: r.error_message,
            duration_ms: i64::from(r.duration_ms),
            created_at: r.created_at,
        });
    }
    let next = if more {
        items.last().map(|l| Cursor {
            created_at: l.created_at,
            id: l.id,
        })
    } else {
        None
    };
    Ok((items, next))
}
