//! Glossaries: everyone signed in reads them (the list and each glossary's terms); admins
//! create, edit (terms as `term = translation` lines), import a CSV/TSV file and delete.
//! The write forms post to paths of their own, so that each path is either open to
//! editors or admin-only (`/glossaries/create`, `/glossaries/{id}/update`…).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::glossaries::{self, CreateGlossary, ImportGlossary, UpdateGlossary};
use icf_core::glossary::{Glossary, RawEntries, parse_lines, to_lines};
use icf_core::ids::GlossaryId;
use serde::Deserialize;

use super::session::{Ui, UiAdmin};
use super::view::{Ctx, error_page, field_errors, redirect, refresh, time};
use crate::error::ApiError;
use crate::state::AppState;

const FIELDS: &[&str] = &["name", "source_lang", "target_lang", "entries", "form"];
/// The import form's own error places (the create form on the same page has the others).
const IMPORT_FIELDS: &[&str] = &["file", "import"];

struct Row {
    id: String,
    name: String,
    source: String,
    target: String,
    entries: usize,
    version: i64,
    updated: String,
}

fn row(g: &Glossary) -> Row {
    Row {
        id: g.id.to_string(),
        name: g.name.clone(),
        source: g.source_lang.clone(),
        target: g.target_lang.clone(),
        entries: g.entry_count,
        version: g.version,
        updated: time(&g.updated_at),
    }
}

/// Every language icf writes in, as `(code, English name)` for the selects.
fn languages() -> Vec<(&'static str, &'static str)> {
    icf_core::language::ALL
        .iter()
        .map(|l| (l.code(), l.english_name()))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "glossaries.html")]
struct GlossariesPage {
    ctx: Ctx,
    glossaries: Vec<Row>,
    languages: Vec<(&'static str, &'static str)>,
}

pub async fn list(State(state): State<AppState>, ui: Ui) -> Response {
    match glossaries::list(&state.app).await {
        Ok(gs) => GlossariesPage {
            glossaries: gs.iter().map(row).collect(),
            languages: languages(),
            ctx: ui.ctx("glossaries"),
        }
        .into_response(),
        Err(e) => error_page(ui.l, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    ctx: Ctx,
    g: Row,
    terms: Vec<(String, String)>,
    /// The text box's `term = translation` lines.
    lines: String,
    languages: Vec<(&'static str, &'static str)>,
}

pub async fn page(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let Ok(id) = raw.parse::<GlossaryId>() else {
        return error_page(ui.l, ApiError::NotFound("glossary"));
    };
    match glossaries::get(&state.app, id).await {
        Ok(g) => GlossaryPage {
            g: row(&g),
            terms: g
                .entries
                .iter()
                .map(|e| (e.term.clone(), e.translation.clone()))
                .collect(),
            lines: to_lines(&g.entries),
            languages: languages(),
            ctx: ui.ctx("glossaries"),
        }
        .into_response(),
        Err(e) => error_page(ui.l, e.into()),
    }
}

#[derive(Deserialize)]
pub struct GlossaryForm {
    name: String,
    source_lang: String,
    target_lang: String,
    /// `term = translation` lines.
    #[serde(default)]
    entries: String,
    /// The version the form was loaded at (edit only).
    #[serde(default)]
    version: Option<i64>,
}

impl GlossaryForm {
    fn entries(&self) -> Result<RawEntries, ApiError> {
        for (field, value) in [
            ("name", &self.name),
            ("source_lang", &self.source_lang),
            ("target_lang", &self.target_lang),
            ("entries", &self.entries),
        ] {
            crate::extract::refuse_nul(field, value)?;
        }
        Ok(RawEntries(parse_lines("entries", &self.entries)?))
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: UiAdmin,
    axum::Form(form): axum::Form<GlossaryForm>,
) -> Response {
    let entries = match form.entries() {
        Ok(e) => e,
        Err(e) => return field_errors(FIELDS, e),
    };
    let new = CreateGlossary {
        name: form.name,
        source_lang: form.source_lang,
        target_lang: form.target_lang,
        entries,
    };
    match glossaries::create(&state.app, new).await {
        Ok(g) => redirect(&format!("/glossaries/{}", g.id)),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<GlossaryForm>,
) -> Response {
    let Ok(id) = raw.parse::<GlossaryId>() else {
        return error_page(ui.l, ApiError::NotFound("glossary"));
    };
    let entries = match form.entries() {
        Ok(e) => e,
        Err(e) => return field_errors(FIELDS, e),
    };
    let change = UpdateGlossary {
        name: Some(form.name),
        source_lang: Some(form.source_lang),
        target_lang: Some(form.target_lang),
        entries: Some(entries),
        version: form.version,
    };
    match glossaries::update(&state.app, id, change).await {
        Ok(_) => refresh(),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
) -> Response {
    let Ok(id) = raw.parse::<GlossaryId>() else {
        return error_page(ui.l, ApiError::NotFound("glossary"));
    };
    match glossaries::delete(&state.app, id).await {
        Ok(()) => redirect("/glossaries"),
        Err(e) => field_errors(&["delete"], e.into()),
    }
}

/// The import form: a CSV/TSV file, a name and the pair; `replace` takes over the pair's
/// glossary when it has one.
pub async fn import(State(state): State<AppState>, _: UiAdmin, mut form: Multipart) -> Response {
    let mut req = ImportGlossary {
        name: String::new(),
        source_lang: String::new(),
        target_lang: String::new(),
        file: String::new(),
        replace: false,
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return field_errors(IMPORT_FIELDS, ApiError::bad_request(None, e.body_text()));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let text = match field.text().await {
            Ok(t) => t,
            Err(e) => {
                return field_errors(IMPORT_FIELDS, ApiError::validation("file", e.body_text()));
            }
        };
        match name.as_str() {
            "file" => req.file = text,
            "name" => req.name = text,
            "source_lang" => req.source_lang = text,
            "target_lang" => req.target_lang = text,
            "replace" => req.replace = true,
            _ => {}
        }
    }
    for (field, value) in [("name", &req.name), ("file", &req.file)] {
        if let Err(e) = crate::extract::refuse_nul(field, value) {
            return field_errors(IMPORT_FIELDS, e);
        }
    }
    if req.file.trim().is_empty() {
        return field_errors(
            IMPORT_FIELDS,
            ApiError::validation("file", "choose a CSV or TSV file"),
        );
    }
    match glossaries::import(&state.app, req).await {
        Ok(_) => refresh(),
        Err(e) => field_errors(IMPORT_FIELDS, e.into()),
    }
}
