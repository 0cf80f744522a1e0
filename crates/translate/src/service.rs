//! Translating a caption into many languages: cache first, one provider call per key even
//! under concurrency, placeholders then fragments, and a validated result or a clear error.
//!
//! [`translate_caption`] is a plain async function over `&Db`, so the HTTP endpoint and the
//! `translate_text` job call the same code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use icf_core::language::Language;
use icf_store::Db;
use icf_store::translations::{self, CacheKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::caption::{self, CaptionRules, Piece};
use crate::error::TranslateError;
use crate::provider::{Batch, ProviderConfig, ProviderKind, RetryPolicy, Translator};

/// Everything needed to build a [`Translation`].
#[derive(Debug, Clone, Default)]
pub struct TranslationConfig {
    /// `None`: no provider; users write every language by hand.
    pub primary: Option<ProviderConfig>,
    /// Used when the primary provider's quota is used up.
    pub fallback: Option<ProviderConfig>,
    pub retry: RetryPolicy,
    pub limits: CaptionRules,
}

/// The configured providers, the caption limits and the in-process bookkeeping.
pub struct Translation {
    primary: Arc<dyn Translator>,
    fallback: Option<Arc<dyn Translator>>,
    limits: CaptionRules,
    /// One lock per cache key being translated, so concurrent requests for the same
    /// text make one provider call.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Cache hits and misses since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheCounters {
    pub hits: u64,
    pub misses: u64,
}

/// A failure for one language, in the API's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultError {
    pub code: &'static str,
    pub message: String,
}

/// The outcome for one target language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageResult {
    pub language: Language,
    /// The translated caption; `None` when it failed (see `error`).
    pub text: Option<String>,
    pub from_cache: bool,
    /// `deepl`, `google`, `libretranslate`, or `None` when nothing was translated.
    pub provider: Option<&'static str>,
    pub warnings: Vec<String>,
    pub error: Option<ResultError>,
}

impl Translation {
    /// `Ok(None)` when no provider is configured.
    pub fn from_config(config: &TranslationConfig) -> Result<Option<Translation>, TranslateError> {
        let Some(primary) = &config.primary else {
            return Ok(None);
        };
        let primary = primary.build(config.retry)?;
        let fallback = match &config.fallback {
            Some(f) => Some(f.build(config.retry)?),
            None => None,
        };
        Ok(Some(Translation::new(primary, fallback, config.limits)))
    }

    pub fn new(
        primary: Arc<dyn Translator>,
        fallback: Option<Arc<dyn Translator>>,
        limits: CaptionRules,
    ) -> Translation {
        Translation {
            primary,
            fallback,
            limits,
            inflight: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn provider(&self) -> ProviderKind {
        self.primary.kind()
    }

    pub fn limits(&self) -> CaptionRules {
        self.limits
    }

    pub fn counters(&self) -> CacheCounters {
        CacheCounters {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    fn key_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    }

    fn release(&self, key: &str) {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// The form a caption is cached and translated in: NFC, `\n` line ends, trimmed.
pub fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
        .nfc()
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Hex sha256 of the normalised text: the cache's lookup key.
pub fn text_hash(normalised: &str) -> String {
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many languages of one caption are translated concurrently.
const LANGUAGES_AT_ONCE: usize = 4;

/// Translates `text` from `source` into every language of `targets` (duplicates are
/// translated once). Languages run concurrently; each gets its own result.
pub async fn translate_caption(
    db: &Db,
    translation: &Translation,
    text: &str,
    source: Language,
    targets: &[Language],
) -> Vec<LanguageResult> {
    let normalised = normalise(text);
    let hash = text_hash(&normalised);
    let mut unique: Vec<Language> = Vec::new();
    for t in targets {
        if !unique.contains(t) {
            unique.push(*t);
        }
    }
    // A few languages at a time: concurrent enough to be quick, gentle enough not to
    // trip the provider's rate limit with one request per language at once.
    let (text, hash) = (normalised.as_str(), hash.as_str());
    let jobs: Vec<_> = unique
        .into_iter()
        .map(|target| one_language(db, translation, text, hash, source, target))
        .collect();
    futures_util::stream::iter(jobs)
        .buffered(LANGUAGES_AT_ONCE)
        .collect()
        .await
}

async fn one_language(
    db: &Db,
    translation: &Translation,
    text: &str,
    hash: &str,
    source: Language,
    target: Language,
) -> LanguageResult {
    let mut result = LanguageResult {
        language: target,
        text: None,
        from_cache: false,
        provider: None,
        warnings: Vec::new(),
        error: None,
    };
    if target == source {
        result.warnings = caption::limit_problems(text, &translation.limits);
        result
            .warnings
            .push("the target is the source language: the caption is kept as written".into());
        result.text = Some(text.to_owned());
        return result;
    }
    match cached_or_translated(db, translation, text, hash, source, target).await {
        Ok((done, from_cache)) => {
            result.text = Some(done.text);
            result.from_cache = from_cache;
            result.provider = Some(done.provider.as_str());
            result.warnings = done.warnings;
        }
        Err(e) => {
            result.error = Some(ResultError {
                code: e.code(),
                message: e.to_string(),
            });
        }
    }
    result
}

struct Done {
    text: String,
    provider: ProviderKind,
    warnings: Vec<String>,
}

async fn cached_or_translated(
    db: &Db,
    translation: &Translation,
    text: &str,
    hash: &str,
    source: Language,
    target: Language,
) -> Result<(Done, bool), TranslateError> {
    let key = CacheKey {
        text_hash: hash,
        language_from: source.code(),
        language_to: target.code(),
    };
    let lookup = || async {
        translations::hit(db, key)
            .await
            .map_err(|e| TranslateError::Cache(e.to_string()))
    };
    let from_cache = |row: translations::CachedTranslation| {
        translation.hits.fetch_add(1, Ordering::Relaxed);
        Done {
            warnings: caption::limit_problems(&row.text_translated, &translation.limits),
            provider: ProviderKind::parse(&row.service).unwrap_or(translation.provider()),
            text: row.text_translated,
        }
    };
    if let Some(row) = lookup().await? {
        return Ok((from_cache(row), true));
    }
    let lock_key = format!("{hash}:{}:{}", source.code(), target.code());
    let lock = translation.key_lock(&lock_key);
    let guard = lock.lock().await;
    // Whoever held the lock before may have just filled the cache.
    if let Some(row) = lookup().await? {
        return Ok((from_cache(row), true));
    }
    translation.misses.fetch_add(1, Ordering::Relaxed);
    let outcome = match translate_with_fallback(translation, text, source, target).await {
        Ok(done) => translations::store(db, key, text, &done.text, done.provider.as_str())
            .await
            .map(|()| done)
            .map_err(|e| TranslateError::Cache(e.to_string())),
        Err(e) => Err(e),
    };
    drop(guard);
    translation.release(&lock_key);
    outcome.map(|d| (d, false))
}

async fn translate_with_fallback(
    translation: &Translation,
    text: &str,
    source: Language,
    target: Language,
) -> Result<Done, TranslateError> {
    let primary = &translation.primary;
    match translate_text(primary.as_ref(), text, source, target, &translation.limits).await {
        Err(TranslateError::QuotaExceeded { provider }) if translation.fallback.is_some() => {
            let fallback = translation
                .fallback
                .as_deref()
                .ok_or(TranslateError::NotConfigured)?;
            let mut done =
                translate_text(fallback, text, source, target, &translation.limits).await?;
            done.warnings.insert(
                0,
                format!(
                    "the {provider} quota is used up: translated with {}",
                    fallback.kind()
                ),
            );
            Ok(done)
        }
        other => other,
    }
}

/// Translates one caption with one provider: XML placeholders where the provider and the
/// target support them, else (or when the placeholders did not survive) prose fragments
/// with the whole caption as context. Only a result that passes [`caption::validate`]
/// leaves this function.
async fn translate_text(
    tr: &dyn Translator,
    text: &str,
    source: Language,
    target: Language,
    limits: &CaptionRules,
) -> Result<Done, TranslateError> {
    let pieces = caption::tokenize(text);
    let (body, tail) = caption::split_tail(&pieces);
    let tail: String = tail.iter().map(Piece::as_str).collect();
    let mut warnings = Vec::new();
    let done = |candidate: String, mut warnings: Vec<String>| -> Result<Done, TranslateError> {
        let len = caption::caption_len(&candidate);
        let max = limits.max_chars;
        if len > max && caption::caption_len(text) <= max {
            return Err(TranslateError::OverLimit(format!(
                "the translation is {len} characters long; Instagram allows {max}. \
                 Shorten the caption or write this language by hand"
            )));
        }
        warnings.extend(caption::limit_problems(&candidate, limits));
        Ok(Done {
            text: candidate,
            provider: tr.kind(),
            warnings,
        })
    };
    let fragments = caption::fragments(body);
    if fragments.is_empty() {
        warnings.push("nothing to translate: the caption has no words".into());
        return done(text.to_owned(), warnings);
    }

    tr.prepare().await;
    if tr.supports_markup(target) {
        let xml = caption::to_placeholders(body);
        let body_ws = {
            let b: String = body.iter().map(Piece::as_str).collect();
            b[b.trim_end().len()..].to_owned()
        };
        let texts = [xml];
        let out = tr
            .translate(Batch {
                texts: &texts,
                source,
                target,
                markup: true,
                context: None,
            })
            .await?;
        let problem = match out.first().map(|t| caption::from_placeholders(body, t)) {
            Some(Ok(restored)) => {
                let candidate = format!("{}{body_ws}{tail}", restored.trim_end());
                let report = caption::validate(text, &candidate, limits);
                if report.is_intact() {
                    return done(candidate, warnings);
                }
                report.corruptions.join("; ")
            }
            Some(Err(c)) => c.0,
            None => "no translation came back".into(),
        };
        tracing::warn!(provider = tr.kind().as_str(), target = target.code(), %problem,
            "placeholders did not survive; translating fragment by fragment");
        warnings.push(format!(
            "the provider did not keep the protected parts in place ({problem}); \
             translated fragment by fragment instead"
        ));
    }

    let texts: Vec<String> = fragments.iter().map(|(_, t)| (*t).to_owned()).collect();
    let out = tr
        .translate(Batch {
            texts: &texts,
            source,
            target,
            markup: false,
            context: Some(text),
        })
        .await?;
    let body_text =
        caption::from_fragments(body, &out).map_err(|c| TranslateError::Corrupted(c.0))?;
    let candidate = format!("{body_text}{tail}");
    let report = caption::validate(text, &candidate, limits);
    if !report.is_intact() {
        return Err(TranslateError::Corrupted(report.corruptions.join("; ")));
    }
    done(candidate, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider that slips a hashtag of its own into everything it translates.
    struct AddsAHashtag;

    impl Translator for AddsAHashtag {
        fn kind(&self) -> ProviderKind {
            ProviderKind::DeepL
        }

        fn supports_markup(&self, _target: Language) -> bool {
            true
        }

        fn translate<'a>(
            &'a self,
            batch: Batch<'a>,
        ) -> futures_util::future::BoxFuture<'a, Result<Vec<String>, TranslateError>> {
            let out = batch.texts.iter().map(|t| format!("{t} #extra")).collect();
            Box::pin(async move { Ok(out) })
        }
    }

    #[tokio::test]
    async fn a_translation_that_adds_a_hashtag_is_never_used() {
        let es = Language::parse("es").unwrap();
        let en = Language::parse("en").unwrap();
        let caption = "Sunny day at the beach, come along!\n\n#a #b #c #d #e";
        let result = translate_text(&AddsAHashtag, caption, en, es, &CaptionRules::default()).await;
        match result {
            Err(TranslateError::Corrupted(why)) => assert!(why.contains("#extra"), "{why}"),
            Err(other) => panic!("expected a corrupted translation, got {other}"),
            Ok(done) => panic!(
                "a translation with an added hashtag was used: {}",
                done.text
            ),
        }
    }

    #[test]
    fn normalisation_makes_equal_captions_share_a_key() {
        let a = normalise("  Cafe\u{0301}\r\nok ");
        let b = normalise("Café\nok");
        assert_eq!(a, b);
        assert_eq!(text_hash(&a), text_hash(&b));
        assert_eq!(text_hash(&a).len(), 64);
        assert_ne!(text_hash("a"), text_hash("b"));
    }
}
