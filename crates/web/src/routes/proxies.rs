//! `/api/proxies/`: admins only. Proxies are shown masked (`socks5://host:port`); their
//! credentials never leave the server.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_core::account::Proxy;
use icf_core::enums::{ProxyStatus, ProxyType};
use icf_core::ids::ProxyId;
use icf_core::proxy::{ProxySpec, parse_country};
use icf_store::StoreError;
use icf_store::proxies::{ProxyChanges, ProxyFilter};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::import::{ImportReport, new_proxy};
use crate::proxy_check::CheckError;
use crate::query::{Paged, Params};
use crate::routes::accounts::{ImportBody, import_error, nullable};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProxy {
    /// `http://user:pass@host:port`, `socks5://…` or `host:port:user:pass`.
    url: String,
    /// The type of a `host:port:user:pass` address (default http).
    proxy_type: Option<ProxyType>,
    country: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProxy {
    url: Option<String>,
    proxy_type: Option<ProxyType>,
    #[serde(default, deserialize_with = "nullable")]
    country: Option<Option<String>>,
    status: Option<ProxyStatus>,
}

fn proxy_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("proxy"),
        StoreError::Conflict { field } => ApiError::Conflict {
            message: "this proxy is already in the pool".into(),
            field: Some(field),
        },
        other => other.into(),
    }
}

/// The proxy pool, masked (`socks5://host:port`, never credentials). Admins only.
#[utoipa::path(get, path = "/api/proxies/", tag = "proxies", security(("bearer" = [])), params(("page" = Option<i64>, Query, description = "1-based page", minimum = 1, maximum = 1000000), ("per_page" = Option<i64>, Query, description = "1–500, default 50", minimum = 1, maximum = 500), ("status" = Option<String>, Query),
        ("proxy_type" = Option<String>, Query), ("country" = Option<String>, Query), ("assigned" = Option<bool>, Query)),
    responses((status = 200, body = Paged<icf_core::account::Proxy>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    params: Params,
) -> ApiResult<Json<Paged<Proxy>>> {
    let page = params.page()?;
    let filter = ProxyFilter {
        status: params.parse::<ProxyStatus>("status")?,
        proxy_type: params.parse::<ProxyType>("proxy_type")?,
        country: params.get("country").map(parse_country).transpose()?,
        assigned: params.flag("assigned")?,
    };
    let (items, total) =
        icf_store::proxies::list(&state.app.db, &filter, page.per_page, page.offset()).await?;
    Ok(Json(Paged::new(items, total, page)))
}

#[utoipa::path(post, path = "/api/proxies/", tag = "proxies", security(("bearer" = [])), request_body = CreateProxy,
    responses((status = 403, body = crate::error::ErrorBody), (status = 201, body = icf_core::account::Proxy), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateProxy>,
) -> ApiResult<(StatusCode, Json<Proxy>)> {
    let spec = ProxySpec::parse_with(&req.url, req.proxy_type.unwrap_or(ProxyType::Http), "url")?;
    let country = req.country.as_deref().map(parse_country).transpose()?;
    let proxy =
        icf_store::proxies::create(&state.app.db, &new_proxy(&state.app.cipher, &spec, country))
            .await
            .map_err(proxy_error)?;
    recover_waiting_accounts(&state).await;
    Ok((StatusCode::CREATED, Json(proxy)))
}

/// A new proxy may be what an account in `proxy_error` waits for: the recovery runs now
/// rather than at the next periodic check. Failing to queue it only delays it.
async fn recover_waiting_accounts(state: &AppState) {
    if state.app.engine.is_none() {
        return;
    }
    let job = icf_engine::proxy_health::recover_job();
    if let Err(e) = icf_store::jobs::enqueue_now(&state.app.db, &job).await {
        tracing::warn!(error = %e, "cannot queue the recovery of accounts waiting for a proxy");
    }
}

#[utoipa::path(get, path = "/api/proxies/{id}", tag = "proxies", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Proxy id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Proxy), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
) -> ApiResult<Json<Proxy>> {
    Ok(Json(
        icf_store::proxies::get(&state.app.db, id)
            .await
            .map_err(proxy_error)?
            .proxy,
    ))
}

#[utoipa::path(put, path = "/api/proxies/{id}", tag = "proxies", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Proxy id (UUID)")), request_body = UpdateProxy,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Proxy), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
    ApiJson(req): ApiJson<UpdateProxy>,
) -> ApiResult<Json<Proxy>> {
    let address = req
        .url
        .as_deref()
        .map(|u| ProxySpec::parse_with(u, req.proxy_type.unwrap_or(ProxyType::Http), "url"))
        .transpose()?
        .map(|spec| new_proxy(&state.app.cipher, &spec, None));
    let country = match req.country {
        Some(Some(c)) => Some(Some(parse_country(&c)?)),
        Some(None) => Some(None),
        None => None,
    };
    let proxy = icf_store::proxies::update(
        &state.app.db,
        id,
        &ProxyChanges {
            address,
            country,
            status: req.status,
        },
    )
    .await
    .map_err(proxy_error)?;
    Ok(Json(proxy))
}

/// `DELETE /api/proxies/{id}[?force=true]`: a proxy that serves an account is kept
/// unless forced (the account is then left without a proxy).
#[utoipa::path(delete, path = "/api/proxies/{id}", tag = "proxies", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("force" = Option<bool>, Query, description = "Delete even when assigned")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Assigned to an account", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
    params: Params,
) -> ApiResult<StatusCode> {
    let force = params.flag("force")?.unwrap_or(false);
    match icf_store::proxies::delete(&state.app.db, id, force).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Constraint(message)) => Err(ApiError::Conflict {
            field: Some("force".into()),
            message,
        }),
        Err(e) => Err(proxy_error(e)),
    }
}

/// `POST /api/proxies/{id}/check`: one real request through the proxy.
/// A real request through the proxy to `ICF_PROXY_CHECK_URL`: latency, status and the error in
/// plain words. A failed proxy's account moves to a free working proxy (or to `proxy_error`); a
/// working proxy's account waiting in `proxy_error` is active again.
#[utoipa::path(post, path = "/api/proxies/{id}/check", tag = "proxies", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Proxy id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Proxy), (status = 404, body = crate::error::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
) -> ApiResult<Json<Proxy>> {
    let proxy = crate::proxy_check::check_proxy(
        &state.app.db,
        &state.app.cipher,
        &state.app.proxy_check,
        id,
    )
    .await
    .map_err(|e| match e {
        CheckError::Store(s) => proxy_error(s),
        CheckError::Crypto(c) => ApiError::internal(c),
    })?;
    if let Some(engine) = &state.app.engine {
        engine.after_check(&proxy).await.map_err(|e| match e {
            icf_engine::EngineError::Store(s) => proxy_error(s),
            other => ApiError::internal(other),
        })?;
    }
    Ok(Json(proxy))
}

/// `POST /api/proxies/import[?dry_run=true][&proxy_type=socks5]`.
/// Bulk import: `scheme://user:pass@host:port` or `host:port:user:pass` lines, optional country.
#[utoipa::path(post, path = "/api/proxies/import", tag = "proxies", security(("bearer" = [])),
    params(("dry_run" = Option<bool>, Query)), request_body(content = String, content_type = "text/plain"),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = crate::import::ImportReport), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    _: AdminUser,
    params: Params,
    ImportBody(text): ImportBody,
) -> ApiResult<Json<ImportReport>> {
    let dry_run = params.flag("dry_run")?.unwrap_or(false);
    let default_type = params
        .parse::<ProxyType>("proxy_type")?
        .unwrap_or(ProxyType::Http);
    let report = crate::import::import_proxies(
        &state.app.db,
        &state.app.cipher,
        &text,
        dry_run,
        default_type,
    )
    .await
    .map_err(import_error)?;
    if !dry_run {
        recover_waiting_accounts(&state).await;
    }
    Ok(Json(report))
}
