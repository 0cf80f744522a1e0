//! An account's Instagram sign-in: log in now (through its own proxy, with its own
//! device), answer a two-factor code or a challenge, check the session cheaply, and bring
//! or take a session in instagrapi's settings format (admins only, logged). Logins and
//! checks run as jobs of the account, never beside its publishing; the API waits for them.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_core::enums::JobState;
use icf_core::ids::{AccountId, JobId};
use icf_core::jobs::JobKind;
use icf_engine::Engine;
use icf_engine::checks::CheckReport;
use icf_engine::login::{LoginReport, NO_PENDING_CODE};
use icf_instagram::Session;
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
        .app
        .engine
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("this server does not talk to Instagram".into()))
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
    /// The `login_account` job that ran it (a login, or the answer to a code).
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

async fn result(
    state: &AppState,
    id: AccountId,
    report: LoginReport,
    job_id: Option<JobId>,
) -> ApiResult<Json<LoginResult>> {
    let account = icf_store::accounts::get(&state.app.db, id)
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
    responses((status = 200, body = LoginResult), (status = 202, body = JobPending),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn last_login(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Response> {
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let job = icf_store::jobs::latest(
        &state.app.db,
        JobKind::LoginAccount.as_str(),
        &id.to_string(),
    )
    .await?
    .ok_or(ApiError::NotFound("login"))?;
    let answer = match login_answer(&state, id, job.id, Duration::ZERO).await? {
        LoginAnswer::Done(r) => LoginAnswer::Done(Box::new(r.for_role(user.role))),
        pending => pending,
    };
    Ok(answer.into_response())
}

/// What a request for an account's job (a login, a session check) came to: its outcome, or
/// still waiting.
pub(crate) enum JobAnswer<T> {
    Done(Box<T>),
    Pending(JobPending),
}

pub(crate) type LoginAnswer = JobAnswer<LoginResult>;
pub(crate) type StatusAnswer = JobAnswer<SessionStatus>;

impl<T: Serialize> JobAnswer<T> {
    fn into_response(self) -> Response {
        match self {
            JobAnswer::Done(r) => Json(*r).into_response(),
            JobAnswer::Pending(p) => (StatusCode::ACCEPTED, Json(p)).into_response(),
        }
    }

    /// As JSON, for the web UI.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            JobAnswer::Done(r) => serde_json::to_value(r).unwrap_or(Value::Null),
            JobAnswer::Pending(p) => serde_json::to_value(p).unwrap_or(Value::Null),
        }
    }
}

/// Where to read a job's outcome later, while it waits or runs.
fn pending(job: &icf_store::jobs::Job, status_url: String) -> JobPending {
    JobPending {
        job_id: job.id,
        state: job.state.as_str().to_owned(),
        status_url,
    }
}

/// Queues the account's login (joining one already queued) and waits up to `wait` for it.
pub(crate) async fn login_job(
    state: &AppState,
    id: AccountId,
    wait: Duration,
) -> ApiResult<LoginAnswer> {
    engine(state)?;
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let job = icf_engine::login::enqueue_login(&state.app.db, id).await?;
    login_answer(state, id, job, wait).await
}

/// The job once it has ended, or as it is when `wait` runs out (polling the job row, so a
/// worker in another process counts too).
async fn await_job(
    state: &AppState,
    job_id: JobId,
    wait: Duration,
) -> ApiResult<icf_store::jobs::Job> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let job = icf_store::jobs::get(&state.app.db, job_id).await?;
        let open = matches!(job.state, JobState::Queued | JobState::Running);
        if !open || tokio::time::Instant::now() >= deadline {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The login's outcome when its job ends within `wait`, else where to read it later.
async fn login_answer(
    state: &AppState,
    id: AccountId,
    job_id: JobId,
    wait: Duration,
) -> ApiResult<LoginAnswer> {
    let job = await_job(state, job_id, wait).await?;
    let failed = |error: String| LoginReport {
        outcome: "failed".into(),
        details: None,
        error_class: Some("internal".into()),
        error: Some(error),
    };
    let report = match job.state {
        JobState::Succeeded => job
            .result
            .and_then(|r| serde_json::from_value::<LoginReport>(r).ok())
            .unwrap_or_else(|| failed("the login recorded no outcome".into())),
        JobState::Failed | JobState::Cancelled => failed(
            job.last_error
                .unwrap_or_else(|| format!("the login job was {}", job.state.as_str())),
        ),
        JobState::Queued | JobState::Running => {
            let url = format!("/api/accounts/{id}/login");
            return Ok(JobAnswer::Pending(pending(&job, url)));
        }
    };
    let Json(r) = result(state, id, report, Some(job_id)).await?;
    Ok(LoginAnswer::Done(Box::new(r)))
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
    let wait = p.wait.unwrap_or(30);
    if wait > 120 {
        return Err(ApiError::bad_request(
            Some("wait"),
            "wait is at most 120 seconds",
        ));
    }
    Ok(
        code_job(&state, id, &req.code, Duration::from_secs(u64::from(wait)))
            .await?
            .into_response(),
    )
}

/// Queues the answer `code` to the account's pending prompt and waits up to `wait` for it.
pub(crate) async fn code_job(
    state: &AppState,
    id: AccountId,
    code: &str,
    wait: Duration,
) -> ApiResult<LoginAnswer> {
    let code = code.trim();
    if code.len() < 4 || code.len() > 10 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(
            "code",
            "expected the digits Instagram sent",
        ));
    }
    engine(state)?;
    let account = icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    if account.pending_challenge.is_none() {
        return Err(ApiError::Conflict {
            field: Some("code".into()),
            message: NO_PENDING_CODE.into(),
        });
    }
    let job = icf_engine::login::enqueue_code(&state.app.db, &state.app.cipher, id, code).await?;
    login_answer(state, id, job, wait).await
}

/// The cheap session check, and the state after it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionStatus {
    /// `valid`, `expired` (icf logs in again before the next publish), `none` (no session
    /// stored) or `failed` (the check itself failed: see `error`).
    session: String,
    error_class: Option<String>,
    error: Option<String>,
    /// The `check_account_status` job that ran the check (absent when there was nothing to
    /// check).
    #[schema(value_type = Option<String>)]
    job_id: Option<JobId>,
    #[serde(flatten)]
    account: AccountState,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusParams {
    /// How long to wait for the check to end before answering 202 (seconds, 0–120,
    /// default 30).
    #[param(maximum = 120)]
    wait: Option<u32>,
}

impl StatusParams {
    fn wait(&self) -> ApiResult<Duration> {
        let wait = self.wait.unwrap_or(30);
        if wait > 120 {
            return Err(ApiError::bad_request(
                Some("wait"),
                "wait is at most 120 seconds",
            ));
        }
        Ok(Duration::from_secs(u64::from(wait)))
    }
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
    Ok(status_job(&state, id, p.wait()?)
        .await?
        .for_role(user.role)
        .into_response())
}

/// Checks the account's session now: the same as `GET /api/accounts/{id}/status`, for
/// clients that would rather not start work with a GET.
#[utoipa::path(post, path = "/api/accounts/{id}/status/check", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)"), StatusParams),
    responses((status = 200, body = SessionStatus), (status = 202, body = JobPending),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn check_status(
    State(state): State<AppState>,
    user: CurrentUser,
    id: IdPath<AccountId>,
    p: ApiQuery<StatusParams>,
) -> ApiResult<Response> {
    status(State(state), user, id, p).await
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
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let job = icf_store::jobs::latest_due(
        &state.app.db,
        JobKind::CheckAccountStatus.as_str(),
        &id.to_string(),
        chrono::Utc::now(),
    )
    .await?
    .ok_or(ApiError::NotFound("status check"))?;
    Ok(status_answer(&state, id, job.id, Duration::ZERO)
        .await?
        .for_role(user.role)
        .into_response())
}

impl StatusAnswer {
    /// What `role` may see of it (editors: no proxy, no challenge internals).
    fn for_role(self, role: icf_core::enums::Role) -> StatusAnswer {
        match self {
            JobAnswer::Done(r) => JobAnswer::Done(Box::new(SessionStatus {
                account: r.account.for_role(role),
                ..*r
            })),
            pending => pending,
        }
    }
}

async fn session_status(
    state: &AppState,
    id: AccountId,
    report: CheckReport,
    job_id: Option<JobId>,
) -> ApiResult<SessionStatus> {
    let account = icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    Ok(SessionStatus {
        session: report.session,
        error_class: report.error_class,
        error: report.error,
        job_id,
        account: account.into(),
    })
}

/// Queues a check of the account (joining one already queued) and waits up to `wait` for
/// it. An account without a session, or a server that does not talk to Instagram, is
/// answered at once with `none`.
pub(crate) async fn status_job(
    state: &AppState,
    id: AccountId,
    wait: Duration,
) -> ApiResult<StatusAnswer> {
    let account = icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    if state.app.engine.is_none() || !account.has_session {
        let r = session_status(state, id, CheckReport::none(), None).await?;
        return Ok(StatusAnswer::Done(Box::new(r)));
    }
    let job = icf_engine::checks::enqueue_check(&state.app.db, id).await?;
    status_answer(state, id, job, wait).await
}

/// The check's outcome when its job ends within `wait`, else where to read it later.
async fn status_answer(
    state: &AppState,
    id: AccountId,
    job_id: JobId,
    wait: Duration,
) -> ApiResult<StatusAnswer> {
    let job = await_job(state, job_id, wait).await?;
    let failed = |error: String| CheckReport {
        session: "failed".into(),
        error_class: Some("internal".into()),
        error: Some(error),
    };
    // A failed attempt records what it met before it ends, as a success does.
    let recorded = job
        .result
        .clone()
        .and_then(|r| serde_json::from_value::<CheckReport>(r).ok());
    let report = match job.state {
        JobState::Succeeded => {
            recorded.unwrap_or_else(|| failed("the check recorded no outcome".into()))
        }
        JobState::Failed | JobState::Cancelled => recorded.unwrap_or_else(|| {
            failed(
                job.last_error
                    .unwrap_or_else(|| format!("the check was {}", job.state.as_str())),
            )
        }),
        JobState::Queued | JobState::Running => {
            let url = format!("/api/accounts/{id}/status/check");
            return Ok(JobAnswer::Pending(pending(&job, url)));
        }
    };
    let r = session_status(state, id, report, Some(job_id)).await?;
    Ok(StatusAnswer::Done(Box::new(r)))
}

async fn log(state: &AppState, id: AccountId, action: &str, details: Value) {
    if let Some(engine) = &state.app.engine {
        engine.log(id, action, Instant::now(), details, None).await;
    } else {
        let _ = icf_store::activity::record(
            &state.app.db,
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
    let secrets = icf_store::accounts::get_secrets(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let token = secrets
        .session_data_enc
        .ok_or(ApiError::NotFound("session"))?;
    let plain = state
        .app
        .cipher
        .decrypt(&token)
        .map_err(ApiError::internal)?;
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
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let session = Session::import(&body.to_string()).map_err(|e| {
        ApiError::validation("session", format!("not an instagrapi settings file: {e}"))
    })?;
    let token = state.app.cipher.encrypt(&session.export());
    icf_store::publishing::set_session(&state.app.db, id, &token)
        .await
        .map_err(|e: StoreError| account_error(e))?;
    log(
        &state,
        id,
        "session_import",
        json!({"by": admin.0.username, "logged_in": session.is_logged_in()}),
    )
    .await;
    let account = icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    Ok(Json(account.into()))
}
