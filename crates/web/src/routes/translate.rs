//! `POST /api/translate`: a caption into several languages, for the composer and scripts.
//! Editors and admins. One result per language; a language that fails says why without
//! failing the others.

use axum::Json;
use axum::extract::State;
use icf_core::language::{self, Language};
use icf_translate::service::{LanguageResult, translate_caption};
use icf_translate::{TranslateError, caption};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Generous against Instagram's 2,200, so over-long captions get a warning, not a refusal.
const MAX_TEXT_CHARS: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    text: String,
    source_lang: String,
    target_langs: Vec<String>,
}

#[derive(Serialize)]
pub struct TranslateResponse {
    source_lang: Language,
    provider: &'static str,
    /// Problems of the source caption itself (too long, too many hashtags…).
    source_warnings: Vec<String>,
    results: Vec<LanguageResult>,
}

pub async fn translate(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiJson(req): ApiJson<TranslateRequest>,
) -> ApiResult<Json<TranslateResponse>> {
    if req.text.trim().is_empty() {
        return Err(ApiError::validation("text", "must not be empty"));
    }
    let chars = req.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ApiError::validation(
            "text",
            format!("is {chars} characters long; at most {MAX_TEXT_CHARS}"),
        ));
    }
    let source = Language::parse_field(&req.source_lang, "source_lang")?;
    if req.target_langs.is_empty() {
        return Err(ApiError::validation(
            "target_langs",
            "name at least one language",
        ));
    }
    if req.target_langs.len() > language::ALL.len() {
        return Err(ApiError::validation(
            "target_langs",
            format!("at most {} languages", language::ALL.len()),
        ));
    }
    let mut targets = Vec::with_capacity(req.target_langs.len());
    for (i, raw) in req.target_langs.iter().enumerate() {
        let lang = Language::parse(raw)
            .map_err(|e| ApiError::validation(format!("target_langs[{i}]"), e.message))?;
        targets.push(lang);
    }
    let Some(translation) = state.translation.as_deref() else {
        return Err(ApiError::Unavailable(
            TranslateError::NotConfigured.to_string(),
        ));
    };
    let results = translate_caption(&state.db, translation, &req.text, source, &targets).await;
    Ok(Json(TranslateResponse {
        source_lang: source,
        provider: translation.provider().as_str(),
        source_warnings: caption::limit_problems(&req.text, &translation.limits()),
        results,
    }))
}
