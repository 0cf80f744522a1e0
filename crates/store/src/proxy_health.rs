//! What proxy health needs from the database: the accounts a proxy serves, a guarded
//! switch of one account to a free proxy of the reserve pool, and the accounts waiting
//! for a working proxy.

use chrono::Utc;
use icf_core::enums::AccountStatus;
use icf_core::ids::{AccountId, ProxyId};

use crate::types::DbUuid;
use crate::{Db, StoreError, on_pool};

/// An account served by a proxy.
#[derive(Debug, Clone)]
pub struct ServedAccount {
    pub id: AccountId,
    pub username: String,
    pub status: AccountStatus,
    /// A challenge or two-factor code is awaited: the account must keep its address.
    pub challenge_pending: bool,
    /// The country of its current proxy, preferred for a replacement.
    pub country: Option<String>,
}

type ServedRow = (DbUuid, String, String, bool, Option<String>, Option<DbUuid>);

fn served(rows: Vec<ServedRow>) -> Result<Vec<(ServedAccount, Option<ProxyId>)>, StoreError> {
    rows.into_iter()
        .map(
            |(id, username, status, challenge_pending, country, proxy)| {
                Ok((
                    ServedAccount {
                        id: id.into_id(),
                        username,
                        status: status
                            .parse()
                            .map_err(|e| StoreError::Corrupt(format!("accounts.status: {e}")))?,
                        challenge_pending,
                        country,
                    },
                    proxy.map(DbUuid::into_id),
                ))
            },
        )
        .collect()
}

const SERVED: &str = "SELECT a.id, a.username, a.status, a.pending_challenge IS NOT NULL, \
    p.country, a.proxy_id FROM accounts a LEFT JOIN proxies p ON p.id = a.proxy_id";

/// The account a proxy serves (one at most, by the schema; a list keeps the callers simple).
pub async fn accounts_on(db: &Db, proxy: ProxyId) -> Result<Vec<ServedAccount>, StoreError> {
    let sql = format!("{SERVED} WHERE a.proxy_id = $1 ORDER BY a.id");
    let rows: Vec<ServedRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(DbUuid::from(proxy))
            .fetch_all(pool)
            .await?);
    Ok(served(rows)?.into_iter().map(|(a, _)| a).collect())
}

/// Accounts in `proxy_error` with no challenge pending, with their proxy (if any).
pub async fn waiting_for_a_proxy(
    db: &Db,
) -> Result<Vec<(ServedAccount, Option<ProxyId>)>, StoreError> {
    let sql = format!(
        "{SERVED} WHERE a.status = 'proxy_error' AND a.pending_challenge IS NULL ORDER BY a.id"
    );
    let rows: Vec<ServedRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await?);
    served(rows)
}

/// Every proxy, for the periodic checks.
pub async fn all_ids(db: &Db) -> Result<Vec<ProxyId>, StoreError> {
    let ids: Vec<DbUuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM proxies ORDER BY id"
    )
    .fetch_all(pool)
    .await?);
    Ok(ids.into_iter().map(DbUuid::into_id).collect())
}

/// Moves the account from `from` (its current proxy, or none) to the best free working
/// proxy: same country first, then the best success rate. The device is not touched.
/// `None`: the reserve is empty, or the account's proxy changed meanwhile. Safe against
/// concurrent switches: the schema's one-account-per-proxy rule decides, and a proxy
/// taken between the read and the write is skipped.
pub async fn switch_to_free(
    db: &Db,
    account: AccountId,
    from: Option<ProxyId>,
    country: Option<&str>,
) -> Result<Option<ProxyId>, StoreError> {
    for _ in 0..5 {
        let candidate: Option<DbUuid> = on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT p.id FROM proxies p LEFT JOIN accounts a ON a.proxy_id = p.id \
             WHERE p.status = 'active' AND a.id IS NULL \
             ORDER BY CASE WHEN p.country = $1 THEN 0 ELSE 1 END, p.success_rate DESC, \
             p.created_at, p.id LIMIT 1"
        )
        .bind(country)
        .fetch_optional(pool)
        .await?);
        let Some(candidate) = candidate else {
            return Ok(None);
        };
        let now = Utc::now();
        let result = on_pool!(db, |pool| sqlx::query(
            "UPDATE accounts SET proxy_id = $2, updated_at = $4 \
             WHERE id = $1 AND (proxy_id = $3 OR ($3 IS NULL AND proxy_id IS NULL))"
        )
        .bind(DbUuid::from(account))
        .bind(candidate)
        .bind(from.map(DbUuid::from))
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()));
        match result.map_err(StoreError::from) {
            Ok(1) => return Ok(Some(candidate.into_id())),
            Ok(_) => return Ok(None),
            // Taken by a concurrent switch or a new account between the read and the write.
            Err(StoreError::Conflict { field }) if field == "proxy_id" => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}
