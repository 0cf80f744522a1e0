//! Trying a post's failed accounts again.

use chrono::Utc;
use icf_core::ids::PostId;
use serde::Serialize;

use crate::{App, AppError, AppResult};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retried {
    pub retried: usize,
}

/// Puts the post's failed executions back in the queue, spaced by the anti-ban minimum
/// so they do not all go out at once; accounts that published already are untouched.
pub async fn retry_failed(app: &App, id: PostId) -> AppResult<Retried> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    let retried = icf_store::executions::retry_failed(
        &app.db,
        id,
        post.priority,
        Utc::now(),
        app.pacing.min_spacing,
    )
    .await?;
    Ok(Retried { retried })
}
