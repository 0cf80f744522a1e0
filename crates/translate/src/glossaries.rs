//! Glossaries at translation time: which one applies, its copy on the provider (DeepL),
//! and which cached translations a change makes unreachable.
//!
//! **Which glossary.** The one whose pair is exactly the translation's (icf's codes: the
//! caption's language → the account's language; a `pt-BR` account uses an `en → pt-BR`
//! glossary). Every translation goes through it: a post's captions, first comment and alt
//! texts, `POST /api/translate` and the `translate_text` job.
//!
//! **The cache key.** A cached translation depends on the glossary entries whose terms its
//! source holds (`terms::applied`), and only on those: the key is the source text's hash
//! when it holds none (as before glossaries existed), else the hash of the text and those
//! entries. So a change (a term added, removed, or translated otherwise) changes the key of
//! exactly the captions holding that term, in every process at once, with no stale read
//! possible between a change and a purge; every other caption of the pair keeps its cached
//! translation. The rows the change made unreachable are then deleted ([`forget_changed`])
//! so they do not pile up; correctness never depends on that delete.
//!
//! **DeepL's copy.** DeepL's v2 glossaries cannot be edited. A change clears the stored id
//! in the same statement that bumps the version (`icf_store::glossaries::update`); the old
//! copy is deleted on DeepL right after the change (best effort, by the caller); a new copy
//! is made lazily, by the first translation that needs one (a caption holding a term), and
//! recorded for that version only (compare-and-set), so a glossary nobody uses costs no
//! DeepL request and two processes never record copies of different versions.

use std::collections::BTreeSet;

use icf_core::glossary::{Glossary, GlossaryEntry};
use icf_core::language::Language;
use icf_store::{Db, StoreError};

use crate::error::TranslateError;
use crate::provider::{GlossaryUpload, Translator};
use crate::terms::{self, Terms};

fn cache_error(e: StoreError) -> TranslateError {
    TranslateError::Cache(e.to_string())
}

/// The glossaries from `source`, one query for all of a caption's target languages.
pub(crate) async fn from_language(
    db: &Db,
    source: Language,
) -> Result<Vec<Glossary>, TranslateError> {
    icf_store::glossaries::from_language(db, source.code())
        .await
        .map_err(cache_error)
}

/// The provider's copy of a glossary for one translation.
pub(crate) struct Remote {
    pub id: String,
    /// Made for this translation only (the glossary changed meanwhile, so the copy could
    /// not be recorded): delete it after use.
    pub temporary: bool,
}

/// The provider's copy of `g` as loaded (the version the cache key was computed from):
/// the recorded one, else a new one, made under `lock` so one process makes one.
pub(crate) async fn remote(
    db: &Db,
    tr: &dyn Translator,
    g: &Glossary,
    lock: &tokio::sync::Mutex<()>,
) -> Result<Remote, TranslateError> {
    if let Some(id) = &g.deepl_glossary_id {
        return Ok(Remote {
            id: id.clone(),
            temporary: false,
        });
    }
    let _guard = lock.lock().await;
    // Whoever held the lock may have just made and recorded one.
    let now = icf_store::glossaries::get(db, g.id).await.ok();
    if let Some(now) = &now
        && now.version == g.version
        && let Some(id) = &now.deepl_glossary_id
    {
        return Ok(Remote {
            id: id.clone(),
            temporary: false,
        });
    }
    let (source, target) = pair(g)?;
    let id = tr
        .create_glossary(GlossaryUpload {
            name: &format!("icf {} v{}", g.name, g.version),
            source,
            target,
            entries: &g.entries,
        })
        .await?;
    let recorded = icf_store::glossaries::set_deepl_id(db, g.id, g.version, &id)
        .await
        .map_err(cache_error)?;
    if !recorded {
        tracing::info!(glossary = %g.id, version = g.version,
            "the glossary changed while its DeepL copy was made; the copy serves this translation only");
    }
    Ok(Remote {
        id,
        temporary: !recorded,
    })
}

/// Forgets a recorded copy the provider no longer knows, so the next use makes another.
pub(crate) async fn forget_remote(db: &Db, g: &Glossary, id: &str) -> Result<(), TranslateError> {
    icf_store::glossaries::clear_deepl_id(db, g.id, id)
        .await
        .map_err(cache_error)
}

fn pair(g: &Glossary) -> Result<(Language, Language), TranslateError> {
    let parse = |code: &str| {
        Language::parse(code)
            .map_err(|e| TranslateError::Cache(format!("glossary {}: {}", g.id, e.message)))
    };
    Ok((parse(&g.source_lang)?, parse(&g.target_lang)?))
}

/// Deletes the cached translations of `pair` whose source holds one of `changed` (terms).
async fn forget_terms(
    db: &Db,
    (from, to): (&str, &str),
    changed: Vec<String>,
) -> Result<u64, StoreError> {
    if changed.is_empty() {
        return Ok(0);
    }
    let entries: Vec<GlossaryEntry> = changed
        .into_iter()
        .map(|term| GlossaryEntry {
            term,
            translation: String::new(),
        })
        .collect();
    let terms = Terms::new(&entries);
    icf_store::translations::forget(db, from, to, |text| terms.any_in(text)).await
}

/// After a glossary changed (`old` → `new`; `None` when created or deleted): deletes the
/// cached translations the change made unreachable, those whose source holds a term that
/// was added, removed or translated otherwise. Returns how many.
pub async fn forget_changed(
    db: &Db,
    old: Option<&Glossary>,
    new: Option<&Glossary>,
) -> Result<u64, StoreError> {
    let key = |g: &Glossary| (g.source_lang.clone(), g.target_lang.clone());
    let all = |g: &Glossary| -> Vec<String> {
        let set: BTreeSet<String> = g.entries.iter().map(|e| e.term.to_lowercase()).collect();
        set.into_iter().collect()
    };
    match (old, new) {
        (Some(o), Some(n)) if key(o) == key(n) => {
            let changed = terms::changed(&o.entries, &n.entries);
            forget_terms(db, (&o.source_lang, &o.target_lang), changed).await
        }
        (o, n) => {
            let mut gone = 0;
            for g in [o, n].into_iter().flatten() {
                gone += forget_terms(db, (&g.source_lang, &g.target_lang), all(g)).await?;
            }
            Ok(gone)
        }
    }
}
