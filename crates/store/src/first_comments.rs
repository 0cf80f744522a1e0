//! The first comment of an execution: its own step after the media, with its own state on
//! the execution (`comment_status`, migration 0011). Like the media's upload id, `posting`
//! is written before the request that cannot be taken back, so an attempt after a crash
//! first looks for the comment on Instagram instead of posting it twice.

use chrono::{DateTime, Utc};
use icf_core::ids::{AccountId, ExecutionId, PostId};
use icf_core::jobs;
use icf_core::post_options::PostOptions;
use sqlx::types::Json;

use crate::jobs::NewJob;
use crate::tx::Tx;
use crate::{Db, DbUuid, StoreError, on_pool};

/// What the comment step needs of its execution.
#[derive(Debug, Clone)]
pub struct CommentRun {
    pub id: ExecutionId,
    pub post_id: PostId,
    pub account_id: AccountId,
    /// The comment in the account's language.
    pub text: String,
    pub pin: bool,
    /// `{pk}_{owner}` of the published media.
    pub media_id: Option<String>,
    /// `queued`, `posting` (an attempt may have posted it), `success`, `failed`, `cancelled`.
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: DbUuid,
    post_id: DbUuid,
    account_id: DbUuid,
    first_comment: Option<String>,
    instagram_media_id: Option<String>,
    comment_status: Option<String>,
    options: Option<Json<PostOptions>>,
}

/// The execution's comment step; `None` when it has no first comment (or is gone).
pub async fn run(db: &Db, id: ExecutionId) -> Result<Option<CommentRun>, StoreError> {
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT e.id, e.post_id, e.account_id, e.first_comment, e.instagram_media_id, \
         e.comment_status, p.options \
         FROM post_executions e LEFT JOIN posts p ON p.id = e.post_id WHERE e.id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_optional(pool)
    .await?);
    Ok(row.and_then(|r| {
        Some(CommentRun {
            id: r.id.into_id(),
            post_id: r.post_id.into_id(),
            account_id: r.account_id.into_id(),
            text: r.first_comment?,
            pin: r.options.is_some_and(|o| o.0.pin_first_comment),
            media_id: r.instagram_media_id,
            status: r.comment_status,
        })
    }))
}

/// Queues the comment step, in the transaction that records the media's publish, due at
/// `at` (a short random wait after the media, as a person would take). One job per
/// execution: a publish recorded twice queues nothing more.
pub async fn queue_in(
    tx: &mut Tx,
    id: ExecutionId,
    account: AccountId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::jobs::enqueue(
        tx,
        &NewJob::of(&jobs::FirstComment { execution_id: id })
            .run_at(at)
            .unique_key(format!("first_comment:{id}"))
            // One account does one thing at a time, its publishes included.
            .concurrency_key(account.to_string()),
    )
    .await?;
    Ok(())
}

/// The comment request is about to go: from here a crash leaves it unknown.
pub async fn mark_posting(db: &Db, id: ExecutionId) -> Result<(), StoreError> {
    set(db, id, "posting", None, None, None).await
}

/// Posted (and pinned when asked): Instagram's comment id.
pub async fn mark_success(
    db: &Db,
    id: ExecutionId,
    comment_id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    set(db, id, "success", Some(comment_id), None, Some(at)).await
}

/// Given up: the media stays published, the comment did not make it.
pub async fn mark_failed(db: &Db, id: ExecutionId, error: &str) -> Result<(), StoreError> {
    set(db, id, "failed", None, Some(error), None).await
}

/// A failed attempt that will be retried: the error shows on the execution meanwhile.
pub async fn note_error(db: &Db, id: ExecutionId, error: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET comment_error = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(error)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

async fn set(
    db: &Db,
    id: ExecutionId,
    status: &str,
    comment_id: Option<&str>,
    error: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET comment_status = $2, \
         comment_id = COALESCE($3, comment_id), comment_error = $4, \
         commented_at = COALESCE($5, commented_at), updated_at = $6 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(status)
    .bind(comment_id)
    .bind(error)
    .bind(at)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
