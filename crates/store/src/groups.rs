//! Groups of accounts (IT, Finance, News…) with live counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use icf_core::account::{Group, group_name_key};
use icf_core::enums::MediaVariants;
use icf_core::ids::GroupId;
use icf_core::pacing::ActiveHours;

use crate::tx::BeginWrite;
use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(Debug, sqlx::FromRow)]
struct GroupRow {
    id: DbUuid,
    name: String,
    description: String,
    active_from: Option<i32>,
    active_until: Option<i32>,
    media_variants: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct CountRow {
    group_id: DbUuid,
    language: String,
    status: String,
    n: i64,
}

impl GroupRow {
    fn into_group(self, counts: &[CountRow]) -> Result<Group, StoreError> {
        let mut languages = BTreeMap::new();
        let mut statuses = BTreeMap::new();
        let mut total = 0;
        for c in counts.iter().filter(|c| c.group_id == self.id) {
            *languages.entry(c.language.clone()).or_insert(0) += c.n;
            *statuses.entry(c.status.clone()).or_insert(0) += c.n;
            total += c.n;
        }
        Ok(Group {
            id: self.id.into_id(),
            name: self.name,
            description: self.description,
            active_hours: crate::executions::window(self.active_from, self.active_until)
                .map(|h| h.to_string()),
            media_variants: self
                .media_variants
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("groups.media_variants: {e}")))?,
            accounts_count: total,
            languages,
            statuses,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str =
    "id, name, description, active_from, active_until, media_variants, created_at, updated_at";

/// What a group is made with, besides its name.
#[derive(Debug, Clone)]
pub struct NewGroup<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub hours: Option<ActiveHours>,
    pub media_variants: MediaVariants,
}

/// A group's changes; `None` leaves a field as it is (`hours: Some(None)` clears the window).
#[derive(Debug, Clone, Default)]
pub struct GroupChanges<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub hours: Option<Option<ActiveHours>>,
    pub media_variants: Option<MediaVariants>,
}

/// A window as stored: its two ends in minutes, or two NULLs.
fn minutes(hours: Option<ActiveHours>) -> (Option<i32>, Option<i32>) {
    match hours {
        Some(h) => (
            Some(i32::from(h.from_minute())),
            Some(i32::from(h.until_minute())),
        ),
        None => (None, None),
    }
}

async fn counts(db: &Db, only: Option<GroupId>) -> Result<Vec<CountRow>, StoreError> {
    let rows = on_pool!(db, |pool| sqlx::query_as(
        "SELECT group_id, language, status, COUNT(*) AS n FROM accounts \
         WHERE group_id IS NOT NULL AND ($1 IS NULL OR group_id = $1) \
         GROUP BY group_id, language, status"
    )
    .bind(only.map(DbUuid::from))
    .fetch_all(pool)
    .await?);
    Ok(rows)
}

pub async fn create(db: &Db, new: NewGroup<'_>) -> Result<Group, StoreError> {
    let NewGroup {
        name,
        description,
        hours,
        media_variants,
    } = new;
    let now = Utc::now();
    let (from, until) = minutes(hours);
    let sql = format!(
        "INSERT INTO groups (id, name, name_key, description, created_at, updated_at, \
         active_from, active_until, media_variants) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) \
         RETURNING {COLUMNS}"
    );
    let row: GroupRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(GroupId::new()))
        .bind(name)
        .bind(group_name_key(name))
        .bind(description)
        .bind(now)
        .bind(from)
        .bind(until)
        .bind(media_variants.as_str())
        .fetch_one(pool)
        .await
        .map_err(name_conflict)?);
    row.into_group(&[])
}

/// `name_key` is an implementation detail; the API speaks of `name`.
fn name_conflict(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "name".into(),
        },
        other => other,
    }
}

pub async fn get(db: &Db, id: GroupId) -> Result<Group, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE id = $1");
    let row: GroupRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    let counts = counts(db, Some(id)).await?;
    row.into_group(&counts)
}

pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<Group>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE name_key = $1");
    let row: Option<GroupRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(group_name_key(name))
            .fetch_optional(pool)
            .await?);
    match row {
        Some(r) => {
            let id: GroupId = r.id.into_id();
            let counts = counts(db, Some(id)).await?;
            Ok(Some(r.into_group(&counts)?))
        }
        None => Ok(None),
    }
}

pub async fn list(db: &Db) -> Result<Vec<Group>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups ORDER BY name_key");
    let rows: Vec<GroupRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await?);
    let counts = counts(db, None).await?;
    rows.into_iter().map(|r| r.into_group(&counts)).collect()
}

pub async fn update(db: &Db, id: GroupId, changes: GroupChanges<'_>) -> Result<Group, StoreError> {
    let GroupChanges {
        name,
        description,
        hours,
        media_variants,
    } = changes;
    let (from, until) = minutes(hours.flatten());
    let sql = "UPDATE groups SET name = COALESCE($2, name), name_key = COALESCE($3, name_key), \
               description = COALESCE($4, description), updated_at = $5, \
               active_from = CASE WHEN $6 THEN $7 ELSE active_from END, \
               active_until = CASE WHEN $6 THEN $8 ELSE active_until END, \
               media_variants = COALESCE($9, media_variants) WHERE id = $1";
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(DbUuid::from(id))
        .bind(name)
        .bind(name.map(group_name_key))
        .bind(description)
        .bind(Utc::now())
        .bind(hours.is_some())
        .bind(from)
        .bind(until)
        .bind(media_variants.map(MediaVariants::as_str))
        .execute(pool)
        .await
        .map_err(name_conflict)?
        .rows_affected());
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    get(db, id).await
}

/// What happens to a group's accounts when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Refuse if the group has accounts.
    Refuse,
    /// The accounts stay, without a group.
    Ungroup,
    /// The accounts move to another group.
    MoveTo(GroupId),
    /// The accounts are deleted too.
    DeleteAccounts,
}

/// Deletes a group. A non-empty group is refused (`Constraint`) with [`OnDelete::Refuse`].
/// Returns how many accounts were ungrouped, moved or deleted.
pub async fn delete(db: &Db, id: GroupId, mode: OnDelete) -> Result<u64, StoreError> {
    if mode == OnDelete::MoveTo(id) {
        return Err(StoreError::Constraint(
            "cannot move the accounts into the group being deleted".into(),
        ));
    }
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM groups WHERE id = $1")
            .bind(DbUuid::from(id))
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE group_id = $1")
            .bind(DbUuid::from(id))
            .fetch_one(&mut *tx)
            .await?;
        let now = Utc::now();
        match mode {
            OnDelete::Refuse if members > 0 => {
                return Err(StoreError::Constraint(format!(
                    "the group has {members} accounts; say what happens to them \
                     (on_accounts=ungroup|move|delete)"
                )));
            }
            OnDelete::Refuse => {}
            OnDelete::Ungroup => {
                sqlx::query(
                    "UPDATE accounts SET group_id = NULL, updated_at = $2 WHERE group_id = $1",
                )
                .bind(DbUuid::from(id))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            OnDelete::MoveTo(target) => {
                let target_exists: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM groups WHERE id = $1")
                        .bind(DbUuid::from(target))
                        .fetch_optional(&mut *tx)
                        .await?;
                if target_exists.is_none() {
                    return Err(StoreError::Constraint(
                        "the target group does not exist".into(),
                    ));
                }
                sqlx::query(
                    "UPDATE accounts SET group_id = $2, updated_at = $3 WHERE group_id = $1",
                )
                .bind(DbUuid::from(id))
                .bind(DbUuid::from(target))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            OnDelete::DeleteAccounts => {
                sqlx::query("DELETE FROM accounts WHERE group_id = $1")
                    .bind(DbUuid::from(id))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(DbUuid::from(id))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(members as u64)
    })
}
