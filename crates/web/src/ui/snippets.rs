//! Snippets and hashtag sets (issue `[workflow]`): the list, a form to add or edit one
//! (`?edit=<id>` fills it), delete. Editors and admins alike. The composer offers them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use icf_app::snippets::{CreateSnippet, UpdateSnippet};
use icf_core::ids::{GroupId, SnippetId};
use serde::Deserialize;

use super::session::Ui;
use super::view::{Ctx, error_page, field_errors, redirect};
use crate::error::ApiError;
use crate::state::AppState;

const FIELDS: &[&str] = &["name", "group_id", "language", "text", "form"];

struct Row {
    id: String,
    name: String,
    group: String,
    language: String,
    text: String,
    hashtags: usize,
}

/// The form, empty or filled with the snippet being edited.
#[derive(Default)]
struct Editing {
    id: String,
    name: String,
    group_id: String,
    language: String,
    text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "snippets.html")]
struct SnippetsPage {
    ctx: Ctx,
    rows: Vec<Row>,
    groups: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    editing: Editing,
}

#[derive(Deserialize)]
pub struct PageQuery {
    edit: Option<String>,
}

pub async fn list(State(state): State<AppState>, ui: Ui, Query(q): Query<PageQuery>) -> Response {
    let l = ui.l;
    let result = async {
        let groups = icf_store::groups::list(&state.app.db).await?;
        let snippets = icf_app::snippets::list(&state.app, None, None).await?;
        let group_name = |g: Option<GroupId>| match g {
            Some(g) => groups
                .iter()
                .find(|x| x.id == g)
                .map_or_else(String::new, |x| x.name.clone()),
            None => l.t("every group").to_owned(),
        };
        let editing = match q.edit.as_deref().and_then(|r| r.parse::<SnippetId>().ok()) {
            Some(id) => {
                let s = icf_app::snippets::get(&state.app, id).await?;
                Editing {
                    id: s.id.to_string(),
                    name: s.name,
                    group_id: s.group_id.map(|g| g.to_string()).unwrap_or_default(),
                    language: s.language,
                    text: s.text,
                }
            }
            None => Editing {
                language: if l == super::i18n::Lang::Ru {
                    "ru"
                } else {
                    "en"
                }
                .to_owned(),
                ..Editing::default()
            },
        };
        let rows = snippets
            .into_iter()
            .map(|s| Row {
                id: s.id.to_string(),
                group: group_name(s.group_id),
                name: s.name,
                language: s.language,
                text: s.text,
                hashtags: s.hashtags,
            })
            .collect();
        Ok::<_, ApiError>(SnippetsPage {
            rows,
            groups: groups
                .iter()
                .map(|g| (g.id.to_string(), g.name.clone()))
                .collect(),
            languages: icf_core::language::ALL
                .iter()
                .map(|l| (l.code(), l.native_name()))
                .collect(),
            editing,
            ctx: ui.ctx("snippets"),
        })
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => error_page(l, e),
    }
}

#[derive(Deserialize)]
pub struct SnippetForm {
    name: String,
    /// Empty: every group.
    #[serde(default)]
    group_id: String,
    language: String,
    text: String,
}

impl SnippetForm {
    fn group(&self) -> Result<Option<GroupId>, ApiError> {
        for (k, v) in [
            ("name", &self.name),
            ("group_id", &self.group_id),
            ("language", &self.language),
            ("text", &self.text),
        ] {
            crate::extract::refuse_nul(k, v)?;
        }
        match self.group_id.trim() {
            "" => Ok(None),
            g => g
                .parse()
                .map(Some)
                .map_err(|_| ApiError::validation("group_id", "no such group")),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: Ui,
    axum::Form(form): axum::Form<SnippetForm>,
) -> Response {
    let group_id = match form.group() {
        Ok(g) => g,
        Err(e) => return field_errors(FIELDS, e),
    };
    let req = CreateSnippet {
        name: form.name,
        group_id,
        language: form.language,
        text: form.text,
    };
    match icf_app::snippets::create(&state.app, req).await {
        Ok(_) => redirect("/snippets"),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<SnippetForm>,
) -> Response {
    let Ok(id) = raw.parse::<SnippetId>() else {
        return error_page(ui.l, ApiError::NotFound("snippet"));
    };
    let group_id = match form.group() {
        Ok(g) => g,
        Err(e) => return field_errors(FIELDS, e),
    };
    let req = UpdateSnippet {
        name: Some(form.name),
        group_id: Some(group_id),
        language: Some(form.language),
        text: Some(form.text),
    };
    match icf_app::snippets::update(&state.app, id, req).await {
        Ok(_) => redirect("/snippets"),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn delete(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let Ok(id) = raw.parse::<SnippetId>() else {
        return error_page(ui.l, ApiError::NotFound("snippet"));
    };
    match icf_app::snippets::delete(&state.app, id).await {
        Ok(()) => redirect("/snippets"),
        Err(e) => field_errors(&["form"], e.into()),
    }
}
