//! `/api/accounts/`: admins write, editors read. No response carries a password, a
//! session, a TOTP secret or a proxy credential. The use cases are `icf_app::accounts`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_app::accounts::{self, CreateAccount, StatusHistory, TotpSecret, UpdateAccount};
use icf_app::import::ImportReport;
use icf_core::account::{Account, check_posts_limit};
use icf_core::ids::{AccountId, GroupId};
use icf_core::language::Language;

use crate::auth::{AdminUser, CurrentUser};
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath, ImportBody};
use crate::filters::account_query;
use crate::query::{Paged, Params};
use crate::state::AppState;

/// One page of the account list as `user` may see it.
async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    params: &Params,
    group: Option<GroupId>,
) -> ApiResult<Paged<Account>> {
    let (query, page) = account_query(params, group)?;
    let (items, total) = accounts::list(&state.app, user.role, &query).await?;
    Ok(Paged::new(items, total, page))
}

/// Accounts, never with passwords, sessions or proxy credentials. Editors may read, without
/// the proxy address and with only the human side of a pending challenge.
#[utoipa::path(get, path = "/api/accounts/", tag = "accounts", security(("bearer" = [])), params(("page" = Option<i64>, Query, description = "1-based page", minimum = 1, maximum = 1000000), ("per_page" = Option<i64>, Query, description = "1–500, default 50", minimum = 1, maximum = 500),
        ("group_id" = Option<String>, Query), ("status" = Option<String>, Query), ("language" = Option<String>, Query),
        ("search" = Option<String>, Query, description = "Part of the username"),
        ("sort" = Option<String>, Query, description = "username, created_at, last_post_at, last_login_at, status, language"),
        ("order" = Option<String>, Query, description = "asc or desc")),
    responses((status = 200, body = Paged<icf_core::account::Account>), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Paged<Account>>> {
    list_page(&state, &user, &params, None).await.map(Json)
}

/// Adds an account. Without `proxy_id` or `proxy_url` a free proxy of the pool is assigned.
#[utoipa::path(post, path = "/api/accounts/", tag = "accounts", security(("bearer" = [])), request_body = CreateAccount,
    responses((status = 201, body = icf_core::account::Account), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateAccount>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let account = accounts::create(&state.app, req).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

#[utoipa::path(get, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<Account>> {
    Ok(Json(accounts::get(&state.app, user.role, id).await?))
}

/// Stores the account's two-factor (TOTP) secret, encrypted; it is never shown again
/// (`has_totp` says whether one is set).
#[utoipa::path(put, path = "/api/accounts/{id}/totp", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")), request_body = TotpSecret,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_totp(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(req): ApiJson<TotpSecret>,
) -> ApiResult<Json<Account>> {
    Ok(Json(accounts::set_totp(&state.app, id, req.secret).await?))
}

/// The account's status changes (`active`, `cooldown`, `login_required`, `banned`,
/// `proxy_error`): old and new status, the reason and the time.
#[utoipa::path(get, path = "/api/accounts/{id}/history", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = StatusHistory), (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<StatusHistory>> {
    Ok(Json(accounts::history(&state.app, id).await?))
}

#[utoipa::path(put, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")), request_body = UpdateAccount,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(req): ApiJson<UpdateAccount>,
) -> ApiResult<Json<Account>> {
    Ok(Json(accounts::update(&state.app, id, req).await?))
}

#[utoipa::path(delete, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<StatusCode> {
    accounts::delete(&state.app, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/accounts/import[?dry_run=true][&language=en]`.
/// Bulk import: the body is the file (`text/plain` lines `username:password[:language[:group[:proxy_url]]]`,
/// `text/csv` with a header, or multipart with a `file` field). Re-importing creates nothing twice.
#[utoipa::path(post, path = "/api/accounts/import", tag = "accounts", security(("bearer" = [])),
    params(("dry_run" = Option<bool>, Query, description = "Report without saving")),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_app::import::ImportReport), (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    _: AdminUser,
    params: Params,
    ImportBody(text): ImportBody,
) -> ApiResult<Json<ImportReport>> {
    let dry_run = params.flag("dry_run")?.unwrap_or(false);
    let language = match params.get("language") {
        Some(l) => Language::parse(l)?,
        None => Language::parse("en")?,
    };
    let limit = check_posts_limit(
        params
            .number::<i64>("posts_limit_per_day")?
            .unwrap_or(i64::from(state.app.pacing.max_daily)),
        state.app.pacing.max_daily,
    )?;
    let report = icf_app::import::import_accounts(
        &state.app.db,
        &state.app.cipher,
        &text,
        dry_run,
        &icf_app::import::ImportDefaults {
            language,
            posts_limit_per_day: limit,
            new_groups: state.app.uploads.new_group_variants,
        },
    )
    .await
    .map_err(icf_app::AppError::from)?;
    Ok(Json(report))
}
