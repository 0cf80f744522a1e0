//! Approvals over the API (issue `[workflow]`): submit, approve, reject, and a post's review
//! history. The use cases are `icf_app::posts::review`.

use axum::Json;
use axum::extract::State;
use icf_app::posts::review::ReviewState;
use icf_app::publishing::publish::PublishRequest;
use icf_core::ids::PostId;
use serde::Deserialize;

use crate::auth::{AdminUser, CurrentUser};
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath, optional_json};
use crate::state::AppState;

/// Why a post goes back to its editor.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Required: what should change (at most 2,000 characters).
    pub comment: Option<String>,
}

/// The post's review: its status and every step, oldest first.
#[utoipa::path(get, path = "/api/posts/{id}/review", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = ReviewState), (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<ReviewState>> {
    Ok(Json(icf_app::posts::review::state(&state.app, id).await?))
}

/// Hands a draft or rejected post to the admins (where `ICF_REQUIRE_APPROVAL` is on), with
/// when it should go out (`now`: as soon as approved). Checked as a publish would be first:
/// target groups, media, every language's caption within Instagram's rules.
#[utoipa::path(post, path = "/api/posts/{id}/submit", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    request_body(content = PublishRequest, description = "Optional: when and how urgently"),
    responses((status = 200, body = ReviewState), (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "Approvals are off, or the post is not a draft or rejected", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<PostId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ReviewState>> {
    // The body is optional: an empty POST asks for now, at normal priority.
    let req: PublishRequest = optional_json(&body)?;
    let options = req.options()?;
    Ok(Json(
        icf_app::posts::review::submit(&state.app, &user.actor(), id, options).await?,
    ))
}

/// Approves a post waiting for review: it is published or scheduled as it was submitted
/// (`plan` in the answer). Admins only.
#[utoipa::path(post, path = "/api/posts/{id}/approve", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = ReviewState), (status = 403, body = crate::error::ErrorBody),
    (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "The post is not waiting for review", body = crate::error::ErrorBody),
    (status = 422, description = "It cannot go out as it is (a language's caption)", body = crate::error::ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<ReviewState>> {
    Ok(Json(
        icf_app::posts::review::approve(&state.app, &user.actor(), id).await?,
    ))
}

/// Sends a post waiting for review back to its editor with a comment. Admins only.
#[utoipa::path(post, path = "/api/posts/{id}/reject", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), request_body = RejectRequest,
    responses((status = 200, body = ReviewState), (status = 403, body = crate::error::ErrorBody),
    (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "The post is not waiting for review", body = crate::error::ErrorBody),
    (status = 422, description = "No comment, or too long", body = crate::error::ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    IdPath(id): IdPath<PostId>,
    ApiJson(req): ApiJson<RejectRequest>,
) -> ApiResult<Json<ReviewState>> {
    Ok(Json(
        icf_app::posts::review::reject(&state.app, &user.actor(), id, req.comment.as_deref())
            .await?,
    ))
}
