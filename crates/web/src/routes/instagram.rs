//! An account's Instagram sign-in over HTTP: log in now, answer a two-factor code or a
//! challenge, check the session, bring or take a session in instagrapi's settings format
//! (admins only, logged). The use cases are `icf_app::account_session`; logins and checks
//! are jobs of the account, so an answer is the outcome (200) or where to read it (202).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_app::account_session::{JobAnswer, LoginResult, SessionStatus, check, login, transfer};
use icf_app::accounts::AccountState;
use icf_core::ids::{AccountId, JobId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::state::AppState;

/// A login or a session check still waiting for the account (its publishing goes first) or
/// for a worker, or running: ask again at `status_url`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobPending {
    #[schema(value_type = String)]
    job_id: JobId,
    /// `queued` or `running`.
    state: String,
    status_url: String,
}

/// The outcome (200), or 202 with where to read it later (`status_url`).
fn answer<T: Serialize>(answer: JobAnswer<T>, status_url: String) -> Response {
    match answer {
        JobAnswer::Done(r) => Json(*r).into_response(),
        JobAnswer::Pending { job_id, state } => (
            StatusCode::ACCEPTED,
            Json(JobPending {
                job_id,
                state: state.as_str().to_owned(),
                status_url,
            }),
        )
            .into_response(),
    }
}

fn login_url(id: AccountId) -> String {
    format!("/api/accounts/{id}/login")
}

fn check_url(id: AccountId) -> String {
    format!("/api/accounts/{id}/status/check")
}

/// How long to wait for a job before answering 202: 0–120 s, 30 by default.
fn wait(seconds: Option<u32>) -> ApiResult<Duration> {
    let wait = seconds.unwrap_or(30);
    if wait > 120 {
        return Err(ApiError::bad_request(
            Some("wait"),
            "wait is at most 120 seconds",
        ));
    }
    Ok(Duration::from_secs(u64::from(wait)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginParams {
    /// How long to wait for the login to end before answering 202 (seconds, 0–120,
    /// default 30).
    #[param(maximum = 120)]
    wait: Option<u32>,
}

/// Logs the account in, as a `login_account` job through the account's proxy, queued
/// after whatever the account is doing (its publishing) and never retried in a loop. A
/// session that is still alive is kept (a fresh login is the riskiest action); otherwise
/// the password (and stored TOTP secret) are sent once. Answers with the outcome when the
/// job ends within `wait` seconds, else 202; a login already queued is joined, not doubled.
#[utoipa::path(post, path = "/api/accounts/{id}/login", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)"), LoginParams),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = LoginResult), (status = 202, body = JobPending),
        (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiQuery(p): ApiQuery<LoginParams>,
) -> ApiResult<Response> {
    let wait = wait(p.wait)?;
    let outcome = login::login(&state.app, id, wait).await?;
    Ok(answer(outcome, login_url(id)))
}

/// The account's latest login job: its outcome when it has ended (200), or 202 while it
/// waits or runs.
#[utoipa::path(get, path = "/api/accounts/{id}/login", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = LoginResult), (status = 202, body = JobPending),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn last_login(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Response> {
    let outcome = login::last_login(&state.app, user.role, id).await?;
    Ok(answer(outcome, login_url(id)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 6-digit code Instagram sent (email, SMS) or the authenticator shows.
    code: String,
}

/// Answers the pending two-factor code or challenge with the code a person received, as a
/// `login_account` job queued after whatever the account is doing (the code stored
/// encrypted). Answers with the outcome when the job ends within `wait` seconds, else 202
/// (read the outcome with `GET /api/accounts/{id}/login`); 409 when nothing is pending.
#[utoipa::path(post, path = "/api/accounts/{id}/challenge", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)"), LoginParams), request_body = CodeRequest,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = LoginResult), (status = 202, body = JobPending),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiQuery(p): ApiQuery<LoginParams>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Response> {
    let wait = wait(p.wait)?;
    let outcome = login::answer_code(&state.app, id, &req.code, wait).await?;
    Ok(answer(outcome, login_url(id)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusParams {
    /// How long to wait for the check to end before answering 202 (seconds, 0–120,
    /// default 30).
    #[param(maximum = 120)]
    wait: Option<u32>,
}

/// The account's state, with the session checked against Instagram when there is one
/// (`accounts/current_user`, through the account's proxy). The check is a
/// `check_account_status` job, queued after whatever the account is doing (its publishing)
/// like every Instagram action of the account; a check already queued is joined. Answers
/// when the check ends within `wait` seconds, else 202 (read the outcome at `status_url`).
/// Without a stored session nothing is asked of Instagram: `none`, at once.
#[utoipa::path(get, path = "/api/accounts/{id}/status", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)"), StatusParams),
    responses((status = 200, body = SessionStatus), (status = 202, body = JobPending),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
    ApiQuery(p): ApiQuery<StatusParams>,
) -> ApiResult<Response> {
    let wait = wait(p.wait)?;
    let outcome = check::check(&state.app, user.role, id, wait).await?;
    Ok(answer(outcome, check_url(id)))
}

/// Checks the account's session now: the same as `GET /api/accounts/{id}/status`, for
/// clients that would rather not start work with a GET.
#[utoipa::path(post, path = "/api/accounts/{id}/status/check", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)"), StatusParams),
    responses((status = 200, body = SessionStatus), (status = 202, body = JobPending),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn check_status(
    state: State<AppState>,
    user: CurrentUser,
    id: IdPath<AccountId>,
    p: ApiQuery<StatusParams>,
) -> ApiResult<Response> {
    status(state, user, id, p).await
}

/// The account's latest session check (periodic or asked for): its outcome when it has
/// ended (200), or 202 while it waits or runs. Starts nothing.
#[utoipa::path(get, path = "/api/accounts/{id}/status/check", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = SessionStatus), (status = 202, body = JobPending),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn last_check(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Response> {
    let outcome = check::last_check(&state.app, user.role, id).await?;
    Ok(answer(outcome, check_url(id)))
}

/// The account's session as instagrapi's `dump_settings()` writes it, to move it to
/// another tool. A secret: admins only, and every export is logged.
#[utoipa::path(get, path = "/api/accounts/{id}/session", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, description = "instagrapi settings JSON", body = Object),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_session(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        transfer::export(&state.app, id, &admin.username).await?,
    ))
}

/// Imports a session made by instagrapi's `dump_settings()` (an agency's existing
/// sessions skip a fresh login). Stored encrypted; the account's device and proxy stay.
#[utoipa::path(put, path = "/api/accounts/{id}/session", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    request_body(content = Object, description = "instagrapi settings JSON"),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = AccountState), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_session(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<AccountState>> {
    Ok(Json(
        transfer::import(&state.app, id, &admin.username, &body).await?,
    ))
}
