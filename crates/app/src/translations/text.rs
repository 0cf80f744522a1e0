//! Translating a caption that belongs to no post (the composer and scripts): at once for a
//! few languages, as a `translate_text` job for many; the job's state and result; what the
//! cache saves. One result per language: a language that fails says why without failing
//! the others.

use icf_core::enums::JobState;
use icf_core::ids::JobId;
use icf_core::jobs::{JobKind, TranslateText};
use icf_core::language::{self, Language};
use icf_store::StoreError;
use icf_translate::service::{CacheCounters, LanguageResult, translate_caption};
use icf_translate::{TranslateError, Translation, caption};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, AppResult};

/// Generous against Instagram's 2,200, so over-long captions get a warning, not a refusal.
const MAX_TEXT_CHARS: usize = 10_000;

/// Above this many languages a request runs in the background.
const SYNC_MAX_LANGUAGES: usize = 10;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"text": "Новый курс по Python! Скидка 50% 🔥 #python", "source_lang": "ru", "target_langs": ["en", "es"]})))]
pub struct TranslateRequest {
    pub text: String,
    pub source_lang: String,
    pub target_langs: Vec<String>,
    /// Run as a `translate_text` job and answer 202 at once (automatic above
    /// 10 languages); read the result at `GET /api/translate/jobs/{id}`.
    #[serde(default)]
    pub background: bool,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranslateResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "ru"))]
    pub source_lang: Language,
    pub provider: &'static str,
    /// Problems of the source caption itself (too long, too many hashtags…).
    pub source_warnings: Vec<String>,
    /// One per target language: `lang`, `text`, `from_cache`, `provider`, `warnings`, and
    /// `error {code, message}` when that language failed.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub results: Vec<LanguageResult>,
}

/// A translation queued as a job.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackgroundJob {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub job_id: JobId,
    pub state: &'static str,
    pub status_url: String,
}

/// What a translation request became.
#[derive(Debug)]
pub enum Translated {
    /// Translated now.
    Done(TranslateResponse),
    /// Too many languages, or asked for: queued as a background job.
    Queued(BackgroundJob),
}

/// Translates `req.text` into every target language, keeping hashtags, mentions, links,
/// emoji and line breaks byte-identical; cached, so asking again costs no provider
/// request. Many languages (or `background`) go to a job instead.
pub async fn translate(app: &App, req: TranslateRequest) -> AppResult<Translated> {
    if req.text.trim().is_empty() {
        return Err(AppError::validation("text", "must not be empty"));
    }
    let chars = req.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(AppError::validation(
            "text",
            format!("is {chars} characters long; at most {MAX_TEXT_CHARS}"),
        ));
    }
    let source = Language::parse_field(&req.source_lang, "source_lang")?;
    let targets = target_languages(&req.target_langs)?;
    let Some(translation) = app.translation.as_deref() else {
        return Err(AppError::Unavailable(
            TranslateError::NotConfigured.to_string(),
        ));
    };
    if req.background || targets.len() > SYNC_MAX_LANGUAGES {
        let payload = TranslateText {
            text: req.text,
            source_lang: source.code().to_owned(),
            target_langs: targets.iter().map(|l| l.code().to_owned()).collect(),
        };
        let job = icf_store::jobs::NewJob::of(&payload).max_attempts(4);
        let id = icf_store::jobs::enqueue_now(&app.db, &job)
            .await?
            .ok_or_else(|| AppError::internal("the job was not enqueued"))?;
        return Ok(Translated::Queued(BackgroundJob {
            job_id: id,
            state: "queued",
            status_url: format!("/api/translate/jobs/{id}"),
        }));
    }
    Ok(Translated::Done(
        translated(app, translation, &req.text, source, &targets).await,
    ))
}

/// The target languages, each named by its index when it does not parse.
fn target_languages(raw: &[String]) -> AppResult<Vec<Language>> {
    if raw.is_empty() {
        return Err(AppError::validation(
            "target_langs",
            "name at least one language",
        ));
    }
    if raw.len() > language::ALL.len() {
        return Err(AppError::validation(
            "target_langs",
            format!("at most {} languages", language::ALL.len()),
        ));
    }
    let mut targets = Vec::with_capacity(raw.len());
    for (i, code) in raw.iter().enumerate() {
        let lang = Language::parse(code)
            .map_err(|e| AppError::validation(format!("target_langs[{i}]"), e.message))?;
        targets.push(lang);
    }
    Ok(targets)
}

async fn translated(
    app: &App,
    translation: &Translation,
    text: &str,
    source: Language,
    targets: &[Language],
) -> TranslateResponse {
    let results = translate_caption(&app.db, translation, text, source, targets).await;
    TranslateResponse {
        source_lang: source,
        provider: translation.provider().as_str(),
        source_warnings: caption::limit_problems(text, &translation.limits()),
        results,
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranslationJob {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub job_id: JobId,
    /// queued, running, succeeded, failed, cancelled.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Present once the job has succeeded (read from the cache: no provider request).
    pub result: Option<TranslateResponse>,
}

/// The state of a background translation, and its result once done.
pub async fn job(app: &App, id: JobId) -> AppResult<TranslationJob> {
    let job = match icf_store::jobs::get(&app.db, id).await {
        Ok(j) if j.kind == JobKind::TranslateText.as_str() => j,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(AppError::NotFound("translation job"));
        }
        Err(e) => return Err(e.into()),
    };
    let mut result = None;
    // The job filled the cache; translating again reads it back without the provider.
    if job.state == JobState::Succeeded
        && let Some(translation) = app.translation.as_deref()
        && let Ok(p) = serde_json::from_value::<TranslateText>(job.payload.clone())
        && let Ok(source) = Language::parse(&p.source_lang)
    {
        let targets: Vec<Language> = p
            .target_langs
            .iter()
            .filter_map(|l| Language::parse(l).ok())
            .collect();
        result = Some(translated(app, translation, &p.text, source, &targets).await);
    }
    Ok(TranslationJob {
        job_id: id,
        state: job.state.as_str().to_owned(),
        attempts: job.attempts,
        last_error: job.last_error,
        result,
    })
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranslationStats {
    /// `None` when no provider is configured.
    pub provider: Option<&'static str>,
    /// Rows in the cache and how often they were reused, across all processes.
    pub cache_entries: i64,
    pub cache_hits: i64,
    /// Hits and misses of this process since it started.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub since_start: Option<CacheCounters>,
}

/// What the translation cache saves.
pub async fn stats(app: &App) -> AppResult<TranslationStats> {
    let cache = icf_store::translations::stats(&app.db).await?;
    Ok(TranslationStats {
        provider: app.translation.as_ref().map(|t| t.provider().as_str()),
        cache_entries: cache.entries,
        cache_hits: cache.hits,
        since_start: app.translation.as_ref().map(|t| t.counters()),
    })
}
