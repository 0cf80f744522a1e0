//! Creating a draft post from an upload: the files are staged as they stream in, the
//! form's fields are checked before any decoding, then each file is converted and stored
//! and the draft written. A refused upload leaves no file and no post behind.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use icf_core::enums::MediaType;
use icf_core::ids::{GroupId, UserId};
use icf_core::post::{ItemKind, Post, PostMedia, check_caption, media_type_for};
use icf_core::post_options::{PostOptions, PostShape};
use icf_media::photo::AspectFit;
use icf_media::storage::{StagedUpload, stage_stream};
use icf_media::video::VideoProduct;
use icf_media::{MediaError, sniff};
use icf_store::posts::NewPost;

use super::fields::{check_language, groups_exist, parse_groups, parse_time, text};
use super::media::{Cleanup, media_error, replace_cover, store_photo, store_video};
use super::options::OptionFields;
use crate::{App, AppError, AppResult};

/// The most files one post holds (a carousel's limit).
pub const MAX_FILES: usize = icf_core::post::MAX_CAROUSEL_ITEMS;

/// The text fields of the upload form, as sent: the form is text, so they are read here,
/// in the order the checks have always gone.
#[derive(Debug, Default)]
pub struct DraftFields {
    pub caption: Option<String>,
    pub original_language: Option<String>,
    /// A JSON array of group ids.
    pub target_groups: Option<String>,
    /// An RFC 3339 time.
    pub scheduled_at: Option<String>,
    /// Only to publish a single video as a `reel`.
    pub media_type: Option<String>,
    /// Photos outside 4:5…1.91:1: `reject` (default), `crop` or `pad`.
    pub fit: Option<String>,
    /// First comment, alt texts, location, tags… (`[post-options]`).
    pub options: OptionFields,
}

impl DraftFields {
    /// Sets the field called `name`; a name the form does not have is refused.
    pub fn set(&mut self, name: &str, value: String) -> AppResult<()> {
        let slot = match name {
            "caption" => &mut self.caption,
            "original_language" => &mut self.original_language,
            "target_groups" => &mut self.target_groups,
            "scheduled_at" => &mut self.scheduled_at,
            "media_type" => &mut self.media_type,
            "fit" => &mut self.fit,
            other => {
                if self.options.set(other, value) {
                    return Ok(());
                }
                return Err(AppError::validation(other, "unknown field"));
            }
        };
        *slot = Some(value);
        Ok(())
    }

    /// Everything that does not need the files, checked before any decoding.
    pub(crate) async fn check(self, app: &App) -> AppResult<Draft> {
        let caption = self.caption.unwrap_or_default();
        let language = text(self.original_language)
            .ok_or_else(|| AppError::validation("original_language", "required"))?;
        let language = check_language("original_language", &language)?;
        check_caption("caption", &language, &caption, &app.caption_rules)?;
        let target_groups = parse_groups(text(self.target_groups).as_deref())?;
        groups_exist(app, &target_groups).await?;
        let scheduled_at = text(self.scheduled_at)
            .map(|s| parse_time("scheduled_at", &s))
            .transpose()?;
        let requested: Option<MediaType> = text(self.media_type)
            .map(|s| {
                s.parse().map_err(|e: icf_core::ParseEnumError| {
                    AppError::validation("media_type", e.to_string())
                })
            })
            .transpose()?;
        let fit = match text(self.fit).as_deref() {
            None | Some("reject") => AspectFit::Reject,
            Some("crop") => AspectFit::Crop,
            Some("pad") => AspectFit::Pad,
            Some(_) => {
                return Err(AppError::validation(
                    "fit",
                    "must be one of: reject, crop, pad",
                ));
            }
        };
        let options = self.options.parse()?;
        Ok(Draft {
            caption,
            language,
            target_groups,
            scheduled_at,
            requested,
            fit,
            options,
        })
    }
}

/// The checked fields.
pub(crate) struct Draft {
    pub(crate) caption: String,
    pub(crate) language: String,
    pub(crate) target_groups: Vec<GroupId>,
    pub(crate) scheduled_at: Option<DateTime<Utc>>,
    pub(crate) requested: Option<MediaType>,
    pub(crate) fit: AspectFit,
    pub(crate) options: PostOptions,
}

/// An upload on its way in: its files staged so far. End it with [`Upload::create`], or
/// [`Upload::discard`] when the request cannot be read to its end.
pub struct Upload<'a> {
    app: &'a App,
    files: Vec<StagedUpload>,
    /// A reel's or video's cover image, when one was sent.
    cover: Option<StagedUpload>,
    cleanup: Cleanup,
}

impl<'a> Upload<'a> {
    pub fn new(app: &'a App) -> Self {
        Self {
            app,
            files: Vec::new(),
            cover: None,
            cleanup: Cleanup::default(),
        }
    }

    /// Streams the cover image (the `cover` part) to the staging directory.
    pub async fn add_cover<S, E>(&mut self, body: S) -> AppResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if self.cover.is_some() {
            return Err(AppError::validation("cover", "send one cover image"));
        }
        let max = self.app.uploads.max_photo_bytes;
        let staged = stage_stream(self.app.media.staging_dir(), body, max)
            .await
            .map_err(|e| match e {
                MediaError::FileTooLarge { limit_mb } => AppError::PayloadTooLarge {
                    field: "cover".into(),
                    message: format!("cover: the image may be at most {limit_mb} MB"),
                },
                other => super::media::media_error_named("cover", other),
            })?;
        self.cleanup.staged.push(staged.path.clone());
        self.cover = Some(staged);
        Ok(())
    }

    /// Streams the next file to the staging directory. The client's file name is never
    /// used: it could say anything, `../../x` included.
    pub async fn add_file<S, E>(&mut self, body: S) -> AppResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if self.files.len() == MAX_FILES {
            return Err(AppError::validation(
                "media",
                format!("a post holds at most {MAX_FILES} files"),
            ));
        }
        let index = self.files.len();
        let max = self.app.uploads.max_file_bytes;
        // One post's files together stay within the same limit as one file (as nginx's
        // request limit does), so ten large files cannot fill the disk.
        let used: u64 = self.files.iter().map(|f| f.size).sum();
        let remaining = max.saturating_sub(used);
        let staged = stage_stream(self.app.media.staging_dir(), body, max.min(remaining))
            .await
            .map_err(|e| match e {
                MediaError::FileTooLarge { .. } if remaining < max => AppError::PayloadTooLarge {
                    field: "media".into(),
                    message: format!(
                        "media: the files of one post may total at most {} MB",
                        max / (1024 * 1024)
                    ),
                },
                other => media_error(index, other),
            })?;
        self.cleanup.staged.push(staged.path.clone());
        self.files.push(staged);
        Ok(())
    }

    /// Removes every file staged so far.
    pub async fn discard(self) {
        self.cleanup.run(self.app).await;
    }

    /// Checks the fields, converts and stores the files, and writes the draft, by
    /// `author`. On any refusal the files are removed.
    pub async fn create(mut self, author: UserId, fields: DraftFields) -> AppResult<Post> {
        let app = self.app;
        let files = std::mem::take(&mut self.files);
        let cover = self.cover.take();
        match create_draft(app, author, fields, files, cover, &mut self.cleanup).await {
            // Staged files were consumed; stored ones now belong to the post.
            Ok(post) => Ok(post),
            Err(e) => {
                self.cleanup.run(app).await;
                Err(e)
            }
        }
    }
}

async fn create_draft(
    app: &App,
    author: UserId,
    fields: DraftFields,
    files: Vec<StagedUpload>,
    cover: Option<StagedUpload>,
    cleanup: &mut Cleanup,
) -> AppResult<Post> {
    let draft = fields.check(app).await?;
    let (media_type, media) = prepare_media(app, &draft, files, cover, cleanup).await?;
    let post = icf_store::posts::create(
        &app.db,
        NewPost {
            media,
            media_type,
            caption_original: draft.caption,
            original_language: draft.language,
            target_groups: draft.target_groups,
            scheduled_at: draft.scheduled_at,
            created_by: Some(author),
            options: draft.options,
        },
    )
    .await?;
    cleanup.stored.clear();
    tracing::info!(post = %post.id, media_type = %post.media_type, files = post.media.len(), "post created");
    Ok(post)
}

/// The post's files, converted and stored (each remembered in `cleanup` until the post
/// exists), and the type they make; the options are checked against them before any
/// decoding and again once the video's length is known. A bulk import prepares each
/// row's files through here too.
pub(crate) async fn prepare_media(
    app: &App,
    draft: &Draft,
    files: Vec<StagedUpload>,
    cover: Option<StagedUpload>,
    cleanup: &mut Cleanup,
) -> AppResult<(MediaType, Vec<PostMedia>)> {
    let mut kinds = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let kind = sniff(&f.head).map_err(|e| media_error(i, e))?;
        kinds.push(if kind.is_photo() {
            ItemKind::Photo
        } else {
            ItemKind::Video
        });
    }
    let media_type = media_type_for(&kinds, draft.requested)?;
    // Every rule that does not need the decoded files, before any decoding.
    let mut shape = PostShape {
        media_type,
        media_count: files.len(),
        video_duration_s: None,
        has_cover_file: cover.is_some(),
    };
    draft
        .options
        .check(shape, &draft.language, &app.caption_rules)?;
    let product = if matches!(media_type, MediaType::Reel | MediaType::Story) {
        VideoProduct::Reel
    } else {
        VideoProduct::Feed
    };
    let story = media_type == MediaType::Story;
    let frame_at = draft.options.cover_offset_ms.map(|ms| ms as f64 / 1000.0);

    let mut media = Vec::with_capacity(files.len());
    for (i, (staged, kind)) in files.into_iter().zip(kinds).enumerate() {
        let item = match kind {
            ItemKind::Photo => store_photo(app, staged, draft.fit, story, cleanup).await,
            ItemKind::Video => store_video(app, staged, product, frame_at, cleanup).await,
        }
        .map_err(|e| media_error(i, e))?;
        media.push(item);
    }
    shape.video_duration_s = media.first().and_then(|m| m.duration_s);
    draft
        .options
        .check(shape, &draft.language, &app.caption_rules)?;
    if let (Some(cover), Some(video)) = (cover, media.first_mut()) {
        replace_cover(app, video, cover, cleanup)
            .await
            .map_err(|e| super::media::media_error_named("cover", e))?;
    }

    Ok((media_type, media))
}
