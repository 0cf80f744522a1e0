//! `POST /api/translate`: a caption into several languages, for the composer and scripts.
//! Editors and admins. One result per language; a language that fails says why without
//! failing the others.

use axum::Json;
use axum::extract::State;
use icf_core::language::{self, Language};
use icf_translate::service::{CacheCounters, LanguageResult, translate_caption};
use icf_translate::{TranslateError, caption};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Generous against Instagram's 2,200, so over-long captions get a warning, not a refusal.
const MAX_TEXT_CHARS: usize = 10_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Новый курс по Python! Скидка 50% 🔥 #python", "source_lang": "ru", "target_langs": ["en", "es"]}))]
pub struct TranslateRequest {
    text: String,
    source_lang: String,
    target_langs: Vec<String>,
    /// Run as a `translate_text` job and answer 202 at once (automatic above
    /// 10 languages); read the result at `GET /api/translate/jobs/{id}`.
    #[serde(default)]
    background: bool,
}

/// Above this many languages a request runs in the background.
const SYNC_MAX_LANGUAGES: usize = 10;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslateResponse {
    #[schema(value_type = String, example = "ru")]
    source_lang: Language,
    provider: &'static str,
    /// Problems of the source caption itself (too long, too many hashtags…).
    source_warnings: Vec<String>,
    /// One per target language: `lang`, `text`, `from_cache`, `provider`, `warnings`, and
    /// `error {code, message}` when that language failed.
    #[schema(value_type = Vec<Object>)]
    results: Vec<LanguageResult>,
}

/// Translates a caption into several languages, keeping hashtags, mentions, links, emoji and
/// line breaks byte-identical. Cached: asking again costs no provider request.
#[utoipa::path(post, path = "/api/translate", tag = "translation", security(("bearer" = [])), request_body = TranslateRequest,
    responses((status = 200, body = TranslateResponse), (status = 202, description = "Queued as a background job", body = BackgroundJob), (status = 422, body = crate::error::ErrorBody),
    (status = 503, description = "No translation provider is configured", body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn translate(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiJson(req): ApiJson<TranslateRequest>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
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
    if req.background || targets.len() > SYNC_MAX_LANGUAGES {
        let payload = icf_core::jobs::TranslateText {
            text: req.text.clone(),
            source_lang: source.code().to_owned(),
            target_langs: targets.iter().map(|l| l.code().to_owned()).collect(),
        };
        let job = icf_store::jobs::NewJob::of(&payload).max_attempts(4);
        let id = icf_store::jobs::enqueue_now(&state.db, &job)
            .await?
            .ok_or_else(|| ApiError::internal("the job was not enqueued"))?;
        return Ok((
            axum::http::StatusCode::ACCEPTED,
            Json(BackgroundJob {
                job_id: id,
                state: "queued",
                status_url: format!("/api/translate/jobs/{id}"),
            }),
        )
            .into_response());
    }
    let results = translate_caption(&state.db, translation, &req.text, source, &targets).await;
    Ok(Json(TranslateResponse {
        source_lang: source,
        provider: translation.provider().as_str(),
        source_warnings: caption::limit_problems(&req.text, &translation.limits()),
        results,
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BackgroundJob {
    #[schema(value_type = String)]
    job_id: icf_core::ids::JobId,
    state: &'static str,
    status_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslationJob {
    #[schema(value_type = String)]
    job_id: icf_core::ids::JobId,
    /// queued, running, succeeded, failed, cancelled.
    state: String,
    attempts: i32,
    last_error: Option<String>,
    /// Present once the job has succeeded (read from the cache: no provider request).
    result: Option<TranslateResponse>,
}

/// The state of a background translation, and its result once done.
#[utoipa::path(get, path = "/api/translate/jobs/{id}", tag = "translation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Job id from POST /api/translate")),
    responses((status = 200, body = TranslationJob), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job(
    State(state): State<AppState>,
    _: CurrentUser,
    crate::extract::IdPath(id): crate::extract::IdPath<icf_core::ids::JobId>,
) -> ApiResult<Json<TranslationJob>> {
    let job = match icf_store::jobs::get(&state.db, id).await {
        Ok(j) if j.kind == icf_core::jobs::JobKind::TranslateText.as_str() => j,
        Ok(_) | Err(icf_store::StoreError::NotFound) => {
            return Err(ApiError::NotFound("translation job"));
        }
        Err(e) => return Err(e.into()),
    };
    let mut result = None;
    if job.state == icf_core::enums::JobState::Succeeded
        && let Some(translation) = state.translation.as_deref()
        && let Ok(p) = serde_json::from_value::<icf_core::jobs::TranslateText>(job.payload.clone())
        && let Ok(source) = Language::parse(&p.source_lang)
    {
        let targets: Vec<Language> = p
            .target_langs
            .iter()
            .filter_map(|l| Language::parse(l).ok())
            .collect();
        let results = translate_caption(&state.db, translation, &p.text, source, &targets).await;
        result = Some(TranslateResponse {
            source_lang: source,
            provider: translation.provider().as_str(),
            source_warnings: caption::limit_problems(&p.text, &translation.limits()),
            results,
        });
    }
    Ok(Json(TranslationJob {
        job_id: id,
        state: job.state.as_str().to_owned(),
        attempts: job.attempts,
        last_error: job.last_error,
        result,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslationStats {
    /// `None` when no provider is configured.
    provider: Option<&'static str>,
    /// Rows in the cache and how often they were reused, across all processes.
    cache_entries: i64,
    cache_hits: i64,
    /// Hits and misses of this process since it started.
    #[schema(value_type = Option<Object>)]
    since_start: Option<CacheCounters>,
}

/// `GET /api/translate/stats`: what the cache saves.
#[utoipa::path(get, path = "/api/translate/stats", tag = "translation", security(("bearer" = [])),
    responses((status = 200, body = TranslationStats), (status = 401, body = crate::error::ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    _: CurrentUser,
) -> ApiResult<Json<TranslationStats>> {
    let cache = icf_store::translations::stats(&state.db).await?;
    Ok(Json(TranslationStats {
        provider: state.translation.as_ref().map(|t| t.provider().as_str()),
        cache_entries: cache.entries,
        cache_hits: cache.hits,
        since_start: state.translation.as_ref().map(|t| t.counters()),
    }))
}
