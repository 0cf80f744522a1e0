//! `/api/glossaries/`: editors read, admins write. The use cases are `icf_app::glossaries`.

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use icf_app::glossaries::{self, CreateGlossary, ImportGlossary, UpdateGlossary};
use icf_core::glossary::Glossary;
use icf_core::ids::GlossaryId;
use serde::Serialize;

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath, refuse_nul};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct GlossaryList {
    items: Vec<Glossary>,
    total: usize,
}

/// Every glossary, by name.
#[utoipa::path(get, path = "/api/glossaries/", tag = "glossaries", security(("bearer" = [])),
    responses((status = 200, body = GlossaryList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> ApiResult<Json<GlossaryList>> {
    let items = glossaries::list(&state.app).await?;
    Ok(Json(GlossaryList {
        total: items.len(),
        items,
    }))
}

/// A glossary for one language pair. Every translation of that pair (post captions, first
/// comments, alt texts, `POST /api/translate`) puts the glossary's translation in place of
/// each term: with DeepL through DeepL's own glossary, with Google and LibreTranslate by
/// protecting the term.
#[utoipa::path(post, path = "/api/glossaries/", tag = "glossaries", security(("bearer" = [])), request_body = CreateGlossary,
    responses((status = 201, body = Glossary), (status = 403, body = crate::error::ErrorBody),
    (status = 409, description = "The name or the language pair is taken", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateGlossary>,
) -> ApiResult<(StatusCode, Json<Glossary>)> {
    let made = glossaries::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(get, path = "/api/glossaries/{id}", tag = "glossaries", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Glossary id (UUID)")),
    responses((status = 200, body = Glossary), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<GlossaryId>,
) -> ApiResult<Json<Glossary>> {
    Ok(Json(glossaries::get(&state.app, id).await?))
}

/// Changes a glossary. The cached translations holding a changed term are translated
/// again on their next use; DeepL's copy is replaced.
#[utoipa::path(put, path = "/api/glossaries/{id}", tag = "glossaries", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Glossary id (UUID)")), request_body = UpdateGlossary,
    responses((status = 200, body = Glossary), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "The name or pair is taken, or the glossary changed since `version`", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GlossaryId>,
    ApiJson(req): ApiJson<UpdateGlossary>,
) -> ApiResult<Json<Glossary>> {
    Ok(Json(glossaries::update(&state.app, id, req).await?))
}

#[utoipa::path(delete, path = "/api/glossaries/{id}", tag = "glossaries", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Glossary id (UUID)")),
    responses((status = 204, description = "Deleted"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GlossaryId>,
) -> ApiResult<StatusCode> {
    glossaries::delete(&state.app, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The import form of `POST /api/glossaries/import` (multipart/form-data).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads the fields as they come
pub struct GlossaryUpload {
    /// CSV, TSV or `;`-separated, UTF-8: two columns, term and translation; a first line
    /// `term,translation` (or `source,target`) is skipped.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    name: String,
    source_lang: String,
    target_lang: String,
    /// `true`: replace the entries (and name) of the pair's glossary when there is one;
    /// otherwise such a pair is refused with 409.
    replace: Option<bool>,
}

/// At most this much file: 5,000 entries of 300 characters fit well inside.
const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// The import form's fields.
async fn read_form(mut form: Multipart) -> ApiResult<ImportGlossary> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(Some("file"), e.body_text())
    };
    let mut req = ImportGlossary {
        name: String::new(),
        source_lang: String::new(),
        target_lang: String::new(),
        file: String::new(),
        replace: false,
    };
    let mut has_file = false;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(bad)?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(ApiError::validation("file", "the file is larger than 4 MB"));
        }
        let text = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::validation("file", "the file must be UTF-8 text"))
        };
        match name.as_str() {
            "file" => {
                req.file = text()?;
                has_file = true;
            }
            "name" => req.name = text()?,
            "source_lang" => req.source_lang = text()?,
            "target_lang" => req.target_lang = text()?,
            "replace" => req.replace = matches!(text()?.trim(), "true" | "1" | "on" | "yes"),
            _ => {}
        }
    }
    for (field, value) in [
        ("name", &req.name),
        ("source_lang", &req.source_lang),
        ("target_lang", &req.target_lang),
    ] {
        refuse_nul(field, value)?;
    }
    if !has_file || req.file.trim().is_empty() {
        return Err(ApiError::validation(
            "file",
            "send the glossary as the form's file",
        ));
    }
    Ok(req)
}

/// Makes a glossary from a CSV or TSV file of terms and translations (or, with `replace`,
/// replaces the entries of the pair's glossary).
#[utoipa::path(post, path = "/api/glossaries/import", tag = "glossaries", security(("bearer" = [])),
    request_body(content = GlossaryUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = Glossary), (status = 200, description = "The pair's glossary, replaced", body = Glossary), (status = 403, body = crate::error::ErrorBody),
    (status = 409, description = "The name or the language pair is taken", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    _: AdminUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Glossary>)> {
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            None,
            format!("the body must be multipart/form-data with a boundary: {e}"),
        )
    })?;
    let req = read_form(multipart).await?;
    let made = glossaries::import(&state.app, req).await?;
    // A new glossary is at version 1; a replaced one has moved on.
    let status = if made.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(made)))
}
