//! An account's Instagram sign-in: log in now (through its own proxy, with its own
//! device), answer a two-factor code or a challenge, check the session cheaply, and bring
//! or take a session in instagrapi's settings format (admins only, logged).

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_core::enums::JobState;
use icf_core::ids::{AccountId, JobId};
use icf_engine::login::{LOGIN_ACCOUNT, LoginReport};
use icf_engine::{Engine, EngineError, class_name};
use icf_instagram::{IgError, Session};
use icf_store::StoreError;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::routes::accounts::{AccountState, account_error};
use crate::state::AppState;

fn engine(state: &AppState) -> ApiResult<&Engine> {
    state
        .engine
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("this server does not talk to Instagram".into()))
}

fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::Store(e) => account_error(e),
        other => ApiError::internal(other),
    }
}

/// What a login (or a submitted code) came to, with the account's state after it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResult {
    /// `logged_in`, `two_factor_required`, `challenge_required` or `failed`.
    outcome: String,
    /// What Instagram asks for: the two-factor methods, or the challenge (code by email
    /// or SMS, approval in the app, a manual checkpoint) and where the code went.
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
    /// When it failed: `proxy`, `credentials`, `challenge`, `banned`, `cooldown`, …
    error_class: Option<String>,
    error: Option<String>,
    /// The `login_account` job that ran it (absent for a submitted code, answered at once).
    #[schema(value_type = Option<String>)]
    job_id: Option<JobId>,
    #[serde(flatten)]
    account: AccountState,
}

impl LoginResult {
    /// As `viewer` may see it: an editor gets only the human side of the details and no
    /// proxy address.
    fn for_role(self, viewer: icf_core::enums::Role) -> Self {
        match viewer {
            icf_core::enums::Role::Admin => self,
            icf_core::enums::Role::Editor => Self {
                details: self
                    .details
                    .as_ref()
                    .map(icf_core::account::challenge_for_editor),
                account: self.account.for_role(viewer),
                ..self
            },
        }
    }
}

/// A login still waiting for a worker (or still running): ask again with
/// `GET /api/accounts/{id}/login`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginPending {
    #[schema(value_type = String)]
    job_id: JobId,
    /// `queued` or `running`.
    state: String,
    status_url: String,
}

async fn result(
    state: &AppState,
    id: AccountId,
    report: LoginReport,
    job_id: Option<JobId>,
) -> ApiResult<Json<LoginResult>> {
    let account = icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    Ok(Json(LoginResult {
        outcome: report.outcome,
        details: report.details,
        error_class: report.error_class,
        error: report.error,
        job_id,
        account: account.into(),
    }))
}

/// Splits engine failures: Instagram's (and the proxy's) answers are results to show,
/// anything else is an API error.
fn instagram_result<T>(r: Result<T, EngineError>) -> ApiResult<Result<T, IgError>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(EngineError::Instagram(e)) => Ok(Err(e)),
        Err(e) => Err(engine_error(e)),
    }
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
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = LoginResult), (status = 202, body = LoginPending),
        (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiQuery(p): ApiQuery<LoginParams>,
) -> ApiResult<Response> {
    let wait = p.wait.unwrap_or(30);
    if wait > 120 {
        return Err(ApiError::bad_request(
            Some("wait"),
            "wait is at most 120 seconds",
        ));
    }
    Ok(login_job(&state, id, Duration::from_secs(u64::from(wait)))
        .await?
        .into_response())
}

/// The account's latest login job: its outcome when it has ended (200), or 202 while it
/// waits or runs.
#[utoipa::path(get, path = "/api/accounts/{id}/login", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = LoginResult), (status = 202, body = LoginPending),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn last_login(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Response> {
    icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    let job = icf_store::jobs::latest(&state.db, LOGIN_ACCOUNT, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("login"))?;
    let answer = match login_answer(&state, id, job.id, Duration::ZERO).await? {
        LoginAnswer::Done(r) => LoginAnswer::Done(Box::new(r.for_role(user.role))),
        pending => pending,
    };
    Ok(answer.into_response())
}

/// What a login request came to: its outcome, or still waiting.
pub(crate) enum LoginAnswer {
    Done(Box<LoginResult>),
    Pending(LoginPending),
}

impl LoginAnswer {
    fn into_response(self) -> Response {
        match self {
            LoginAnswer::Done(r) => Json(*r).into_response(),
            LoginAnswer::Pending(p) => (StatusCode::ACCEPTED, Json(p)).into_response(),
        }
    }

    /// As JSON, for the web UI.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            LoginAnswer::Done(r) => serde_json::to_value(r).unwrap_or(Value::Null),
            LoginAnswer::Pending(p) => serde_json::to_value(p).unwrap_or(Value::Null),
        }
    }
}

/// Queues the account's login (joining one already queued) and waits up to `wait` for it.
pub(crate) async fn login_job(
    state: &AppState,
    id: AccountId,
    wait: Duration,
) -> ApiResult<LoginAnswer> {
    engine(state)?;
    icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    let job = icf_engine::login::enqueue_login(&state.db, id).await?;
    login_answer(state, id, job, wait).await
}

/// Waits (polling the job row, so a worker in another process counts too) until the job
/// ends or `wait` runs out.
async fn login_answer(
    state: &AppState,
    id: AccountId,
    job_id: JobId,
    wait: Duration,
) -> ApiResult<LoginAnswer> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let job = icf_store::jobs::get(&state.db, job_id).await?;
        let report = match job.state {
            JobState::Succeeded => Some(
                job.result
                    .and_then(|r| serde_json::from_value::<LoginReport>(r).ok())
                    .unwrap_or_else(|| LoginReport {
                        outcome: "failed".into(),
                        details: None,
                        error_class: Some("internal".into()),
                        error: Some("the login recorded no outcome".into()),
                    }),
            ),
            JobState::Failed | JobState::Cancelled => Some(LoginReport {
                outcome: "failed".into(),
                details: None,
                error_class: Some("internal".into()),
                error: Some(
                    job.last_error
                        .unwrap_or_else(|| format!("the login job was {}", job.state.as_str())),
                ),
            }),
            JobState::Queued | JobState::Running => None,
        };
        if let Some(report) = report {
            let Json(r) = result(state, id, report, Some(job_id)).await?;
            return Ok(LoginAnswer::Done(Box::new(r)));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(LoginAnswer::Pending(LoginPending {
                job_id,
                state: job.state.as_str().to_owned(),
                status_url: format!("/api/accounts/{id}/login"),
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 6-digit code Instagram sent (email, SMS) or the authenticator shows.
    code: String,
}

/// Answers the pending two-factor code or challenge with the code a person received.
#[utoipa::path(post, path = "/api/accounts/{id}/challenge", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")), request_body = CodeRequest,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = LoginResult), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Json<LoginResult>> {
    let code = req.code.trim();
    if code.len() < 4 || code.len() > 10 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(
            "code",
            "expected the digits Instagram sent",
        ));
    }
    let engine = engine(&state)?;
    icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    let mut conn = match instagram_result(engine.connect(id).await)? {
        Ok(c) => c,
        Err(e) => return result(&state, id, LoginReport::from_result(Err(e)), None).await,
    };
    match instagram_result(engine.submit_code(&mut conn, code).await)? {
        Ok(Some(outcome)) => result(&state, id, LoginReport::from_result(Ok(outcome)), None).await,
        Ok(None) => Err(ApiError::Conflict {
            field: Some("code".into()),
            message: "no code is pending for this account: log in first".into(),
        }),
        Err(e) => result(&state, id, LoginReport::from_result(Err(e)), None).await,
    }
}

/// The cheap session check, and the state after it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionStatus {
    /// `valid`, `expired` (icf logs in again before the next publish), `none` (no session
    /// stored) or `failed` (the check itself failed: see `error`).
    session: String,
    error_class: Option<String>,
    error: Option<String>,
    #[serde(flatten)]
    account: AccountState,
}

/// The account's state, with the session checked against Instagram when there is one
/// (`accounts/current_user`, through the account's proxy).
#[utoipa::path(get, path = "/api/accounts/{id}/status", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = SessionStatus), (status = 404, body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<SessionStatus>> {
    let account = icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    let (session, err) = match (&state.engine, account.has_session) {
        (Some(engine), true) => {
            let checked = match instagram_result(engine.connect(id).await)? {
                Ok(mut conn) => instagram_result(engine.check_session(&mut conn).await)?,
                Err(e) => {
                    engine.apply_error(id, &e).await.map_err(engine_error)?;
                    Err(e)
                }
            };
            match checked {
                Ok(true) => ("valid", None),
                Ok(false) => ("expired", None),
                Err(e) => ("failed", Some(e)),
            }
        }
        _ => ("none", None),
    };
    let account = icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    Ok(Json(SessionStatus {
        session: session.into(),
        error_class: err.as_ref().map(|e| class_name(e.class()).to_owned()),
        error: err.map(|e| e.to_string()),
        account: AccountState::from(account).for_role(user.role),
    }))
}

async fn log(state: &AppState, id: AccountId, action: &str, details: Value) {
    if let Some(engine) = &state.engine {
        engine.log(id, action, Instant::now(), details, None).await;
    } else {
        let _ = icf_store::activity::record(
            &state.db,
            icf_core::activity::NewActivity {
                account_id: Some(id),
                action: action.into(),
                status: icf_core::enums::ActivityStatus::Success,
                details,
                error_message: None,
                duration_ms: 0,
            },
        )
        .await;
    }
}

/// The account's session as instagrapi's `dump_settings()` writes it, to move it to
/// another tool. A secret: admins only, and every export is logged.
#[utoipa::path(get, path = "/api/accounts/{id}/session", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, description = "instagrapi settings JSON", body = Object),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_session(
    State(state): State<AppState>,
    admin: AdminUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<Value>> {
    let secrets = icf_store::accounts::get_secrets(&state.db, id)
        .await
        .map_err(account_error)?;
    let token = secrets
        .session_data_enc
        .ok_or(ApiError::NotFound("session"))?;
    let plain = state.cipher.decrypt(&token).map_err(ApiError::internal)?;
    let session = Session::import(plain.expose_secret()).map_err(ApiError::internal)?;
    let value: Value = serde_json::from_str(&session.export()).map_err(ApiError::internal)?;
    log(
        &state,
        id,
        "session_export",
        json!({"by": admin.0.username}),
    )
    .await;
    Ok(Json(value))
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
    admin: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<AccountState>> {
    if !body.is_object() {
        return Err(ApiError::validation(
            "session",
            "expected instagrapi's settings JSON object",
        ));
    }
    icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    let session = Session::import(&body.to_string()).map_err(|e| {
        ApiError::validation("session", format!("not an instagrapi settings file: {e}"))
    })?;
    let token = state.cipher.encrypt(&session.export());
    icf_store::publishing::set_session(&state.db, id, &token)
        .await
        .map_err(|e: StoreError| account_error(e))?;
    log(
        &state,
        id,
        "session_import",
        json!({"by": admin.0.username, "logged_in": session.is_logged_in()}),
    )
    .await;
    let account = icf_store::accounts::get(&state.db, id)
        .await
        .map_err(account_error)?;
    Ok(Json(account.into()))
}
