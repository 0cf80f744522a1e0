//! Bulk import of accounts and proxies: one transaction per chunk of lines, one result
//! per line. Re-importing the same file creates nothing twice. A dry run does the same
//! work in one transaction and rolls it back, so its report is exactly what a real run
//! would say.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use icf_core::account::group_name_key;
use icf_core::enums::MediaVariants;
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
use crate::tx::{BeginWrite, Tx};
use crate::{Db, DbUuid, StoreError, on_pool, on_tx};

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

/// Imports account lines, [`CHUNK`] per transaction (all in one, rolled back, for a dry
/// run). Lines without a proxy of their own get one of the reserve pool, in order, while
/// any is free; each account gets its device from `make_device`; a group named by a line
/// and not found is made with `new_groups` as its media variants.
pub async fn import_accounts(
    db: &Db,
    rows: &[ImportAccount],
    dry_run: bool,
    make_device: DeviceFactory<'_>,
    new_groups: MediaVariants,
) -> Result<Vec<(usize, LineOutcome)>, StoreError> {
    // The reserve pool, handed out in order to lines without a proxy of their own.
    let free = crate::proxies::free(db, rows.len() as i64)
        .await?
        .into_iter()
        .rev()
        .map(|p| (p.id, p.country))
        .collect();
    let mut import = AccountImport {
        out: Vec::with_capacity(rows.len()),
        seen: HashMap::new(),
        groups: HashMap::new(),
        free,
        used: HashSet::new(),
        make_device,
        new_groups,
    };
    let mut tx = db.begin().await?;
    for part in rows.chunks(CHUNK) {
        import.chunk(&mut tx, part).await?;
        if !dry_run {
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(import.out)
}

/// What an account import carries from line to line and from chunk to chunk.
struct AccountImport<'a> {
    out: Vec<(usize, LineOutcome)>,
    /// Usernames met so far, with their first line.
    seen: HashMap<String, usize>,
    /// Groups by name key, found or created.
    groups: HashMap<String, GroupId>,
    /// The reserve pool still to hand out, next last.
    free: Vec<(ProxyId, Option<String>)>,
    /// Proxies given to a line already.
    used: HashSet<ProxyId>,
    make_device: DeviceFactory<'a>,
    new_groups: MediaVariants,
}

/// A proxy of the pool met by an import, with the account it serves.
#[derive(Clone)]
struct KnownProxy {
    id: ProxyId,
    country: Option<String>,
    owner: Option<String>,
}

/// A line that will become an account.
struct NewAccount<'r> {
    row: &'r ImportAccount,
    group_id: Option<GroupId>,
    proxy_id: Option<ProxyId>,
    device: NewDevice,
}

impl AccountImport<'_> {
    /// One chunk of lines in `tx`: what exists is read in one round trip per kind, each line
    /// decided in order, then the new proxies and the accounts inserted in one statement
    /// each.
    async fn chunk(&mut self, tx: &mut Tx, part: &[ImportAccount]) -> Result<(), StoreError> {
        let existing = existing_usernames(tx, part).await?;
        let mut known = known_proxies(tx, part).await?;
        let mut new_proxies: Vec<(ProxyId, &NewProxy)> = Vec::new();
        let mut accounts: Vec<NewAccount<'_>> = Vec::with_capacity(part.len());
        for row in part {
            match self
                .line(tx, row, &existing, &mut known, &mut new_proxies)
                .await?
            {
                Ok(account) => {
                    accounts.push(account);
                    self.out.push((row.line, LineOutcome::Created));
                }
                Err(outcome) => self.out.push((row.line, outcome)),
            }
        }
        insert_proxies(tx, &new_proxies).await?;
        insert_accounts(tx, &accounts).await
    }

    /// Decides one line: the account to create, or why there is none. Its group is found
    /// or created first (and kept even when the line's proxy is then refused).
    async fn line<'r>(
        &mut self,
        tx: &mut Tx,
        row: &'r ImportAccount,
        existing: &HashSet<String>,
        known: &mut HashMap<ProxyKey, KnownProxy>,
        new_proxies: &mut Vec<(ProxyId, &'r NewProxy)>,
    ) -> Result<Result<NewAccount<'r>, LineOutcome>, StoreError> {
        if let Some(first) = self.seen.get(&row.username) {
            return Ok(Err(LineOutcome::Duplicate(format!(
                "the same username is on line {first}"
            ))));
        }
        self.seen.insert(row.username.clone(), row.line);
        if existing.contains(&row.username) {
            return Ok(Err(LineOutcome::Duplicate(
                "the account already exists".into(),
            )));
        }
        let group_id = match &row.group {
            None => None,
            Some(name) => Some(self.group(tx, name).await?),
        };
        let (proxy_id, country) = match &row.proxy {
            Some(p) => match self.own_proxy(p, known, new_proxies) {
                Ok(found) => found,
                Err(refused) => return Ok(Err(refused)),
            },
            None => self.reserve_proxy(),
        };
        let device = (self.make_device)(&row.language, country.as_deref());
        Ok(Ok(NewAccount {
            row,
            group_id,
            proxy_id,
            device,
        }))
    }

    /// The group named `name` (by its name key), created if there is none.
    async fn group(&mut self, tx: &mut Tx, name: &str) -> Result<GroupId, StoreError> {
        let key = group_name_key(name);
        if let Some(id) = self.groups.get(&key) {
            return Ok(*id);
        }
        let found: Option<DbUuid> = on_tx!(tx, |conn| sqlx::query_scalar(
            "SELECT id FROM groups WHERE name_key = $1"
        )
        .bind(&key)
        .fetch_optional(conn)
        .await?);
        let id = match found {
            Some(id) => id.into_id(),
            None => {
                let id = GroupId::new();
                let now = Utc::now();
                on_tx!(tx, |conn| sqlx::query(
                    "INSERT INTO groups (id, name, name_key, description, created_at, \
                     updated_at, media_variants) VALUES ($1, $2, $3, '', $4, $4, $5)"
                )
                .bind(DbUuid::from(id))
                .bind(name)
                .bind(&key)
                .bind(now)
                .bind(self.new_groups.as_str())
                .execute(conn)
                .await
                .map(|_| ())?);
                id
            }
        };
        self.groups.insert(key, id);
        Ok(id)
    }

    /// The proxy a line names, with its country: one of the pool if it serves no account
    /// yet (nor one of an earlier line), else a new one to insert.
    fn own_proxy<'r>(
        &mut self,
        p: &'r NewProxy,
        known: &mut HashMap<ProxyKey, KnownProxy>,
        new_proxies: &mut Vec<(ProxyId, &'r NewProxy)>,
    ) -> Result<(Option<ProxyId>, Option<String>), LineOutcome> {
        let key: ProxyKey = (
            p.proxy_type.as_str().to_owned(),
            p.host.clone(),
            i32::from(p.port),
            p.credentials_key.clone(),
        );
        match known.get(&key).cloned() {
            Some(KnownProxy {
                owner: Some(owner), ..
            }) => Err(LineOutcome::Invalid(format!(
                "proxy_url: the proxy already serves the account '{owner}'"
            ))),
            Some(KnownProxy { id, country, .. }) => {
                if !self.used.insert(id) {
                    return Err(LineOutcome::Invalid(
                        "proxy_url: the proxy serves an account of an earlier line".into(),
                    ));
                }
                Ok((Some(id), country))
            }
            None => {
                let id = ProxyId::new();
                new_proxies.push((id, p));
                known.insert(
                    key,
                    KnownProxy {
                        id,
                        country: p.country.clone(),
                        owner: None,
                    },
                );
                self.used.insert(id);
                Ok((Some(id), p.country.clone()))
            }
        }
    }

    /// The next free proxy of the reserve pool not given to a line yet, if any.
    fn reserve_proxy(&mut self) -> (Option<ProxyId>, Option<String>) {
        while let Some((id, country)) = self.free.pop() {
            if self.used.insert(id) {
                return (Some(id), country);
            }
        }
        (None, None)
    }
}

/// The chunk's usernames that are accounts already.
async fn existing_usernames(
    tx: &mut Tx,
    part: &[ImportAccount],
) -> Result<HashSet<String>, StoreError> {
    let found: Vec<String> = on_tx!(tx, |conn| {
        let mut q = sqlx::QueryBuilder::new("SELECT username FROM accounts WHERE username IN (");
        let mut list = q.separated(", ");
        for row in part {
            list.push_bind(&row.username);
        }
        list.push_unseparated(")");
        q.build_query_scalar().fetch_all(conn).await?
    });
    Ok(found.into_iter().collect())
}

/// The chunk's proxies already in the pool, fetched at once by host (one round trip per
/// chunk instead of one per line), with the account each one serves.
async fn known_proxies(
    tx: &mut Tx,
    part: &[ImportAccount],
) -> Result<HashMap<ProxyKey, KnownProxy>, StoreError> {
    let hosts: HashSet<&str> = part
        .iter()
        .filter_map(|r| r.proxy.as_ref().map(|p| p.host.as_str()))
        .collect();
    if hosts.is_empty() {
        return Ok(HashMap::new());
    }
    type Row = (
        DbUuid,
        String,
        String,
        i32,
        String,
        Option<String>,
        Option<String>,
    );
    let found: Vec<Row> = on_tx!(tx, |conn| {
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
        q.build_query_as().fetch_all(conn).await?
    });
    Ok(found
        .into_iter()
        .map(|(id, kind, host, port, key, country, owner)| {
            let proxy = KnownProxy {
                id: id.into_id(),
                country,
                owner,
            };
            ((kind, host, port, key), proxy)
        })
        .collect())
}

async fn insert_proxies(tx: &mut Tx, proxies: &[(ProxyId, &NewProxy)]) -> Result<(), StoreError> {
    if proxies.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    on_tx!(tx, |conn| {
        let mut q = sqlx::QueryBuilder::new(INSERT_PROXY_COLUMNS);
        q.push_values(proxies, |b, (id, p)| proxy_row!(b, *id, p, now));
        q.build().execute(conn).await?;
    });
    Ok(())
}

async fn insert_accounts(tx: &mut Tx, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    on_tx!(tx, |conn| {
        let mut q = sqlx::QueryBuilder::new(INSERT_ACCOUNT_COLUMNS);
        q.push_values(accounts, |mut b, a| {
            b.push_bind(DbUuid::from(AccountId::new()))
                .push_bind(&a.row.username)
                .push_bind(&a.row.password_enc)
                .push_bind(a.group_id.map(DbUuid::from))
                .push_bind(&a.row.language)
                .push_bind(a.proxy_id.map(DbUuid::from))
                .push_bind("active")
                .push_bind(&a.device.device_id)
                .push_bind(&a.device.user_agent)
                .push_bind(Json(&a.device.device))
                .push_bind(&a.device.locale)
                .push_bind(a.device.timezone_offset)
                .push_bind(a.row.posts_limit_per_day)
                .push_bind(0i32)
                .push_bind(0i32)
                .push_bind(a.row.registered_at)
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(conn).await?;
    });
    Ok(())
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
