//! Bulk import of accounts and proxies: one transaction per chunk of lines, one result
//! per line. Re-importing the same file creates nothing twice. A dry run does the same
//! work in one transaction and rolls it back, so its report is exactly what a real run
//! would say.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use icf_core::account::group_name_key;
use icf_core::ids::{AccountId, GroupId, ProxyId};
use sqlx::types::Json;

use crate::accounts::{DeviceFactory, INSERT as INSERT_ACCOUNT};
use crate::proxies::{INSERT as INSERT_PROXY, NewProxy};
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
    let chunk = if dry_run { rows.len().max(1) } else { CHUNK };
    for part in rows.chunks(chunk) {
        on_pool!(db, |pool| {
            let mut tx = pool.begin_write().await?;
            for row in part {
                if let Some(first) = seen.get(&row.username) {
                    out.push((
                        row.line,
                        LineOutcome::Duplicate(format!("the same username is on line {first}")),
                    ));
                    continue;
                }
                seen.insert(row.username.clone(), row.line);
                let exists: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM accounts WHERE username = $1")
                        .bind(&row.username)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_some() {
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
                        let found: Option<(DbUuid, Option<String>, Option<String>)> =
                            sqlx::query_as(
                                "SELECT p.id, p.country, a.username FROM proxies p \
                                 LEFT JOIN accounts a ON a.proxy_id = p.id \
                                 WHERE p.proxy_type = $1 AND p.host = $2 AND p.port = $3 \
                                 AND p.credentials_key = $4",
                            )
                            .bind(p.proxy_type.as_str())
                            .bind(&p.host)
                            .bind(i32::from(p.port))
                            .bind(&p.credentials_key)
                            .fetch_optional(&mut *tx)
                            .await?;
                        match found {
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
                                let id: ProxyId = id.into_id();
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
                                sqlx::query(INSERT_PROXY)
                                    .bind(DbUuid::from(id))
                                    .bind(p.proxy_type.as_str())
                                    .bind(&p.host)
                                    .bind(i32::from(p.port))
                                    .bind(p.credentials_enc.as_deref())
                                    .bind(&p.credentials_key)
                                    .bind(p.country.as_deref())
                                    .bind(Utc::now())
                                    .execute(&mut *tx)
                                    .await?;
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
                sqlx::query(INSERT_ACCOUNT)
                    .bind(DbUuid::from(AccountId::new()))
                    .bind(&row.username)
                    .bind(&row.password_enc)
                    .bind(group_id.map(DbUuid::from))
                    .bind(&row.language)
                    .bind(proxy_id.map(DbUuid::from))
                    .bind(&device.device_id)
                    .bind(&device.user_agent)
                    .bind(Json(&device.device))
                    .bind(&device.locale)
                    .bind(device.timezone_offset)
                    .bind(row.posts_limit_per_day)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
                out.push((row.line, LineOutcome::Created));
            }
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
        });
    }
    Ok(out)
}

pub async fn import_proxies(
    db: &Db,
    rows: &[ImportProxy],
    dry_run: bool,
) -> Result<Vec<(usize, LineOutcome)>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    let chunk = if dry_run { rows.len().max(1) } else { CHUNK };
    let sql =
        format!("{INSERT_PROXY} ON CONFLICT (proxy_type, host, port, credentials_key) DO NOTHING");
    for part in rows.chunks(chunk) {
        on_pool!(db, |pool| {
            let mut tx = pool.begin_write().await?;
            for row in part {
                let p = &row.proxy;
                let done = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(DbUuid::from(ProxyId::new()))
                    .bind(p.proxy_type.as_str())
                    .bind(&p.host)
                    .bind(i32::from(p.port))
                    .bind(p.credentials_enc.as_deref())
                    .bind(&p.credentials_key)
                    .bind(p.country.as_deref())
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                out.push((
                    row.line,
                    if done == 1 {
                        LineOutcome::Created
                    } else {
                        LineOutcome::Duplicate("the proxy is already in the pool".into())
                    },
                ));
            }
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
        });
    }
    Ok(out)
}
