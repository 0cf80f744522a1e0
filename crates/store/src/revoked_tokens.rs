//! Tokens signed out before they expire, by their `jti`.

use chrono::{DateTime, Utc};
use icf_core::ids::UserId;
use uuid::Uuid;

use crate::{Db, DbUuid, StoreError, on_pool};

/// Records that the token `jti` of `user` is signed out, and forgets tokens that have
/// expired by `now` (they are refused as expired anyway). Revoking twice is harmless.
pub async fn revoke(
    db: &Db,
    jti: Uuid,
    user: UserId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (jti) DO NOTHING"
    )
    .bind(DbUuid(jti))
    .bind(DbUuid::from(user))
    .bind(expires_at)
    .execute(pool)
    .await
    .map(|_| ())?);
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM revoked_tokens WHERE expires_at < $1"
    )
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Whether the token `jti` was signed out.
pub async fn is_revoked(db: &Db, jti: Uuid) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT 1 FROM revoked_tokens WHERE jti = $1"
    )
    .bind(DbUuid(jti))
    .fetch_optional(pool)
    .await?);
    Ok(row.is_some())
}
