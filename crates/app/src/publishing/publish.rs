//! Publishing a post: the plan, every language's final caption, then in one transaction
//! one execution (with its caption and time) and one `post_to_instagram` job per account,
//! and the post marked pending. Publishing again creates nothing twice.

use chrono::{DateTime, Utc};
use icf_core::enums::{JobPriority, PostStatus};
use icf_core::ids::PostId;
use icf_store::executions::PlannedExecution;
use serde::Deserialize;

use super::captions::final_captions;
use super::plan::{PlanResponse, compute, response};
use crate::translations::variants::{account_texts, is_spun};
use crate::{App, AppError, AppResult};

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
pub async fn publish(app: &App, id: PostId, options: PublishOptions) -> AppResult<PlanResponse> {
    let PublishOptions {
        start: when,
        priority,
    } = options;
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    if post.target_groups.is_empty() {
        return Err(AppError::validation(
            "target_groups",
            "the post has no target groups",
        ));
    }
    if post.status == PostStatus::Draft
        && post.caption_original.trim().is_empty()
        && post.media.is_empty()
    {
        return Err(AppError::validation(
            "media",
            "the post has nothing to publish",
        ));
    }
    let start = when.or(post.scheduled_at).unwrap_or_else(Utc::now);
    let computed = compute(app, id, &post.target_groups, start).await?;

    // Every language must have a caption before anything is queued.
    let mut languages: Vec<String> = computed
        .items
        .iter()
        .map(|(c, _, _)| c.language.clone())
        .collect();
    languages.sort();
    languages.dedup();
    let captions = final_captions(app, &post, &languages).await?;
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
    tx.commit().await?;
    tracing::info!(post = %id, created, excluded = computed.excluded.len(), "post queued for publishing");
    Ok(response(id, PostStatus::Pending, computed, created))
}
