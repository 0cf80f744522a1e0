//! Approvals (issue `[workflow]`): an editor submits a post for review, an admin approves
//! it (it is published or scheduled as it was submitted) or rejects it with a comment. The
//! rules are `icf_core::review`; each step moves the post's status, adds to its history and
//! writes an activity-log line in one transaction.

use chrono::Utc;
use icf_core::enums::{JobPriority, PostStatus};
use icf_core::ids::PostId;
use icf_core::post::Post;
use icf_core::review::{self, PostReview, ReviewDecision, ReviewRefusal};
use icf_store::reviews::NewReview;
use serde::Serialize;

use crate::publishing::approval::review_activity;
use crate::publishing::plan::PlanResponse;
use crate::publishing::publish::{PublishOptions, prepare, publish_with};
use crate::{Actor, App, AppError, AppResult};

/// A post's review: where it stands and every step so far, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewState {
    pub post_id: PostId,
    pub status: PostStatus,
    /// Whether this icf asks for approvals (`ICF_REQUIRE_APPROVAL`).
    pub approval_required: bool,
    pub history: Vec<PostReview>,
    /// After an approval: the plan the post went out with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanResponse>,
}

fn refused(e: ReviewRefusal) -> AppError {
    AppError::conflict(None, e.to_string())
}

fn step(actor: &Actor, decision: ReviewDecision) -> NewReview {
    NewReview {
        decision,
        user_id: actor.id,
        username: actor.username.clone(),
        comment: None,
        requested_at: None,
        priority: None,
    }
}

async fn get(app: &App, id: PostId) -> AppResult<Post> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))
}

/// Moves the post and records the step with its log line, in one transaction; a conflict
/// when someone else moved the post first.
async fn record(
    app: &App,
    id: PostId,
    from: &[PostStatus],
    to: PostStatus,
    review: &NewReview,
) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    if !icf_store::reviews::record(&mut tx, id, from, to, review).await? {
        return Err(AppError::conflict(
            None,
            "the post changed meanwhile: reload it and try again",
        ));
    }
    icf_store::activity::record_in(&mut tx, review_activity(id, review, None)).await?;
    tx.commit().await?;
    Ok(())
}

/// Where the post stands in review.
pub async fn state(app: &App, id: PostId) -> AppResult<ReviewState> {
    let post = get(app, id).await?;
    Ok(ReviewState {
        post_id: id,
        status: post.status,
        approval_required: app.approval.required,
        history: icf_store::reviews::history(&app.db, id).await?,
        plan: None,
    })
}

/// Hands a draft or a rejected post to the admins, with when it should go out. It is
/// checked as a publish would be first (target groups, media, a caption in every language
/// within Instagram's rules), so the admin gets a post that can go out.
pub async fn submit(
    app: &App,
    actor: &Actor,
    id: PostId,
    options: PublishOptions,
) -> AppResult<ReviewState> {
    let post = get(app, id).await?;
    app.approval.may_submit(post.status).map_err(refused)?;
    if let Some(t) = options.start
        && t <= Utc::now()
    {
        return Err(AppError::validation(
            "when",
            "must be in the future (or \"now\": as soon as it is approved)",
        ));
    }
    prepare(app, &post, options.start.unwrap_or_else(Utc::now)).await?;
    let review = NewReview {
        requested_at: options.start,
        priority: Some(options.priority),
        ..step(actor, ReviewDecision::Submitted)
    };
    record(
        app,
        id,
        &[PostStatus::Draft, PostStatus::Rejected],
        PostStatus::InReview,
        &review,
    )
    .await?;
    state(app, id).await
}

/// What the post's latest submission asked for: when (a time already past means now) and
/// how urgently. A post that was never submitted (an admin published it, then an editor
/// edited it) asks for its own schedule and priority.
fn requested(post: &Post, history: &[PostReview]) -> PublishOptions {
    let now = Utc::now();
    let asked = history.iter().rev().find(|r| {
        matches!(
            r.decision,
            ReviewDecision::Submitted | ReviewDecision::Returned
        )
    });
    let (start, priority) = match asked {
        Some(r) => (r.requested_at, r.priority.unwrap_or(post.priority)),
        None => (post.scheduled_at, post.priority),
    };
    PublishOptions {
        start: start.filter(|t| *t > now),
        priority: if priority == JobPriority::Low {
            JobPriority::Normal
        } else {
            priority
        },
    }
}

/// An admin approves a post waiting for review: it is published now or scheduled, as it
/// was submitted, with the approval recorded in the same transaction. If it cannot go out
/// (a language lost its caption since), it stays in review and the error says why.
pub async fn approve(app: &App, actor: &Actor, id: PostId) -> AppResult<ReviewState> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden);
    }
    let post = get(app, id).await?;
    review::may_decide(post.status).map_err(refused)?;
    let history = icf_store::reviews::history(&app.db, id).await?;
    let options = requested(&post, &history);
    let approval = NewReview {
        requested_at: options.start,
        priority: Some(options.priority),
        ..step(actor, ReviewDecision::Approved)
    };
    let plan: PlanResponse = publish_with(app, id, options, Some(approval)).await?;
    let mut state = state(app, id).await?;
    state.plan = Some(plan);
    Ok(state)
}

/// An admin sends a post waiting for review back to its editor, saying why.
pub async fn reject(
    app: &App,
    actor: &Actor,
    id: PostId,
    comment: Option<&str>,
) -> AppResult<ReviewState> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden);
    }
    let comment = review::check_comment(comment)?;
    let post = get(app, id).await?;
    review::may_decide(post.status).map_err(refused)?;
    let review = NewReview {
        comment: Some(comment),
        ..step(actor, ReviewDecision::Rejected)
    };
    record(
        app,
        id,
        &[PostStatus::InReview],
        PostStatus::Rejected,
        &review,
    )
    .await?;
    state(app, id).await
}

/// After an editor's edit of an approved (and since withdrawn, now a draft) or rejected
/// post: back to review, asking for what was asked before.
pub(crate) async fn return_to_review(app: &App, actor: &Actor, post: &Post) -> AppResult<()> {
    let history = icf_store::reviews::history(&app.db, post.id).await?;
    let asked = requested(post, &history);
    let review = NewReview {
        requested_at: asked.start,
        priority: Some(asked.priority),
        ..step(actor, ReviewDecision::Returned)
    };
    record(
        app,
        post.id,
        &[PostStatus::Draft, PostStatus::Rejected],
        PostStatus::InReview,
        &review,
    )
    .await
}
