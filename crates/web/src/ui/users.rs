//! Users (admin): create, change the role, disable or enable.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::users::{self, CreateUser, UpdateUser};
use icf_core::enums::Role;
use icf_core::ids::UserId;
use serde::Deserialize;

use super::accounts::form_value;
use super::session::UiAdmin;
use super::view::{Ctx, error_page, field_errors, iso, refresh};
use crate::error::ApiError;
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
    match users::list(&state.app).await {
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

impl NewUserForm {
    /// The form as the API's request, refused as the API's JSON body would refuse it.
    fn request(self) -> Result<CreateUser, ApiError> {
        let fields = [
            ("username", &self.username),
            ("email", &self.email),
            ("password", &self.password),
            ("role", &self.role),
        ];
        for (field, value) in fields {
            crate::extract::refuse_nul(field, value)?;
        }
        Ok(CreateUser {
            role: form_value::<Role>(&self.role)?,
            username: self.username,
            email: self.email,
            password: self.password,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: UiAdmin,
    axum::Form(f): axum::Form<NewUserForm>,
) -> Response {
    const FIELDS: &[&str] = &["username", "email", "password", "role", "form"];
    let req = match f.request() {
        Ok(r) => r,
        Err(e) => return field_errors(FIELDS, e),
    };
    match users::create(&state.app, req).await {
        Ok(_) => refresh(),
        Err(e) => field_errors(FIELDS, e.into()),
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
    let req = match update_request(f) {
        Ok(r) => r,
        Err(e) => return field_errors(&["users"], e),
    };
    match users::update(&state.app, ui.user.id, id, req).await {
        Ok(_) => refresh(),
        // The password field is in the row's own small form: its message goes there.
        Err(icf_app::AppError::Validation { field, message }) if field == "password" => {
            field_errors(&["users"], ApiError::validation("users", message))
        }
        Err(e) => field_errors(&["users"], e.into()),
    }
}

/// A row's form as the API's change: what it sends changes, an empty password stays.
fn update_request(f: UpdateForm) -> Result<UpdateUser, ApiError> {
    let password = f.password.filter(|p| !p.is_empty());
    if let Some(p) = &password {
        crate::extract::refuse_nul("password", p)?;
    }
    Ok(UpdateUser {
        role: f.role.as_deref().map(form_value::<Role>).transpose()?,
        is_active: f.is_active.map(|a| a == "true"),
        password,
        ..UpdateUser::default()
    })
}
