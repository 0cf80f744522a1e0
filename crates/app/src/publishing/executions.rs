//! Where a post stands on every account: its executions, and their totals by state. The
//! one definition of those totals, for the API's executions view and the UI's list and
//! post page alike.

use icf_core::ids::PostId;
use icf_store::executions::ExecutionView;
use serde::Serialize;

use icf_core::execution::ExecutionTotals;
use icf_core::variants::closest_pair;

use crate::{App, AppError, AppResult};

/// Every account's execution of the post, and the totals.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Executions {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<ExecutionView>,
    pub totals: ExecutionTotals,
    /// With accounts' own copies of the media: the smallest perceptual distance (bits of
    /// 64) between the copies of one media item given to two different accounts. `null`
    /// with fewer than two accounts' copies.
    pub closest_pair: Option<u32>,
}

/// The post's executions (404 when the post does not exist).
pub async fn list(app: &App, id: PostId) -> AppResult<Executions> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    current(app, id).await
}

/// The post's executions as they are; none for a post that does not exist (the UI's live
/// view keeps polling a post deleted meanwhile).
pub async fn current(app: &App, id: PostId) -> AppResult<Executions> {
    let items = icf_store::executions::list(&app.db, id).await?;
    let copies: Vec<&[_]> = items
        .iter()
        .filter(|e| !e.variants.is_empty())
        .map(|e| e.variants.as_slice())
        .collect();
    Ok(Executions {
        totals: ExecutionTotals::count(items.iter().map(|e| e.status)),
        closest_pair: closest_pair(&copies),
        items,
    })
}

/// The totals alone, counted by the database: for lists of many posts.
pub async fn totals(app: &App, id: PostId) -> AppResult<ExecutionTotals> {
    Ok(icf_store::executions::totals(&app.db, id).await?)
}
