//! What the engine writes of an account's Instagram state: its device, session, status.

use chrono::{DateTime, Utc};
use icf_core::enums::AccountStatus;
use icf_core::ids::AccountId;
use serde_json::Value;
use sqlx::types::Json;

use crate::tx::BeginWrite;
use crate::{Db, DbUuid, StoreError, on_pool};

/// Replaces the account's stored device (the JSON of `icf_core::device::Device`). Only for
/// completing a device stored before a field existed: a device is otherwise never changed.
pub async fn set_device(db: &Db, id: AccountId, device: &Value) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET device = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Json(device))
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Writes the encrypted session back (after every Instagram call).
pub async fn set_session(db: &Db, id: AccountId, session_enc: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET session_data_enc = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(session_enc)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// A successful login: the account is usable again, no challenge pending.
pub async fn mark_logged_in(db: &Db, id: AccountId) -> Result<(), StoreError> {
    let now = Utc::now();
    set_state(
        db,
        id,
        &InstagramState {
            status: AccountStatus::Active,
            reason: "logged in".into(),
            cooldown_until: None,
            pending_challenge: None,
        },
    )
    .await?;
    on_pool!(db, |pool| sqlx::query(
        "UPDATE accounts SET last_login_at = $2, failed_attempts = 0 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// An account's Instagram-driven state.
#[derive(Debug, Clone)]
pub struct InstagramState {
    pub status: AccountStatus,
    pub reason: String,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub pending_challenge: Option<Value>,
}

/// Sets status, reason, cooldown and pending challenge, recording a status change in
/// `account_status_history` in the same transaction.
pub async fn set_state(db: &Db, id: AccountId, st: &InstagramState) -> Result<(), StoreError> {
    let now = Utc::now();
    let challenge = st.pending_challenge.as_ref().map(Json);
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let old: Option<String> = sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
            .bind(DbUuid::from(id))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else {
            return Err(StoreError::NotFound);
        };
        sqlx::query(
            "UPDATE accounts SET status = $2, status_reason = $3, cooldown_until = $4, \
             pending_challenge = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(DbUuid::from(id))
        .bind(st.status.as_str())
        .bind(&st.reason)
        .bind(st.cooldown_until)
        .bind(challenge)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if old != st.status.as_str() {
            sqlx::query(
                "INSERT INTO account_status_history (id, account_id, old_status, new_status, \
                 reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(DbUuid::from(uuid::Uuid::now_v7()))
            .bind(DbUuid::from(id))
            .bind(&old)
            .bind(st.status.as_str())
            .bind(&st.reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Accounts whose session is worth checking: they have one and are not banned.
pub async fn accounts_to_check(db: &Db) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<DbUuid> = crate::on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT id FROM accounts WHERE session_data_enc IS NOT NULL AND status <> 'banned' ORDER BY id"
    )
    .fetch_all(pool)
    .await?
    });
    Ok(ids.into_iter().map(DbUuid::into_id).collect())
}
