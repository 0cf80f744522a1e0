//! Where a post stands on every account: its executions, and their totals by state. The
//! one definition of those totals, for the API's executions view and the UI's list and
//! post page alike.

use std::collections::HashMap;

use icf_core::enums::ExecutionStatus;
use icf_core::ids::PostId;
use icf_store::executions::ExecutionView;
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// How many of a post's executions are in each state, and in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionTotals {
    pub total: usize,
    pub queued: usize,
    pub posting: usize,
    pub success: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl ExecutionTotals {
    /// Counts `n` executions in `status`.
    fn add(&mut self, status: ExecutionStatus, n: usize) {
        self.total += n;
        let slot = match status {
            ExecutionStatus::Queued => &mut self.queued,
            ExecutionStatus::Posting => &mut self.posting,
            ExecutionStatus::Success => &mut self.success,
            ExecutionStatus::Failed => &mut self.failed,
            ExecutionStatus::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }

    /// The totals of executions already loaded.
    pub fn of(items: &[ExecutionView]) -> Self {
        let mut totals = Self::default();
        for e in items {
            totals.add(e.status, 1);
        }
        totals
    }

    /// The totals from counts by state (as the database groups them).
    pub fn from_counts(counts: &HashMap<ExecutionStatus, i64>) -> Self {
        let mut totals = Self::default();
        for (status, n) in counts {
            totals.add(*status, usize::try_from(*n).unwrap_or(0));
        }
        totals
    }

    /// The executions that still count toward the post: every one but the cancelled.
    pub fn planned(&self) -> usize {
        self.total - self.cancelled
    }
}

/// Every account's execution of the post, and the totals.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Executions {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<ExecutionView>,
    pub totals: ExecutionTotals,
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
    Ok(Executions {
        totals: ExecutionTotals::of(&items),
        items,
    })
}

/// The totals alone, counted by the database: for lists of many posts.
pub async fn totals(app: &App, id: PostId) -> AppResult<ExecutionTotals> {
    let counts = icf_store::executions::status_counts(&app.db, id).await?;
    Ok(ExecutionTotals::from_counts(&counts))
}
