//! A publish's success, written in as few round trips as each engine allows (#20).

use chrono::{DateTime, Utc};
use icf_core::ids::{AccountId, ExecutionId, PostId};
use sqlx::types::Json;

use super::post_end;
use crate::conn::Conn;
use crate::{Db, DbUuid, StoreError};

/// What [`record_success`] writes.
pub struct Success<'a> {
    pub execution: ExecutionId,
    pub account: AccountId,
    pub post: PostId,
    /// What Instagram answered: the media's id and code, and when.
    pub media_id: &'a str,
    pub code: &'a str,
    pub at: DateTime<Utc>,
    /// The spacing scope whose mark moves to the publish.
    pub scope: &'a str,
    /// The account's publishes after this are returned, for its daily limit.
    pub since: DateTime<Utc>,
    /// In the account's posting history (see `publishing::mark_success_in`).
    pub in_history: bool,
    /// Configure's activity log line.
    pub log: Option<icf_core::activity::NewActivity>,
}

/// `publishing::mark_success_in`, the job's success (as [`crate::jobs::succeed_in`] writes it) and
/// configure's log line, committed together in as few round trips as each engine allows:
/// one statement on PostgreSQL (data-modifying CTEs), one script in a transaction on
/// SQLite — instead of a transaction of nine statements (#20). Returns the account's
/// publishes after `since` (this one included, oldest first) and whether the job's row
/// was still this worker's to complete (the publish is recorded either way: Instagram
/// confirmed it). The post's end follows on the same connection (inside the script on
/// SQLite, whose writers take turns, so the last one sees every other end).
pub async fn record_success(
    db: &Db,
    s: &Success<'_>,
    job: &crate::jobs::ClaimedJob,
    worker: &str,
) -> Result<SuccessRecorded, StoreError> {
    let now = Utc::now();
    let duration_ms =
        i32::try_from((now - job.started_at).num_milliseconds().max(0)).unwrap_or(i32::MAX);
    let log = s.log.as_ref().map(|l| {
        let (details, error) = crate::activity::redacted(l);
        (l, details, error)
    });
    let sql = success_sql(db, log.is_some());
    macro_rules! bound {
        ($q:expr) => {{
            let q = $q
                .bind(DbUuid::from(s.execution))
                .bind(s.media_id)
                .bind(s.code)
                .bind(s.at)
                .bind(DbUuid::from(s.account))
                .bind(DbUuid::from(s.post))
                .bind(s.scope)
                .bind(s.since)
                .bind(DbUuid::from(job.id))
                .bind(worker)
                .bind(now)
                .bind(DbUuid(job.attempt_id))
                .bind(duration_ms)
                .bind(s.in_history);
            match &log {
                Some((l, details, error)) => q
                    .bind(DbUuid(uuid::Uuid::now_v7()))
                    .bind(&l.action)
                    .bind(l.status.as_str())
                    .bind(Json(details))
                    .bind(error.as_deref())
                    .bind(l.duration_ms.clamp(0, i64::from(i32::MAX)) as i32)
                    .bind(now),
                None => q,
            }
        }};
    }
    let mut conn = db.acquire().await?;
    let rows: Vec<(String, Option<DateTime<Utc>>)> = match &mut conn {
        Conn::Postgres(c) => {
            bound!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())))
                .fetch_all(&mut **c)
                .await?
        }
        Conn::Sqlite(c) => {
            let mut tx = sqlx::Connection::begin_with(&mut **c, "BEGIN IMMEDIATE").await?;
            let rows = bound!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows
        }
    };
    let job_done = rows.iter().any(|(what, _)| what == "job");
    let post_ended = match &conn {
        Conn::Sqlite(_) => {
            post_end::post_end(rows.iter().find_map(|(what, _)| what.strip_prefix("post:")))
        }
        // The post's end is a statement of its own here: in the CTE it would see this
        // execution as still open.
        Conn::Postgres(_) => post_end::finish_post_on(&mut conn, s.post).await?,
    };
    let mut publishes: Vec<DateTime<Utc>> = rows.into_iter().filter_map(|(_, at)| at).collect();
    publishes.sort_unstable();
    Ok(SuccessRecorded {
        publishes,
        job_done,
        post_ended,
    })
}

/// The statement (PostgreSQL) or script (SQLite) of [`record_success`].
fn success_sql(db: &Db, with_log: bool) -> String {
    // $1 execution, $2 media id, $3 code, $4 published at, $5 account, $6 post, $7 scope,
    // $8 since, $9 job, $10 worker, $11 now, $12 attempt, $13 the attempt's duration,
    // $14 in the history; the log line $15–$21.
    const EXECUTION: &str = "UPDATE post_executions SET status = 'success', \
        instagram_media_id = $2, instagram_code = $3, posted_at = $4, error_class = NULL, \
        error_message = NULL, updated_at = $4 WHERE id = $1";
    const ACCOUNT: &str = "UPDATE accounts SET last_post_at = $4, failed_attempts = 0, \
        updated_at = $4 WHERE id = $5";
    const HISTORY: &str = "INSERT INTO account_publishes \
        (execution_id, outcome, account_id, post_id, at) SELECT $1, 'success', $5, $6, $4 \
        WHERE $14 ON CONFLICT (execution_id, outcome) DO NOTHING";
    const SPACING: &str = "UPDATE pacing_marks SET last_at = $4 WHERE scope = $7 AND last_at < $4";
    const JOB: &str = "UPDATE jobs SET state = 'succeeded', lease_expires_at = NULL, \
        last_error = NULL, finished_at = $11, updated_at = $11 \
        WHERE id = $9 AND lease_owner = $10 AND state = 'running'";
    const ATTEMPT: &str = "UPDATE job_attempts SET finished_at = $11, duration_ms = $13, \
        outcome = 'succeeded', error = NULL WHERE id = $12";
    const LOG: &str = "INSERT INTO activity_logs \
        (id, account_id, action, status, details, error_message, duration_ms, created_at) \
        VALUES ($15, $5, $16, $17, $18, $19, $20, $21)";
    const PUBLISHES: &str = "SELECT 'at' AS what, at FROM account_publishes \
        WHERE account_id = $5 AND at > $8";
    match db {
        // A CTE's statements all see the snapshot from before the statement: the new
        // history row is added from its own RETURNING, and the attempt is closed only when
        // the job's row was this worker's.
        Db::Postgres(_) => format!(
            "WITH e AS ({EXECUTION}), a AS ({ACCOUNT}), h AS ({HISTORY} RETURNING at), \
             s AS ({SPACING}), j AS ({JOB} RETURNING id), \
             t AS ({ATTEMPT} AND EXISTS (SELECT 1 FROM j)){log} \
             SELECT 'job' AS what, NULL::timestamptz AS at FROM j \
             UNION ALL {PUBLISHES} UNION ALL SELECT 'at' AS what, at FROM h",
            log = if with_log {
                format!(", l AS ({LOG})")
            } else {
                String::new()
            },
        ),
        // One script, one hand-off to the connection's thread; every statement sees the
        // ones before it.
        Db::Sqlite(_) => format!(
            "{EXECUTION}; {ACCOUNT}; {HISTORY}; {SPACING}; \
             {JOB} RETURNING 'job' AS what, NULL AS at; \
             {ATTEMPT} AND EXISTS (SELECT 1 FROM jobs WHERE id = $9 AND lease_owner = $10 \
               AND state = 'succeeded' AND finished_at = $11); {log}{PUBLISHES}; \
             {finish}, NULL AS at",
            log = if with_log {
                format!("{LOG}; ")
            } else {
                String::new()
            },
            // `RETURNING status` becomes `RETURNING status AS what, NULL AS at`, with
            // the status prefixed so it cannot be read as one of the other rows.
            finish = post_end::finish_post_sql("$6", "$11")
                .replace("RETURNING status", "RETURNING 'post:' || status AS what"),
        ),
    }
}

/// What [`record_success`] found.
pub struct SuccessRecorded {
    /// The account's publishes after `since`, this one included, oldest first.
    pub publishes: Vec<DateTime<Utc>>,
    /// The job's row was still this worker's, and is now `succeeded`.
    pub job_done: bool,
    /// `Some(status)` when this publish ended the post.
    pub post_ended: Option<&'static str>,
}
