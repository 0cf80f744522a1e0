//! Posts: media, caption and target groups.

use chrono::{DateTime, Utc};
use icf_core::enums::{JobPriority, MediaType, PostStatus};
use icf_core::ids::{GroupId, PostId, UserId};
use icf_core::post::{Post, PostMedia};
use icf_core::post_options::PostOptions;
use sqlx::types::Json;

use crate::tx::BeginWrite;
use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(Debug, sqlx::FromRow)]
struct PostRow {
    id: DbUuid,
    media_paths: Json<Vec<PostMedia>>,
    media_type: String,
    caption_original: String,
    original_language: String,
    target_groups: Json<Vec<GroupId>>,
    status: String,
    priority: String,
    scheduled_at: Option<DateTime<Utc>>,
    created_by: Option<DbUuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    posted_at: Option<DateTime<Utc>>,
    options: Json<PostOptions>,
}

const COLUMNS: &str = "id, media_paths, media_type, caption_original, original_language, \
    target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, posted_at, \
    options";

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("posts.{column}: {e}"))
}

impl TryFrom<PostRow> for Post {
    type Error = StoreError;
    fn try_from(r: PostRow) -> Result<Post, StoreError> {
        Ok(Post {
            id: r.id.into_id(),
            media: r.media_paths.0,
            media_type: r.media_type.parse().map_err(|e| corrupt("media_type", e))?,
            caption_original: r.caption_original,
            original_language: r.original_language,
            target_groups: r.target_groups.0,
            status: r.status.parse().map_err(|e| corrupt("status", e))?,
            priority: r.priority.parse().map_err(|e| corrupt("priority", e))?,
            scheduled_at: r.scheduled_at,
            created_by: r.created_by.map(DbUuid::into_id),
            created_at: r.created_at,
            updated_at: r.updated_at,
            posted_at: r.posted_at,
            options: r.options.0,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub media: Vec<PostMedia>,
    pub media_type: MediaType,
    pub caption_original: String,
    pub original_language: String,
    pub target_groups: Vec<GroupId>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
    pub options: PostOptions,
}

/// The one INSERT of a draft, for a pool or a transaction's connection.
macro_rules! insert_post {
    ($executor:expr, $new:expr) => {{
        let sql = format!(
            "INSERT INTO posts (id, media_paths, media_type, caption_original, original_language, \
             target_groups, status, priority, scheduled_at, created_by, created_at, updated_at, options) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', 'normal', $7, $8, $9, $9, $10) RETURNING {COLUMNS}"
        );
        let row: PostRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(DbUuid::from(PostId::new()))
            .bind(Json(&$new.media))
            .bind($new.media_type.as_str())
            .bind(&$new.caption_original)
            .bind(&$new.original_language)
            .bind(Json(&$new.target_groups))
            .bind($new.scheduled_at)
            .bind($new.created_by.map(DbUuid::from))
            .bind(Utc::now())
            .bind(Json(&$new.options))
            .fetch_one($executor)
            .await?;
        row
    }};
}

pub async fn create(db: &Db, new: NewPost) -> Result<Post, StoreError> {
    let row: PostRow = on_pool!(db, |pool| insert_post!(pool, new));
    row.try_into()
}

/// [`create`] in the caller's transaction: a bulk import writes all its drafts or none.
pub async fn create_in(tx: &mut crate::tx::Tx, new: NewPost) -> Result<Post, StoreError> {
    let row: PostRow = crate::on_tx!(tx, |conn| insert_post!(&mut *conn, new));
    row.try_into()
}

pub async fn get(db: &Db, id: PostId) -> Result<Post, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM posts WHERE id = $1");
    let row: PostRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    row.try_into()
}

/// A page of posts, newest first, with the total matching the filter.
pub async fn list(
    db: &Db,
    status: Option<PostStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Post>, i64), StoreError> {
    let status = status.map(PostStatus::as_str);
    let sql = format!(
        "SELECT {COLUMNS} FROM posts WHERE ($1 IS NULL OR status = $1) \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows: Vec<PostRow> = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    let total: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts WHERE ($1 IS NULL OR status = $1)"
    )
    .bind(status)
    .fetch_one(pool)
    .await?);
    let posts = rows
        .into_iter()
        .map(Post::try_from)
        .collect::<Result<_, _>>()?;
    Ok((posts, total))
}

/// Fields a person may change on a post that has not started publishing.
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub caption_original: Option<String>,
    pub original_language: Option<String>,
    pub target_groups: Option<Vec<GroupId>>,
    /// `Some(None)` clears the schedule.
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
    pub priority: Option<JobPriority>,
    /// Replaces every option at once (the caller merged the change).
    pub options: Option<PostOptions>,
    /// Replaces the stored media (a new cover frame).
    pub media: Option<Vec<PostMedia>>,
}

pub async fn update(db: &Db, id: PostId, changes: PostChanges) -> Result<Post, StoreError> {
    let sql = format!(
        "UPDATE posts SET caption_original = COALESCE($2, caption_original), \
         original_language = COALESCE($3, original_language), \
         target_groups = COALESCE($4, target_groups), \
         scheduled_at = CASE WHEN $5 THEN $6 ELSE scheduled_at END, \
         priority = COALESCE($7, priority), updated_at = $8, \
         options = COALESCE($9, options), media_paths = COALESCE($10, media_paths) \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let set_schedule = changes.scheduled_at.is_some();
    let row: PostRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .bind(changes.caption_original.as_deref())
        .bind(changes.original_language.as_deref())
        .bind(changes.target_groups.as_ref().map(Json))
        .bind(set_schedule)
        .bind(changes.scheduled_at.flatten())
        .bind(changes.priority.map(JobPriority::as_str))
        .bind(Utc::now())
        .bind(changes.options.as_ref().map(Json))
        .bind(changes.media.as_ref().map(Json))
        .fetch_one(pool)
        .await?);
    row.try_into()
}

/// A deleted post, and how many of its publishes stay in the accounts' posting history.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub post: Post,
    pub publishes_kept: i64,
}

/// Deletes the post (its translations and executions go with it) and returns it, so the
/// caller can remove its media files. Its publishes stay in the accounts' posting history
/// (pacing still counts them); its spacing mark goes.
pub async fn delete(db: &Db, id: PostId) -> Result<Deleted, StoreError> {
    let post = get(db, id).await?;
    let publishes_kept = on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM account_publishes WHERE post_id = $1")
                .bind(DbUuid::from(id))
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM posts WHERE id = $1")
            .bind(DbUuid::from(id))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM pacing_marks WHERE scope = $1")
            .bind(format!("post:{id}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        kept
    });
    Ok(Deleted {
        post,
        publishes_kept,
    })
}

/// The ids among `groups` that do not exist.
pub async fn missing_groups(db: &Db, groups: &[GroupId]) -> Result<Vec<GroupId>, StoreError> {
    let mut missing = Vec::new();
    for &g in groups {
        let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM groups WHERE id = $1"
        )
        .bind(DbUuid::from(g))
        .fetch_one(pool)
        .await?);
        if n == 0 {
            missing.push(g);
        }
    }
    Ok(missing)
}

/// Marks the post as queued for publishing, in the transaction that creates its executions.
pub async fn mark_pending(
    tx: &mut crate::tx::Tx,
    id: PostId,
    priority: JobPriority,
    scheduled_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    crate::on_tx!(tx, |conn| {
        sqlx::query(
        "UPDATE posts SET status = 'pending', priority = $2, scheduled_at = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(priority.as_str())
    .bind(scheduled_at)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|_| ())?
    });
    Ok(())
}

/// What publishing found once for the whole post (Instagram's venue for its location, the
/// ids of the people it tags), shared by every account's execution; `None` before.
pub async fn resolved(db: &Db, id: PostId) -> Result<Option<serde_json::Value>, StoreError> {
    let v: Option<Option<Json<serde_json::Value>>> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT resolved FROM posts WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_optional(pool)
    .await?);
    Ok(v.flatten().map(|j| j.0))
}

/// Keeps what publishing found for the post (see [`resolved`]). Two accounts that resolve
/// at the same moment write the same thing; the later one wins.
pub async fn set_resolved(
    db: &Db,
    id: PostId,
    resolved: &serde_json::Value,
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE posts SET resolved = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Json(resolved))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
