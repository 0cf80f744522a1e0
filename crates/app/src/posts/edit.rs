//! Editing a draft or pending post. A pending post is re-planned: its queued accounts are
//! taken back (only while none has started) and planned again with the new caption,
//! groups and time.

use chrono::{DateTime, Utc};
use icf_core::enums::{JobPriority, MediaVariants, PostStatus};
use icf_core::ids::{GroupId, PostId};
use icf_core::post::{Post, check_caption};
use icf_core::post_options::{PlaceInput, PostOptions, PostShape, UserTagInput};
use icf_store::posts::PostChanges;
use serde::Deserialize;

use super::fields::{check_language, groups_exist};
use super::media::{media_error_named, new_cover_frame_media};
use super::review::return_to_review;
use crate::publishing::publish::{PublishOptions, publish};
use crate::translations::refresh::refresh;
use crate::{Actor, App, AppError, AppResult};

/// Fields to change on a draft or pending post; `scheduled_at: null` clears the schedule.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePost {
    pub caption: Option<String>,
    pub original_language: Option<String>,
    pub target_groups: Option<Vec<GroupId>>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
    pub priority: Option<JobPriority>,
    /// `null` removes the first comment.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub first_comment: Option<Option<String>>,
    pub pin_first_comment: Option<bool>,
    /// One per media item in order (empty strings for none); `[]` removes them.
    pub alt_text: Option<Vec<String>>,
    /// `null` removes the location.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PlaceInput>))]
    pub location: Option<Option<PlaceInput>>,
    pub usertags: Option<Vec<UserTagInput>>,
    pub collaborators: Option<Vec<String>>,
    pub disable_comments: Option<bool>,
    pub hide_like_counts: Option<bool>,
    pub share_to_feed: Option<bool>,
    /// A new cover frame (ms into the video); `null` goes back to the default frame.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>))]
    pub cover_offset_ms: Option<Option<u64>>,
    /// Each account's own copy of the media: `off`, `light` or `strong`; `null` follows
    /// each account's group.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<MediaVariants>))]
    pub media_variants: Option<Option<MediaVariants>>,
}

impl UpdatePost {
    /// The post's options with this edit's changes, or `None` when it changes none.
    fn changed_options(&self, current: &PostOptions) -> Option<PostOptions> {
        let mut o = current.clone();
        let mut any = false;
        macro_rules! take {
            ($field:ident) => {
                if let Some(v) = &self.$field {
                    o.$field = v.clone();
                    any = true;
                }
            };
        }
        take!(first_comment);
        take!(pin_first_comment);
        take!(alt_text);
        take!(location);
        take!(usertags);
        take!(collaborators);
        take!(disable_comments);
        take!(hide_like_counts);
        take!(share_to_feed);
        take!(cover_offset_ms);
        take!(media_variants);
        any.then(|| o.normalized())
    }
}

/// Tells an absent field (leave it) from an explicit `null` (clear it).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Edits the post. Refused once it is neither a draft, in review, rejected nor pending,
/// and for a pending post once any account has started publishing it; a new plan that
/// cannot be made (a language without a caption) leaves the edited post a draft and says
/// why. Where approvals are required, an editor's edit of an approved or rejected post
/// sends it back to review instead of re-planning it.
pub async fn update(app: &App, actor: &Actor, id: PostId, req: UpdatePost) -> AppResult<Post> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    if !matches!(
        post.status,
        PostStatus::Draft | PostStatus::InReview | PostStatus::Rejected | PostStatus::Pending
    ) {
        return Err(AppError::conflict(
            None,
            format!("a {} post cannot be edited", post.status),
        ));
    }
    let original_language = req
        .original_language
        .as_deref()
        .map(|l| check_language("original_language", l))
        .transpose()?;
    if let Some(c) = &req.caption {
        let language = original_language
            .as_deref()
            .unwrap_or(&post.original_language);
        check_caption("caption", language, c, &app.caption_rules)?;
    }
    if let Some(groups) = &req.target_groups {
        groups_exist(app, groups).await?;
    }
    let options = req.changed_options(&post.options);
    if let Some(o) = &options {
        let language = original_language
            .as_deref()
            .unwrap_or(&post.original_language);
        o.check(shape_of(&post), language, &app.caption_rules)?;
    }
    let texts_changed = options.as_ref().is_some_and(|o| {
        o.first_comment != post.options.first_comment || o.alt_text != post.options.alt_text
    });
    let media = match &options {
        Some(o) if o.cover_offset_ms != post.options.cover_offset_ms => {
            Some(new_cover_frame(app, &post, o.cover_offset_ms).await?)
        }
        _ => None,
    };
    let back_to_review = app.approval.edit_returns_to_review(actor.role, post.status);
    let replan = post.status == PostStatus::Pending;
    if replan && !icf_store::executions::withdraw_plan(&app.db, id).await? {
        return Err(AppError::conflict(
            None,
            "the post is already going out to some accounts: cancel its queued \
             accounts (POST /api/posts/{id}/cancel) and publish a new post instead",
        ));
    }
    let caption_changed = req
        .caption
        .as_ref()
        .is_some_and(|c| *c != post.caption_original);
    let language_changed = original_language
        .as_ref()
        .is_some_and(|l| *l != post.original_language);
    let post = icf_store::posts::update(
        &app.db,
        id,
        PostChanges {
            caption_original: req.caption,
            original_language,
            target_groups: req.target_groups,
            scheduled_at: req.scheduled_at,
            priority: req.priority,
            options,
            media,
        },
    )
    .await
    .map_err(AppError::missing("post"))?;
    if caption_changed || language_changed || texts_changed {
        // Old machine translations no longer match; edits are kept and flagged for review.
        icf_store::post_translations::source_changed(&app.db, id).await?;
        if app.translation.is_some() {
            refresh(app, &post, &[], false).await?;
        }
    }
    if back_to_review {
        return_to_review(app, actor, &post).await?;
        return icf_store::posts::get(&app.db, id)
            .await
            .map_err(AppError::missing("post"));
    }
    if !replan {
        return Ok(post);
    }
    // If the new plan cannot be made, the post stays a draft with the edit, and the
    // error says what is missing.
    let options = PublishOptions {
        start: post.scheduled_at.filter(|t| *t > Utc::now()),
        priority: post.priority,
    };
    publish(app, id, options).await?;
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))
}

/// What the options are checked against, from the stored post.
fn shape_of(post: &Post) -> PostShape {
    PostShape {
        media_type: post.media_type,
        media_count: post.media.len(),
        video_duration_s: post.media.first().and_then(|m| m.duration_s),
        has_cover_file: false,
    }
}

/// The post's media with the video's cover taken again at `at_ms` (the default frame when
/// `None`).
async fn new_cover_frame(
    app: &App,
    post: &Post,
    at_ms: Option<u64>,
) -> AppResult<Vec<icf_core::post::PostMedia>> {
    let mut media = post.media.clone();
    let Some(video) = media.first_mut() else {
        return Ok(media);
    };
    new_cover_frame_media(app, video, at_ms)
        .await
        .map_err(|e| media_error_named("cover_offset_ms", e))?;
    Ok(media)
}
