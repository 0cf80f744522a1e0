//! `post_executions`: one post on one account, planned, queued as a job, then published.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use icf_core::enums::{AccountStatus, ExecutionStatus, JobPriority};
use icf_core::execution::ExecutionTotals;
use icf_core::ids::{AccountId, ExecutionId, GroupId, PostId};
use icf_core::jobs;
use icf_core::pacing::ActiveHours;
use icf_core::variants::MediaVariantRecord;
use serde::Serialize;
use sqlx::types::Json;

use crate::jobs::NewJob;
use crate::tx::Tx;
use crate::{Db, DbUuid, StoreError, on_pool, on_tx};

/// What the planner needs of an account in a post's groups.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: AccountId,
    pub username: String,
    pub language: String,
    pub status: AccountStatus,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub age_days: i64,
    pub posts_limit_per_day: u32,
    pub has_proxy: bool,
    /// Its publishes of the last 24 h and the publishes already planned for it.
    pub busy: Vec<DateTime<Utc>>,
    /// Its group's posting window, in its own time...
    pub active_hours: Option<ActiveHours>,
    /// ...this many seconds east of UTC.
    pub utc_offset: i32,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    id: DbUuid,
    username: String,
    language: String,
    status: String,
    cooldown_until: Option<DateTime<Utc>>,
    registered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    posts_limit_per_day: i32,
    proxy_id: Option<DbUuid>,
    timezone_offset: Option<i32>,
    active_from: Option<i32>,
    active_until: Option<i32>,
}

/// Every account of `groups`, with its recent and planned publishes.
pub async fn candidates(
    db: &Db,
    groups: &[GroupId],
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, StoreError> {
    let since = now - Duration::hours(24);
    let mut out = Vec::new();
    for &g in groups {
        let rows: Vec<CandidateRow> = on_pool!(db, |pool| sqlx::query_as(
            "SELECT a.id, a.username, a.language, a.status, a.cooldown_until, a.registered_at, \
             a.created_at, a.posts_limit_per_day, a.proxy_id, a.timezone_offset, g.active_from, \
             g.active_until FROM accounts a JOIN groups g ON g.id = a.group_id \
             WHERE a.group_id = $1 ORDER BY a.username"
        )
        .bind(DbUuid::from(g))
        .fetch_all(pool)
        .await?);
        let busy: Vec<(DbUuid, DateTime<Utc>)> = on_pool!(db, |pool| {
            sqlx::query_as(
                "SELECT h.account_id, h.at FROM account_publishes h \
             JOIN accounts a ON a.id = h.account_id WHERE a.group_id = $1 AND h.at > $2 \
             UNION ALL \
             SELECT e.account_id, e.planned_at FROM post_executions e \
             JOIN accounts a ON a.id = e.account_id WHERE a.group_id = $1 AND \
             e.status IN ('queued', 'posting') AND e.planned_at IS NOT NULL",
            )
            .bind(DbUuid::from(g))
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        let mut by_account: HashMap<uuid::Uuid, Vec<DateTime<Utc>>> = HashMap::new();
        for (id, t) in busy {
            by_account.entry(id.0).or_default().push(t);
        }
        for r in rows {
            out.push(Candidate {
                id: r.id.into_id(),
                busy: by_account.remove(&r.id.0).unwrap_or_default(),
                username: r.username,
                language: r.language,
                status: r
                    .status
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("accounts.status: {e}")))?,
                cooldown_until: r.cooldown_until,
                age_days: (now - r.registered_at.unwrap_or(r.created_at)).num_days(),
                posts_limit_per_day: u32::try_from(r.posts_limit_per_day).unwrap_or(0),
                has_proxy: r.proxy_id.is_some(),
                active_hours: window(r.active_from, r.active_until),
                utc_offset: r.timezone_offset.unwrap_or(0),
            });
        }
    }
    out.sort_by(|a, b| a.username.cmp(&b.username));
    out.dedup_by_key(|c| c.id);
    Ok(out)
}

/// A group's stored posting window.
pub(crate) fn window(from: Option<i32>, until: Option<i32>) -> Option<ActiveHours> {
    from.zip(until)
        .and_then(|(f, u)| ActiveHours::from_minutes(f.into(), u.into()))
}

/// An execution to create, with the time the planner gave it.
#[derive(Debug, Clone)]
pub struct PlannedExecution {
    pub account_id: AccountId,
    pub language: String,
    pub caption: String,
    /// The first comment in the account's language; it gets its own step after the media.
    pub first_comment: Option<String>,
    /// The alt texts in the account's language (one per media item), or empty.
    pub alt_text: Vec<String>,
    pub planned_at: DateTime<Utc>,
}

/// Writes the executions and their jobs in `tx`. An account that already has an execution
/// of this post gets nothing new: publishing twice creates nothing twice. Returns how many
/// were created. A post to 10,000 accounts is a handful of statements, not 20,000: arrays
/// unnested on PostgreSQL, multi-row inserts on SQLite.
pub async fn create_with_jobs(
    tx: &mut Tx,
    post: PostId,
    priority: JobPriority,
    rows: &[PlannedExecution],
) -> Result<usize, StoreError> {
    // 13 parameters a row on SQLite.
    const ROWS: usize = 1_000;
    let now = Utc::now();
    let ids: Vec<ExecutionId> = rows.iter().map(|_| ExecutionId::new()).collect();
    let created: Vec<DbUuid> = match tx.conn_mut() {
        crate::tx::TxConn::Postgres(t) => {
            sqlx::query_scalar(
                "INSERT INTO post_executions (id, post_id, account_id, language, caption_translated, \
                 status, retry_count, planned_at, created_at, updated_at, first_comment, alt_text, \
                 comment_status) \
                 SELECT u.id, $1, u.account_id, u.language, u.caption, 'queued', 0, u.planned_at, $2, $2, \
                 u.first_comment, u.alt_text::jsonb, \
                 CASE WHEN u.first_comment IS NULL THEN NULL ELSE 'queued' END \
                 FROM UNNEST($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[], \
                 $8::text[], $9::text[]) \
                 AS u(id, account_id, language, caption, planned_at, first_comment, alt_text) \
                 ON CONFLICT (post_id, account_id) DO NOTHING RETURNING id",
            )
            .bind(DbUuid::from(post))
            .bind(now)
            .bind(ids.iter().map(|i| uuid::Uuid::from(*i)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| uuid::Uuid::from(r.account_id)).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.language.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.caption.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.planned_at).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|r| r.first_comment.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(alt_text_json).collect::<Vec<_>>())
            .fetch_all(&mut **t)
            .await?
        }
        crate::tx::TxConn::Sqlite(t) => {
            let mut created = Vec::with_capacity(rows.len());
            for (chunk, chunk_ids) in rows.chunks(ROWS).zip(ids.chunks(ROWS)) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO post_executions (id, post_id, account_id, language, caption_translated, \
                     status, retry_count, planned_at, created_at, updated_at, first_comment, alt_text, \
                     comment_status) ",
                );
                q.push_values(chunk.iter().zip(chunk_ids), |mut b, (r, id)| {
                    b.push_bind(DbUuid::from(*id))
                        .push_bind(DbUuid::from(post))
                        .push_bind(DbUuid::from(r.account_id))
                        .push_bind(&r.language)
                        .push_bind(&r.caption)
                        .push_bind("queued")
                        .push_bind(0i32)
                        .push_bind(r.planned_at)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(r.first_comment.as_deref())
                        .push_bind(alt_text_json(r))
                        .push_bind(r.first_comment.as_ref().map(|_| "queued"));
                });
                q.push(" ON CONFLICT (post_id, account_id) DO NOTHING RETURNING id");
                created.extend(
                    q.build_query_scalar::<DbUuid>()
                        .fetch_all(&mut **t)
                        .await?,
                );
            }
            created
        }
    };
    let created: std::collections::HashSet<uuid::Uuid> = created.into_iter().map(|d| d.0).collect();
    let jobs: Vec<NewJob> = rows
        .iter()
        .zip(&ids)
        .filter(|(_, id)| created.contains(&uuid::Uuid::from(**id)))
        .map(|(r, id)| {
            NewJob::of(&jobs::PostToInstagram { execution_id: *id })
                .priority(priority)
                .run_at(r.planned_at)
                .unique_key(job_key(*id, 0))
                .concurrency_key(r.account_id.to_string())
        })
        .collect();
    crate::jobs::enqueue_many(tx, &jobs).await?;
    Ok(jobs.len())
}

/// An execution's alt texts as stored: a JSON array, or NULL when the post has none.
fn alt_text_json(r: &PlannedExecution) -> Option<String> {
    (!r.alt_text.is_empty())
        .then(|| serde_json::to_string(&r.alt_text).unwrap_or_else(|_| "[]".into()))
}

/// The unique key of an execution's job; `round` counts manual retries.
pub fn job_key(id: ExecutionId, round: i32) -> String {
    format!("execution:{id}:{round}")
}

/// One account's state for a post, as the post page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(PartialEq))]
pub struct ExecutionView {
    pub id: ExecutionId,
    pub account_id: AccountId,
    pub username: String,
    pub language: String,
    pub caption: String,
    pub status: ExecutionStatus,
    pub attempts: i32,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub instagram_media_id: Option<String>,
    pub instagram_code: Option<String>,
    pub planned_at: Option<DateTime<Utc>>,
    pub posted_at: Option<DateTime<Utc>>,
    /// The first comment in this account's language, when the post has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
    /// The first comment's own step: `queued`, `posting`, `success`, `failed`, `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commented_at: Option<DateTime<Utc>>,
    /// The account's own copies of the media, when it got its own (`media_variants`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<MediaVariantRecord>,
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: DbUuid,
    account_id: DbUuid,
    username: String,
    language: String,
    caption_translated: String,
    status: String,
    retry_count: i32,
    error_class: Option<String>,
    error_message: Option<String>,
    instagram_media_id: Option<String>,
    instagram_code: Option<String>,
    planned_at: Option<DateTime<Utc>>,
    posted_at: Option<DateTime<Utc>>,
    first_comment: Option<String>,
    comment_status: Option<String>,
    comment_error: Option<String>,
    commented_at: Option<DateTime<Utc>>,
    variants: Option<Json<Vec<MediaVariantRecord>>>,
}

pub async fn list(db: &Db, post: PostId) -> Result<Vec<ExecutionView>, StoreError> {
    let rows: Vec<ViewRow> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT e.id, e.account_id, a.username, e.language, e.caption_translated, e.status, e.retry_count, \
         e.error_class, e.error_message, e.instagram_media_id, e.instagram_code, e.planned_at, e.posted_at, \
         e.first_comment, e.comment_status, e.comment_error, e.commented_at, e.variants \
         FROM post_executions e JOIN accounts a ON a.id = e.account_id WHERE e.post_id = $1 \
         ORDER BY e.planned_at, a.username"
    )
    .bind(DbUuid::from(post))
    .fetch_all(pool)
    .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(ExecutionView {
                id: r.id.into_id(),
                account_id: r.account_id.into_id(),
                username: r.username,
                language: r.language,
                caption: r.caption_translated,
                status: r
                    .status
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("post_executions.status: {e}")))?,
                attempts: r.retry_count,
                error_class: r.error_class,
                error_message: r.error_message,
                instagram_media_id: r.instagram_media_id,
                instagram_code: r.instagram_code,
                planned_at: r.planned_at,
                posted_at: r.posted_at,
                first_comment: r.first_comment,
                comment_status: r.comment_status,
                comment_error: r.comment_error,
                commented_at: r.commented_at,
                variants: r.variants.map(|v| v.0).unwrap_or_default(),
            })
        })
        .collect()
}

/// Takes back a pending post's plan so it can be made again (after an edit): when every
/// execution is still queued and none of their jobs has started, the jobs are cancelled,
/// the executions removed and the post is a draft again, in one transaction. `false`:
/// something already started; nothing changed.
pub async fn withdraw_plan(db: &Db, post: PostId) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let started: i64 = on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT COUNT(*) FROM post_executions WHERE post_id = $1 AND status <> 'queued'"
    )
    .bind(DbUuid::from(post))
    .fetch_one(conn)
    .await?);
    if started > 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let ids: Vec<DbUuid> = on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT id FROM post_executions WHERE post_id = $1"
    )
    .bind(DbUuid::from(post))
    .fetch_all(conn)
    .await?);
    let now = Utc::now();
    for id in &ids {
        let key = format!("execution:{}:%", id.0);
        on_tx!(tx, |conn| sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2 \
             WHERE unique_key LIKE $1 AND state = 'queued'"
        )
        .bind(&key)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())?);
        // A worker took it between the check and the cancel: it goes out as planned.
        let running: i64 = on_tx!(tx, |conn| sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE unique_key LIKE $1 AND state = 'running'"
        )
        .bind(&key)
        .fetch_one(conn)
        .await?);
        if running > 0 {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    on_tx!(tx, |conn| sqlx::query(
        "DELETE FROM post_executions WHERE post_id = $1"
    )
    .bind(DbUuid::from(post))
    .execute(conn)
    .await
    .map(|_| ())?);
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE posts SET status = 'draft', updated_at = $2 WHERE id = $1 AND status = 'pending'"
    )
    .bind(DbUuid::from(post))
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())?);
    tx.commit().await?;
    Ok(true)
}

/// Cancels the post's queued executions and their jobs; returns how many.
pub async fn cancel_queued(db: &Db, post: PostId) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    let ids: Vec<DbUuid> = on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT id FROM post_executions WHERE post_id = $1 AND status = 'queued'"
    )
    .bind(DbUuid::from(post))
    .fetch_all(conn)
    .await?);
    let now = Utc::now();
    for id in &ids {
        on_tx!(tx, |conn| {
            sqlx::query(
            "UPDATE post_executions SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'queued'"
        )
        .bind(*id)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())?
        });
        on_tx!(tx, |conn| sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2 \
             WHERE unique_key LIKE $1 AND state = 'queued'"
        )
        .bind(format!("execution:{}:%", id.0))
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())?);
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Puts the post's failed executions back in the queue, `spacing` apart from `start`, each
/// with a new job and a fresh count of attempts, in one transaction; the handler re-checks the pacing rules before it
/// publishes. Returns how many. A second call finds none failed and creates nothing.
pub async fn retry_failed(
    db: &Db,
    post: PostId,
    priority: JobPriority,
    start: DateTime<Utc>,
    spacing: Duration,
) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    let rows: Vec<(DbUuid, DbUuid)> = on_tx!(tx, |conn| {
        sqlx::query_as(
        "SELECT id, account_id FROM post_executions WHERE post_id = $1 AND status = 'failed' ORDER BY updated_at"
    )
    .bind(DbUuid::from(post))
    .fetch_all(conn)
    .await?
    });
    let now = Utc::now();
    for (i, (id, account)) in rows.iter().enumerate() {
        let at = start + spacing * i32::try_from(i).unwrap_or(i32::MAX);
        on_tx!(tx, |conn| {
            sqlx::query(
            "UPDATE post_executions SET status = 'queued', error_class = NULL, error_message = NULL, \
             upload_id = NULL, retry_count = 0, planned_at = $2, updated_at = $3 \
             WHERE id = $1 AND status = 'failed'"
        )
        .bind(*id)
        .bind(at)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())?
        });
        let exec: ExecutionId = id.into_id();
        let job = NewJob::of(&jobs::PostToInstagram { execution_id: exec })
            .priority(priority)
            .run_at(at)
            .unique_key(format!(
                "execution:{exec}:retry:{}",
                uuid::Uuid::now_v7().simple()
            ))
            .concurrency_key(account.0.to_string());
        crate::jobs::enqueue(&mut tx, &job).await?;
    }
    if !rows.is_empty() {
        on_tx!(tx, |conn| sqlx::query(
            "UPDATE posts SET status = 'pending', updated_at = $2 WHERE id = $1"
        )
        .bind(DbUuid::from(post))
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())?);
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// The latest time a publish is planned for, across every post (the global spacing scope
/// spaces a new post after it).
pub async fn latest_planned(db: &Db) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(crate::on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT MAX(planned_at) FROM post_executions WHERE status IN ('queued', 'posting')"
    )
    .fetch_one(pool)
    .await?))
}

/// An execution whose state changed, for the live event stream.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionChange {
    pub id: ExecutionId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub status: ExecutionStatus,
    pub updated_at: DateTime<Utc>,
}

/// Executions updated after `since`, oldest first. Reading the table rather than hooking
/// the worker lets the stream see workers running in other processes.
pub async fn changed_since(
    db: &Db,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ExecutionChange>, StoreError> {
    let rows: Vec<(DbUuid, DbUuid, DbUuid, String, DateTime<Utc>)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT id, post_id, account_id, status, updated_at FROM post_executions \
             WHERE updated_at > $1 ORDER BY updated_at LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(id, post, account, status, updated_at)| {
            Ok(ExecutionChange {
                id: id.into_id(),
                post_id: post.into_id(),
                account_id: account.into_id(),
                status: status
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("post_executions.status: {e}")))?,
                updated_at,
            })
        })
        .collect()
}

/// How many of the post's executions are in each state, counted by the database.
pub async fn totals(db: &Db, post: PostId) -> Result<ExecutionTotals, StoreError> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT status, COUNT(*) FROM post_executions WHERE post_id = $1 GROUP BY status",
        )
        .bind(DbUuid::from(post))
        .fetch_all(pool)
        .await?
    });
    let mut totals = ExecutionTotals::default();
    for (s, n) in rows {
        let status = s
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("post_executions.status: {e}")))?;
        totals.add(status, usize::try_from(n).unwrap_or(0));
    }
    Ok(totals)
}

/// The account's latest executions, newest first: post, status, error, last change.
pub async fn recent_for_account(
    db: &Db,
    account: AccountId,
    limit: i64,
) -> Result<Vec<(PostId, String, Option<String>, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(DbUuid, String, Option<String>, DateTime<Utc>)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT post_id, status, error_message, updated_at FROM post_executions \
             WHERE account_id = $1 ORDER BY updated_at DESC LIMIT $2",
        )
        .bind(DbUuid::from(account))
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(p, s, e, t)| (p.into_id(), s, e, t))
        .collect())
}
