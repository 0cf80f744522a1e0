//! `/api/users/`: operator management, admins only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_core::auth::{User, check_password, parse_email, parse_username};
use icf_core::enums::Role;
use icf_core::ids::UserId;
use icf_store::users::{NewUser, UserChanges};
use serde::{Deserialize, Serialize};

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    items: Vec<User>,
    total: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "anna", "email": "anna@example.com", "password": "at least 8 chars", "role": "editor"}))]
pub struct CreateUser {
    username: String,
    email: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    role: Role,
}

/// Fields to change; absent fields stay. A new password, role or deactivation ends the
/// user's current sign-ins.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    email: Option<String>,
    role: Option<Role>,
    is_active: Option<bool>,
    password: Option<String>,
}

async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || icf_core::password::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

#[utoipa::path(get, path = "/api/users/", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserList), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<UserList>> {
    let items = icf_store::users::list(&state.app.db).await?;
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
    let username = parse_username(&req.username)?;
    let email = parse_email(&req.email)?;
    check_password(&req.password)?;
    let user = icf_store::users::create(
        &state.app.db,
        NewUser {
            username,
            email,
            password_hash: hash(req.password).await?,
            role: req.role,
        },
    )
    .await?;
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
    let creds = icf_store::users::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("user"))?;
    Ok(Json(creds.user))
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
    let target = icf_store::users::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("user"))?
        .user;
    let loses_admin = target.role == Role::Admin
        && target.is_active
        && (req.role == Some(Role::Editor) || req.is_active == Some(false));
    if loses_admin && icf_store::users::count_active_admins(&state.app.db).await? <= 1 {
        return Err(ApiError::Conflict {
            field: Some(
                if req.is_active == Some(false) {
                    "is_active"
                } else {
                    "role"
                }
                .into(),
            ),
            message: "this is the last active admin; make another admin first".into(),
        });
    }
    if id == me.id && req.is_active == Some(false) {
        return Err(ApiError::validation(
            "is_active",
            "you cannot disable yourself",
        ));
    }
    let email = req.email.as_deref().map(parse_email).transpose()?;
    let password_hash = match req.password {
        Some(p) => {
            check_password(&p)?;
            Some(hash(p).await?)
        }
        None => None,
    };
    let user = icf_store::users::update(
        &state.app.db,
        id,
        UserChanges {
            email,
            role: req.role,
            is_active: req.is_active,
            password_hash,
        },
    )
    .await
    .map_err(ApiError::missing("user"))?;
    Ok(Json(user))
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id (UUID)")), responses((status = 403, body = crate::error::ErrorBody), 
    (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<StatusCode> {
    if id == me.id {
        return Err(ApiError::Conflict {
            field: None,
            message: "you cannot delete yourself".into(),
        });
    }
    let target = icf_store::users::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("user"))?
        .user;
    if target.role == Role::Admin
        && target.is_active
        && icf_store::users::count_active_admins(&state.app.db).await? <= 1
    {
        return Err(ApiError::Conflict {
            field: None,
            message: "this is the last active admin".into(),
        });
    }
    icf_store::users::delete(&state.app.db, id)
        .await
        .map_err(ApiError::missing("user"))?;
    Ok(StatusCode::NO_CONTENT)
}
