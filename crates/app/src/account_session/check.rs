//! The cheap session check (`accounts/current_user` through the account's proxy), as a
//! `check_account_status` job queued after whatever the account is doing.

use std::time::Duration;

use icf_core::enums::{JobState, Role};
use icf_core::ids::{AccountId, JobId};
use icf_core::jobs::JobKind;
use icf_engine::checks::CheckReport;
use serde::Serialize;

use super::job::{JobAnswer, await_job, pending};
use crate::accounts::view::{AccountState, stored};
use crate::{App, AppError, AppResult};

/// The cheap session check, and the state after it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStatus {
    /// `valid`, `expired` (icf logs in again before the next publish), `none` (no session
    /// stored) or `failed` (the check itself failed: see `error`).
    pub session: String,
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// The `check_account_status` job that ran the check (absent when there was nothing to
    /// check).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub job_id: Option<JobId>,
    #[serde(flatten)]
    pub account: AccountState,
}

pub type StatusAnswer = JobAnswer<SessionStatus>;

impl StatusAnswer {
    /// What `viewer` may see of it (editors: no proxy, no challenge internals).
    fn for_role(self, viewer: Role) -> StatusAnswer {
        match self {
            JobAnswer::Done(r) => JobAnswer::Done(Box::new(SessionStatus {
                account: r.account.for_role(viewer),
                ..*r
            })),
            pending => pending,
        }
    }
}

/// Checks the account's session now (joining a check already queued) and waits up to
/// `wait` for it. An account without a session, or a server that does not talk to
/// Instagram, is answered at once with `none`: nothing is asked of Instagram.
pub async fn check(
    app: &App,
    viewer: Role,
    id: AccountId,
    wait: Duration,
) -> AppResult<StatusAnswer> {
    let account = stored(app, id).await?;
    if app.engine.is_none() || !account.has_session {
        let r = session_status(app, id, CheckReport::none(), None).await?;
        return Ok(JobAnswer::Done(Box::new(r)).for_role(viewer));
    }
    let job = icf_engine::checks::enqueue_check(&app.db, id).await?;
    Ok(status_answer(app, id, job, wait).await?.for_role(viewer))
}

/// The account's latest session check (periodic or asked for) as `viewer` may see it: its
/// outcome when it has ended, else where it stands. Starts nothing.
pub async fn last_check(app: &App, viewer: Role, id: AccountId) -> AppResult<StatusAnswer> {
    stored(app, id).await?;
    let job = icf_store::jobs::latest_due(
        &app.db,
        JobKind::CheckAccountStatus.as_str(),
        &id.to_string(),
        chrono::Utc::now(),
    )
    .await?
    .ok_or(AppError::NotFound("status check"))?;
    Ok(status_answer(app, id, job.id, Duration::ZERO)
        .await?
        .for_role(viewer))
}

async fn session_status(
    app: &App,
    id: AccountId,
    report: CheckReport,
    job_id: Option<JobId>,
) -> AppResult<SessionStatus> {
    let account = stored(app, id).await?;
    Ok(SessionStatus {
        session: report.session,
        error_class: report.error_class,
        error: report.error,
        job_id,
        account: account.into(),
    })
}

/// The check's outcome when its job ends within `wait`, else where it stands.
async fn status_answer(
    app: &App,
    id: AccountId,
    job_id: JobId,
    wait: Duration,
) -> AppResult<StatusAnswer> {
    let job = await_job(app, job_id, wait).await?;
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
        JobState::Queued | JobState::Running => return Ok(pending(&job)),
    };
    let r = session_status(app, id, report, Some(job_id)).await?;
    Ok(JobAnswer::Done(Box::new(r)))
}
