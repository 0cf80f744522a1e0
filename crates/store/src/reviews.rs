//! `post_reviews`: each step of a post's review (issue `[workflow]`), and the post's status
//! moving with it in the same transaction, so the history and the state never disagree.

use chrono::{DateTime, Utc};
use icf_core::enums::{JobPriority, PostStatus};
use icf_core::ids::{PostId, UserId};
use icf_core::review::{PostReview, ReviewDecision};

use crate::tx::Tx;
use crate::{Db, DbUuid, StoreError, on_pool, on_tx};

/// A step to record.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub decision: ReviewDecision,
    pub user_id: UserId,
    pub username: String,
    pub comment: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    pub priority: Option<JobPriority>,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    decision: String,
    user_id: Option<DbUuid>,
    username: String,
    comment: Option<String>,
    requested_at: Option<DateTime<Utc>>,
    priority: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ReviewRow> for PostReview {
    type Error = StoreError;
    fn try_from(r: ReviewRow) -> Result<Self, StoreError> {
        let corrupt = |c: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("post_reviews.{c}: {e}"))
        };
        Ok(PostReview {
            decision: r.decision.parse().map_err(|e| corrupt("decision", &e))?,
            user_id: r.user_id.map(DbUuid::into_id),
            username: r.username,
            comment: r.comment,
            requested_at: r.requested_at,
            priority: r
                .priority
                .map(|p| p.parse())
                .transpose()
                .map_err(|e| corrupt("priority", &e))?,
            created_at: r.created_at,
        })
    }
}

/// Records `review` and moves the post to `to`, but only from one of `from`: `false` (and
/// nothing written) when the post was no longer in one of them — another person decided
/// first. The caller's transaction commits both or neither.
pub async fn record(
    tx: &mut Tx,
    post: PostId,
    from: &[PostStatus],
    to: PostStatus,
    review: &NewReview,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    // The allowed statuses are a closed set of words, not input: safe to inline.
    let allowed = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE posts SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ({allowed})"
    );
    let moved = on_tx!(tx, |conn| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(post))
        .bind(to.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    if moved == 0 {
        return Ok(false);
    }
    insert(tx, post, review, now).await?;
    Ok(true)
}

/// Records `review` without touching the post's status (an approval written in the
/// transaction that publishes the post, which sets the status itself).
pub async fn insert(
    tx: &mut Tx,
    post: PostId,
    review: &NewReview,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO post_reviews (id, post_id, decision, user_id, username, comment, \
         requested_at, priority, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(DbUuid(uuid::Uuid::now_v7()))
    .bind(DbUuid::from(post))
    .bind(review.decision.as_str())
    .bind(DbUuid::from(review.user_id))
    .bind(&review.username)
    .bind(review.comment.as_deref())
    .bind(review.requested_at)
    .bind(review.priority.map(JobPriority::as_str))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The post's review history, oldest first.
pub async fn history(db: &Db, post: PostId) -> Result<Vec<PostReview>, StoreError> {
    let rows: Vec<ReviewRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT decision, user_id, username, comment, requested_at, priority, created_at \
         FROM post_reviews WHERE post_id = $1 ORDER BY created_at, id"
    )
    .bind(DbUuid::from(post))
    .fetch_all(pool)
    .await?);
    rows.into_iter().map(PostReview::try_from).collect()
}

/// How many posts wait for review (the UI's badge).
pub async fn waiting(db: &Db) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts WHERE status = 'in_review'"
    )
    .fetch_one(pool)
    .await?))
}
