//! Publishing a post over the API: the plan preview, the publish itself, the executions
//! view, cancel and retry. The use cases are `icf_app::publishing`.

use axum::Json;
use axum::extract::State;
use icf_app::publishing::cancel::Cancelled;
use icf_app::publishing::executions::Executions;
use icf_app::publishing::plan::PlanResponse;
use icf_app::publishing::publish::PublishRequest;
use icf_app::publishing::retry::Retried;
use icf_core::ids::PostId;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::{IdPath, optional_json};
use crate::state::AppState;

/// What publishing would do now: every account's expected time. Writes nothing.
#[utoipa::path(get, path = "/api/posts/{id}/plan", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<PlanResponse>> {
    Ok(Json(
        icf_app::publishing::plan::plan_at(&state.app, id, None).await?,
    ))
}

/// Publishes the post to every account of its groups that can post, now or at a time:
/// captions are ensured for every language and checked against Instagram's caption rules
/// (422 naming the language, nothing queued), then one execution per account (with its final
/// caption) and its job are written in one transaction. Publishing again creates nothing twice.
/// Where approvals are required (`ICF_REQUIRE_APPROVAL`), an editor gets 403 and submits
/// the post instead (`/submit`); an admin publishing a post in review approves it.
#[utoipa::path(post, path = "/api/posts/{id}/publish", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), request_body(content = PublishRequest, description = "Optional"),
    responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::ErrorBody),
    (status = 409, body = crate::error::ErrorBody), (status = 422, description = "A language has no caption, or a language's caption breaks Instagram's caption rules", body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<PostId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PlanResponse>> {
    // The body is optional: an empty POST publishes now at normal priority.
    let req: PublishRequest = optional_json(&body)?;
    let options = req.options()?;
    Ok(Json(
        icf_app::publishing::publish::publish_as(&state.app, &user.actor(), id, options).await?,
    ))
}

/// Every account's state for the post (queued, posting, success, failed, cancelled) and the totals.
#[utoipa::path(get, path = "/api/posts/{id}/executions", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Executions), (status = 404, body = crate::error::ErrorBody)))]
pub async fn executions(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Executions>> {
    Ok(Json(
        icf_app::publishing::executions::list(&state.app, id).await?,
    ))
}

/// Cancels the post's queued executions (those already posting finish).
#[utoipa::path(post, path = "/api/posts/{id}/cancel", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Cancelled), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Cancelled>> {
    Ok(Json(
        icf_app::publishing::cancel::cancel(&state.app, id).await?,
    ))
}

/// Puts the post's failed executions back in the queue (with the anti-ban spacing between
/// them); accounts that published already are untouched.
#[utoipa::path(post, path = "/api/posts/{id}/retry-failed", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Retried), (status = 404, body = crate::error::ErrorBody)))]
pub async fn retry_failed(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Retried>> {
    Ok(Json(
        icf_app::publishing::retry::retry_failed(&state.app, id).await?,
    ))
}
