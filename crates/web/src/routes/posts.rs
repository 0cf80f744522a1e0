//! `/api/posts/`: upload media with a caption, list, read, edit, delete. The use cases
//! are `icf_app::posts`; these handlers read the request and shape the answer.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_app::posts::create::{DraftFields, Upload};
use icf_app::posts::delete::DeletedPost;
use icf_app::posts::edit::UpdatePost;
use icf_app::posts::read::PostList;
use icf_core::enums::{MediaType, MediaVariants, PostStatus};
use icf_core::ids::PostId;
use icf_core::post::Post;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::state::AppState;

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
    Ok(Json(
        icf_app::posts::read::list(&state.app, p.status, limit, offset).await?,
    ))
}

#[utoipa::path(get, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), responses(
    (status = 200, body = Post), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Post>> {
    Ok(Json(icf_app::posts::read::get(&state.app, id).await?))
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
    /// `reel` to publish a single video as a reel, `story` to publish one photo or video as
    /// a story; otherwise the files decide.
    media_type: Option<MediaType>,
    /// Photos outside 4:5…1.91:1 (9:16…1.91:1 for a story): `reject` (default), `crop` or `pad`.
    fit: Option<String>,
    /// Posted by the same account right after the media, translated like the caption and
    /// held to the same rules. Not with `disable_comments`, not on a story.
    first_comment: Option<String>,
    /// Pin the first comment (`true`/`false`).
    pin_first_comment: Option<bool>,
    /// Alt text, repeated once per media item in order (empty for none); translated.
    alt_text: Option<Vec<String>>,
    /// JSON `{"name", "lat", "lng"}`: icf finds Instagram's place for it once per post.
    location: Option<String>,
    /// JSON `[{"username", "x", "y", "media_index"}]`: x and y from 0 to 1, media_index the
    /// carousel item (0 for a single media).
    usertags: Option<String>,
    /// JSON array of up to 3 Instagram usernames invited as collaborators.
    collaborators: Option<String>,
    /// Comments off (`true`/`false`).
    disable_comments: Option<bool>,
    /// Like and view counts hidden (`true`/`false`).
    hide_like_counts: Option<bool>,
    /// A reel shown in the profile grid too (default `true`).
    share_to_feed: Option<bool>,
    /// A reel's or video's cover image (JPEG, PNG, WebP), fitted to the video's size.
    #[schema(value_type = Option<String>, format = Binary)]
    cover: Option<Vec<u8>>,
    /// Or the video's frame at this time (milliseconds) as its cover.
    cover_offset_ms: Option<u64>,
    /// Each account's own copy of the media: `off` (the same file for all), `light`
    /// (invisible changes) or `strong`. Absent: each account's group decides.
    media_variants: Option<MediaVariants>,
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
    let mut upload = Upload::new(&state.app);
    let fields = match read_upload(multipart, &mut upload).await {
        Ok(fields) => fields,
        Err(e) => {
            upload.discard().await;
            return Err(e);
        }
    };
    let post = upload.create(user.id, fields).await?;
    Ok((StatusCode::CREATED, Json(post)))
}

/// Reads the form: each file streams into `upload` as it arrives, the text fields are
/// gathered for the use case.
async fn read_upload(mut multipart: Multipart, upload: &mut Upload<'_>) -> ApiResult<DraftFields> {
    let mut fields = DraftFields::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(None, format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "media" {
            upload.add_file(Box::pin(field)).await?;
            continue;
        }
        if name == "cover" {
            upload.add_cover(Box::pin(field)).await?;
            continue;
        }
        let value = read_text_field(field, &name).await?;
        fields.set(&name, value)?;
    }
    Ok(fields)
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

/// Edits a draft, pending, in-review or rejected post. A pending post is re-planned: its queued
/// accounts are taken back and planned again with the new caption, groups and time (409 once
/// any account has started; a plan that cannot be made leaves the edited post a draft and
/// says why). Where approvals are required (`ICF_REQUIRE_APPROVAL`), an editor's edit of an
/// approved or rejected post sends it back to review instead.
#[utoipa::path(put, path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])), request_body = UpdatePost,
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), responses(
    (status = 200, body = Post), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Publishing has started", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<PostId>,
    ApiJson(req): ApiJson<UpdatePost>,
) -> ApiResult<Json<Post>> {
    Ok(Json(
        icf_app::posts::edit::update(&state.app, &user.actor(), id, req).await?,
    ))
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
) -> ApiResult<Response> {
    let deleted = icf_app::posts::delete::delete(&state.app, id).await?;
    // Nothing went out: nothing more to say.
    if deleted.publishes_kept == 0 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(deleted).into_response())
}
