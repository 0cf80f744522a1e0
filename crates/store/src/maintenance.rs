//! The periodic upkeep of accounts and logs: what is due, and the bulk deletes.

use chrono::{DateTime, Utc};
use icf_core::ids::AccountId;

use crate::types::DbUuid;
use crate::{Db, StoreError, on_pool};

/// Accounts whose cooldown has run out.
pub async fn cooldowns_over(db: &Db, now: DateTime<Utc>) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<DbUuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM accounts WHERE status = 'cooldown' \
         AND (cooldown_until IS NULL OR cooldown_until <= $1) ORDER BY id"
    )
    .bind(now)
    .fetch_all(pool)
    .await?);
    Ok(ids.into_iter().map(DbUuid::into_id).collect())
}

/// Every account's age anchor (registration on Instagram, else its arrival in icf) and
/// stored warm-up stage.
pub async fn warmup_states(db: &Db) -> Result<Vec<(AccountId, DateTime<Utc>, i32)>, StoreError> {
    let rows: Vec<(DbUuid, DateTime<Utc>, i32)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, COALESCE(registered_at, created_at), warmup_stage FROM accounts ORDER BY id"
    )
    .fetch_all(pool)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(id, since, stage)| (id.into_id(), since, stage))
        .collect())
}

pub async fn set_warmup_stage(db: &Db, id: AccountId, stage: i32) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET warmup_stage = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(stage)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Forgets sessions from logins older than `before` (a session imported without a login
/// time counts from the account's creation): the next action logs in afresh, on the same
/// device. Returns the accounts concerned.
pub async fn drop_old_sessions(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<DbUuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE accounts SET session_data_enc = NULL, updated_at = $2 \
         WHERE session_data_enc IS NOT NULL AND COALESCE(last_login_at, created_at) < $1 \
         RETURNING id"
    )
    .bind(before)
    .bind(Utc::now())
    .fetch_all(pool)
    .await?);
    Ok(ids.into_iter().map(DbUuid::into_id).collect())
}

/// Deletes activity logs older than `before`; returns how many.
pub async fn prune_activity(db: &Db, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query(
        "DELETE FROM activity_logs WHERE created_at < $1"
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected()))
}

/// One more failed action in a row; returns the new count.
pub async fn note_failed_attempt(db: &Db, id: AccountId) -> Result<i32, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE accounts SET failed_attempts = failed_attempts + 1 WHERE id = $1 \
         RETURNING failed_attempts"
    )
    .bind(DbUuid::from(id))
    .fetch_one(pool)
    .await?))
}

pub async fn reset_failed_attempts(db: &Db, id: AccountId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET failed_attempts = 0 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// When the account published since `since`, from its posting history (which outlives
/// deleted posts): successes and "unconfirmed" attempts (configure may have gone through).
pub async fn posted_since(
    db: &Db,
    id: AccountId,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT at FROM account_publishes WHERE account_id = $1 AND at > $2 ORDER BY at"
    )
    .bind(DbUuid::from(id))
    .bind(since)
    .fetch_all(pool)
    .await?))
}
