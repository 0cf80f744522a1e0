//! `activity_logs`: written for every Instagram action, proxy check and status change;
//! read newest first with a cursor, so a million rows page as fast as a hundred.

use chrono::{DateTime, Utc};
use icf_core::activity::{ActivityLog, NewActivity};
use icf_core::enums::ActivityStatus;
use icf_core::ids::AccountId;
use icf_core::redact::{redact_json, redact_text};
use serde_json::Value;
use sqlx::types::Json;

use crate::{Db, DbUuid, StoreError, on_pool};

/// The one INSERT of a log entry, for a pool or a transaction's connection (compiled once
/// per engine by `on_pool!`/`on_tx!`).
macro_rules! insert_entry {
    ($executor:expr, $entry:expr, $details:expr, $error:expr) => {
        sqlx::query(
            "INSERT INTO activity_logs (id, account_id, action, status, details, error_message, duration_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(DbUuid(uuid::Uuid::now_v7()))
        .bind($entry.account_id.map(DbUuid::from))
        .bind(&$entry.action)
        .bind($entry.status.as_str())
        .bind(Json($details))
        .bind($error)
        .bind($entry.duration_ms.clamp(0, i64::from(i32::MAX)) as i32)
        .bind(Utc::now())
        .execute($executor)
        .await
        .map(|_| ())?
    };
}

/// An entry's details and error as they are written: secrets removed.
pub(crate) fn redacted(entry: &NewActivity) -> (Value, Option<String>) {
    (
        redact_json(&entry.details),
        entry.error_message.as_deref().map(redact_text),
    )
}

/// Writes a log entry. Secrets are removed here, whatever the caller passed.
pub async fn record(db: &Db, entry: NewActivity) -> Result<(), StoreError> {
    let details = redact_json(&entry.details);
    let error = entry.error_message.as_deref().map(redact_text);
    on_pool!(db, |pool| insert_entry!(
        pool,
        entry,
        &details,
        error.as_deref()
    ));
    Ok(())
}

/// Writes a log entry on a connection the caller holds for a few statements.
pub async fn record_on(conn: &mut crate::Conn, entry: NewActivity) -> Result<(), StoreError> {
    let details = redact_json(&entry.details);
    let error = entry.error_message.as_deref().map(redact_text);
    crate::on_conn!(conn, |c| insert_entry!(
        &mut *c,
        entry,
        &details,
        error.as_deref()
    ));
    Ok(())
}

/// Writes a log entry in the caller's transaction, so a decision and its log line commit
/// together. Secrets are removed here too.
pub async fn record_in(tx: &mut crate::tx::Tx, entry: NewActivity) -> Result<(), StoreError> {
    let details = redact_json(&entry.details);
    let error = entry.error_message.as_deref().map(redact_text);
    crate::on_tx!(tx, |conn| insert_entry!(
        &mut *conn,
        entry,
        &details,
        error.as_deref()
    ));
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

/// The statement behind [`page`] for this filter, with a cursor or not (public so a test
/// can ask the planner about it). Only the filters given appear in it: a generic
/// `$n IS NULL OR …` statement made SQLite walk the whole time index for one account's
/// page (half a second at a million rows), where this one takes the account's index.
pub fn page_sql(filter: &LogFilter, cursor: bool) -> String {
    let mut n = 0;
    let mut param = || {
        n += 1;
        format!("${n}")
    };
    let mut conditions = Vec::new();
    if filter.account_id.is_some() {
        conditions.push(format!("l.account_id = {}", param()));
    }
    if filter.action.is_some() {
        conditions.push(format!("l.action = {}", param()));
    }
    if filter.status.is_some() {
        conditions.push(format!("l.status = {}", param()));
    }
    if filter.from.is_some() {
        conditions.push(format!("l.created_at >= {}", param()));
    }
    if filter.to.is_some() {
        conditions.push(format!("l.created_at < {}", param()));
    }
    if cursor {
        let (at, id) = (param(), param());
        conditions.push(format!(
            "(l.created_at < {at} OR (l.created_at = {at} AND l.id < {id}))"
        ));
    }
    let limit = param();
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", conditions.join(" AND "))
    };
    format!(
        "SELECT l.id, l.account_id, a.username AS account_username, \
         l.action, l.status, l.details, l.error_message, l.duration_ms, l.created_at \
         FROM activity_logs l LEFT JOIN accounts a ON a.id = l.account_id \
         {filter}ORDER BY l.created_at DESC, l.id DESC LIMIT {limit}"
    )
}

/// Newest first; `limit` rows and the cursor of the next page, if there is one.
pub async fn page(
    db: &Db,
    filter: &LogFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<ActivityLog>, Option<Cursor>), StoreError> {
    // Built from constants only; the values are bound.
    let sql = page_sql(filter, after.is_some());
    let rows: Vec<LogRow> = on_pool!(db, |pool| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        if let Some(a) = filter.account_id {
            q = q.bind(DbUuid::from(a));
        }
        if let Some(a) = filter.action.as_deref() {
            q = q.bind(a);
        }
        if let Some(s) = filter.status {
            q = q.bind(s.as_str());
        }
        if let Some(t) = filter.from {
            q = q.bind(t);
        }
        if let Some(t) = filter.to {
            q = q.bind(t);
        }
        if let Some(c) = after {
            q = q.bind(c.created_at).bind(DbUuid(c.id));
        }
        q.bind(limit + 1).fetch_all(pool).await?
    });
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
