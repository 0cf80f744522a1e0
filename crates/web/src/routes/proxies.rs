//! `/api/proxies/`: admins only. Proxies are shown masked (`socks5://host:port`); their
//! credentials never leave the server. The use cases are `icf_app::proxies`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_app::import::ImportReport;
use icf_app::proxies::{self, CreateProxy, UpdateProxy};
use icf_core::account::Proxy;
use icf_core::enums::ProxyType;
use icf_core::ids::ProxyId;

use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath, ImportBody};
use crate::filters::proxy_query;
use crate::query::{Paged, Params};
use crate::state::AppState;

/// The proxy pool, masked (`socks5://host:port`, never credentials). Admins only.
#[utoipa::path(get, path = "/api/proxies/", tag = "proxies", security(("bearer" = [])), params(("page" = Option<i64>, Query, description = "1-based page", minimum = 1, maximum = 1000000), ("per_page" = Option<i64>, Query, description = "1–500, default 50", minimum = 1, maximum = 500), ("status" = Option<String>, Query),
        ("proxy_type" = Option<String>, Query), ("country" = Option<String>, Query), ("assigned" = Option<bool>, Query)),
    responses((status = 200, body = Paged<icf_core::account::Proxy>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    params: Params,
) -> ApiResult<Json<Paged<Proxy>>> {
    let (filter, page) = proxy_query(&params)?;
    let (items, total) = proxies::list(&state.app, &filter, page.per_page, page.offset()).await?;
    Ok(Json(Paged::new(items, total, page)))
}

#[utoipa::path(post, path = "/api/proxies/", tag = "proxies", security(("bearer" = [])), request_body = CreateProxy,
    responses((status = 403, body = crate::error::ErrorBody), (status = 201, body = icf_core::account::Proxy), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateProxy>,
) -> ApiResult<(StatusCode, Json<Proxy>)> {
    let proxy = proxies::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(proxy)))
}

#[utoipa::path(get, path = "/api/proxies/{id}", tag = "proxies", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Proxy id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Proxy), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
) -> ApiResult<Json<Proxy>> {
    Ok(Json(proxies::get(&state.app, id).await?))
}

#[utoipa::path(put, path = "/api/proxies/{id}", tag = "proxies", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Proxy id (UUID)")), request_body = UpdateProxy,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Proxy), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<ProxyId>,
    ApiJson(req): ApiJson<UpdateProxy>,
) -> ApiResult<Json<Proxy>> {
    Ok(Json(proxies::update(&state.app, id, req).await?))
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
    proxies::delete(&state.app, id, force).await?;
    Ok(StatusCode::NO_CONTENT)
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
    Ok(Json(proxies::check(&state.app, id).await?))
}

/// `POST /api/proxies/import[?dry_run=true][&proxy_type=socks5]`.
/// Bulk import: `scheme://user:pass@host:port` or `host:port:user:pass` lines, optional country.
#[utoipa::path(post, path = "/api/proxies/import", tag = "proxies", security(("bearer" = [])),
    params(("dry_run" = Option<bool>, Query)), request_body(content = String, content_type = "text/plain"),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_app::import::ImportReport), (status = 422, body = crate::error::ErrorBody)))]
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
    let report = proxies::import(&state.app, &text, dry_run, default_type).await?;
    Ok(Json(report))
}
