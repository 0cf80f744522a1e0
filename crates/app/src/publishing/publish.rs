//! Publishing a post: the plan, every language's final caption, then in one transaction
//! one execution (with its caption and time) and one `post_to_instagram` job per account,
//! and the post marked pending. Publishing again creates nothing twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use icf_core::enums::{JobPriority, PostStatus};
use icf_core::ids::PostId;
use icf_core::post::{Post, PostTexts};
use icf_core::review::{PublishRight, ReviewDecision};
use icf_store::executions::PlannedExecution;
use icf_store::reviews::NewReview;
use serde::Deserialize;

use super::approval::review_activity;
use super::captions::final_captions;
use super::plan::{Computed, PlanResponse, compute, response};
use crate::translations::variants::{account_texts, is_spun};
use crate::{Actor, App, AppError, AppResult};

/// When and how urgently to publish, as a client asks for it.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// `now` (default) or an RFC 3339 time.
    #[cfg_attr(feature = "openapi", schema(example = "now"))]
    pub when: Option<String>,
    /// `high` or `normal` (default).
    pub priority: Option<JobPriority>,
}

/// When and how urgently to publish, checked.
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    /// `None`: the post's schedule, else now.
    pub start: Option<DateTime<Utc>>,
    pub priority: JobPriority,
}

impl PublishRequest {
    /// Low priority is refused (it is what retries get), then the time is read.
    pub fn options(&self) -> AppResult<PublishOptions> {
        if self.priority == Some(JobPriority::Low) {
            return Err(AppError::validation(
                "priority",
                "must be high or normal (low is for retries)",
            ));
        }
        Ok(PublishOptions {
            start: parse_when(self.when.as_deref())?,
            priority: self.priority.unwrap_or(JobPriority::Normal),
        })
    }
}

fn parse_when(raw: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    match raw.map(str::trim) {
        None | Some("") | Some("now") => Ok(None),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                AppError::validation(
                    "when",
                    "must be \"now\" or an RFC 3339 time, like 2026-12-01T09:30:00Z",
                )
            }),
    }
}

/// Publishes the post to every account of its groups that can post, at `options.start`:
/// captions are ensured for every language and checked against Instagram's caption rules
/// (nothing is queued otherwise), then one execution per account (with its final caption)
/// and its job are written in one transaction. Also re-plans an edited pending post.
/// Who asks is not checked here: people go through [`publish_as`].
pub async fn publish(app: &App, id: PostId, options: PublishOptions) -> AppResult<PlanResponse> {
    publish_with(app, id, options, None).await
}

/// Publishes the post for `actor`, where approvals may stand between them: an editor is
/// told to submit it for review instead (`ICF_REQUIRE_APPROVAL`), and an admin publishing
/// a post that waits for review approves it by doing so (recorded in its history).
pub async fn publish_as(
    app: &App,
    actor: &Actor,
    id: PostId,
    options: PublishOptions,
) -> AppResult<PlanResponse> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    match app.approval.publish_right(actor.role, post.status) {
        PublishRight::NeedsApproval => Err(AppError::Refused(
            "an admin approves posts before they go out: submit this one for review \
             (POST /api/posts/{id}/submit)"
                .into(),
        )),
        PublishRight::Publish => publish_with(app, id, options, None).await,
        PublishRight::PublishApproving => {
            let approval = NewReview {
                decision: ReviewDecision::Approved,
                user_id: actor.id,
                username: actor.username.clone(),
                comment: None,
                requested_at: None,
                priority: None,
            };
            publish_with(app, id, options, Some(approval)).await
        }
    }
}

/// [`publish`], recording `approval` (and its activity-log line) in the transaction that
/// queues the post, so an approved post is never left unpublished nor published unapproved.
pub(crate) async fn publish_with(
    app: &App,
    id: PostId,
    options: PublishOptions,
    approval: Option<NewReview>,
) -> AppResult<PlanResponse> {
    let PublishOptions {
        start: when,
        priority,
    } = options;
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    let start = when.or(post.scheduled_at).unwrap_or_else(Utc::now);
    let (computed, captions) = prepare(app, &post, start).await?;
    // A caption with alternatives: each account its own variant, in its language.
    let own = if is_spun(&post) {
        let accounts: Vec<_> = computed
            .items
            .iter()
            .map(|(c, _, _)| (c.id, c.language.clone()))
            .collect();
        Some(account_texts(app, &post, &accounts, &captions).await?)
    } else {
        None
    };

    let rows: Vec<PlannedExecution> = computed
        .items
        .iter()
        .enumerate()
        .map(|(i, (c, eta, _))| {
            let texts = match &own {
                Some(own) => own.get(i).cloned().unwrap_or_default(),
                None => captions.get(&c.language).cloned().unwrap_or_default(),
            };
            PlannedExecution {
                account_id: c.id,
                language: c.language.clone(),
                caption: texts.caption,
                first_comment: texts.first_comment,
                alt_text: texts.alt_text,
                planned_at: *eta,
            }
        })
        .collect();
    let mut tx = app.db.begin().await?;
    let created = icf_store::executions::create_with_jobs(&mut tx, id, priority, &rows).await?;
    let scheduled = when.filter(|t| *t > Utc::now()).or(post.scheduled_at);
    icf_store::posts::mark_pending(&mut tx, id, priority, scheduled).await?;
    if let Some(approval) = &approval {
        icf_store::reviews::insert(&mut tx, id, approval, Utc::now()).await?;
        icf_store::activity::record_in(&mut tx, review_activity(id, approval, Some(created)))
            .await?;
    }
    tx.commit().await?;
    tracing::info!(post = %id, created, excluded = computed.excluded.len(), "post queued for publishing");
    Ok(response(id, PostStatus::Pending, computed, created))
}

/// What publishing needs before anything is written, and the checks that refuse it: target
/// groups, something to publish, the plan from `start`, and every planned language's final
/// texts (translated if need be, checked against Instagram's caption rules). A submission
/// for review runs the same checks, so an editor learns of a missing caption at once.
pub(crate) async fn prepare(
    app: &App,
    post: &Post,
    start: DateTime<Utc>,
) -> AppResult<(Computed, HashMap<String, PostTexts>)> {
    if post.target_groups.is_empty() {
        return Err(AppError::validation(
            "target_groups",
            "the post has no target groups",
        ));
    }
    if post.caption_original.trim().is_empty() && post.media.is_empty() {
        return Err(AppError::validation(
            "media",
            "the post has nothing to publish",
        ));
    }
    let computed = compute(app, post.id, &post.target_groups, start).await?;
    // Every language must have a caption before anything is queued.
    let mut languages: Vec<String> = computed
        .items
        .iter()
        .map(|(c, _, _)| c.language.clone())
        .collect();
    languages.sort();
    languages.dedup();
    let captions = final_captions(app, post, &languages).await?;
    Ok((computed, captions))
}
