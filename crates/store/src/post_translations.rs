//! `post_translations`: one caption per post and language, with where it came from.

use chrono::{DateTime, Utc};
use icf_core::enums::TranslationOrigin;
use icf_core::ids::{AccountId, GroupId, PostId};
use icf_core::post::{PostTexts, PostTranslation};
use sqlx::types::Json;

use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(sqlx::FromRow)]
struct Row {
    language: String,
    text: String,
    origin: String,
    stale: bool,
    provider: Option<String>,
    first_comment: Option<String>,
    alt_text: Option<Json<Vec<String>>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for PostTranslation {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(PostTranslation {
            language: r.language,
            text: r.text,
            origin: r
                .origin
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("post_translations.origin: {e}")))?,
            stale: r.stale,
            provider: r.provider,
            first_comment: r.first_comment,
            alt_text: r.alt_text.map(|j| j.0).unwrap_or_default(),
            updated_at: r.updated_at,
        })
    }
}

pub async fn list(db: &Db, post: PostId) -> Result<Vec<PostTranslation>, StoreError> {
    let rows: Vec<Row> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT language, text, origin, stale, provider, first_comment, alt_text, updated_at \
         FROM post_translations \
         WHERE post_id = $1 ORDER BY language"
    )
    .bind(DbUuid::from(post))
    .fetch_all(pool)
    .await?);
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Writes a post's texts for one language (caption, first comment, alt texts). A machine or
/// source text never replaces a person's edit unless `overwrite_edits`; returns whether it
/// was written.
pub async fn put(
    db: &Db,
    post: PostId,
    language: &str,
    texts: &PostTexts,
    origin: TranslationOrigin,
    provider: Option<&str>,
    overwrite_edits: bool,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let protect_edits = origin != TranslationOrigin::Edited && !overwrite_edits;
    let alt_text = (!texts.alt_text.is_empty()).then_some(Json(&texts.alt_text));
    let done = on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO post_translations (post_id, language, text, origin, stale, provider, \
         first_comment, alt_text, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5, $8, $9, $6, $6) \
         ON CONFLICT (post_id, language) DO UPDATE SET text = excluded.text, origin = excluded.origin, \
         stale = FALSE, provider = excluded.provider, first_comment = excluded.first_comment, \
         alt_text = excluded.alt_text, updated_at = excluded.updated_at \
         WHERE NOT ($7 AND post_translations.origin = 'edited')"
    )
    .bind(DbUuid::from(post))
    .bind(language)
    .bind(&texts.caption)
    .bind(origin.as_str())
    .bind(provider)
    .bind(now)
    .bind(protect_edits)
    .bind(texts.first_comment.as_deref())
    .bind(alt_text)
    .execute(pool)
    .await?
    .rows_affected()
    });
    Ok(done > 0)
}

/// The source caption changed: the old machine translations no longer match it (they are
/// removed, to be translated again) and edits are kept but flagged for review.
pub async fn source_changed(db: &Db, post: PostId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM post_translations WHERE post_id = $1 AND origin IN ('machine', 'source')"
    )
    .bind(DbUuid::from(post))
    .execute(pool)
    .await
    .map(|_| ())?);
    on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE post_translations SET stale = TRUE, updated_at = $2 WHERE post_id = $1 AND origin = 'edited'"
    )
    .bind(DbUuid::from(post))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?
    });
    Ok(())
}

/// The distinct languages of the accounts in `groups`.
pub async fn languages_of_groups(db: &Db, groups: &[GroupId]) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::new();
    for &g in groups {
        let langs: Vec<String> = on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT DISTINCT language FROM accounts WHERE group_id = $1"
        )
        .bind(DbUuid::from(g))
        .fetch_all(pool)
        .await?);
        out.extend(langs);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Every account of `groups` with its language, in a stable order: who gets which variant
/// of a caption with alternatives.
pub async fn accounts_of_groups(
    db: &Db,
    groups: &[GroupId],
) -> Result<Vec<(AccountId, String)>, StoreError> {
    let mut out = Vec::new();
    for &g in groups {
        let rows: Vec<(DbUuid, String)> = on_pool!(db, |pool| sqlx::query_as(
            "SELECT id, language FROM accounts WHERE group_id = $1 ORDER BY id"
        )
        .bind(DbUuid::from(g))
        .fetch_all(pool)
        .await?);
        out.extend(rows.into_iter().map(|(id, lang)| (id.into_id(), lang)));
    }
    Ok(out)
}
