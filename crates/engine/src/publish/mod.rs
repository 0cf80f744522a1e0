//! `post_to_instagram`: one post on one account, exactly once.
//!
//! An attempt, in order ([`PostToInstagram::attempt`], then [`publish`]):
//! 1. the execution is read; one already ended (a re-run after its end was recorded) is
//!    done;
//! 2. `pacing`: the pacing rules are checked again and the start is claimed in the
//!    spacing scope; an execution that may not go yet is moved to a later time, one that
//!    never may is failed;
//! 3. the attempt is counted (`posting`) and the post is going out;
//! 4. the account is connected (its proxy, device and session);
//! 5. `instagram`: logged in (once more after a dead session), the media uploaded, the
//!    upload id written on the execution as the marker, then configure — or, when a marker
//!    is already there, Instagram is asked whether the previous attempt published;
//! 6. `failure`: an Instagram error becomes a retry, a move or a failure, and moves the
//!    account's status;
//! 7. `end`: the end is recorded on the execution, the job and the post.
//!
//! The upload id is written on the execution before the irreversible configure step. An
//! attempt that finds one already written (the previous one crashed or lost configure's
//! answer) first asks Instagram for the account's recent media with this caption: found →
//! success; not found or not answerable → failed "unconfirmed", never a blind second post.

mod end;
mod failure;
mod instagram;
mod options;
mod pacing;
mod scope;

use std::time::Duration;

use icf_core::ids::ExecutionId;
use icf_core::jobs::{self, JobPayload};
use icf_store::publishing::{self, ExecutionRun, OpenAttempt};
use icf_worker::{JobContext, JobHandler, Outcome, TimeLimits, default_backoff, parse_payload};
use serde_json::Value;

use crate::engine::Engine;
use crate::error::EngineError;
use end::End;
use failure::Step;

pub use end::MAX_ATTEMPTS;
pub use instagram::UNCONFIRMED;

/// Runs [`jobs::PostToInstagram`].
pub struct PostToInstagram {
    pub engine: Engine,
}

impl JobHandler for PostToInstagram {
    fn kind(&self) -> &'static str {
        jobs::PostToInstagram::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        MAX_ATTEMPTS
    }

    /// A video's configure polls while Instagram transcodes (up to 50 × 13 s in
    /// instagrapi): more than the default 5 minutes. A stop mid-configure is safe (the
    /// upload id is recorded), but it ends as "unconfirmed" more often than needed.
    fn limits(&self) -> TimeLimits {
        TimeLimits {
            soft: Duration::from_secs(12 * 60),
            hard: Duration::from_secs(15 * 60),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        default_backoff(attempt) / self.engine.settings.speed.max(1)
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let id = match parse_payload::<jobs::PostToInstagram>(payload) {
            Ok(p) => p.execution_id,
            Err(abandon) => return abandon,
        };
        match self.attempt(&ctx, id).await {
            Ok(o) => o,
            Err(e) => end::icf_trouble(&self.engine, &ctx, id, e).await,
        }
    }
}

impl PostToInstagram {
    /// One attempt at the execution: read it, publish it, record how that ended.
    async fn attempt(&self, ctx: &JobContext, id: ExecutionId) -> Result<Outcome, EngineError> {
        let engine = &self.engine;
        let start = publishing::attempt_start(
            &engine.db,
            id,
            chrono::Utc::now(),
            engine.settings.pacing.window,
        )
        .await;
        let start = match start {
            Ok(s) => s,
            Err(icf_store::StoreError::NotFound) => {
                return Ok(Outcome::Abandon("the execution no longer exists".into()));
            }
            Err(e) => return Err(e.into()),
        };
        // An execution that already ended: a re-run after its end was recorded.
        let Some(open) = start.open else {
            return Ok(Outcome::Success);
        };
        let exec = start.exec;
        let end = publish(engine, &exec, open).await?;
        end::record(engine, ctx, &exec, end).await
    }
}

/// The steps of one publish, in order; each may end it early.
async fn publish(
    engine: &Engine,
    exec: &ExecutionRun,
    open: OpenAttempt,
) -> Result<End, EngineError> {
    let OpenAttempt {
        account,
        parts,
        busy,
    } = open;
    if let Some(held) = pacing::hold(engine, exec, &account, &parts, busy).await? {
        return Ok(held);
    }
    publishing::mark_posting(&engine.db, exec.id).await?;
    // Once per post, not per execution: the first one to start moves it to `posting`.
    if exec.post_pending {
        publishing::mark_post_posting(&engine.db, exec.post_id).await?;
    }
    let mut conn = match engine.connect_with(account, parts).await {
        Ok(c) => c,
        Err(EngineError::Instagram(e)) => {
            return failure::on_error(engine, exec, e, Step::Connecting).await;
        }
        Err(e) => return Err(e),
    };
    let end = instagram::publish(engine, exec, &mut conn).await;
    let saved = engine.finish(conn).await;
    match (end, saved) {
        // A publish is recorded even when its session could not be written: the next
        // action logs in from the older session, or again.
        (Ok(published @ End::Published(..)), Err(e)) => {
            tracing::warn!(execution = %exec.id, error = %e, "cannot save the session after a publish");
            Ok(published)
        }
        (end, saved) => {
            saved?;
            end
        }
    }
}
