//! How an attempt ended, and recording it on the execution, the job and the post.

use chrono::{DateTime, Utc};
use icf_core::account::Account;
use icf_core::activity::NewActivity;
use icf_core::ids::ExecutionId;
use icf_core::pacing::random_comment_delay;
use icf_store::first_comments;
use icf_store::publishing::{self, ExecutionRun, Published};
use icf_worker::{JobContext, Outcome};

use super::scope::spacing_scope;
use crate::engine::Engine;
use crate::error::EngineError;

/// One initial attempt and at most 3 retries (specification §7).
pub const MAX_ATTEMPTS: u32 = 4;

/// How an attempt ended for the execution.
pub(super) enum End {
    /// Instagram confirmed it; `record` writes it with the job's completion. The account
    /// as this attempt read it, for its daily limit; configure's log line, written in the
    /// same transaction (`None` when a check found the media instead).
    Published(Published, Box<Account>, Option<Box<NewActivity>>),
    Retry(String),
    /// Not yet (pacing, a cooldown): moved, not failed.
    Defer(DateTime<Utc>, String),
    Failed(String),
}

/// The last attempt of the job: jobs queued before this handler existed may allow more
/// than [`MAX_ATTEMPTS`].
fn last_of_the_job(ctx: &JobContext) -> bool {
    ctx.attempt() >= ctx.max_attempts().min(MAX_ATTEMPTS as i32)
}

/// Records `end` and says what it means for the job. A move ends the job (a new one is due
/// at the new time); a retry fails this attempt while the execution has attempts left; an
/// end that leaves no execution of the post open ends the post.
pub(super) async fn record(
    engine: &Engine,
    ctx: &JobContext,
    exec: &ExecutionRun,
    end: End,
) -> Result<Outcome, EngineError> {
    // The last attempt of the job, or of the execution: moves continue in new jobs, whose
    // attempts start again, and the specification's 3 retries are the execution's.
    let last = last_of_the_job(ctx)
        || (matches!(end, End::Retry(_))
            && publishing::attempts(&engine.db, exec.id).await? >= MAX_ATTEMPTS as i32);
    // `Some` once the post's end was looked at with the execution's (a success).
    let mut post_ended: Option<Option<&'static str>> = None;
    let outcome = match end {
        End::Published(published, account, line) => {
            // The publish and the job's completion in one transaction: once Instagram
            // confirmed it, the success is written even if the lease was lost meanwhile
            // (the job's next owner then finds the execution ended).
            let scope = spacing_scope(engine, exec);
            let since = Utc::now() - engine.settings.pacing.window;
            let in_history = !exec.is_story || engine.settings.pacing.stories_count;
            let posted = if exec.comment_waits {
                let mut tx = engine.db.begin().await?;
                if let Some(line) = line {
                    icf_store::activity::record_in(&mut tx, *line).await?;
                }
                let posted = publishing::mark_success_in(
                    &mut tx, exec, &published, &scope, since, in_history,
                )
                .await?;
                // The first comment's own step, queued with the publish so it is never
                // lost; a person takes a few seconds to write one.
                let wait = random_comment_delay(&engine.settings.pacing, &mut rand::rng());
                first_comments::queue_in(&mut tx, exec.id, exec.account_id, Utc::now() + wait)
                    .await?;
                ctx.succeed_in(&mut tx).await?;
                tx.commit().await?;
                posted
            } else {
                // The common case in as few round trips as the engine allows.
                let success = publishing::Success {
                    execution: exec.id,
                    account: exec.account_id,
                    post: exec.post_id,
                    media_id: &published.media_id,
                    code: &published.code,
                    at: published.at,
                    scope: &scope,
                    since,
                    in_history,
                    log: line.map(|l| *l),
                };
                let recorded =
                    publishing::record_success(&engine.db, &success, ctx.claimed(), ctx.worker())
                        .await?;
                if recorded.job_done {
                    ctx.succeeded();
                }
                // The post's end was looked at too.
                post_ended = Some(recorded.post_ended);
                recorded.publishes
            };
            engine.cool_down_at_the_limit(&account, &posted).await?;
            Outcome::Success
        }
        End::Defer(until, why) => {
            // The move and this job's completion in one transaction: a move is never half
            // done, and never uses up an attempt.
            let mut tx = engine.db.begin().await?;
            publishing::defer_in(&mut tx, exec, until, &why, ctx.job_id()).await?;
            if ctx.succeed_in(&mut tx).await? {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            return Ok(Outcome::Success);
        }
        End::Retry(msg) if !last => {
            publishing::note_retry(&engine.db, exec.id, "retryable", &msg).await?;
            Outcome::Failure(msg)
        }
        End::Retry(msg) => {
            publishing::mark_failed(&engine.db, exec.id, "retryable", &msg).await?;
            Outcome::Abandon(msg)
        }
        End::Failed(msg) => Outcome::Abandon(msg),
    };
    if matches!(outcome, Outcome::Failure(_) | Outcome::RetryAfter(_)) {
        return Ok(outcome);
    }
    // The execution ended: its own copies of the media will not be uploaded again (a
    // manual retry makes the same bytes anew).
    crate::variants::forget(engine, exec).await;
    let ended = match post_ended {
        Some(ended) => ended,
        None => publishing::finish_post_if_done(&engine.db, exec.post_id).await?,
    };
    if let Some(status) = ended {
        crate::variants::post_ended(engine, exec.post_id).await;
        crate::alerts::post_ended(&engine.db, &engine.settings.alerts, exec.post_id, status).await;
    }
    Ok(outcome)
}

/// icf's own trouble during an attempt (not Instagram's answer). A database hiccup may
/// pass and is retried while the job has attempts; an undecryptable secret or an
/// unreadable device will not. Either way the execution must not stay `posting`.
pub(super) async fn icf_trouble(
    engine: &Engine,
    ctx: &JobContext,
    id: ExecutionId,
    e: EngineError,
) -> Outcome {
    let permanent = !matches!(e, EngineError::Store(_));
    if !permanent && !last_of_the_job(ctx) {
        return Outcome::Failure(e.to_string());
    }
    let msg = e.to_string();
    let db = &engine.db;
    if publishing::mark_failed(db, id, "internal", &msg)
        .await
        .is_ok()
        && let Ok(exec) = publishing::execution(db, id).await
    {
        let _ = publishing::finish_post_if_done(db, exec.post_id).await;
    }
    Outcome::Abandon(msg)
}
