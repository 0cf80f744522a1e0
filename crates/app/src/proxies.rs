//! The proxy pool: admins only. Proxies are shown masked (`socks5://host:port`); their
//! credentials never leave the server.

use icf_core::account::Proxy;
use icf_core::enums::{ProxyStatus, ProxyType};
use icf_core::ids::ProxyId;
use icf_core::proxy::{ProxySpec, parse_country};
use icf_engine::proxy_check::CheckError;
use icf_store::StoreError;
use icf_store::proxies::{ProxyChanges, ProxyFilter};
use serde::Deserialize;

use crate::import::{ImportReport, import_proxies, new_proxy};
use crate::input::nullable;
use crate::{App, AppError, AppResult};

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateProxy {
    /// `http://user:pass@host:port`, `socks5://…` or `host:port:user:pass`.
    pub url: String,
    /// The type of a `host:port:user:pass` address (default http).
    pub proxy_type: Option<ProxyType>,
    pub country: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProxy {
    pub url: Option<String>,
    pub proxy_type: Option<ProxyType>,
    #[serde(default, deserialize_with = "nullable")]
    pub country: Option<Option<String>>,
    pub status: Option<ProxyStatus>,
}

fn proxy_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("proxy"),
        StoreError::Conflict { field } => AppError::Conflict {
            message: "this proxy is already in the pool".into(),
            field: Some(field),
        },
        other => other.into(),
    }
}

/// One page of the pool, masked, with the total across all pages.
pub async fn list(
    app: &App,
    filter: &ProxyFilter,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<Proxy>, i64)> {
    Ok(icf_store::proxies::list(&app.db, filter, limit, offset).await?)
}

pub async fn get(app: &App, id: ProxyId) -> AppResult<Proxy> {
    Ok(icf_store::proxies::get(&app.db, id)
        .await
        .map_err(proxy_error)?
        .proxy)
}

/// Adds a proxy to the pool (credentials encrypted).
pub async fn create(app: &App, req: CreateProxy) -> AppResult<Proxy> {
    let spec = ProxySpec::parse_with(&req.url, req.proxy_type.unwrap_or(ProxyType::Http), "url")?;
    let country = req.country.as_deref().map(parse_country).transpose()?;
    let proxy = icf_store::proxies::create(&app.db, &new_proxy(&app.cipher, &spec, country))
        .await
        .map_err(proxy_error)?;
    recover_waiting_accounts(app).await;
    Ok(proxy)
}

/// A new proxy may be what an account in `proxy_error` waits for: the recovery runs now
/// rather than at the next periodic check. Failing to queue it only delays it.
async fn recover_waiting_accounts(app: &App) {
    if app.engine.is_none() {
        return;
    }
    let job = icf_engine::proxy_health::recover_job();
    if let Err(e) = icf_store::jobs::enqueue_now(&app.db, &job).await {
        tracing::warn!(error = %e, "cannot queue the recovery of accounts waiting for a proxy");
    }
}

pub async fn update(app: &App, id: ProxyId, req: UpdateProxy) -> AppResult<Proxy> {
    let address = req
        .url
        .as_deref()
        .map(|u| ProxySpec::parse_with(u, req.proxy_type.unwrap_or(ProxyType::Http), "url"))
        .transpose()?
        .map(|spec| new_proxy(&app.cipher, &spec, None));
    let country = match req.country {
        Some(Some(c)) => Some(Some(parse_country(&c)?)),
        Some(None) => Some(None),
        None => None,
    };
    let changes = ProxyChanges {
        address,
        country,
        status: req.status,
    };
    icf_store::proxies::update(&app.db, id, &changes)
        .await
        .map_err(proxy_error)
}

/// Deletes a proxy. One that serves an account is kept unless `force` (the account is then
/// left without a proxy).
pub async fn delete(app: &App, id: ProxyId, force: bool) -> AppResult<()> {
    match icf_store::proxies::delete(&app.db, id, force).await {
        Ok(()) => Ok(()),
        Err(StoreError::Constraint(message)) => Err(AppError::conflict(Some("force"), message)),
        Err(e) => Err(proxy_error(e)),
    }
}

/// A real request through the proxy to `ICF_PROXY_CHECK_URL`: latency, status and the
/// error in plain words. A failed proxy's account moves to a free working proxy (or to
/// `proxy_error`); a working proxy's account waiting in `proxy_error` is active again.
pub async fn check(app: &App, id: ProxyId) -> AppResult<Proxy> {
    let proxy = icf_engine::proxy_check::check_proxy(&app.db, &app.cipher, &app.proxy_check, id)
        .await
        .map_err(|e| match e {
            CheckError::Store(s) => proxy_error(s),
            CheckError::Crypto(c) => AppError::internal(c),
        })?;
    if let Some(engine) = &app.engine {
        engine.after_check(&proxy).await.map_err(|e| match e {
            icf_engine::EngineError::Store(s) => proxy_error(s),
            other => AppError::internal(other),
        })?;
    }
    Ok(proxy)
}

/// Imports a proxies file (lines written `host:port:user:pass` are of `default_type`);
/// unless it is a dry run, accounts waiting for a proxy are then served.
pub async fn import(
    app: &App,
    text: &str,
    dry_run: bool,
    default_type: ProxyType,
) -> AppResult<ImportReport> {
    let report = import_proxies(&app.db, &app.cipher, text, dry_run, default_type).await?;
    if !dry_run {
        recover_waiting_accounts(app).await;
    }
    Ok(report)
}
