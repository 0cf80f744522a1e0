//! What the Instagram engine reads and writes while it publishes one execution or logs an
//! account in: the execution's progress (with the upload id written before the irreversible
//! configure step), the account's Instagram state (status with history, cooldown, pending
//! challenge, session) and the post's end.

use chrono::{DateTime, Duration, Utc};
use icf_core::account::Account;
use icf_core::enums::{ExecutionStatus, MediaVariants, ProxyStatus, ProxyType};
use icf_core::ids::{AccountId, ExecutionId, JobId, PostId, ProxyId};
use icf_core::jobs;
use icf_core::variants::MediaVariantRecord;
use serde_json::Value;
use sqlx::types::Json;

use crate::conn::Conn;
use crate::jobs::NewJob;

mod account_state;
mod marker;
mod post_end;
mod success;

use crate::tx::{BeginWrite, Tx};
use crate::{Db, DbUuid, StoreError, on_conn, on_pool, on_tx};
pub use account_state::{
    InstagramState, accounts_to_check, mark_logged_in, set_device, set_session, set_state,
};
pub use marker::{claim_upload, claim_upload_logged, release_upload};
pub use success::{Success, SuccessRecorded, record_success};

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
    post_end::finish_post_on(&mut db.acquire().await?, post).await
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
