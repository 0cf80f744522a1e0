//! Approvals (issue `[workflow]`): where `ICF_REQUIRE_APPROVAL` is on, an editor's post goes
//! out only once an admin approves it. The rules are here, free of storage and HTTP, so the
//! API, the web UI and the bulk import all decide alike.
//!
//! The life of a reviewed post: `draft` → (editor submits) `in_review` → (admin approves)
//! `pending`, published or scheduled as it was submitted; or (admin rejects, with a comment)
//! `rejected` → (editor edits or submits again) `in_review`. An editor's edit of an approved
//! post that has not started going out sends it back to `in_review`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::FieldError;
use crate::enums::{JobPriority, PostStatus, Role};
use crate::ids::UserId;

/// The longest rejection comment kept.
pub const MAX_COMMENT_CHARS: usize = 2000;

crate::enums::text_enum!(
    /// One step of a post's review. `returned`: an editor's edit sent an approved or
    /// rejected post back to review (the edit is the new submission).
    ReviewDecision {
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Returned = "returned",
    }
);

/// One decision about a post, as its history shows it: who, when, and what was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostReview {
    pub decision: ReviewDecision,
    /// `None` once the user was deleted; `username` stays.
    pub user_id: Option<UserId>,
    pub username: String,
    /// The admin's reason for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// For a submission: when the editor wants it out (`None`: as soon as approved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
    /// For a submission: the priority asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<JobPriority>,
    pub created_at: DateTime<Utc>,
}

/// Whether posts need an admin's approval before they go out (`ICF_REQUIRE_APPROVAL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApprovalPolicy {
    pub required: bool,
}

/// What asking to publish a post amounts to for this person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishRight {
    /// Publish (or schedule) it.
    Publish,
    /// An admin publishing a post that waits for review (or was rejected): it goes out,
    /// and the history records the admin's approval.
    PublishApproving,
    /// An editor where approval is required: submit it instead.
    NeedsApproval,
}

/// Why a review step cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("approvals are off (ICF_REQUIRE_APPROVAL): publish the post directly")]
    ApprovalsOff,
    #[error("the post is already waiting for review")]
    AlreadyInReview,
    #[error("only a post waiting for review can be approved or rejected; this one is {0}")]
    NotInReview(PostStatus),
    #[error("a {0} post cannot be submitted for review; only drafts and rejected posts can")]
    NotSubmittable(PostStatus),
}

impl ApprovalPolicy {
    pub fn publish_right(self, role: Role, status: PostStatus) -> PublishRight {
        let waiting = matches!(status, PostStatus::InReview | PostStatus::Rejected);
        match role {
            Role::Editor if self.required => PublishRight::NeedsApproval,
            Role::Admin if waiting => PublishRight::PublishApproving,
            _ => PublishRight::Publish,
        }
    }

    /// An editor (or admin) hands a draft or a rejected post to the admins.
    pub fn may_submit(self, status: PostStatus) -> Result<(), ReviewRefusal> {
        if !self.required {
            return Err(ReviewRefusal::ApprovalsOff);
        }
        match status {
            PostStatus::Draft | PostStatus::Rejected => Ok(()),
            PostStatus::InReview => Err(ReviewRefusal::AlreadyInReview),
            other => Err(ReviewRefusal::NotSubmittable(other)),
        }
    }

    /// Whether an edit by `role` of a post in `status` sends it (back) to review. Only an
    /// editor's edit does, and only of a post an admin has decided on: approved and not
    /// yet going out (`pending`), or rejected. An admin's own edits need no second look.
    pub fn edit_returns_to_review(self, role: Role, status: PostStatus) -> bool {
        self.required
            && role == Role::Editor
            && matches!(status, PostStatus::Pending | PostStatus::Rejected)
    }
}

/// Approving and rejecting are for posts waiting for review. (Decisions on posts already
/// waiting are allowed even once approvals are switched off, so nothing is stranded.)
pub fn may_decide(status: PostStatus) -> Result<(), ReviewRefusal> {
    match status {
        PostStatus::InReview => Ok(()),
        other => Err(ReviewRefusal::NotInReview(other)),
    }
}

/// A rejection's comment: required, so the editor knows what to change.
pub fn check_comment(raw: Option<&str>) -> Result<String, FieldError> {
    let comment = raw.map(str::trim).unwrap_or_default();
    if comment.is_empty() {
        return Err(FieldError::new(
            "comment",
            "say what should change: the editor sees this comment",
        ));
    }
    let n = comment.chars().count();
    if n > MAX_COMMENT_CHARS {
        return Err(FieldError::new(
            "comment",
            format!("{n} characters; at most {MAX_COMMENT_CHARS}"),
        ));
    }
    Ok(comment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PostStatus::*;

    const ON: ApprovalPolicy = ApprovalPolicy { required: true };
    const OFF: ApprovalPolicy = ApprovalPolicy { required: false };

    #[test]
    fn editors_submit_where_approval_is_required() {
        assert_eq!(
            ON.publish_right(Role::Editor, Draft),
            PublishRight::NeedsApproval
        );
        assert_eq!(
            ON.publish_right(Role::Editor, Pending),
            PublishRight::NeedsApproval
        );
        assert_eq!(
            OFF.publish_right(Role::Editor, Draft),
            PublishRight::Publish
        );
        assert_eq!(ON.publish_right(Role::Admin, Draft), PublishRight::Publish);
        assert_eq!(
            ON.publish_right(Role::Admin, InReview),
            PublishRight::PublishApproving
        );
        // Switched off with a post still waiting: an admin's publish still records approval.
        assert_eq!(
            OFF.publish_right(Role::Admin, Rejected),
            PublishRight::PublishApproving
        );
    }

    #[test]
    fn only_drafts_and_rejected_posts_are_submitted() {
        assert_eq!(ON.may_submit(Draft), Ok(()));
        assert_eq!(ON.may_submit(Rejected), Ok(()));
        assert_eq!(ON.may_submit(InReview), Err(ReviewRefusal::AlreadyInReview));
        assert_eq!(
            ON.may_submit(Pending),
            Err(ReviewRefusal::NotSubmittable(Pending))
        );
        assert_eq!(OFF.may_submit(Draft), Err(ReviewRefusal::ApprovalsOff));
        assert_eq!(may_decide(InReview), Ok(()));
        assert_eq!(may_decide(Draft), Err(ReviewRefusal::NotInReview(Draft)));
        assert_eq!(
            may_decide(Completed),
            Err(ReviewRefusal::NotInReview(Completed))
        );
    }

    #[test]
    fn an_editors_edit_of_a_decided_post_goes_back_to_review() {
        assert!(ON.edit_returns_to_review(Role::Editor, Pending));
        assert!(ON.edit_returns_to_review(Role::Editor, Rejected));
        assert!(!ON.edit_returns_to_review(Role::Editor, Draft));
        assert!(!ON.edit_returns_to_review(Role::Editor, InReview));
        assert!(!ON.edit_returns_to_review(Role::Admin, Pending));
        assert!(!OFF.edit_returns_to_review(Role::Editor, Pending));
    }

    #[test]
    fn a_rejection_says_why() {
        assert_eq!(check_comment(None).unwrap_err().field, "comment");
        assert_eq!(check_comment(Some("  ")).unwrap_err().field, "comment");
        assert_eq!(
            check_comment(Some(" Fix the price ")).unwrap(),
            "Fix the price"
        );
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(
            check_comment(Some(&long))
                .unwrap_err()
                .message
                .contains("2001")
        );
    }
}
