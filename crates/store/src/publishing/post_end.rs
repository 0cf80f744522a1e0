//! A post's end, when its last execution ends.

use chrono::Utc;
use icf_core::ids::PostId;

use crate::conn::Conn;
use crate::{DbUuid, StoreError, on_conn};

/// The statement of `publishing::finish_post_if_done`, with `$post` and `$now` for its placeholders
/// (the success record runs it inside its SQLite script).
pub(crate) fn finish_post_sql(post: &str, now: &str) -> String {
    // One statement, so a post ends once and every execution's end costs one round trip:
    // it changes nothing while an execution is open; of two executions ending together,
    // the one whose statement runs after both ends were written ends the post.
    format!(
        "UPDATE posts SET \
           status = CASE WHEN EXISTS (SELECT 1 FROM post_executions \
             WHERE post_id = {post} AND status = 'success') THEN 'completed' ELSE 'failed' END, \
           posted_at = (SELECT MAX(posted_at) FROM post_executions WHERE post_id = {post}), \
           updated_at = {now} \
         WHERE id = {post} AND status IN ('pending', 'posting') \
           AND NOT EXISTS (SELECT 1 FROM post_executions \
             WHERE post_id = {post} AND status IN ('queued', 'posting')) \
         RETURNING status"
    )
}

/// Only the call that ended the post says so (alerts go out once).
pub(crate) fn post_end(status: Option<&str>) -> Option<&'static str> {
    match status {
        Some("completed") => Some("completed"),
        Some(_) => Some("failed"),
        None => None,
    }
}

pub(crate) async fn finish_post_on(
    conn: &mut Conn,
    post: PostId,
) -> Result<Option<&'static str>, StoreError> {
    let sql = finish_post_sql("$1", "$2");
    let ended: Option<String> = on_conn!(conn, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(DbUuid::from(post))
    .bind(Utc::now())
    .fetch_optional(c)
    .await?);
    Ok(post_end(ended.as_deref()))
}
