//! Translating a caption into many languages: cache first, one provider call per key even
//! under concurrency, placeholders then fragments, and a validated result or a clear error.
//!
//! [`translate_caption`] is a plain async function over `&Db`, so the HTTP endpoint and the
//! `translate_text` job call the same code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use icf_core::glossary::Glossary;
use icf_core::language::Language;
use icf_store::Db;
use icf_store::translations::{self, CacheKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::caption::{self, CaptionRules, Kind, Piece};
use crate::error::TranslateError;
use crate::glossaries;
use crate::provider::{Batch, ProviderConfig, ProviderKind, RetryPolicy, Translator};
use crate::terms::{self, Terms};

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

    /// The configured provider that keeps glossaries of its own, if any (DeepL, as primary
    /// or fallback).
    fn glossary_keeper(&self) -> Option<&dyn Translator> {
        std::iter::once(self.primary.as_ref())
            .chain(self.fallback.as_deref())
            .find(|t| t.kind() == ProviderKind::DeepL)
    }

    /// Deletes a glossary's copy on the provider (after the glossary changed or was
    /// deleted). Best effort: a failure is logged, and the copy is merely left unused.
    pub async fn delete_remote_glossary(&self, id: &str) {
        if let Some(keeper) = self.glossary_keeper()
            && let Err(e) = keeper.delete_glossary(id).await
        {
            tracing::warn!(glossary = id, error = %e, "the old DeepL glossary was not deleted");
        }
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
    let glossaries = match glossaries::from_language(db, source).await {
        Ok(g) => g,
        // Translating without a glossary that may exist would cache a wrong translation.
        Err(e) => return failed_everywhere(targets, &e),
    };
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
        .map(|target| {
            let glossary = glossaries.iter().find(|g| g.target_lang == target.code());
            let pair = Pair { source, target };
            one_language(db, translation, text, hash, pair, glossary)
        })
        .collect();
    futures_util::stream::iter(jobs)
        .buffered(LANGUAGES_AT_ONCE)
        .collect()
        .await
}

/// Every language failed for the same reason.
fn failed_everywhere(targets: &[Language], e: &TranslateError) -> Vec<LanguageResult> {
    let mut out: Vec<LanguageResult> = Vec::new();
    for t in targets {
        if out.iter().all(|r| r.language != *t) {
            out.push(LanguageResult {
                language: *t,
                text: None,
                from_cache: false,
                provider: None,
                warnings: Vec::new(),
                error: Some(ResultError {
                    code: e.code(),
                    message: e.to_string(),
                }),
            });
        }
    }
    out
}

/// The languages of one translation.
#[derive(Debug, Clone, Copy)]
struct Pair {
    source: Language,
    target: Language,
}

async fn one_language(
    db: &Db,
    translation: &Translation,
    text: &str,
    hash: &str,
    Pair { source, target }: Pair,
    glossary: Option<&Glossary>,
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
    let pair = Pair { source, target };
    match cached_or_translated(db, translation, text, hash, pair, glossary).await {
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

/// The cache key's hash: the text's own when no glossary term is in it, else the text's
/// and the applied entries' (see `crate::glossaries` for why this is the invalidation).
fn key_hash(text: &str, hash: &str, glossary: Option<&Glossary>) -> (String, bool) {
    let Some(g) = glossary else {
        return (hash.to_owned(), false);
    };
    let terms = Terms::new(&g.entries);
    let applied = terms::applied(text, &terms);
    if applied.is_empty() {
        return (hash.to_owned(), false);
    }
    let keyed = format!("{text}\u{0}glossary\u{0}{}", terms::key_part(&applied));
    (text_hash(&keyed), true)
}

async fn cached_or_translated(
    db: &Db,
    translation: &Translation,
    text: &str,
    hash: &str,
    Pair { source, target }: Pair,
    glossary: Option<&Glossary>,
) -> Result<(Done, bool), TranslateError> {
    let (hash, glossed) = key_hash(text, hash, glossary);
    // A glossary none of whose terms the text holds changes nothing: no DeepL copy needed.
    let glossary = glossary.filter(|_| glossed);
    let hash = hash.as_str();
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
    let pair = Pair { source, target };
    let outcome = match translate_with_fallback(db, translation, text, pair, glossary).await {
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
    db: &Db,
    translation: &Translation,
    text: &str,
    pair: Pair,
    glossary: Option<&Glossary>,
) -> Result<Done, TranslateError> {
    let primary = translation.primary.as_ref();
    match with_glossary(db, translation, primary, text, pair, glossary).await {
        Err(TranslateError::QuotaExceeded { provider }) if translation.fallback.is_some() => {
            let fallback = translation
                .fallback
                .as_deref()
                .ok_or(TranslateError::NotConfigured)?;
            let mut done = with_glossary(db, translation, fallback, text, pair, glossary).await?;
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

/// How a glossary reaches one provider call.
#[derive(Clone, Copy)]
enum Glossing<'a> {
    None,
    /// The provider's own copy, named in the request (DeepL).
    Remote(&'a str),
    /// icf protects the terms and puts the glossary's translations in place.
    Protect(&'a Terms<'a>),
}

/// One provider's translation with the glossary applied its way: by the provider's own
/// copy where it keeps glossaries for the pair, else by protecting the terms.
async fn with_glossary(
    db: &Db,
    translation: &Translation,
    tr: &dyn Translator,
    text: &str,
    pair: Pair,
    glossary: Option<&Glossary>,
) -> Result<Done, TranslateError> {
    let (source, target, limits) = (pair.source, pair.target, &translation.limits);
    let Some(g) = glossary else {
        return translate_text(tr, text, source, target, limits, Glossing::None).await;
    };
    if !tr.has_glossaries(source, target) {
        let terms = Terms::new(&g.entries);
        return translate_text(tr, text, source, target, limits, Glossing::Protect(&terms)).await;
    }
    let lock_key = format!("glossary:{}:{}", g.id, g.version);
    let mut g = g.clone();
    for attempt in 0..2 {
        let lock = translation.key_lock(&lock_key);
        let remote = glossaries::remote(db, tr, &g, &lock).await;
        translation.release(&lock_key);
        let remote = remote?;
        let glossing = Glossing::Remote(&remote.id);
        let out = translate_text(tr, text, source, target, limits, glossing).await;
        if remote.temporary
            && let Err(e) = tr.delete_glossary(&remote.id).await
        {
            tracing::warn!(error = %e, "a one-off DeepL glossary was not deleted");
        }
        match out {
            // DeepL no longer knows the recorded copy (deleted there, another account's
            // key): forget it and make another, once.
            Err(TranslateError::Rejected { status: 404, .. }) if attempt == 0 => {
                glossaries::forget_remote(db, &g, &remote.id).await?;
                g.deepl_glossary_id = None;
            }
            other => return other,
        }
    }
    Err(TranslateError::Corrupted(
        "the glossary could not be used".into(),
    ))
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
    glossing: Glossing<'_>,
) -> Result<Done, TranslateError> {
    let (pieces, glossary_id) = match glossing {
        Glossing::None => (caption::tokenize(text), None),
        Glossing::Remote(id) => (caption::tokenize(text), Some(id)),
        Glossing::Protect(terms) => (terms::protect(caption::tokenize(text), terms), None),
    };
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
        // Nothing for the provider; the glossary's translations may still stand in.
        if !pieces
            .iter()
            .any(|p| matches!(p, Piece::Protected(Kind::Term, _)))
        {
            warnings.push("nothing to translate: the caption has no words".into());
        }
        return done(pieces.iter().map(Piece::as_str).collect(), warnings);
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
                glossary_id,
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
            glossary_id,
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
        let rules = CaptionRules::default();
        let result = translate_text(&AddsAHashtag, caption, en, es, &rules, Glossing::None).await;
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
