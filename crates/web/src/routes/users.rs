//! `/api/users/`: operator management, admins only. The use cases are `icf_app::users`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_app::users::{self, CreateUser, UpdateUser};
use icf_core::auth::User;
use icf_core::ids::UserId;
use serde::Serialize;

use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    items: Vec<User>,
    total: usize,
}

#[utoipa::path(get, path = "/api/users/", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserList), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<UserList>> {
    let items = users::list(&state.app).await?;
    Ok(Json(UserList {
        total: items.len(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/users/", tag = "users", security(("bearer" = [])), request_body = CreateUser, responses(
    (status = 201, body = icf_core::auth::User), (status = 409, description = "Username or e-mail taken", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = users::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id (UUID)")), responses(
    (status = 200, body = icf_core::auth::User), (status = 404, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::get(&state.app, id).await?))
}

#[utoipa::path(put, path = "/api/users/{id}", tag = "users", security(("bearer" = [])), request_body = UpdateUser,
    params(("id" = uuid::Uuid, Path, description = "User id (UUID)")), responses((status = 403, body = crate::error::ErrorBody), 
    (status = 200, body = icf_core::auth::User), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The last active admin", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    IdPath(id): IdPath<UserId>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::update(&state.app, me.id, id, req).await?))
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id (UUID)")), responses((status = 403, body = crate::error::ErrorBody), 
    (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<StatusCode> {
    users::delete(&state.app, me.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
