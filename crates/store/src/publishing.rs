//! What the Instagram engine reads and writes while it publishes one execution or logs an
//! account in: the execution's progress (with the upload id written before the irreversible
//! configure step), the account's Instagram state (status with history, cooldown, pending
//! challenge, session) and the post's end.

use chrono::{DateTime, Duration, Utc};
use icf_core::account::Account;
use icf_core::enums::{AccountStatus, ExecutionStatus, MediaVariants, ProxyStatus, ProxyType};
use icf_core::ids::{AccountId, ExecutionId, JobId, PostId, ProxyId};
use icf_core::jobs;
use icf_core::variants::MediaVariantRecord;
use serde_json::Value;
use sqlx::types::Json;

use crate::conn::Conn;
use crate::jobs::NewJob;
use crate::tx::{BeginWrite, Tx};
use crate::{Db, DbUuid, StoreError, on_conn, on_pool, on_tx};

/// An execution as a publishing attempt needs it.
#[derive(Debug, Clone)]
pub struct ExecutionRun {
    pub id: ExecutionId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub caption: String,
    pub status: ExecutionStatus,
    pub upload_id: Option<String>,
    /// When the upload id was written: a media found on the account must be newer.
    pub upload_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The post has not started going out yet (its status is still `pending`).
    pub post_pending: bool,
    /// The alt texts in the account's language, one per media item, or empty.
    pub alt_text: Vec<String>,
    /// A first comment waits for this publish (its step is queued when the media is).
    pub comment_waits: bool,
    /// The post is a story (which may be kept out of the posting history).
    pub is_story: bool,
    /// The account's group's media variants (a post's own setting wins over it).
    pub group_variants: Option<MediaVariants>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: DbUuid,
    post_id: DbUuid,
    account_id: DbUuid,
    caption_translated: String,
    status: String,
    upload_id: Option<String>,
    updated_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    post_status: Option<String>,
    alt_text: Option<Json<Vec<String>>>,
    comment_status: Option<String>,
    media_type: Option<String>,
    group_variants: Option<String>,
}

pub async fn execution(db: &Db, id: ExecutionId) -> Result<ExecutionRun, StoreError> {
    execution_on(&mut db.acquire().await?, id).await
}

async fn execution_on(conn: &mut Conn, id: ExecutionId) -> Result<ExecutionRun, StoreError> {
    let r: RunRow = on_conn!(conn, |c| sqlx::query_as(
        "SELECT e.id, e.post_id, e.account_id, e.caption_translated, e.status, e.upload_id, \
         e.updated_at, e.created_at, p.status AS post_status, e.alt_text, \
         e.comment_status, p.media_type, g.media_variants AS group_variants \
         FROM post_executions e LEFT JOIN posts p ON p.id = e.post_id \
         LEFT JOIN accounts a ON a.id = e.account_id LEFT JOIN groups g ON g.id = a.group_id \
         WHERE e.id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_one(c)
    .await?);
    Ok(ExecutionRun {
        id: r.id.into_id(),
        post_id: r.post_id.into_id(),
        account_id: r.account_id.into_id(),
        caption: r.caption_translated,
        status: r
            .status
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("post_executions.status: {e}")))?,
        upload_at: r.upload_id.as_ref().map(|_| r.updated_at),
        upload_id: r.upload_id,
        created_at: r.created_at,
        post_pending: r.post_status.as_deref() == Some("pending"),
        alt_text: r.alt_text.map(|j| j.0).unwrap_or_default(),
        comment_waits: r.comment_status.as_deref() == Some("queued"),
        is_story: r.media_type.as_deref() == Some("story"),
        group_variants: r
            .group_variants
            .map(|v| v.parse())
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("groups.media_variants: {e}")))?,
    })
}

/// What an attempt reads before it publishes, on one connection: the execution, and while
/// it is still open the account with its connection parts and its publishes that count
/// for pacing ([`busy_times_on`]).
pub async fn attempt_start(
    db: &Db,
    id: ExecutionId,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<AttemptStart, StoreError> {
    let mut conn = db.acquire().await?;
    let exec = execution_on(&mut conn, id).await?;
    if !matches!(
        exec.status,
        ExecutionStatus::Queued | ExecutionStatus::Posting
    ) {
        return Ok(AttemptStart { exec, open: None });
    }
    let (account, parts) = account_and_parts_on(&mut conn, exec.account_id).await?;
    let busy = busy_times_on(&mut conn, exec.account_id, exec.id, now, window).await?;
    Ok(AttemptStart {
        exec,
        open: Some(OpenAttempt {
            account,
            parts,
            busy,
        }),
    })
}

/// See [`attempt_start`].
pub struct AttemptStart {
    pub exec: ExecutionRun,
    /// `None` when the execution already ended.
    pub open: Option<OpenAttempt>,
}

pub struct OpenAttempt {
    pub account: Account,
    pub parts: ConnectionParts,
    /// The account's publishes that count for pacing, this execution's own excluded.
    pub busy: Vec<DateTime<Utc>>,
}

/// The execution's place among its post's accounts (0, 1, 2, … in the order they were
/// planned): what keeps two accounts' copies of the media provably apart. Stable: later
/// executions of the post come after it.
pub async fn variant_slot(db: &Db, exec: &ExecutionRun) -> Result<u32, StoreError> {
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM post_executions WHERE post_id = $1 AND id < $2"
    )
    .bind(DbUuid::from(exec.post_id))
    .bind(DbUuid::from(exec.id))
    .fetch_one(pool)
    .await?);
    u32::try_from(n).map_err(|_| StoreError::Corrupt("post_executions: too many".into()))
}

/// Records what the account receives of each media item (its own copies), before upload.
pub async fn set_variants(
    db: &Db,
    id: ExecutionId,
    records: &[MediaVariantRecord],
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET variants = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Json(records))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The attempt starts: `posting`, and one more attempt counted on the execution. Counted
/// here rather than taken from the job: a move (pacing, a cooldown) continues in a new job
/// whose attempts start again, and the specification's 3 retries are the execution's.
pub async fn mark_posting(db: &Db, id: ExecutionId) -> Result<(), StoreError> {
    let now = Utc::now();
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET status = 'posting', retry_count = retry_count + 1, \
         updated_at = $2 WHERE id = $1 AND status IN ('queued', 'posting')"
    )
    .bind(DbUuid::from(id))
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// How many attempts of the execution have started (across its jobs).
pub async fn attempts(db: &Db, id: ExecutionId) -> Result<i32, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT retry_count FROM post_executions WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_one(pool)
    .await?))
}

/// Moved to a later time (pacing, a cooldown), with the reason: the execution stays
/// `queued` and a new job for it is due then. Written in `tx`, with the current job's
/// completion, so the move cannot be half done — and a move never uses up an attempt.
pub async fn defer_in(
    tx: &mut Tx,
    exec: &ExecutionRun,
    until: DateTime<Utc>,
    reason: &str,
    after_job: JobId,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE post_executions SET status = 'queued', planned_at = $2, error_message = $3, \
         updated_at = $4 WHERE id = $1"
    )
    .bind(DbUuid::from(exec.id))
    .bind(until)
    .bind(reason)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|_| ())?);
    let job = NewJob::of(&jobs::PostToInstagram {
        execution_id: exec.id,
    })
    .run_at(until)
    .unique_key(format!("execution:{}:after:{after_job}", exec.id))
    .concurrency_key(exec.account_id.to_string());
    crate::jobs::enqueue(tx, &job).await?;
    Ok(())
}

/// Writes the upload marker (after the upload, before configure) unless one is already
/// there; `false` when another attempt of the same execution got there first (it will
/// configure, or has). Workers cut off from the database while holding a job can come back
/// after their lease was given to another worker; only one of the two may reach configure.
pub async fn claim_upload(db: &Db, id: ExecutionId, upload_id: &str) -> Result<bool, StoreError> {
    claim_upload_on(&mut db.acquire().await?, id, upload_id).await
}

/// [`claim_upload`] with the upload's log line written first, on one connection: one
/// round trip to the pool instead of two (#20). A log line that cannot be written is
/// reported (`tracing`) and does not stop the publish.
pub async fn claim_upload_logged(
    db: &Db,
    id: ExecutionId,
    upload_id: &str,
    log: icf_core::activity::NewActivity,
) -> Result<bool, StoreError> {
    let mut conn = db.acquire().await?;
    if let Err(e) = crate::activity::record_on(&mut conn, log).await {
        tracing::warn!(error = %e, "cannot write an activity log");
    }
    claim_upload_on(&mut conn, id, upload_id).await
}

async fn claim_upload_on(
    conn: &mut Conn,
    id: ExecutionId,
    upload_id: &str,
) -> Result<bool, StoreError> {
    let claimed = on_conn!(conn, |c| sqlx::query(
        "UPDATE post_executions SET upload_id = $2, updated_at = $3 \
         WHERE id = $1 AND upload_id IS NULL"
    )
    .bind(DbUuid::from(id))
    .bind(upload_id)
    .bind(Utc::now())
    .execute(c)
    .await?
    .rows_affected());
    Ok(claimed == 1)
}

/// Takes this attempt's marker away again: Instagram surely did not publish.
pub async fn release_upload(db: &Db, id: ExecutionId, upload_id: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET upload_id = NULL, updated_at = $3 \
         WHERE id = $1 AND upload_id = $2"
    )
    .bind(DbUuid::from(id))
    .bind(upload_id)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A retryable failure of this attempt: back to `queued` with the error shown.
pub async fn note_retry(
    db: &Db,
    id: ExecutionId,
    class: &str,
    message: &str,
) -> Result<(), StoreError> {
    set_error(db, id, ExecutionStatus::Queued, class, message).await
}

/// Sets an unfinished execution's status with its error class and message.
async fn set_error(
    db: &Db,
    id: ExecutionId,
    status: ExecutionStatus,
    class: &str,
    message: &str,
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET status = $5, error_class = $2, error_message = $3, \
         updated_at = $4 WHERE id = $1 AND status IN ('queued', 'posting')"
    )
    .bind(DbUuid::from(id))
    .bind(class)
    .bind(message)
    .bind(Utc::now())
    .bind(status.as_str())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A publish Instagram confirmed.
#[derive(Debug, Clone)]
pub struct Published {
    pub media_id: String,
    pub code: String,
    pub at: DateTime<Utc>,
}

/// Published: the media, the time, the account's `last_post_at`, its posting history (not
/// when `in_history` is false: a story kept out of pacing by the settings) and the spacing
/// mark of `scope` (the next publish there is spaced from this one), in `tx`
/// (the caller commits them with the job's completion). Returns the account's publishes
/// after `since`, this one included, for its daily limit.
pub async fn mark_success_in(
    tx: &mut Tx,
    exec: &ExecutionRun,
    published: &Published,
    scope: &str,
    since: DateTime<Utc>,
    in_history: bool,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let at = published.at;
    Ok(on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE post_executions SET status = 'success', instagram_media_id = $2, \
             instagram_code = $3, posted_at = $4, error_class = NULL, error_message = NULL, \
             updated_at = $4 WHERE id = $1",
        )
        .bind(DbUuid::from(exec.id))
        .bind(&published.media_id)
        .bind(&published.code)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE accounts SET last_post_at = $2, failed_attempts = 0, updated_at = $2 \
             WHERE id = $1",
        )
        .bind(DbUuid::from(exec.account_id))
        .bind(at)
        .execute(&mut *conn)
        .await?;
        if in_history {
            sqlx::query(HISTORY_INSERT)
                .bind(DbUuid::from(exec.id))
                .bind("success")
                .bind(DbUuid::from(exec.account_id))
                .bind(DbUuid::from(exec.post_id))
                .bind(at)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(TOUCH_SPACING)
            .bind(scope)
            .bind(at)
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar(
            "SELECT at FROM account_publishes WHERE account_id = $1 AND at > $2 ORDER BY at",
        )
        .bind(DbUuid::from(exec.account_id))
        .bind(since)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// What [`record_success`] writes.
pub struct Success<'a> {
    pub exec: &'a ExecutionRun,
    pub published: &'a Published,
    /// The spacing scope whose mark moves to the publish.
    pub scope: &'a str,
    /// The account's publishes after this are returned, for its daily limit.
    pub since: DateTime<Utc>,
    /// In the account's posting history (see [`mark_success_in`]).
    pub in_history: bool,
    /// Configure's activity log line.
    pub log: Option<icf_core::activity::NewActivity>,
}

/// [`mark_success_in`], the job's success (as [`crate::jobs::succeed_in`] writes it) and
/// configure's log line, committed together in as few round trips as each engine allows:
/// one statement on PostgreSQL (data-modifying CTEs), one script in a transaction on
/// SQLite — instead of a transaction of nine statements (#20). Returns the account's
/// publishes after `since` (this one included, oldest first) and whether the job's row
/// was still this worker's to complete (the publish is recorded either way: Instagram
/// confirmed it).
pub async fn record_success(
    db: &Db,
    s: &Success<'_>,
    job: &crate::jobs::ClaimedJob,
    worker: &str,
) -> Result<(Vec<DateTime<Utc>>, bool), StoreError> {
    let now = Utc::now();
    let duration_ms =
        i32::try_from((now - job.started_at).num_milliseconds().max(0)).unwrap_or(i32::MAX);
    let log = s.log.as_ref().map(|l| {
        let (details, error) = crate::activity::redacted(l);
        (l, details, error)
    });
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
    let sql = match db {
        // A CTE's statements all see the snapshot from before the statement: the new
        // history row is added from its own RETURNING, and the attempt is closed only when
        // the job's row was this worker's.
        Db::Postgres(_) => format!(
            "WITH e AS ({EXECUTION}), a AS ({ACCOUNT}), h AS ({HISTORY} RETURNING at), \
             s AS ({SPACING}), j AS ({JOB} RETURNING id), \
             t AS ({ATTEMPT} AND EXISTS (SELECT 1 FROM j)){log} \
             SELECT 'job' AS what, NULL::timestamptz AS at FROM j \
             UNION ALL {PUBLISHES} UNION ALL SELECT 'at' AS what, at FROM h",
            log = if log.is_some() {
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
               AND state = 'succeeded' AND finished_at = $11); {log}{PUBLISHES}",
            log = if log.is_some() {
                format!("{LOG}; ")
            } else {
                String::new()
            },
        ),
    };
    let e = s.exec;
    let p = s.published;
    macro_rules! bound {
        ($q:expr) => {{
            let q = $q
                .bind(DbUuid::from(e.id))
                .bind(&p.media_id)
                .bind(&p.code)
                .bind(p.at)
                .bind(DbUuid::from(e.account_id))
                .bind(DbUuid::from(e.post_id))
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
    let rows: Vec<(String, Option<DateTime<Utc>>)> = match db {
        Db::Postgres(pool) => {
            bound!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())))
                .fetch_all(pool)
                .await?
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_write().await?;
            let rows = bound!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows
        }
    };
    let done = rows.iter().any(|(what, _)| what == "job");
    let mut publishes: Vec<DateTime<Utc>> = rows.into_iter().filter_map(|(_, at)| at).collect();
    publishes.sort_unstable();
    Ok((publishes, done))
}

/// Moves a scope's spacing mark forward to a publish's moment (never back).
const TOUCH_SPACING: &str =
    "UPDATE pacing_marks SET last_at = $2 WHERE scope = $1 AND last_at < $2";

/// One publish in the account's posting history (see migration 0006): written with the
/// execution's end, kept when the post is deleted.
const HISTORY_INSERT: &str = "INSERT INTO account_publishes \
    (execution_id, outcome, account_id, post_id, at) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (execution_id, outcome) DO NOTHING";

/// Ended as "unconfirmed": configure may have published, nobody can tell. Failed for the
/// post, but a publish for the account's pacing (its history), in one transaction.
pub async fn mark_unconfirmed(
    db: &Db,
    exec: &ExecutionRun,
    message: &str,
) -> Result<(), StoreError> {
    let now = Utc::now();
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "UPDATE post_executions SET status = 'failed', error_class = 'unconfirmed', \
             error_message = $2, updated_at = $3 WHERE id = $1 AND status IN ('queued', 'posting')",
        )
        .bind(DbUuid::from(exec.id))
        .bind(message)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(HISTORY_INSERT)
            .bind(DbUuid::from(exec.id))
            .bind("unconfirmed")
            .bind(DbUuid::from(exec.account_id))
            .bind(DbUuid::from(exec.post_id))
            // When the attempt that may have published wrote its marker.
            .bind(exec.upload_at.unwrap_or(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Ended without a post: the error class and a message a person understands.
pub async fn mark_failed(
    db: &Db,
    id: ExecutionId,
    class: &str,
    message: &str,
) -> Result<(), StoreError> {
    set_error(db, id, ExecutionStatus::Failed, class, message).await
}

/// When no execution of the post is queued or posting any more, the post ends:
/// `completed` when at least one account published it (the counts show the rest),
/// `failed` when none did. Returns the new status when this call ended it.
pub async fn finish_post_if_done(
    db: &Db,
    post: PostId,
) -> Result<Option<&'static str>, StoreError> {
    // One statement, so a post ends once and every execution's end costs one round trip:
    // it changes nothing while an execution is open; of two executions ending together,
    // the one whose statement runs after both ends were written ends the post.
    let ended: Option<String> = on_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE posts SET \
           status = CASE WHEN EXISTS (SELECT 1 FROM post_executions \
             WHERE post_id = $1 AND status = 'success') THEN 'completed' ELSE 'failed' END, \
           posted_at = (SELECT MAX(posted_at) FROM post_executions WHERE post_id = $1), \
           updated_at = $2 \
         WHERE id = $1 AND status IN ('pending', 'posting') \
           AND NOT EXISTS (SELECT 1 FROM post_executions \
             WHERE post_id = $1 AND status IN ('queued', 'posting')) \
         RETURNING status"
    )
    .bind(DbUuid::from(post))
    .bind(Utc::now())
    .fetch_optional(pool)
    .await?);
    // Only the call that ended it says so (alerts go out once).
    Ok(match ended.as_deref() {
        Some("completed") => Some("completed"),
        Some(_) => Some("failed"),
        None => None,
    })
}

/// The post is going out (its first execution started).
pub async fn mark_post_posting(db: &Db, post: PostId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE posts SET status = 'posting', updated_at = $2 WHERE id = $1 AND status = 'pending'"
    )
    .bind(DbUuid::from(post))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The account's publishes that count for pacing: its posting history of the last
/// `window` (successes and "unconfirmed", kept when posts are deleted), and the publishes
/// other executions have in progress, this one excluded.
async fn busy_times_on(
    conn: &mut Conn,
    account: AccountId,
    except: ExecutionId,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar(
        "SELECT at FROM account_publishes WHERE account_id = $1 AND at > $3 \
         UNION ALL \
         SELECT updated_at FROM post_executions WHERE account_id = $1 AND id <> $2 \
         AND status = 'posting'"
    )
    .bind(DbUuid::from(account))
    .bind(DbUuid::from(except))
    .bind(now - window)
    .fetch_all(c)
    .await?))
}

/// Claims the start of a publish in a spacing scope: `None` when at least `min_spacing`
/// has passed since the scope's last start or publish (the mark is now `now`), else what
/// holds the scope. A compare-and-set, so two workers due at the same moment cannot both go.
pub async fn claim_spacing(
    db: &Db,
    scope: &str,
    now: DateTime<Utc>,
    min_spacing: Duration,
) -> Result<Option<ScopeTaken>, StoreError> {
    let claimed = on_pool!(db, |pool| sqlx::query(
        "INSERT INTO pacing_marks (scope, last_at) VALUES ($1, $2) \
         ON CONFLICT (scope) DO UPDATE SET last_at = excluded.last_at \
         WHERE pacing_marks.last_at <= $3"
    )
    .bind(scope)
    .bind(now)
    .bind(now - min_spacing)
    .execute(pool)
    .await?
    .rows_affected());
    if claimed == 1 {
        return Ok(None);
    }
    let row: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT last_at, queue_end_at FROM pacing_marks WHERE scope = $1"
    )
    .bind(scope)
    .fetch_optional(pool)
    .await?);
    // Gone between the two statements (a post deleted): nothing to wait for.
    let (last, queue_end) = row.unwrap_or((now, None));
    Ok(Some(ScopeTaken { last, queue_end }))
}

/// What holds a spacing scope when a publish may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeTaken {
    /// The scope's last start or publish.
    pub last: DateTime<Utc>,
    /// The latest start handed to a publish waiting in the scope (see migration 0010).
    pub queue_end: Option<DateTime<Utc>>,
}

impl ScopeTaken {
    /// Where a publish that must wait joins the line: after the last start, and after every
    /// start already handed out.
    pub fn line_end(&self) -> DateTime<Utc> {
        self.queue_end.map_or(self.last, |q| q.max(self.last))
    }
}

/// Records `at` as a waiting publish's start: the scope's line now ends there (never earlier).
/// Two publishes moved at the same moment may read the same end and get starts close
/// together; the second to come is then moved once more, to the new end.
pub async fn join_spacing_queue(db: &Db, scope: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE pacing_marks SET queue_end_at = $2 \
         WHERE scope = $1 AND (queue_end_at IS NULL OR queue_end_at < $2)"
    )
    .bind(scope)
    .bind(at)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// What logging in needs beyond [`crate::accounts::get`]: the stored device.
#[derive(Debug, Clone)]
pub struct AccountWire {
    pub device: Value,
    pub proxy_id: Option<ProxyId>,
}

pub async fn account_wire(db: &Db, id: AccountId) -> Result<AccountWire, StoreError> {
    let (device, proxy): (Json<Value>, Option<DbUuid>) = on_pool!(db, |pool| sqlx::query_as(
        "SELECT device, proxy_id FROM accounts WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_one(pool)
    .await?);
    Ok(AccountWire {
        device: device.0,
        proxy_id: proxy.map(DbUuid::into_id),
    })
}

/// Everything a publish reads of the account besides [`crate::accounts::get`], in one
/// query: its group's posting window and its clock (for the pacing check), its secrets,
/// its stored device and its proxy (to connect).
#[derive(Debug, Clone)]
pub struct ConnectionParts {
    pub secrets: crate::accounts::AccountSecrets,
    pub device: Value,
    pub proxy: Option<ProxyParts>,
    pub active_hours: Option<icf_core::pacing::ActiveHours>,
    /// The account's clock, seconds east of UTC.
    pub utc_offset: i32,
}

/// The account's proxy as the transport dials it, with what says whether it was checked
/// lately.
#[derive(Debug, Clone)]
pub struct ProxyParts {
    pub id: ProxyId,
    pub proxy_type: ProxyType,
    pub host: String,
    pub port: u16,
    pub credentials_enc: Option<String>,
    pub status: ProxyStatus,
    pub last_check_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PartsRow {
    password_enc: String,
    session_data_enc: Option<String>,
    totp_secret_enc: Option<String>,
    device: Json<Value>,
    parts_proxy_id: Option<DbUuid>,
    parts_proxy_type: Option<String>,
    host: Option<String>,
    port: Option<i32>,
    credentials_enc: Option<String>,
    proxy_status: Option<String>,
    last_check_at: Option<DateTime<Utc>>,
    timezone_offset: Option<i32>,
    active_from: Option<i32>,
    active_until: Option<i32>,
}

/// The columns of [`PartsRow`], after `accounts a` with its group `g` and proxy `p` joined.
const PARTS_COLUMNS: &str = "a.password_enc, a.session_data_enc, a.totp_secret_enc, a.device, \
    p.id AS parts_proxy_id, p.proxy_type AS parts_proxy_type, p.host, p.port, \
    p.credentials_enc, p.status AS proxy_status, p.last_check_at, \
    a.timezone_offset, g.active_from, g.active_until";

pub async fn connection_parts(db: &Db, id: AccountId) -> Result<ConnectionParts, StoreError> {
    let sql = format!(
        "SELECT {PARTS_COLUMNS} FROM accounts a {} WHERE a.id = $1",
        crate::accounts::JOINS
    );
    let r: PartsRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    r.into_parts()
}

#[derive(sqlx::FromRow)]
struct AccountAndParts {
    #[sqlx(flatten)]
    account: crate::accounts::AccountRow,
    #[sqlx(flatten)]
    parts: PartsRow,
}

/// [`crate::accounts::get`] and [`connection_parts`] in one query: what an attempt to
/// publish reads of the account, for its pacing check and its connection.
pub async fn account_and_parts(
    db: &Db,
    id: AccountId,
) -> Result<(Account, ConnectionParts), StoreError> {
    account_and_parts_on(&mut db.acquire().await?, id).await
}

async fn account_and_parts_on(
    conn: &mut Conn,
    id: AccountId,
) -> Result<(Account, ConnectionParts), StoreError> {
    let now = Utc::now();
    let sql = format!(
        "SELECT {}, {PARTS_COLUMNS} FROM accounts a {} WHERE a.id = $2",
        crate::accounts::COLUMNS,
        crate::accounts::JOINS
    );
    let r: AccountAndParts = on_conn!(conn, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(crate::accounts::day_start(now))
        .bind(DbUuid::from(id))
        .fetch_one(c)
        .await?);
    Ok((r.account.into_account(now)?, r.parts.into_parts()?))
}

impl PartsRow {
    fn into_parts(self) -> Result<ConnectionParts, StoreError> {
        let r = self;
        let corrupt = |what: &str| StoreError::Corrupt(format!("proxies.{what}"));
        let proxy = match (
            r.parts_proxy_id,
            r.parts_proxy_type,
            r.host,
            r.port,
            r.proxy_status,
        ) {
            (Some(pid), Some(kind), Some(host), Some(port), Some(status)) => Some(ProxyParts {
                id: pid.into_id(),
                proxy_type: kind.parse().map_err(|_| corrupt("proxy_type"))?,
                host,
                port: u16::try_from(port).map_err(|_| corrupt("port"))?,
                credentials_enc: r.credentials_enc,
                status: status.parse().map_err(|_| corrupt("status"))?,
                last_check_at: r.last_check_at,
            }),
            _ => None,
        };
        Ok(ConnectionParts {
            secrets: crate::accounts::AccountSecrets {
                password_enc: r.password_enc,
                session_data_enc: r.session_data_enc,
                totp_secret_enc: r.totp_secret_enc,
            },
            device: r.device.0,
            proxy,
            active_hours: crate::executions::window(r.active_from, r.active_until),
            utc_offset: r.timezone_offset.unwrap_or(0),
        })
    }
}

/// Replaces the account's stored device (the JSON of `icf_core::device::Device`). Only for
/// completing a device stored before a field existed: a device is otherwise never changed.
pub async fn set_device(db: &Db, id: AccountId, device: &Value) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET device = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Json(device))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Writes the encrypted session back (after every Instagram call).
pub async fn set_session(db: &Db, id: AccountId, session_enc: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET session_data_enc = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(session_enc)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A successful login: the account is usable again, no challenge pending.
pub async fn mark_logged_in(db: &Db, id: AccountId) -> Result<(), StoreError> {
    let now = Utc::now();
    set_state(
        db,
        id,
        &InstagramState {
            status: AccountStatus::Active,
            reason: "logged in".into(),
            cooldown_until: None,
            pending_challenge: None,
        },
    )
    .await?;
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET last_login_at = $2, failed_attempts = 0 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// An account's Instagram-driven state.
#[derive(Debug, Clone)]
pub struct InstagramState {
    pub status: AccountStatus,
    pub reason: String,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub pending_challenge: Option<Value>,
}

/// Sets status, reason, cooldown and pending challenge, recording a status change in
/// `account_status_history` in the same transaction.
pub async fn set_state(db: &Db, id: AccountId, st: &InstagramState) -> Result<(), StoreError> {
    let now = Utc::now();
    let challenge = st.pending_challenge.as_ref().map(Json);
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let old: Option<String> = sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
            .bind(DbUuid::from(id))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else {
            return Err(StoreError::NotFound);
        };
        sqlx::query(
            "UPDATE accounts SET status = $2, status_reason = $3, cooldown_until = $4, \
             pending_challenge = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(DbUuid::from(id))
        .bind(st.status.as_str())
        .bind(&st.reason)
        .bind(st.cooldown_until)
        .bind(challenge)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if old != st.status.as_str() {
            sqlx::query(
                "INSERT INTO account_status_history (id, account_id, old_status, new_status, \
                 reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(DbUuid::from(uuid::Uuid::now_v7()))
            .bind(DbUuid::from(id))
            .bind(&old)
            .bind(st.status.as_str())
            .bind(&st.reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Accounts whose session is worth checking: they have one and are not banned.
pub async fn accounts_to_check(db: &Db) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<DbUuid> = crate::on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT id FROM accounts WHERE session_data_enc IS NOT NULL AND status <> 'banned' ORDER BY id"
    )
    .fetch_all(pool)
    .await?
    });
    Ok(ids.into_iter().map(DbUuid::into_id).collect())
}
