//! Operators of icf and their credentials.

use chrono::{DateTime, Utc};
use icf_core::auth::User;
use icf_core::enums::Role;
use icf_core::ids::UserId;

use crate::{Db, DbUuid, StoreError, on_pool};

/// A user row with what authentication needs besides the public fields.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
    pub token_version: i32,
}

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: DbUuid,
    username: String,
    email: String,
    password_hash: String,
    role: String,
    is_active: bool,
    token_version: i32,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserCredentials {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let role: Role = row
            .role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("users.role: {e}")))?;
        Ok(UserCredentials {
            user: User {
                id: row.id.into_id(),
                username: row.username,
                email: row.email,
                role,
                is_active: row.is_active,
                last_login_at: row.last_login_at,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            password_hash: row.password_hash,
            token_version: row.token_version,
        })
    }
}

const COLUMNS: &str = "id, username, email, password_hash, role, is_active, token_version, \
                       last_login_at, created_at, updated_at";

/// A validated new operator; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

/// Fields an admin may change. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub password_hash: Option<String>,
}

impl UserChanges {
    /// Changes after which tokens issued before must stop working.
    fn revokes_tokens(&self) -> bool {
        self.role.is_some() || self.is_active == Some(false) || self.password_hash.is_some()
    }
}

pub async fn create(db: &Db, new: NewUser) -> Result<User, StoreError> {
    let now = Utc::now();
    let id = UserId::new();
    let sql = format!(
        "INSERT INTO users (id, username, email, password_hash, role, is_active, token_version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, 0, $6, $6) RETURNING {COLUMNS}"
    );
    let row: UserRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .bind(&new.username)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(now)
        .fetch_one(pool)
        .await?);
    Ok(UserCredentials::try_from(row)?.user)
}

pub async fn get(db: &Db, id: UserId) -> Result<UserCredentials, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: UserRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    row.try_into()
}

pub async fn find_by_username(
    db: &Db,
    username: &str,
) -> Result<Option<UserCredentials>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
    let row: Option<UserRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(username)
            .fetch_optional(pool)
            .await?);
    row.map(TryInto::try_into).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
    let rows: Vec<UserRow> = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(pool)
        .await?);
    rows.into_iter()
        .map(|r| UserCredentials::try_from(r).map(|c| c.user))
        .collect()
}

pub async fn update(db: &Db, id: UserId, changes: UserChanges) -> Result<User, StoreError> {
    let now = Utc::now();
    let bump = i32::from(changes.revokes_tokens());
    let sql = format!(
        "UPDATE users SET email = COALESCE($2, email), role = COALESCE($3, role), \
         is_active = COALESCE($4, is_active), password_hash = COALESCE($5, password_hash), \
         token_version = token_version + $6, updated_at = $7 WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row: UserRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .bind(changes.email.as_deref())
        .bind(changes.role.map(Role::as_str))
        .bind(changes.is_active)
        .bind(changes.password_hash.as_deref())
        .bind(bump)
        .bind(now)
        .fetch_one(pool)
        .await?);
    Ok(UserCredentials::try_from(row)?.user)
}

pub async fn delete(db: &Db, id: UserId) -> Result<(), StoreError> {
    let done = on_pool!(db, |pool| sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(DbUuid::from(id))
        .execute(pool)
        .await?
        .rows_affected());
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Revokes every token the user holds (their `token_version` moves on).
pub async fn revoke_tokens(db: &Db, id: UserId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE users SET token_version = token_version + 1, updated_at = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

pub async fn record_login(db: &Db, id: UserId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE users SET last_login_at = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Active admins, so the last one cannot be demoted, disabled or deleted.
pub async fn count_active_admins(db: &Db) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = TRUE"
    )
    .fetch_one(pool)
    .await?))
}

/// The language the operator picked for the web UI (`en`, `ru`), if any.
pub async fn ui_language(db: &Db, id: UserId) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT ui_language FROM users WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .fetch_optional(pool)
    .await?);
    Ok(row.and_then(|r| r.0))
}

pub async fn set_ui_language(db: &Db, id: UserId, language: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE users SET ui_language = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(language)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
