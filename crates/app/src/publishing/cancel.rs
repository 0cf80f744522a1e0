//! Stopping a post: its queued executions are cancelled; those already posting finish.

use icf_core::ids::PostId;
use serde::Serialize;

use crate::{App, AppError, AppResult};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cancelled {
    pub cancelled: usize,
}

/// Cancels the post's queued executions (and their jobs).
pub async fn cancel(app: &App, id: PostId) -> AppResult<Cancelled> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    let cancelled = icf_store::executions::cancel_queued(&app.db, id).await?;
    Ok(Cancelled { cancelled })
}
