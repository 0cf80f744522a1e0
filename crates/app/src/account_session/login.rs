//! Logging an account in, and answering the two-factor code or challenge Instagram asked
//! for, as `login_account` jobs queued after whatever the account is doing.

use std::time::Duration;

use icf_core::enums::{JobState, Role};
use icf_core::ids::{AccountId, JobId};
use icf_core::jobs::JobKind;
use icf_engine::login::{LoginReport, NO_PENDING_CODE};
use serde::Serialize;
use serde_json::Value;

use super::job::{JobAnswer, await_job, engine, pending};
use crate::accounts::view::{AccountState, stored};
use crate::{App, AppError, AppResult};

/// What a login (or a submitted code) came to, with the account's state after it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResult {
    /// `logged_in`, `two_factor_required`, `challenge_required` or `failed`.
    pub outcome: String,
    /// What Instagram asks for: the two-factor methods, or the challenge (code by email
    /// or SMS, approval in the app, a manual checkpoint) and where the code went.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<Value>,
    /// When it failed: `proxy`, `credentials`, `challenge`, `banned`, `cooldown`, …
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// The `login_account` job that ran it (a login, or the answer to a code).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub job_id: Option<JobId>,
    #[serde(flatten)]
    pub account: AccountState,
}

impl LoginResult {
    /// As `viewer` may see it: an editor gets only the human side of the details and no
    /// proxy address.
    fn for_role(self, viewer: Role) -> Self {
        match viewer {
            Role::Admin => self,
            Role::Editor => Self {
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

pub type LoginAnswer = JobAnswer<LoginResult>;

/// Logs the account in, as a `login_account` job through the account's proxy, never
/// retried in a loop. A session that is still alive is kept (a fresh login is the riskiest
/// action); otherwise the password (and stored TOTP secret) are sent once. A login
/// already queued is joined, not doubled. Waits up to `wait` for the outcome.
pub async fn login(app: &App, id: AccountId, wait: Duration) -> AppResult<LoginAnswer> {
    engine(app)?;
    stored(app, id).await?;
    let job = icf_engine::login::enqueue_login(&app.db, id).await?;
    login_answer(app, id, job, wait).await
}

/// Answers the account's pending two-factor prompt or challenge with the `code` a person
/// received (stored encrypted in the job) and waits up to `wait` for the outcome.
/// `Conflict` when nothing is pending.
pub async fn answer_code(
    app: &App,
    id: AccountId,
    code: &str,
    wait: Duration,
) -> AppResult<LoginAnswer> {
    let code = code.trim();
    if code.len() < 4 || code.len() > 10 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::validation(
            "code",
            "expected the digits Instagram sent",
        ));
    }
    engine(app)?;
    let account = stored(app, id).await?;
    if account.pending_challenge.is_none() {
        return Err(AppError::conflict(Some("code"), NO_PENDING_CODE));
    }
    let job = icf_engine::login::enqueue_code(&app.db, &app.cipher, id, code).await?;
    login_answer(app, id, job, wait).await
}

/// The account's latest login job as `viewer` may see it: its outcome when it has ended,
/// else where it stands. Starts nothing.
pub async fn last_login(app: &App, viewer: Role, id: AccountId) -> AppResult<LoginAnswer> {
    stored(app, id).await?;
    let job = icf_store::jobs::latest(&app.db, JobKind::LoginAccount.as_str(), &id.to_string())
        .await?
        .ok_or(AppError::NotFound("login"))?;
    Ok(match login_answer(app, id, job.id, Duration::ZERO).await? {
        JobAnswer::Done(r) => JobAnswer::Done(Box::new(r.for_role(viewer))),
        pending => pending,
    })
}

/// The login's outcome when its job ends within `wait`, else where it stands.
async fn login_answer(
    app: &App,
    id: AccountId,
    job_id: JobId,
    wait: Duration,
) -> AppResult<LoginAnswer> {
    let job = await_job(app, job_id, wait).await?;
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
        JobState::Queued | JobState::Running => return Ok(pending(&job)),
    };
    let account = stored(app, id).await?;
    Ok(JobAnswer::Done(Box::new(LoginResult {
        outcome: report.outcome,
        details: report.details,
        error_class: report.error_class,
        error: report.error,
        job_id: Some(job_id),
        account: account.into(),
    })))
}
