//! Users (admin): create, change the role, disable or enable.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_core::ids::UserId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::accounts::body;
use super::session::UiAdmin;
use super::view::{Ctx, error_page, field_errors, iso, refresh};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::extract::{ApiJson, IdPath};
use crate::routes::users as api;
use crate::state::AppState;

struct UserRow {
    id: String,
    username: String,
    email: String,
    role: String,
    active: bool,
    last_login: String,
    me: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    ctx: Ctx,
    users: Vec<UserRow>,
}

pub async fn list(State(state): State<AppState>, UiAdmin(ui): UiAdmin) -> Response {
    match icf_store::users::list(&state.app.db).await {
        Ok(us) => UsersPage {
            users: us
                .into_iter()
                .map(|u| UserRow {
                    me: u.id == ui.user.id,
                    id: u.id.to_string(),
                    username: u.username,
                    email: u.email,
                    role: u.role.as_str().to_owned(),
                    active: u.is_active,
                    last_login: u.last_login_at.as_ref().map(iso).unwrap_or_default(),
                })
                .collect(),
            ctx: ui.ctx("users"),
        }
        .into_response(),
        Err(e) => error_page(ui.l, e.into()),
    }
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    email: String,
    password: String,
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    axum::Form(f): axum::Form<NewUserForm>,
) -> Response {
    const FIELDS: &[&str] = &["username", "email", "password", "role", "form"];
    let req = match body(
        json!({"username": f.username, "email": f.email, "password": f.password, "role": f.role}),
    ) {
        Ok(r) => r,
        Err(e) => return field_errors(FIELDS, e),
    };
    match api::create(State(state), AdminUser(ui.user), ApiJson(req)).await {
        Ok(_) => refresh(),
        Err(e) => field_errors(FIELDS, e),
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    role: Option<String>,
    is_active: Option<String>,
    password: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    axum::Form(f): axum::Form<UpdateForm>,
) -> Response {
    let Ok(id) = raw.parse::<UserId>() else {
        return error_page(ui.l, ApiError::NotFound("user"));
    };
    let mut changes = Map::new();
    if let Some(r) = f.role {
        changes.insert("role".into(), Value::String(r));
    }
    if let Some(a) = f.is_active {
        changes.insert("is_active".into(), Value::Bool(a == "true"));
    }
    if let Some(p) = f.password.filter(|p| !p.is_empty()) {
        changes.insert("password".into(), Value::String(p));
    }
    let req = match body(Value::Object(changes)) {
        Ok(r) => r,
        Err(e) => return field_errors(&["users"], e),
    };
    match api::update(State(state), AdminUser(ui.user), IdPath(id), ApiJson(req)).await {
        Ok(Json(_)) => refresh(),
        Err(ApiError::Validation { field, message }) if field == "password" => {
            field_errors(&["users"], ApiError::validation("users", message))
        }
        Err(e) => field_errors(&["users"], e),
    }
}
