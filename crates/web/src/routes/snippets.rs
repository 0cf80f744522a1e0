//! `/api/snippets/`: caption snippets and hashtag sets per group and language (issue
//! `[workflow]`), for editors and admins. The use cases are `icf_app::snippets`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_app::snippets::{self, CreateSnippet, UpdateSnippet};
use icf_core::ids::{GroupId, SnippetId};
use icf_core::snippet::Snippet;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SnippetList {
    items: Vec<Snippet>,
    total: usize,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnippetParams {
    /// This group's snippets and those for every group.
    group_id: Option<GroupId>,
    /// Only this language's (`en`, `es`…).
    language: Option<String>,
}

#[utoipa::path(get, path = "/api/snippets/", tag = "snippets", security(("bearer" = [])), params(SnippetParams),
    responses((status = 200, body = SnippetList), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiQuery(p): ApiQuery<SnippetParams>,
) -> ApiResult<Json<SnippetList>> {
    let items = snippets::list(&state.app, p.group_id, p.language.as_deref()).await?;
    Ok(Json(SnippetList {
        total: items.len(),
        items,
    }))
}

/// A new snippet. Its text must keep Instagram's caption rules on its own (a hashtag set of
/// more hashtags than a caption may hold is refused).
#[utoipa::path(post, path = "/api/snippets/", tag = "snippets", security(("bearer" = [])), request_body = CreateSnippet,
    responses((status = 201, body = Snippet), (status = 409, description = "Name taken for this group and language", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiJson(req): ApiJson<CreateSnippet>,
) -> ApiResult<(StatusCode, Json<Snippet>)> {
    let snippet = snippets::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(snippet)))
}

#[utoipa::path(get, path = "/api/snippets/{id}", tag = "snippets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Snippet id (UUID)")),
    responses((status = 200, body = Snippet), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<SnippetId>,
) -> ApiResult<Json<Snippet>> {
    Ok(Json(snippets::get(&state.app, id).await?))
}

#[utoipa::path(put, path = "/api/snippets/{id}", tag = "snippets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Snippet id (UUID)")), request_body = UpdateSnippet,
    responses((status = 200, body = Snippet), (status = 404, body = crate::error::ErrorBody),
    (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<SnippetId>,
    ApiJson(req): ApiJson<UpdateSnippet>,
) -> ApiResult<Json<Snippet>> {
    Ok(Json(snippets::update(&state.app, id, req).await?))
}

#[utoipa::path(delete, path = "/api/snippets/{id}", tag = "snippets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Snippet id (UUID)")),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<SnippetId>,
) -> ApiResult<StatusCode> {
    snippets::delete(&state.app, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
