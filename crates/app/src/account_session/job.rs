//! Waiting for an account's job: the answer a caller gets, whether the job has ended
//! within the time it was given or not.

use std::time::Duration;

use icf_core::enums::JobState;
use icf_core::ids::JobId;
use icf_engine::Engine;

use crate::{App, AppError, AppResult};

/// What a request for an account's job (a login, a session check) came to: its outcome, or
/// still waiting for the account (its publishing goes first) or for a worker, or running.
pub enum JobAnswer<T> {
    Done(Box<T>),
    Pending {
        job_id: JobId,
        /// `Queued` or `Running`.
        state: JobState,
    },
}

/// The engine, or `Unavailable` in a build that does not talk to Instagram.
pub(super) fn engine(app: &App) -> AppResult<&Engine> {
    app.engine
        .as_ref()
        .ok_or_else(|| AppError::Unavailable("this server does not talk to Instagram".into()))
}

/// The job once it has ended, or as it is when `wait` runs out (polling the job row, so a
/// worker in another process counts too).
pub(super) async fn await_job(
    app: &App,
    job_id: JobId,
    wait: Duration,
) -> AppResult<icf_store::jobs::Job> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let job = icf_store::jobs::get(&app.db, job_id).await?;
        let open = matches!(job.state, JobState::Queued | JobState::Running);
        if !open || tokio::time::Instant::now() >= deadline {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where a job stands while it waits or runs.
pub(super) fn pending<T>(job: &icf_store::jobs::Job) -> JobAnswer<T> {
    JobAnswer::Pending {
        job_id: job.id,
        state: job.state,
    }
}
