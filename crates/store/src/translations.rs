//! The translation cache (`translations_cache`): one row per normalised source text and
//! language pair, with a hit counter. A hit costs no provider request.

use chrono::Utc;
use uuid::Uuid;

use crate::{Db, DbUuid, StoreError, on_pool};

/// A translation found in the cache.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CachedTranslation {
    pub text_translated: String,
    pub service: String,
    pub hits: i32,
}

/// The cache key: `text_hash` is the hex sha256 of the normalised source text.
#[derive(Debug, Clone, Copy)]
pub struct CacheKey<'a> {
    pub text_hash: &'a str,
    pub language_from: &'a str,
    pub language_to: &'a str,
}

/// Looks a translation up and counts the hit.
pub async fn hit(db: &Db, key: CacheKey<'_>) -> Result<Option<CachedTranslation>, StoreError> {
    let sql = "UPDATE translations_cache SET hits = hits + 1 \
               WHERE text_hash = $1 AND language_from = $2 AND language_to = $3 \
               RETURNING text_translated, service, hits";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, CachedTranslation>(sql)
        .bind(key.text_hash)
        .bind(key.language_from)
        .bind(key.language_to)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Stores a validated translation; a newer one for the same key replaces the old one.
pub async fn store(
    db: &Db,
    key: CacheKey<'_>,
    text_original: &str,
    text_translated: &str,
    service: &str,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO translations_cache \
               (id, text_hash, text_original, language_from, language_to, text_translated, service, hits, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) \
               ON CONFLICT (text_hash, language_from, language_to) DO UPDATE \
               SET text_translated = excluded.text_translated, service = excluded.service";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(DbUuid(Uuid::now_v7()))
        .bind(key.text_hash)
        .bind(text_original)
        .bind(key.language_from)
        .bind(key.language_to)
        .bind(text_translated)
        .bind(service)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Deletes the cached translations of one language pair whose source text `affected`
/// says yes to; returns how many. The texts are read and judged in Rust (a glossary's
/// whole-word, case-insensitive matching is not SQL's), which is fine for an admin's rare
/// change.
pub async fn forget(
    db: &Db,
    language_from: &str,
    language_to: &str,
    affected: impl Fn(&str) -> bool,
) -> Result<u64, StoreError> {
    let rows: Vec<(DbUuid, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, text_original FROM translations_cache \
         WHERE language_from = $1 AND language_to = $2"
    )
    .bind(language_from)
    .bind(language_to)
    .fetch_all(pool)
    .await?);
    let ids: Vec<DbUuid> = rows
        .into_iter()
        .filter(|(_, text)| affected(text))
        .map(|(id, _)| id)
        .collect();
    let mut gone = 0;
    for id in ids {
        gone += on_pool!(db, |pool| sqlx::query(
            "DELETE FROM translations_cache WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
    }
    Ok(gone)
}

/// How many translations are cached and how often they were reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CacheStats {
    pub entries: i64,
    pub hits: i64,
}

pub async fn stats(db: &Db) -> Result<CacheStats, StoreError> {
    let sql = "SELECT COUNT(*) AS entries, CAST(COALESCE(SUM(hits), 0) AS BIGINT) AS hits \
               FROM translations_cache";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, CacheStats>(sql)
        .fetch_one(pool)
        .await?);
    Ok(row)
}
