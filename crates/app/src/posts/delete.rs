//! Deleting a post with its media. Its publishes stay in the accounts' posting history,
//! so the pacing rules still count them.

use icf_core::enums::ExecutionStatus;
use icf_core::ids::PostId;
use icf_media::MediaKey;
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// What deleting a post says: its publishes are not forgotten.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletedPost {
    pub id: PostId,
    /// Publishes of this post (successful or unconfirmed) kept in the posting history.
    pub publishes_kept: i64,
    pub message: String,
}

/// Deletes the post, its queued work and its media. Refused while an account is
/// publishing it: that execution's outcome must have a post to land on.
pub async fn delete(app: &App, id: PostId) -> AppResult<DeletedPost> {
    let executions = icf_store::executions::list(&app.db, id).await?;
    if executions
        .iter()
        .any(|e| e.status == ExecutionStatus::Posting)
    {
        return Err(AppError::conflict(
            None,
            "an account is publishing this post right now; cancel the post, wait, then delete it",
        ));
    }
    // Queued work goes first, so no worker picks up an execution that is about to vanish.
    icf_store::executions::cancel_queued(&app.db, id).await?;
    let deleted = icf_store::posts::delete(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    for m in &deleted.post.media {
        for key in std::iter::once(&m.key).chain(m.cover_key.as_ref()) {
            // The post is gone either way; a file left behind is only disk space.
            if let Ok(k) = MediaKey::parse(key)
                && let Err(e) = app.media.delete(&k).await
            {
                tracing::warn!(%key, error = %e, "could not remove a deleted post's media");
            }
        }
    }
    Ok(DeletedPost {
        id,
        publishes_kept: deleted.publishes_kept,
        message: format!(
            "the post is deleted; its {} publish(es) stay in the accounts' posting history, \
             so the 30-minute gap and the daily limits still count them",
            deleted.publishes_kept
        ),
    })
}
