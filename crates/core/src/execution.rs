//! What is counted over a post's executions (one post on one account each).

use serde::{Deserialize, Serialize};

use crate::enums::ExecutionStatus;

/// How many of a post's executions are in each state: the one count behind the post list,
/// the post page and `GET /api/posts/{id}/executions` (`icf_store::executions::totals`
/// reads it from the database; [`ExecutionTotals::count`] counts executions already read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionTotals {
    /// Every execution, cancelled ones included.
    pub total: usize,
    pub queued: usize,
    pub posting: usize,
    pub success: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl ExecutionTotals {
    /// Counts the executions whose statuses are given.
    pub fn count(statuses: impl IntoIterator<Item = ExecutionStatus>) -> Self {
        let mut totals = Self::default();
        for status in statuses {
            totals.add(status, 1);
        }
        totals
    }

    /// `n` more executions in `status`.
    pub fn add(&mut self, status: ExecutionStatus, n: usize) {
        self.total += n;
        *self.slot(status) += n;
    }

    /// How many are in `status`.
    pub fn of(&self, status: ExecutionStatus) -> usize {
        match status {
            ExecutionStatus::Queued => self.queued,
            ExecutionStatus::Posting => self.posting,
            ExecutionStatus::Success => self.success,
            ExecutionStatus::Failed => self.failed,
            ExecutionStatus::Cancelled => self.cancelled,
        }
    }

    /// Every execution but the cancelled ones: the work a post was planned to do, as the
    /// post list shows it ("3 of 10").
    pub fn planned(&self) -> usize {
        self.total - self.cancelled
    }

    fn slot(&mut self, status: ExecutionStatus) -> &mut usize {
        match status {
            ExecutionStatus::Queued => &mut self.queued,
            ExecutionStatus::Posting => &mut self.posting,
            ExecutionStatus::Success => &mut self.success,
            ExecutionStatus::Failed => &mut self.failed,
            ExecutionStatus::Cancelled => &mut self.cancelled,
        }
    }
}

impl FromIterator<ExecutionStatus> for ExecutionTotals {
    fn from_iter<I: IntoIterator<Item = ExecutionStatus>>(statuses: I) -> Self {
        Self::count(statuses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_counts_once_in_its_place_and_in_the_total() {
        use ExecutionStatus::*;
        let t = ExecutionTotals::count([Queued, Success, Success, Failed, Cancelled, Posting]);
        assert_eq!(
            t,
            ExecutionTotals {
                total: 6,
                queued: 1,
                posting: 1,
                success: 2,
                failed: 1,
                cancelled: 1,
            }
        );
        assert_eq!(t.planned(), 5);
        for s in ExecutionStatus::ALL {
            assert!(t.of(*s) >= 1);
        }
        assert_eq!(
            serde_json::to_value(t).unwrap(),
            serde_json::json!({"total": 6, "queued": 1, "posting": 1, "success": 2, "failed": 1, "cancelled": 1})
        );
    }
}
