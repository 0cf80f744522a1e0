//! `/api/groups/`: admins write, editors read. The use cases are `icf_app::groups`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_app::groups::{self, CreateGroup, UpdateGroup};
use icf_core::account::{Account, Group};
use icf_core::ids::GroupId;
use serde::Serialize;

use crate::auth::{AdminUser, CurrentUser};
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath};
use crate::filters::{account_query, delete_mode};
use crate::query::{Paged, Params};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupList {
    items: Vec<Group>,
    total: usize,
}

#[utoipa::path(get, path = "/api/groups/", tag = "groups", security(("bearer" = [])), responses((status = 200, body = GroupList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> ApiResult<Json<GroupList>> {
    let items = groups::list(&state.app).await?;
    Ok(Json(GroupList {
        total: items.len(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/groups/", tag = "groups", security(("bearer" = [])), request_body = CreateGroup,
    responses((status = 403, body = crate::error::ErrorBody), (status = 201, body = icf_core::account::Group), (status = 409, description = "Name taken (case-insensitive)", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    let group = groups::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(group)))
}

#[utoipa::path(get, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")),
    responses((status = 200, body = icf_core::account::Group), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<GroupId>,
) -> ApiResult<Json<Group>> {
    Ok(Json(groups::get(&state.app, id).await?))
}

#[utoipa::path(put, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")), request_body = UpdateGroup,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Group), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GroupId>,
    ApiJson(req): ApiJson<UpdateGroup>,
) -> ApiResult<Json<Group>> {
    let group = groups::update(&state.app, id, req).await?;
    Ok(Json(group))
}

/// `DELETE /api/groups/{id}?on_accounts=ungroup|move|delete[&target_group_id=…]`.
/// Without `on_accounts`, a group that still has accounts is refused with 409.
#[utoipa::path(delete, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("on_accounts" = Option<String>, Query, description = "ungroup, move or delete; required when the group has accounts"),
           ("target_group_id" = Option<String>, Query, description = "With on_accounts=move")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The group has accounts", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GroupId>,
    params: Params,
) -> ApiResult<StatusCode> {
    let mode = delete_mode(&params)?;
    groups::delete(&state.app, id, mode).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/groups/{id}/accounts`: the account list, filtered to the group.
#[utoipa::path(get, path = "/api/groups/{id}/accounts", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")),
    responses((status = 200, body = Paged<icf_core::account::Account>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<GroupId>,
    params: Params,
) -> ApiResult<Json<Paged<Account>>> {
    groups::get(&state.app, id).await?;
    // The account list's own query, filtered to the group.
    let (query, page) = account_query(&params, Some(id))?;
    let (items, total) = icf_app::accounts::list(&state.app, user.role, &query).await?;
    Ok(Json(Paged::new(items, total, page)))
}
