//! Glossaries: one per language pair, each with its entries, a version that goes up on every
//! change, and the id of its copy on DeepL (cleared by every change, set again by the next
//! translation that needs it, each time only for the version it was made from).

use chrono::{DateTime, Utc};
use icf_core::glossary::{Glossary, GlossaryEntry, name_key};
use icf_core::ids::GlossaryId;
use sqlx::types::Json;

use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(Debug, sqlx::FromRow)]
struct GlossaryRow {
    id: DbUuid,
    name: String,
    source_lang: String,
    target_lang: String,
    entries: Json<Vec<GlossaryEntry>>,
    version: i64,
    deepl_glossary_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<GlossaryRow> for Glossary {
    fn from(r: GlossaryRow) -> Self {
        let entries = r.entries.0;
        Glossary {
            id: r.id.into_id(),
            name: r.name,
            source_lang: r.source_lang,
            target_lang: r.target_lang,
            entry_count: entries.len(),
            entries,
            version: r.version,
            deepl_glossary_id: r.deepl_glossary_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, name, source_lang, target_lang, entries, version, deepl_glossary_id, \
                       created_at, updated_at";

/// What a glossary is made of (checked by the caller: `icf_core::glossary`).
#[derive(Debug, Clone, Copy)]
pub struct GlossaryFields<'a> {
    pub name: &'a str,
    pub source_lang: &'a str,
    pub target_lang: &'a str,
    pub entries: &'a [GlossaryEntry],
}

/// The unique keys speak of the API's fields: `name`, and the pair as `target_lang`.
fn conflict(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { field } => StoreError::Conflict {
            field: if field.starts_with("name") {
                "name".into()
            } else {
                "target_lang".into()
            },
        },
        other => other,
    }
}

pub async fn create(db: &Db, new: GlossaryFields<'_>) -> Result<Glossary, StoreError> {
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO glossaries (id, name, name_key, source_lang, target_lang, entries, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING {COLUMNS}"
    );
    let row: GlossaryRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(GlossaryId::new()))
        .bind(new.name)
        .bind(name_key(new.name))
        .bind(new.source_lang)
        .bind(new.target_lang)
        .bind(Json(new.entries))
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(conflict)?);
    Ok(row.into())
}

pub async fn get(db: &Db, id: GlossaryId) -> Result<Glossary, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM glossaries WHERE id = $1");
    let row: GlossaryRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    Ok(row.into())
}

/// Every glossary, by name.
pub async fn list(db: &Db) -> Result<Vec<Glossary>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM glossaries ORDER BY name_key");
    let rows: Vec<GlossaryRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await?);
    Ok(rows.into_iter().map(Glossary::from).collect())
}

/// The glossaries from one source language (one query for all of a caption's targets).
pub async fn from_language(db: &Db, source_lang: &str) -> Result<Vec<Glossary>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM glossaries WHERE source_lang = $1");
    let rows: Vec<GlossaryRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(source_lang)
            .fetch_all(pool)
            .await?);
    Ok(rows.into_iter().map(Glossary::from).collect())
}

/// The glossary of a pair, if there is one.
pub async fn for_pair(
    db: &Db,
    source_lang: &str,
    target_lang: &str,
) -> Result<Option<Glossary>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM glossaries WHERE source_lang = $1 AND target_lang = $2");
    let row: Option<GlossaryRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(source_lang)
            .bind(target_lang)
            .fetch_optional(pool)
            .await?);
    Ok(row.map(Glossary::from))
}

/// Replaces a glossary's fields when it is still at `version` (compare-and-set, so two
/// editors cannot lose each other's change unseen): the version goes up and the DeepL copy
/// is forgotten in the same statement. `Conflict { field: "version" }` when it changed
/// meanwhile.
pub async fn update(
    db: &Db,
    id: GlossaryId,
    version: i64,
    fields: GlossaryFields<'_>,
) -> Result<Glossary, StoreError> {
    let sql = format!(
        "UPDATE glossaries SET name = $3, name_key = $4, source_lang = $5, target_lang = $6, \
         entries = $7, version = version + 1, deepl_glossary_id = NULL, updated_at = $8 \
         WHERE id = $1 AND version = $2 RETURNING {COLUMNS}"
    );
    let row: Option<GlossaryRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(DbUuid::from(id))
            .bind(version)
            .bind(fields.name)
            .bind(name_key(fields.name))
            .bind(fields.source_lang)
            .bind(fields.target_lang)
            .bind(Json(fields.entries))
            .bind(Utc::now())
            .fetch_optional(pool)
            .await
            .map_err(conflict)?);
    match row {
        Some(r) => Ok(r.into()),
        None => {
            get(db, id).await?;
            Err(StoreError::Conflict {
                field: "version".into(),
            })
        }
    }
}

/// Deletes a glossary; returns it as it was (its terms say which translations it touched).
pub async fn delete(db: &Db, id: GlossaryId) -> Result<Glossary, StoreError> {
    let sql = format!("DELETE FROM glossaries WHERE id = $1 RETURNING {COLUMNS}");
    let row: GlossaryRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    Ok(row.into())
}

/// Records the DeepL copy of `version`, unless the glossary changed meanwhile or another
/// process recorded one first. `false`: not recorded (the caller deletes its copy).
pub async fn set_deepl_id(
    db: &Db,
    id: GlossaryId,
    version: i64,
    deepl_id: &str,
) -> Result<bool, StoreError> {
    let n = on_pool!(db, |pool| sqlx::query(
        "UPDATE glossaries SET deepl_glossary_id = $3 \
         WHERE id = $1 AND version = $2 AND deepl_glossary_id IS NULL"
    )
    .bind(DbUuid::from(id))
    .bind(version)
    .bind(deepl_id)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Forgets a DeepL copy DeepL no longer knows (deleted there, another account's key).
pub async fn clear_deepl_id(db: &Db, id: GlossaryId, deepl_id: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE glossaries SET deepl_glossary_id = NULL WHERE id = $1 AND deepl_glossary_id = $2"
    )
    .bind(DbUuid::from(id))
    .bind(deepl_id)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
