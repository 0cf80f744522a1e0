//! Operators (icf's own users): admins manage them. icf never runs without an active
//! admin, and an admin cannot lock themself out.

use icf_core::auth::{User, check_password, parse_email, parse_username};
use icf_core::enums::Role;
use icf_core::ids::UserId;
use icf_store::users::{NewUser, UserChanges};
use serde::Deserialize;

use crate::{App, AppError, AppResult};

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"username": "anna", "email": "anna@example.com", "password": "at least 8 chars", "role": "editor"})))]
pub struct CreateUser {
    pub username: String,
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: String,
    pub role: Role,
}

/// Fields to change; absent fields stay. A new password, role or deactivation ends the
/// user's current sign-ins.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub password: Option<String>,
}

/// argon2 is CPU-heavy by design; it runs off the async workers.
async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || icf_core::password::hash(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

pub async fn list(app: &App) -> AppResult<Vec<User>> {
    Ok(icf_store::users::list(&app.db).await?)
}

pub async fn get(app: &App, id: UserId) -> AppResult<User> {
    let creds = icf_store::users::get(&app.db, id)
        .await
        .map_err(AppError::missing("user"))?;
    Ok(creds.user)
}

pub async fn create(app: &App, req: CreateUser) -> AppResult<User> {
    let username = parse_username(&req.username)?;
    let email = parse_email(&req.email)?;
    check_password(&req.password)?;
    let user = icf_store::users::create(
        &app.db,
        NewUser {
            username,
            email,
            password_hash: hash(req.password).await?,
            role: req.role,
        },
    )
    .await?;
    Ok(user)
}

/// Changes user `id` as admin `me` asks. The last active admin keeps that role, and
/// nobody disables themself.
pub async fn update(app: &App, me: UserId, id: UserId, req: UpdateUser) -> AppResult<User> {
    let target = get(app, id).await?;
    let loses_admin = target.role == Role::Admin
        && target.is_active
        && (req.role == Some(Role::Editor) || req.is_active == Some(false));
    if loses_admin && icf_store::users::count_active_admins(&app.db).await? <= 1 {
        let field = if req.is_active == Some(false) {
            "is_active"
        } else {
            "role"
        };
        return Err(AppError::conflict(
            Some(field),
            "this is the last active admin; make another admin first",
        ));
    }
    if id == me && req.is_active == Some(false) {
        return Err(AppError::validation(
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
    let changes = UserChanges {
        email,
        role: req.role,
        is_active: req.is_active,
        password_hash,
    };
    icf_store::users::update(&app.db, id, changes)
        .await
        .map_err(AppError::missing("user"))
}

/// Deletes user `id` at admin `me`'s request: never oneself, never the last active admin.
pub async fn delete(app: &App, me: UserId, id: UserId) -> AppResult<()> {
    if id == me {
        return Err(AppError::conflict(None, "you cannot delete yourself"));
    }
    let target = get(app, id).await?;
    if target.role == Role::Admin
        && target.is_active
        && icf_store::users::count_active_admins(&app.db).await? <= 1
    {
        return Err(AppError::conflict(None, "this is the last active admin"));
    }
    icf_store::users::delete(&app.db, id)
        .await
        .map_err(AppError::missing("user"))
}
