//! The activity-log line of a review step (issue `[workflow]`), shared by the review use
//! cases and the publish that records an approval in its own transaction.

use icf_core::activity::NewActivity;
use icf_core::enums::ActivityStatus;
use icf_core::ids::PostId;
use icf_store::reviews::NewReview;

/// The activity-log line of a review step: who, which post, and what was asked or said.
pub(crate) fn review_activity(
    post: PostId,
    review: &NewReview,
    executions: Option<usize>,
) -> NewActivity {
    let mut details = serde_json::json!({
        "post_id": post,
        "user_id": review.user_id,
        "username": review.username,
    });
    if let Some(c) = &review.comment {
        details["comment"] = c.clone().into();
    }
    if let Some(t) = review.requested_at {
        details["requested_at"] = t.to_rfc3339().into();
    }
    if let Some(n) = executions {
        details["executions"] = n.into();
    }
    NewActivity {
        account_id: None,
        action: format!("post_{}", review.decision.as_str()),
        status: ActivityStatus::Success,
        details,
        error_message: None,
        duration_ms: 0,
    }
}
