//! Groups (admin): the list, create, edit, and a group's accounts.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::groups::{self, CreateGroup, UpdateGroup};
use icf_core::enums::{MediaVariants, ParseEnumError};
use icf_core::ids::GroupId;
use serde::Deserialize;

use super::session::UiAdmin;
use super::view::{Ctx, error_page, field_errors, redirect, refresh};
use crate::error::ApiError;
use crate::filters::account_query;
use crate::filters::delete_mode;
use crate::query::Params;
use crate::state::AppState;

const FIELDS: &[&str] = &[
    "name",
    "description",
    "active_hours",
    "media_variants",
    "form",
];

struct GroupRow {
    id: String,
    name: String,
    description: String,
    /// `08:00-23:00`, empty: any hour.
    hours: String,
    /// `off`, `light` or `strong`.
    variants: &'static str,
    accounts: i64,
    languages: String,
    statuses: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "groups.html")]
struct GroupsPage {
    ctx: Ctx,
    groups: Vec<GroupRow>,
    /// What a new group gets unless the form says otherwise.
    default_variants: &'static str,
}

fn row(l: super::i18n::Lang, g: icf_core::account::Group) -> GroupRow {
    let join = |m: &std::collections::BTreeMap<String, i64>, words: bool| {
        m.iter()
            .map(|(k, v)| {
                if words {
                    format!("{} {v}", l.word(k))
                } else {
                    format!("{k} {v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    GroupRow {
        id: g.id.to_string(),
        languages: join(&g.languages, false),
        statuses: join(&g.statuses, true),
        name: g.name,
        description: g.description,
        hours: g.active_hours.unwrap_or_default(),
        variants: g.media_variants.as_str(),
        accounts: g.accounts_count,
    }
}

pub async fn list(State(state): State<AppState>, UiAdmin(ui): UiAdmin) -> Response {
    match groups::list(&state.app).await {
        Ok(gs) => GroupsPage {
            groups: gs.into_iter().map(|g| row(ui.l, g)).collect(),
            default_variants: state.app.uploads.new_group_variants.as_str(),
            ctx: ui.ctx("groups"),
        }
        .into_response(),
        Err(e) => error_page(ui.l, e.into()),
    }
}

#[derive(Deserialize)]
pub struct GroupForm {
    name: String,
    #[serde(default)]
    description: String,
    /// Empty: any hour.
    #[serde(default)]
    active_hours: String,
    /// Empty: the server's default for new groups (and unchanged on an edit).
    #[serde(default)]
    media_variants: String,
}

impl GroupForm {
    /// The form's fields, with the same NUL rule as the API's JSON bodies.
    fn checked(self) -> Result<Self, ApiError> {
        crate::extract::refuse_nul("name", &self.name)?;
        crate::extract::refuse_nul("description", &self.description)?;
        crate::extract::refuse_nul("active_hours", &self.active_hours)?;
        Ok(self)
    }

    /// The select's value; empty is "not said".
    fn variants(&self) -> Result<Option<MediaVariants>, ApiError> {
        match self.media_variants.trim() {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|e: ParseEnumError| ApiError::validation("media_variants", e.to_string())),
        }
    }

    fn into_new(self) -> Result<CreateGroup, ApiError> {
        Ok(CreateGroup {
            media_variants: self.variants()?,
            name: self.name,
            description: self.description,
            active_hours: Some(self.active_hours),
        })
    }

    fn into_change(self) -> Result<UpdateGroup, ApiError> {
        Ok(UpdateGroup {
            media_variants: self.variants()?,
            name: Some(self.name),
            description: Some(self.description),
            active_hours: Some(Some(self.active_hours)),
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: UiAdmin,
    axum::Form(form): axum::Form<GroupForm>,
) -> Response {
    let new = match form.checked().and_then(GroupForm::into_new) {
        Ok(f) => f,
        Err(e) => return field_errors(FIELDS, e),
    };
    match groups::create(&state.app, new).await {
        Ok(_) => refresh(),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "group.html")]
struct GroupPage {
    ctx: Ctx,
    g: GroupRow,
    accounts: Vec<(String, String, String, String)>,
    others: Vec<(String, String)>,
}

pub async fn page(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    params: Params,
) -> Response {
    let l = ui.l;
    let Ok(id) = raw.parse::<GroupId>() else {
        return error_page(l, ApiError::NotFound("group"));
    };
    let g = match groups::get(&state.app, id).await {
        Ok(g) => g,
        Err(e) => return error_page(l, e.into()),
    };
    let listed = match account_query(&params, Some(id)) {
        Ok((query, _)) => icf_app::accounts::list(&state.app, ui.user.role, &query)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let accounts = match listed {
        Ok((items, _)) => items
            .into_iter()
            .map(|a| {
                (
                    a.id.to_string(),
                    a.username,
                    a.status.as_str().to_owned(),
                    a.language,
                )
            })
            .collect(),
        Err(e) => return error_page(l, e),
    };
    let others = groups::list(&state.app)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.id != id)
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    GroupPage {
        g: row(l, g),
        accounts,
        others,
        ctx: ui.ctx("groups"),
    }
    .into_response()
}

pub async fn update(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<GroupForm>,
) -> Response {
    let Ok(id) = raw.parse::<GroupId>() else {
        return error_page(ui.l, ApiError::NotFound("group"));
    };
    let change = match form.checked().and_then(GroupForm::into_change) {
        Ok(f) => f,
        Err(e) => return field_errors(FIELDS, e),
    };
    match groups::update(&state.app, id, change).await {
        Ok(g) => redirect(&format!("/groups/{}", g.id)),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

/// Deletes the group; its accounts are ungrouped, moved or deleted as the form says.
pub async fn delete(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    raw_body: axum::body::Bytes,
) -> Response {
    const FIELDS: &[&str] = &["on_accounts", "target_group_id", "delete"];
    let Ok(id) = raw.parse::<GroupId>() else {
        return error_page(ui.l, ApiError::NotFound("group"));
    };
    let params = Params::from_pairs(super::accounts::form_pairs(&raw_body));
    let mode = match delete_mode(&params) {
        Ok(m) => m,
        Err(e) => return field_errors(FIELDS, e),
    };
    match groups::delete(&state.app, id, mode).await {
        Ok(()) => redirect("/groups"),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}
