//! The proxy pool. Credentials are stored only as a Fernet token (`credentials_enc`) and a
//! keyed hash of the user name (`credentials_key`) that keeps the same proxy from being
//! added twice. Encryption happens above this layer; here they are opaque strings.

use chrono::{DateTime, Utc};
use icf_core::account::Proxy;
use icf_core::enums::{ProxyStatus, ProxyType};
use icf_core::ids::ProxyId;

use crate::{Db, DbUuid, StoreError, on_pool};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProxyRow {
    id: DbUuid,
    proxy_type: String,
    host: String,
    port: i32,
    credentials_enc: Option<String>,
    country: Option<String>,
    status: String,
    last_check_at: Option<DateTime<Utc>>,
    last_latency_ms: Option<i32>,
    last_error: Option<String>,
    success_rate: f64,
    checks_total: i32,
    checks_ok: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    account_id: Option<DbUuid>,
    account_username: Option<String>,
}

/// A proxy with its encrypted credentials, for the code that connects through it.
#[derive(Debug, Clone)]
pub struct ProxyWithSecret {
    pub proxy: Proxy,
    pub credentials_enc: Option<String>,
}

impl TryFrom<ProxyRow> for ProxyWithSecret {
    type Error = StoreError;
    fn try_from(r: ProxyRow) -> Result<Self, StoreError> {
        let proxy_type: ProxyType = r
            .proxy_type
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("proxies.proxy_type: {e}")))?;
        let status: ProxyStatus = r
            .status
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("proxies.status: {e}")))?;
        let port = u16::try_from(r.port)
            .map_err(|_| StoreError::Corrupt("proxies.port out of range".into()))?;
        Ok(ProxyWithSecret {
            proxy: Proxy {
                id: r.id.into_id(),
                url: icf_core::proxy::masked(proxy_type, &r.host, port),
                proxy_type,
                host: r.host,
                port,
                has_credentials: r.credentials_enc.is_some(),
                country: r.country,
                status,
                last_check_at: r.last_check_at,
                last_latency_ms: r.last_latency_ms.map(i64::from),
                last_error: r.last_error,
                success_rate: r.success_rate,
                checks_total: i64::from(r.checks_total),
                checks_ok: i64::from(r.checks_ok),
                assigned_account_id: r.account_id.map(DbUuid::into_id),
                assigned_account: r.account_username,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            credentials_enc: r.credentials_enc,
        })
    }
}

const SELECT: &str = "SELECT p.id, p.proxy_type, p.host, p.port, p.credentials_enc, p.country, \
    p.status, p.last_check_at, p.last_latency_ms, p.last_error, p.success_rate, \
    p.checks_total, p.checks_ok, p.created_at, p.updated_at, \
    a.id AS account_id, a.username AS account_username \
    FROM proxies p LEFT JOIN accounts a ON a.proxy_id = p.id";

/// A validated proxy with its credentials already encrypted.
#[derive(Debug, Clone)]
pub struct NewProxy {
    pub proxy_type: ProxyType,
    pub host: String,
    pub port: u16,
    pub credentials_enc: Option<String>,
    /// Keyed hash of the credentials' user name; empty without credentials.
    pub credentials_key: String,
    pub country: Option<String>,
}

pub(crate) const INSERT: &str = "INSERT INTO proxies (id, proxy_type, host, port, credentials_enc, \
    credentials_key, country, status, success_rate, checks_total, checks_ok, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', 1.0, 0, 0, $8, $8)";

pub async fn create(db: &Db, new: &NewProxy) -> Result<Proxy, StoreError> {
    let id = ProxyId::new();
    on_pool!(db, |pool| sqlx::query(INSERT)
        .bind(DbUuid::from(id))
        .bind(new.proxy_type.as_str())
        .bind(&new.host)
        .bind(i32::from(new.port))
        .bind(new.credentials_enc.as_deref())
        .bind(&new.credentials_key)
        .bind(new.country.as_deref())
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(address_conflict)?);
    Ok(get(db, id).await?.proxy)
}

/// The unique key spans four columns; to the API it is one thing, the address.
pub(crate) fn address_conflict(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "url".into(),
        },
        other => other,
    }
}

pub async fn get(db: &Db, id: ProxyId) -> Result<ProxyWithSecret, StoreError> {
    let sql = format!("{SELECT} WHERE p.id = $1");
    let row: ProxyRow = on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(DbUuid::from(id))
        .fetch_one(pool)
        .await?);
    row.try_into()
}

/// The proxy with this address and credentials' user (by keyed hash), if in the pool.
pub async fn find(
    db: &Db,
    proxy_type: ProxyType,
    host: &str,
    port: u16,
    credentials_key: &str,
) -> Result<Option<ProxyWithSecret>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE p.proxy_type = $1 AND p.host = $2 AND p.port = $3 AND p.credentials_key = $4"
    );
    let row: Option<ProxyRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(proxy_type.as_str())
            .bind(host)
            .bind(i32::from(port))
            .bind(credentials_key)
            .fetch_optional(pool)
            .await?);
    row.map(TryInto::try_into).transpose()
}

/// Filters of the proxy list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ProxyFilter {
    pub status: Option<ProxyStatus>,
    pub proxy_type: Option<ProxyType>,
    pub country: Option<String>,
    /// `Some(false)`: only the free ones (the reserve pool).
    pub assigned: Option<bool>,
}

pub async fn list(
    db: &Db,
    filter: &ProxyFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Proxy>, i64), StoreError> {
    let wheres = "WHERE ($1 IS NULL OR p.status = $1) AND ($2 IS NULL OR p.proxy_type = $2) \
        AND ($3 IS NULL OR p.country = $3) \
        AND ($4 IS NULL OR ($4 = TRUE AND a.id IS NOT NULL) OR ($4 = FALSE AND a.id IS NULL))";
    let sql = format!("{SELECT} {wheres} ORDER BY p.created_at, p.id LIMIT $5 OFFSET $6");
    let count_sql = format!(
        "SELECT COUNT(*) FROM proxies p LEFT JOIN accounts a ON a.proxy_id = p.id {wheres}"
    );
    let status = filter.status.map(ProxyStatus::as_str);
    let ptype = filter.proxy_type.map(ProxyType::as_str);
    let (rows, total): (Vec<ProxyRow>, i64) = on_pool!(db, |pool| {
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(status)
            .bind(ptype)
            .bind(filter.country.as_deref())
            .bind(filter.assigned)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str()))
            .bind(status)
            .bind(ptype)
            .bind(filter.country.as_deref())
            .bind(filter.assigned)
            .fetch_one(pool)
            .await?;
        (rows, total)
    });
    let items = rows
        .into_iter()
        .map(|r| ProxyWithSecret::try_from(r).map(|p| p.proxy))
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// Fields an admin may change. The address (with credentials) changes as a whole.
#[derive(Debug, Clone, Default)]
pub struct ProxyChanges {
    pub address: Option<NewProxy>,
    pub country: Option<Option<String>>,
    pub status: Option<ProxyStatus>,
}

pub async fn update(db: &Db, id: ProxyId, changes: &ProxyChanges) -> Result<Proxy, StoreError> {
    let now = Utc::now();
    let a = changes.address.as_ref();
    let (set_country, country) = match &changes.country {
        Some(c) => (true, c.clone()),
        None => (false, None),
    };
    let done = on_pool!(db, |pool| sqlx::query(
        "UPDATE proxies SET proxy_type = COALESCE($2, proxy_type), host = COALESCE($3, host), \
         port = COALESCE($4, port), \
         credentials_enc = CASE WHEN $5 THEN $6 ELSE credentials_enc END, \
         credentials_key = COALESCE($7, credentials_key), \
         country = CASE WHEN $8 THEN $9 ELSE country END, \
         status = COALESCE($10, status), updated_at = $11 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(a.map(|a| a.proxy_type.as_str()))
    .bind(a.map(|a| a.host.as_str()))
    .bind(a.map(|a| i32::from(a.port)))
    .bind(a.is_some())
    .bind(a.and_then(|a| a.credentials_enc.as_deref()))
    .bind(a.map(|a| a.credentials_key.as_str()))
    .bind(set_country)
    .bind(country.as_deref())
    .bind(changes.status.map(ProxyStatus::as_str))
    .bind(now)
    .execute(pool)
    .await
    .map_err(address_conflict)?
    .rows_affected());
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(get(db, id).await?.proxy)
}

/// Deletes a proxy. One that serves an account is refused (`Constraint`) unless `force`,
/// which leaves the account without a proxy.
pub async fn delete(db: &Db, id: ProxyId, force: bool) -> Result<(), StoreError> {
    let proxy = get(db, id).await?.proxy;
    if let Some(account) = &proxy.assigned_account
        && !force
    {
        return Err(StoreError::Constraint(format!(
            "the proxy serves the account '{account}'; pass force=true to delete it anyway"
        )));
    }
    on_pool!(db, |pool| {
        sqlx::query("UPDATE accounts SET proxy_id = NULL, updated_at = $2 WHERE proxy_id = $1")
            .bind(DbUuid::from(id))
            .bind(Utc::now())
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM proxies WHERE id = $1")
            .bind(DbUuid::from(id))
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The outcome of one check through the proxy.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub ok: bool,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// How much the newest check weighs in `success_rate`: an exponential moving average, so
/// the rate follows the recent checks (roughly the last ten) rather than all history.
const RECENT_WEIGHT: f64 = 0.2;

/// Records a check: status, latency, error and the success rate over recent checks.
pub async fn record_check(
    db: &Db,
    id: ProxyId,
    outcome: &CheckOutcome,
) -> Result<Proxy, StoreError> {
    let hit = if outcome.ok { 1.0 } else { 0.0 };
    let status = if outcome.ok {
        ProxyStatus::Active
    } else {
        ProxyStatus::Failed
    };
    let done = on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE proxies SET status = $2, last_check_at = $3, last_latency_ms = $4, last_error = $5, \
         success_rate = CASE WHEN checks_total = 0 THEN $6 \
                        ELSE success_rate * (1.0 - $7) + $6 * $7 END, \
         checks_total = checks_total + 1, checks_ok = checks_ok + $8, updated_at = $3 \
         WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(status.as_str())
    .bind(outcome.at)
    .bind(outcome.latency_ms)
    .bind(outcome.error.as_deref())
    .bind(hit)
    .bind(RECENT_WEIGHT)
    .bind(i32::from(outcome.ok))
    .execute(pool)
    .await?
    .rows_affected()
    });
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(get(db, id).await?.proxy)
}

/// Marks a proxy as being checked now.
pub async fn mark_checking(db: &Db, id: ProxyId) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE proxies SET status = 'checking', updated_at = $2 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Free active proxies (the reserve pool), best first.
pub async fn free(db: &Db, limit: i64) -> Result<Vec<Proxy>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE p.status = 'active' AND a.id IS NULL \
         ORDER BY p.success_rate DESC, p.created_at, p.id LIMIT $1"
    );
    let rows: Vec<ProxyRow> =
        on_pool!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(limit)
            .fetch_all(pool)
            .await?);
    rows.into_iter()
        .map(|r| ProxyWithSecret::try_from(r).map(|p| p.proxy))
        .collect()
}

/// Every stored credentials token, for key rotation.
pub async fn all_credentials(db: &Db) -> Result<Vec<(ProxyId, String)>, StoreError> {
    let rows: Vec<(DbUuid, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, credentials_enc FROM proxies WHERE credentials_enc IS NOT NULL"
    )
    .fetch_all(pool)
    .await?);
    Ok(rows.into_iter().map(|(id, t)| (id.into_id(), t)).collect())
}

pub async fn set_credentials(
    db: &Db,
    id: ProxyId,
    credentials_enc: &str,
    credentials_key: &str,
) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE proxies SET credentials_enc = $2, credentials_key = $3 WHERE id = $1"
    )
    .bind(DbUuid::from(id))
    .bind(credentials_enc)
    .bind(credentials_key)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
