//! Glossaries: one per language pair (the caption's language → the account's language),
//! each term's forced translation. Admins write them, editors read them: a glossary
//! changes every translation of its pair, for every post and every operator, like a group's
//! settings do. Changes are not activity-logged (the activity log is about accounts; other
//! admin settings, groups and proxies, are not logged either).
//!
//! A change deletes the cached translations it made stale (`icf_translate::glossaries`
//! says why the cache key alone already keeps them from being served) and the glossary's
//! old copy on DeepL; the next translation that needs the glossary uploads the new one.
//! Post captions already translated keep their text until the post is translated again.

use icf_core::glossary::{
    self, Glossary, GlossaryEntry, RawEntries, check_entries, parse_name, parse_pair,
};
use icf_core::ids::GlossaryId;
use icf_store::StoreError;
use icf_store::glossaries::GlossaryFields;
use serde::Deserialize;

use crate::{App, AppError, AppResult};

/// A new glossary.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Brand terms EN→DE", "source_lang": "en", "target_lang": "de", "entries": {"machine learning": "maschinelles Lernen", "icf": "icf"}})))]
pub struct CreateGlossary {
    /// Unique regardless of case, 1 to 100 characters.
    pub name: String,
    /// The captions' language (`en`).
    pub source_lang: String,
    /// The accounts' language (`de`, `pt-BR`): one glossary per pair.
    pub target_lang: String,
    /// Term → translation; terms match whole words regardless of case, the longest first.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub entries: RawEntries,
}

/// A glossary's changes; an absent field stays as it is. `entries` replaces them all.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateGlossary {
    pub name: Option<String>,
    pub source_lang: Option<String>,
    pub target_lang: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::BTreeMap<String, String>>))]
    pub entries: Option<RawEntries>,
    /// The version the change was made on (from `GET`): a glossary changed meanwhile is
    /// refused with 409 instead of being overwritten unseen. Absent: the current one.
    pub version: Option<i64>,
}

/// A glossary from a file: two columns (term, translation), CSV, TSV or `;`-separated,
/// with an optional header line.
#[derive(Debug)]
pub struct ImportGlossary {
    pub name: String,
    pub source_lang: String,
    pub target_lang: String,
    pub file: String,
    /// Replace the entries of the pair's glossary when there is one (else: 409).
    pub replace: bool,
}

fn glossary_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("glossary"),
        StoreError::Conflict { field } if field == "version" => AppError::conflict(
            Some("version"),
            "the glossary was changed meanwhile; reload it and make the change again",
        ),
        StoreError::Conflict { field } if field == "name" => {
            AppError::conflict(Some("name"), "a glossary with this name already exists")
        }
        StoreError::Conflict { .. } => AppError::conflict(
            Some("target_lang"),
            "this language pair already has a glossary",
        ),
        other => other.into(),
    }
}

/// Every glossary, by name.
pub async fn list(app: &App) -> AppResult<Vec<Glossary>> {
    Ok(icf_store::glossaries::list(&app.db).await?)
}

pub async fn get(app: &App, id: GlossaryId) -> AppResult<Glossary> {
    icf_store::glossaries::get(&app.db, id)
        .await
        .map_err(glossary_error)
}

/// Refuses a pair that another glossary serves, naming it.
async fn pair_is_free(
    app: &App,
    source: &str,
    target: &str,
    except: Option<GlossaryId>,
) -> AppResult<()> {
    match icf_store::glossaries::for_pair(&app.db, source, target).await? {
        Some(g) if Some(g.id) != except => Err(AppError::conflict(
            Some("target_lang"),
            format!(
                "the glossary \"{}\" already serves {source} → {target}; edit it instead",
                g.name
            ),
        )),
        _ => Ok(()),
    }
}

/// A new glossary for a pair that has none.
pub async fn create(app: &App, req: CreateGlossary) -> AppResult<Glossary> {
    let name = parse_name(&req.name)?;
    let (source, target) = parse_pair(&req.source_lang, &req.target_lang)?;
    let entries = check_entries("entries", req.entries.0)?;
    pair_is_free(app, source.code(), target.code(), None).await?;
    let fields = GlossaryFields {
        name: &name,
        source_lang: source.code(),
        target_lang: target.code(),
        entries: &entries,
    };
    let made = icf_store::glossaries::create(&app.db, fields)
        .await
        .map_err(glossary_error)?;
    after_change(app, None, Some(&made)).await;
    Ok(made)
}

pub async fn update(app: &App, id: GlossaryId, req: UpdateGlossary) -> AppResult<Glossary> {
    let old = get(app, id).await?;
    let name = parse_name(req.name.as_deref().unwrap_or(&old.name))?;
    let (source, target) = parse_pair(
        req.source_lang.as_deref().unwrap_or(&old.source_lang),
        req.target_lang.as_deref().unwrap_or(&old.target_lang),
    )?;
    let entries: Vec<GlossaryEntry> = match req.entries {
        Some(raw) => check_entries("entries", raw.0)?,
        None => old.entries.clone(),
    };
    pair_is_free(app, source.code(), target.code(), Some(id)).await?;
    let fields = GlossaryFields {
        name: &name,
        source_lang: source.code(),
        target_lang: target.code(),
        entries: &entries,
    };
    let version = req.version.unwrap_or(old.version);
    let new = icf_store::glossaries::update(&app.db, id, version, fields)
        .await
        .map_err(glossary_error)?;
    after_change(app, Some(&old), Some(&new)).await;
    Ok(new)
}

pub async fn delete(app: &App, id: GlossaryId) -> AppResult<()> {
    let gone = icf_store::glossaries::delete(&app.db, id)
        .await
        .map_err(glossary_error)?;
    after_change(app, Some(&gone), None).await;
    Ok(())
}

/// A glossary from a CSV or TSV file: a new one, or (with `replace`) the pair's glossary
/// with the file's entries and name.
pub async fn import(app: &App, req: ImportGlossary) -> AppResult<Glossary> {
    let raw = glossary::parse_file(&req.file)?;
    let (source, target) = parse_pair(&req.source_lang, &req.target_lang)?;
    let existing = icf_store::glossaries::for_pair(&app.db, source.code(), target.code()).await?;
    let entries = RawEntries(raw);
    match existing {
        Some(g) if req.replace => {
            let change = UpdateGlossary {
                name: Some(req.name),
                entries: Some(entries),
                version: Some(g.version),
                ..UpdateGlossary::default()
            };
            update(app, g.id, change).await
        }
        _ => {
            let new = CreateGlossary {
                name: req.name,
                source_lang: req.source_lang,
                target_lang: req.target_lang,
                entries,
            };
            create(app, new).await
        }
    }
}

/// What a committed change leaves to tidy: the cached translations it made unreachable
/// and the old copy on DeepL. Neither can undo the change, so a failure is only logged.
async fn after_change(app: &App, old: Option<&Glossary>, new: Option<&Glossary>) {
    match icf_translate::glossaries::forget_changed(&app.db, old, new).await {
        Ok(n) if n > 0 => {
            tracing::info!(
                forgotten = n,
                "cached translations a glossary change touched were deleted"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "stale cached translations were not deleted"),
    }
    let stale = old
        .and_then(|o| o.deepl_glossary_id.clone())
        .filter(|id| new.and_then(|n| n.deepl_glossary_id.as_ref()) != Some(id));
    if let (Some(id), Some(translation)) = (stale, app.translation.clone()) {
        // DeepL may be slow or down: the answer does not wait for it.
        tokio::spawn(async move { translation.delete_remote_glossary(&id).await });
    }
}
