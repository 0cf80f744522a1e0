//! `/api/posts/`: upload media with a caption, list, read, edit, delete.
//! Editors and admins alike: posting is what an editor is for.

use std::path::PathBuf;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use icf_core::enums::{JobPriority, MediaType, PostStatus};
use icf_core::ids::{GroupId, PostId};
use icf_core::post::{ItemKind, MediaKind, Post, PostMedia, check_caption, media_type_for};
use icf_media::photo::{AspectFit, PhotoOptions};
use icf_media::storage::{StagedUpload, stage_stream};
use icf_media::video::{VideoLimits, VideoProduct};
use icf_media::{MediaError, MediaKey, sniff};
use icf_store::posts::{NewPost, PostChanges};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::state::AppState;

const MAX_FILES: usize = icf_core::post::MAX_CAROUSEL_ITEMS;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PostList {
    items: Vec<Post>,
    total: i64,
    limit: i64,
    offset: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    status: Option<PostStatus>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    #[param(minimum = 0)]
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/posts/", tag = "posts", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = PostList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<PostList>> {
    let limit = p.limit.unwrap_or(50);
    let offset = p.offset.unwrap_or(0);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be between 1 and 500",
        ));
    }
    if offset < 0 {
        return Err(ApiError::bad_request(
            Some("offset"),
            "offset must not be negative",
        ));
    }
    let (items, total) = icf_store::posts::list(&state.app.db, p.status, limit, offset).await?;
    Ok(Json(PostList {
        items,
        total,
        limit,
        offset,
    }))
}

#[utoipa::path(get, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), responses(
    (status = 200, body = Post), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Post>> {
    Ok(Json(
        icf_store::posts::get(&state.app.db, id)
            .await
            .map_err(ApiError::missing("post"))?,
    ))
}

/// Text fields of the upload form, gathered while the files stream to disk.
#[derive(Default)]
struct Form {
    caption: Option<String>,
    original_language: Option<String>,
    target_groups: Option<String>,
    scheduled_at: Option<String>,
    media_type: Option<String>,
    fit: Option<String>,
}

/// Files written so far; removed unless the post is created.
#[derive(Default)]
struct Cleanup {
    staged: Vec<PathBuf>,
    stored: Vec<MediaKey>,
}

impl Cleanup {
    async fn run(self, state: &AppState) {
        for p in self.staged {
            let _ = tokio::fs::remove_file(p).await;
        }
        for k in self.stored {
            let _ = state.app.media.delete(&k).await;
        }
    }
}

fn media_error(index: usize, e: MediaError) -> ApiError {
    let field = format!("media[{index}]");
    match e {
        MediaError::FileTooLarge { .. } => ApiError::PayloadTooLarge {
            message: format!("{field}: {e}"),
            field,
        },
        MediaError::Tool { .. } => ApiError::Unavailable(e.to_string()),
        MediaError::NoSpace => {
            tracing::error!("media storage full: an upload was refused");
            ApiError::InsufficientStorage {
                message: format!("{field}: {e}"),
                field,
            }
        }
        MediaError::Interrupted => ApiError::BadRequest {
            message: format!("{field}: {e}"),
            field: Some(field),
        },
        MediaError::Storage(_)
        | MediaError::Io(_)
        | MediaError::BadKey(_)
        | MediaError::NotFound(_) => ApiError::internal(e),
        other => ApiError::validation(field, other.to_string()),
    }
}

fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The upload form of `POST /api/posts/` (multipart/form-data).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads the fields as they stream
pub struct PostUpload {
    /// 1 to 10 files, in order: JPEG, PNG or WebP photos, MP4/MOV videos. The type is read
    /// from the bytes; file names are ignored.
    #[schema(value_type = Vec<String>, format = Binary)]
    media: Vec<u8>,
    /// The caption in its source language: at most 2,200 characters, 30 hashtags, 20 mentions.
    caption: Option<String>,
    /// The caption's language, e.g. `ru`.
    original_language: String,
    /// A JSON array of group ids, e.g. `["0192…"]`.
    target_groups: Option<String>,
    /// RFC 3339 time to publish at.
    scheduled_at: Option<String>,
    /// Only to publish a single video as a `reel`.
    media_type: Option<MediaType>,
    /// Photos outside 4:5…1.91:1: `reject` (default), `crop` or `pad`.
    fit: Option<String>,
}

/// Creates a draft post: streams the files to storage, converts photos to the JPEG Instagram
/// wants (EXIF orientation applied, at most 1440 px wide), probes videos with ffprobe and
/// extracts a cover. A refused upload leaves no file and no post behind.
#[utoipa::path(post, path = "/api/posts/", tag = "posts", security(("bearer" = [])),
    request_body(content = PostUpload, content_type = "multipart/form-data"), responses(
    (status = 201, body = Post), (status = 413, body = crate::error::ErrorBody), (status = 507, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    // axum's own rejection is plain text; the API answers in JSON.
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            None,
            format!("the body must be multipart/form-data with a boundary: {e}"),
        )
    })?;
    let mut cleanup = Cleanup::default();
    let result = create_inner(&state, &user, multipart, &mut cleanup).await;
    match result {
        Ok(post) => {
            // Staged files were consumed; stored ones now belong to the post.
            Ok((StatusCode::CREATED, Json(post)))
        }
        Err(e) => {
            cleanup.run(&state).await;
            Err(e)
        }
    }
}

async fn create_inner(
    state: &AppState,
    user: &CurrentUser,
    mut multipart: Multipart,
    cleanup: &mut Cleanup,
) -> ApiResult<Post> {
    let mut form = Form::default();
    let mut files: Vec<StagedUpload> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(None, format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "media" {
            if files.len() == MAX_FILES {
                return Err(ApiError::validation(
                    "media",
                    format!("a post holds at most {MAX_FILES} files"),
                ));
            }
            // The client's file name is never used: it could say anything, `../../x` included.
            let index = files.len();
            let body = field.map_err(std::io::Error::other);
            // One post's files together stay within the same limit as one file (as nginx's
            // request limit does), so ten large files cannot fill the disk.
            let used: u64 = files.iter().map(|f| f.size).sum();
            let remaining = state.app.uploads.max_file_bytes.saturating_sub(used);
            let staged = stage_stream(
                state.app.media.staging_dir(),
                Box::pin(body),
                state.app.uploads.max_file_bytes.min(remaining),
            )
            .await
            .map_err(|e| match e {
                MediaError::FileTooLarge { .. } if remaining < state.app.uploads.max_file_bytes => {
                    ApiError::PayloadTooLarge {
                        field: "media".into(),
                        message: format!(
                            "media: the files of one post may total at most {} MB",
                            state.app.uploads.max_file_bytes / (1024 * 1024)
                        ),
                    }
                }
                other => media_error(index, other),
            })?;
            cleanup.staged.push(staged.path.clone());
            files.push(staged);
            continue;
        }
        let value = read_text_field(field, &name).await?;
        let slot = match name.as_str() {
            "caption" => &mut form.caption,
            "original_language" => &mut form.original_language,
            "target_groups" => &mut form.target_groups,
            "scheduled_at" => &mut form.scheduled_at,
            "media_type" => &mut form.media_type,
            "fit" => &mut form.fit,
            other => {
                return Err(ApiError::validation(other, "unknown field"));
            }
        };
        *slot = Some(value);
    }

    // Everything that does not need the files is checked before any decoding.
    let caption = form.caption.unwrap_or_default();
    let language = text(form.original_language)
        .ok_or_else(|| ApiError::validation("original_language", "required"))?;
    let language = check_language("original_language", &language)?;
    check_caption("caption", &language, &caption, &state.app.caption_rules)?;
    let target_groups = parse_groups(text(form.target_groups).as_deref())?;
    let missing = icf_store::posts::missing_groups(&state.app.db, &target_groups).await?;
    if let Some(g) = missing.first() {
        return Err(ApiError::validation(
            "target_groups",
            format!("no group with id {g}"),
        ));
    }
    let scheduled_at = text(form.scheduled_at)
        .map(|s| parse_time("scheduled_at", &s))
        .transpose()?;
    let requested: Option<MediaType> = text(form.media_type)
        .map(|s| {
            s.parse().map_err(|e: icf_core::ParseEnumError| {
                ApiError::validation("media_type", e.to_string())
            })
        })
        .transpose()?;
    let fit: AspectFit = match text(form.fit).as_deref() {
        None | Some("reject") => AspectFit::Reject,
        Some("crop") => AspectFit::Crop,
        Some("pad") => AspectFit::Pad,
        Some(_) => {
            return Err(ApiError::validation(
                "fit",
                "must be one of: reject, crop, pad",
            ));
        }
    };

    let mut kinds = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let kind = sniff(&f.head).map_err(|e| media_error(i, e))?;
        kinds.push(if kind.is_photo() {
            ItemKind::Photo
        } else {
            ItemKind::Video
        });
    }
    let media_type = media_type_for(&kinds, requested)?;
    let product = if media_type == MediaType::Reel {
        VideoProduct::Reel
    } else {
        VideoProduct::Feed
    };

    let mut media = Vec::with_capacity(files.len());
    for (i, (staged, kind)) in files.into_iter().zip(kinds).enumerate() {
        let item = match kind {
            ItemKind::Photo => store_photo(state, staged, fit, cleanup).await,
            ItemKind::Video => store_video(state, staged, product, cleanup).await,
        }
        .map_err(|e| media_error(i, e))?;
        media.push(item);
    }

    let post = icf_store::posts::create(
        &state.app.db,
        NewPost {
            media,
            media_type,
            caption_original: caption,
            original_language: language,
            target_groups,
            scheduled_at,
            created_by: Some(user.id),
        },
    )
    .await?;
    cleanup.stored.clear();
    tracing::info!(post = %post.id, media_type = %post.media_type, files = post.media.len(), "post created");
    Ok(post)
}

async fn store_photo(
    state: &AppState,
    staged: StagedUpload,
    fit: AspectFit,
    cleanup: &mut Cleanup,
) -> Result<PostMedia, MediaError> {
    if staged.size > state.app.uploads.max_photo_bytes {
        return Err(MediaError::FileTooLarge {
            limit_mb: state.app.uploads.max_photo_bytes / (1024 * 1024),
        });
    }
    // One of `ICF_MEDIA_CONCURRENCY` permits, held by the decoding thread itself: were the
    // request dropped (the client gone), the decode would go on and must still count.
    let permit = media_permit(state).await?;
    let bytes = tokio::fs::read(&staged.path).await?;
    let options = PhotoOptions {
        fit,
        ..PhotoOptions::default()
    }
    .with_pixel_budget(state.app.uploads.max_image_pixels);
    let prepared = tokio::task::spawn_blocking(move || {
        let prepared = icf_media::prepare_photo(&bytes, &options);
        drop(bytes);
        drop(permit);
        prepared
    })
    .await
    .map_err(|e| MediaError::Storage(e.to_string()))??;
    let key = MediaKey::generate("posts", "jpg");
    let stored = state
        .app
        .media
        .put_bytes(&key, prepared.jpeg.into())
        .await?;
    cleanup.stored.push(key.clone());
    let _ = tokio::fs::remove_file(&staged.path).await;
    Ok(PostMedia {
        key: key.to_string(),
        kind: MediaKind::Photo,
        width: prepared.width,
        height: prepared.height,
        duration_s: None,
        cover_key: None,
        size: stored.size,
        sha256: stored.sha256,
    })
}

/// Waits for one of the permits that bound concurrent decodes and transcodes.
async fn media_permit(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, MediaError> {
    state
        .app
        .media_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| MediaError::Storage(e.to_string()))
}

async fn store_video(
    state: &AppState,
    staged: StagedUpload,
    product: VideoProduct,
    cleanup: &mut Cleanup,
) -> Result<PostMedia, MediaError> {
    // ffprobe and ffmpeg take a permit too (they are killed if the request is dropped).
    let permit = media_permit(state).await?;
    let info = icf_media::video::probe(&staged.path).await?;
    info.check(product, &VideoLimits::default())?;
    let cover_path = staged.path.with_extension("cover.jpg");
    cleanup.staged.push(cover_path.clone());
    icf_media::video::extract_cover(&staged.path, &cover_path, (info.duration_s / 2.0).min(1.0))
        .await?;
    drop(permit);
    let cover_size = tokio::fs::metadata(&cover_path).await?.len();

    let key = MediaKey::generate("posts", "mp4");
    let stored = state
        .app
        .media
        .put_file(&key, &staged.path, staged.size, &staged.sha256)
        .await?;
    cleanup.stored.push(key.clone());
    let cover_key = MediaKey::generate("posts", "jpg");
    state
        .app
        .media
        .put_file(&cover_key, &cover_path, cover_size, "")
        .await?;
    cleanup.stored.push(cover_key.clone());
    Ok(PostMedia {
        key: key.to_string(),
        kind: MediaKind::Video,
        width: info.width,
        height: info.height,
        duration_s: Some(info.duration_s),
        cover_key: Some(cover_key.to_string()),
        size: stored.size,
        sha256: stored.sha256,
    })
}

/// A text field, refused past 64 KiB so a huge "caption" cannot fill memory.
async fn read_text_field(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> ApiResult<String> {
    const MAX: usize = 64 * 1024;
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(Some(name), format!("cannot read the field: {e}")))?
    {
        if buf.len() + chunk.len() > MAX {
            return Err(ApiError::validation(name, "longer than 64 KiB"));
        }
        buf.extend_from_slice(&chunk);
    }
    let text =
        String::from_utf8(buf).map_err(|_| ApiError::validation(name, "must be UTF-8 text"))?;
    crate::extract::refuse_nul(name, &text)?;
    Ok(text)
}

/// A language icf supports (`en`, `ru`, `pt-BR`, `zh-Hans`…), stored by its canonical code.
fn check_language(field: &'static str, code: &str) -> ApiResult<String> {
    Ok(icf_core::language::Language::parse_field(code, field)?
        .code()
        .to_owned())
}

fn parse_groups(raw: Option<&str>) -> ApiResult<Vec<GroupId>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let ids: Vec<GroupId> = serde_json::from_str(raw).map_err(|_| {
        ApiError::validation(
            "target_groups",
            "must be a JSON array of group ids, like [\"0192…\"]",
        )
    })?;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(ApiError::validation(
            "target_groups",
            "a group is listed twice",
        ));
    }
    Ok(ids)
}

fn parse_time(field: &'static str, raw: &str) -> ApiResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::validation(field, "must be an RFC 3339 time, like 2026-12-01T09:30:00Z")
        })
}

/// Fields to change on a draft or pending post; `scheduled_at: null` clears the schedule.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePost {
    caption: Option<String>,
    original_language: Option<String>,
    target_groups: Option<Vec<GroupId>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    scheduled_at: Option<Option<DateTime<Utc>>>,
    priority: Option<JobPriority>,
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

/// Edits a draft or pending post. A pending post is re-planned: its queued accounts are taken
/// back and planned again with the new caption, groups and time (409 once any account has
/// started; a plan that cannot be made leaves the edited post a draft and says why).
#[utoipa::path(put, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])), request_body = UpdatePost,
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), responses(
    (status = 200, body = Post), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Publishing has started", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
    ApiJson(req): ApiJson<UpdatePost>,
) -> ApiResult<Json<Post>> {
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    if !matches!(post.status, PostStatus::Draft | PostStatus::Pending) {
        return Err(ApiError::Conflict {
            field: None,
            message: format!("a {} post cannot be edited", post.status),
        });
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
        check_caption("caption", language, c, &state.app.caption_rules)?;
    }
    if let Some(groups) = &req.target_groups {
        let missing = icf_store::posts::missing_groups(&state.app.db, groups).await?;
        if let Some(g) = missing.first() {
            return Err(ApiError::validation(
                "target_groups",
                format!("no group with id {g}"),
            ));
        }
    }
    // A pending post is re-planned: its queued accounts are taken back (only while none has
    // started) and planned again with the new caption, groups and time.
    let replan = post.status == PostStatus::Pending;
    if replan && !icf_store::executions::withdraw_plan(&state.app.db, id).await? {
        return Err(ApiError::Conflict {
            field: None,
            message: "the post is already going out to some accounts: cancel its queued \
                      accounts (POST /api/posts/{id}/cancel) and publish a new post instead"
                .into(),
        });
    }
    let caption_changed = req
        .caption
        .as_ref()
        .is_some_and(|c| *c != post.caption_original);
    let language_changed = original_language
        .as_ref()
        .is_some_and(|l| *l != post.original_language);
    let post = icf_store::posts::update(
        &state.app.db,
        id,
        PostChanges {
            caption_original: req.caption,
            original_language,
            target_groups: req.target_groups,
            scheduled_at: req.scheduled_at,
            priority: req.priority,
        },
    )
    .await
    .map_err(ApiError::missing("post"))?;
    if caption_changed || language_changed {
        // Old machine translations no longer match; edits are kept and flagged for review.
        icf_store::post_translations::source_changed(&state.app.db, id).await?;
        if state.app.translation.is_some() {
            super::post_translations::refresh(&state, &post, &[], false).await?;
        }
    }
    if replan {
        // If the new plan cannot be made (a language without a caption), the post stays a
        // draft with the edit, and the error says what is missing.
        let when = post.scheduled_at.filter(|t| *t > chrono::Utc::now());
        super::publish::publish_post(&state, id, when, post.priority).await?;
        let post = icf_store::posts::get(&state.app.db, id)
            .await
            .map_err(ApiError::missing("post"))?;
        return Ok(Json(post));
    }
    Ok(Json(post))
}

#[utoipa::path(delete, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), responses(
    (status = 204, description = "Deleted with its media; its queued jobs are cancelled"),
    (status = 200, description = "Deleted, and its publishes stay in the accounts' posting history", body = DeletedPost),
    (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "An account is publishing it right now", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<axum::response::Response> {
    let executions = icf_store::executions::list(&state.app.db, id).await?;
    if executions
        .iter()
        .any(|e| e.status == icf_core::enums::ExecutionStatus::Posting)
    {
        return Err(ApiError::Conflict {
            field: None,
            message: "an account is publishing this post right now; cancel the post, wait, then delete it".into(),
        });
    }
    // Queued work goes first, so no worker picks up an execution that is about to vanish.
    icf_store::executions::cancel_queued(&state.app.db, id).await?;
    let deleted = icf_store::posts::delete(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    let post = deleted.post;
    for m in &post.media {
        for key in std::iter::once(&m.key).chain(m.cover_key.as_ref()) {
            if let Ok(k) = MediaKey::parse(key)
                && let Err(e) = state.app.media.delete(&k).await
            {
                tracing::warn!(%key, error = %e, "could not remove a deleted post's media");
            }
        }
    }
    if deleted.publishes_kept == 0 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(DeletedPost {
        id,
        publishes_kept: deleted.publishes_kept,
        message: format!(
            "the post is deleted; its {} publish(es) stay in the accounts' posting history, \
             so the 30-minute gap and the daily limits still count them",
            deleted.publishes_kept
        ),
    })
    .into_response())
}

/// What deleting a post that went out says: its publishes are not forgotten.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeletedPost {
    id: PostId,
    /// Publishes of this post (successful or unconfirmed) kept in the posting history.
    publishes_kept: i64,
    message: String,
}
