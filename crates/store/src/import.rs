//! Bulk import of accounts and proxies: one transaction per chunk of lines, one result
//! per line. Re-importing the same file creates nothing twice. A dry run does the same
//! work in one transaction and rolls it back, so its report is exactly what a real run
//! would say.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use icf_core::account::group_name_key;
use icf_core::ids::{AccountId, GroupId, ProxyId};
use sqlx::types::Json;

use crate::accounts::{DeviceFactory, NewDevice};
use crate::proxies::NewProxy;

/// A proxy's identity in the pool: type, host, port and a key of its credentials.
type ProxyKey = (String, String, i32, String);

const INSERT_ACCOUNT_COLUMNS: &str = "INSERT INTO accounts (id, username, password_enc, group_id, \
    language, proxy_id, status, device_id, user_agent, device, locale, timezone_offset, \
    posts_limit_per_day, warmup_stage, failed_attempts, registered_at, created_at, updated_at) ";

const INSERT_PROXY_COLUMNS: &str = "INSERT INTO proxies (id, proxy_type, host, port, \
    credentials_enc, credentials_key, country, status, success_rate, checks_total, checks_ok, \
    created_at, updated_at) ";

/// The values of one new proxy for [`INSERT_PROXY_COLUMNS`] (a macro: the row builder's type
/// differs between the two engines).
macro_rules! proxy_row {
    ($b:expr, $id:expr, $p:expr, $now:expr) => {{
        let (mut b, p): (_, &NewProxy) = ($b, $p);
        b.push_bind(DbUuid::from($id))
            .push_bind(p.proxy_type.as_str())
            .push_bind(&p.host)
            .push_bind(i32::from(p.port))
            .push_bind(p.credentials_enc.as_deref())
            .push_bind(&p.credentials_key)
            .push_bind(p.country.as_deref())
            .push_bind("active")
            .push_bind(1.0f64)
            .push_bind(0i32)
            .push_bind(0i32)
            .push_bind($now)
            .push_bind($now);
    }};
}
use crate::tx::BeginWrite;
use crate::{Db, DbUuid, StoreError, on_pool};

/// Lines per transaction: large enough to be fast, small enough not to hold the SQLite
/// write lock for long.
const CHUNK: usize = 1000;

/// A parsed, validated account line with its password already encrypted.
#[derive(Debug, Clone)]
pub struct ImportAccount {
    pub line: usize,
    pub username: String,
    pub password_enc: String,
    pub language: String,
    pub group: Option<String>,
    pub proxy: Option<NewProxy>,
    pub posts_limit_per_day: i32,
    /// When it was registered on Instagram; `None`: unknown (treated as new).
    pub registered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ImportProxy {
    pub line: usize,
    pub proxy: NewProxy,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Created,
    Duplicate(String),
    Invalid(String),
}

pub async fn import_accounts(
    db: &Db,
    rows: &[ImportAccount],
    dry_run: bool,
    make_device: DeviceFactory<'_>,
) -> Result<Vec<(usize, LineOutcome)>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut groups: HashMap<String, GroupId> = HashMap::new();
    // The reserve pool, handed out in order to lines without a proxy of their own.
    let mut free: Vec<(ProxyId, Option<String>)> = crate::proxies::free(db, rows.len() as i64)
        .await?
        .into_iter()
        .rev()
        .map(|p| (p.id, p.country))
        .collect();
    let mut used: HashSet<ProxyId> = HashSet::new();
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for part in rows.chunks(CHUNK) {
            let mut q =
                sqlx::QueryBuilder::new("SELECT username FROM accounts WHERE username IN (");
            let mut list = q.separated(", ");
            for row in part {
                list.push_bind(&row.username);
            }
            list.push_unseparated(")");
            let existing: HashSet<String> = q
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            // The chunk's proxies already in the pool, fetched at once by host (one round
            // trip per chunk instead of one per line), with the account each one serves.
            let mut known: HashMap<ProxyKey, (ProxyId, Option<String>, Option<String>)> =
                HashMap::new();
            let hosts: HashSet<&str> = part
                .iter()
                .filter_map(|r| r.proxy.as_ref().map(|p| p.host.as_str()))
                .collect();
            if !hosts.is_empty() {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT p.id, p.proxy_type, p.host, p.port, p.credentials_key, p.country, \
                     a.username FROM proxies p LEFT JOIN accounts a ON a.proxy_id = p.id \
                     WHERE p.host IN (",
                );
                let mut list = q.separated(", ");
                for h in &hosts {
                    list.push_bind(*h);
                }
                list.push_unseparated(")");
                type Row = (
                    DbUuid,
                    String,
                    String,
                    i32,
                    String,
                    Option<String>,
                    Option<String>,
                );
                let found: Vec<Row> = q.build_query_as().fetch_all(&mut *tx).await?;
                for (id, kind, host, port, key, country, owner) in found {
                    known.insert((kind, host, port, key), (id.into_id(), country, owner));
                }
            }
            let mut new_proxies: Vec<(ProxyId, &NewProxy)> = Vec::new();
            let mut pending: Vec<(&ImportAccount, Option<GroupId>, Option<ProxyId>, NewDevice)> =
                Vec::with_capacity(part.len());
            for row in part {
                if let Some(first) = seen.get(&row.username) {
                    out.push((
                        row.line,
                        LineOutcome::Duplicate(format!("the same username is on line {first}")),
                    ));
                    continue;
                }
                seen.insert(row.username.clone(), row.line);
                if existing.contains(&row.username) {
                    out.push((
                        row.line,
                        LineOutcome::Duplicate("the account already exists".into()),
                    ));
                    continue;
                }
                let group_id = match &row.group {
                    None => None,
                    Some(name) => {
                        let key = group_name_key(name);
                        match groups.get(&key) {
                            Some(id) => Some(*id),
                            None => {
                                let found: Option<DbUuid> =
                                    sqlx::query_scalar("SELECT id FROM groups WHERE name_key = $1")
                                        .bind(&key)
                                        .fetch_optional(&mut *tx)
                                        .await?;
                                let id = match found {
                                    Some(id) => id.into_id(),
                                    None => {
                                        let id = GroupId::new();
                                        let now = Utc::now();
                                        sqlx::query(
                                            "INSERT INTO groups (id, name, name_key, description, \
                                             created_at, updated_at) VALUES ($1, $2, $3, '', $4, $4)",
                                        )
                                        .bind(DbUuid::from(id))
                                        .bind(name)
                                        .bind(&key)
                                        .bind(now)
                                        .execute(&mut *tx)
                                        .await?;
                                        id
                                    }
                                };
                                groups.insert(key, id);
                                Some(id)
                            }
                        }
                    }
                };
                let (proxy_id, country) = match &row.proxy {
                    Some(p) => {
                        let key: ProxyKey = (
                            p.proxy_type.as_str().to_owned(),
                            p.host.clone(),
                            i32::from(p.port),
                            p.credentials_key.clone(),
                        );
                        match known.get(&key).cloned() {
                            Some((_, _, Some(owner))) => {
                                out.push((
                                    row.line,
                                    LineOutcome::Invalid(format!(
                                        "proxy_url: the proxy already serves the account '{owner}'"
                                    )),
                                ));
                                continue;
                            }
                            Some((id, country, None)) => {
                                if !used.insert(id) {
                                    out.push((
                                        row.line,
                                        LineOutcome::Invalid(
                                            "proxy_url: the proxy serves an account of an earlier line"
                                                .into(),
                                        ),
                                    ));
                                    continue;
                                }
                                (Some(id), country)
                            }
                            None => {
                                let id = ProxyId::new();
                                new_proxies.push((id, p));
                                known.insert(key, (id, p.country.clone(), None));
                                used.insert(id);
                                (Some(id), p.country.clone())
                            }
                        }
                    }
                    None => loop {
                        match free.pop() {
                            Some((id, _)) if used.contains(&id) => continue,
                            Some((id, country)) => {
                                used.insert(id);
                                break (Some(id), country);
                            }
                            None => break (None, None),
                        }
                    },
                };
                let device = make_device(&row.language, country.as_deref());
                pending.push((row, group_id, proxy_id, device));
                out.push((row.line, LineOutcome::Created));
            }
            if !new_proxies.is_empty() {
                let now = Utc::now();
                let mut q = sqlx::QueryBuilder::new(INSERT_PROXY_COLUMNS);
                q.push_values(&new_proxies, |b, (id, p)| proxy_row!(b, *id, p, now));
                q.build().execute(&mut *tx).await?;
            }
            if !pending.is_empty() {
                let now = Utc::now();
                let mut q = sqlx::QueryBuilder::new(INSERT_ACCOUNT_COLUMNS);
                q.push_values(&pending, |mut b, (row, group_id, proxy_id, device)| {
                    b.push_bind(DbUuid::from(AccountId::new()))
                        .push_bind(&row.username)
                        .push_bind(&row.password_enc)
                        .push_bind(group_id.map(DbUuid::from))
                        .push_bind(&row.language)
                        .push_bind(proxy_id.map(DbUuid::from))
                        .push_bind("active")
                        .push_bind(&device.device_id)
                        .push_bind(&device.user_agent)
                        .push_bind(Json(&device.device))
                        .push_bind(&device.locale)
                        .push_bind(device.timezone_offset)
                        .push_bind(row.posts_limit_per_day)
                        .push_bind(0i32)
                        .push_bind(0i32)
                        .push_bind(row.registered_at)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.build().execute(&mut *tx).await?;
            }
            if !dry_run {
                tx.commit().await?;
                tx = pool.begin_write().await?;
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
    });
    Ok(out)
}

pub async fn import_proxies(
    db: &Db,
    rows: &[ImportProxy],
    dry_run: bool,
) -> Result<Vec<(usize, LineOutcome)>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for part in rows.chunks(CHUNK) {
            let now = Utc::now();
            let ids: Vec<ProxyId> = part.iter().map(|_| ProxyId::new()).collect();
            let mut q = sqlx::QueryBuilder::new(INSERT_PROXY_COLUMNS);
            q.push_values(part.iter().zip(&ids), |b, (row, id)| {
                proxy_row!(b, *id, &row.proxy, now)
            });
            q.push(
                " ON CONFLICT (proxy_type, host, port, credentials_key) DO NOTHING RETURNING id",
            );
            let created: HashSet<ProxyId> = q
                .build_query_scalar::<DbUuid>()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(DbUuid::into_id)
                .collect();
            for (row, id) in part.iter().zip(&ids) {
                out.push((
                    row.line,
                    if created.contains(id) {
                        LineOutcome::Created
                    } else {
                        LineOutcome::Duplicate("the proxy is already in the pool".into())
                    },
                ));
            }
            if !dry_run {
                tx.commit().await?;
                tx = pool.begin_write().await?;
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
    });
    Ok(out)
}
