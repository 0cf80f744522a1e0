//! `snippets`: caption snippets and hashtag sets per group and language.

use chrono::{DateTime, Utc};
use icf_core::caption::CaptionCounts;
use icf_core::ids::{GroupId, SnippetId};
use icf_core::snippet::Snippet;

use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(sqlx::FromRow)]
struct SnippetRow {
    id: DbUuid,
    name: String,
    group_id: Option<DbUuid>,
    language: String,
    text: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SnippetRow> for Snippet {
    fn from(r: SnippetRow) -> Self {
        Snippet {
            id: r.id.into_id(),
            hashtags: CaptionCounts::of(&r.text).hashtags,
            name: r.name,
            group_id: r.group_id.map(DbUuid::into_id),
            language: r.language,
            text: r.text,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, name, group_id, language, text, created_at, updated_at";

/// A snippet's fields, checked by the caller.
#[derive(Debug, Clone)]
pub struct SnippetFields {
    pub name: String,
    pub group_id: Option<GroupId>,
    pub language: String,
    pub text: String,
}

/// What a list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct SnippetFilter {
    /// This group's snippets and those for every group.
    pub group_id: Option<GroupId>,
    pub language: Option<String>,
}

pub async fn create(db: &Db, f: &SnippetFields) -> Result<Snippet, StoreError> {
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO snippets (id, name, name_key, group_id, language, text, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
    );
    let row: SnippetRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(SnippetId::new()))
        .bind(&f.name)
        .bind(f.name.to_lowercase())
        .bind(f.group_id.map(DbUuid::from))
        .bind(&f.language)
        .bind(&f.text)
        .bind(now)
        .fetch_one(pool)
        .await?);
    Ok(row.into())
}

pub async fn get(db: &Db, id: SnippetId) -> Result<Snippet, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM snippets WHERE id = $1");
    let row: SnippetRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    Ok(row.into())
}

/// Snippets by language, then name.
pub async fn list(db: &Db, filter: &SnippetFilter) -> Result<Vec<Snippet>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM snippets \
         WHERE ($1 IS NULL OR group_id IS NULL OR group_id = $1) AND ($2 IS NULL OR language = $2) \
         ORDER BY language, name_key, id"
    );
    let rows: Vec<SnippetRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(filter.group_id.map(DbUuid::from))
            .bind(filter.language.as_deref())
            .fetch_all(pool)
            .await?);
    Ok(rows.into_iter().map(Snippet::from).collect())
}

pub async fn update(db: &Db, id: SnippetId, f: &SnippetFields) -> Result<Snippet, StoreError> {
    let sql = format!(
        "UPDATE snippets SET name = $2, name_key = $3, group_id = $4, language = $5, text = $6, \
         updated_at = $7 WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row: SnippetRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .bind(&f.name)
        .bind(f.name.to_lowercase())
        .bind(f.group_id.map(DbUuid::from))
        .bind(&f.language)
        .bind(&f.text)
        .bind(Utc::now())
        .fetch_one(pool)
        .await?);
    Ok(row.into())
}

/// `false` when there was no such snippet.
pub async fn delete(db: &Db, id: SnippetId) -> Result<bool, StoreError> {
    let n = on_pool!(db, |pool| sqlx::query("DELETE FROM snippets WHERE id = $1")
        .bind(DbUuid::from(id))
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n > 0)
}
