//! `first_comment`: a post's first comment, posted by the same account on the media it just
//! published (and pinned when asked), as a step of its own. The media is already out when
//! it runs: a failed comment is retried with the publishing backoff and shown on the
//! execution, and never touches the media again.
//!
//! Never twice: `posting` is written before the comment request; an attempt that finds it
//! (the previous one crashed or lost the answer) first reads the media's comments and takes
//! the account's own comment with this text as done.

use std::time::{Duration, Instant};

use chrono::Utc;
use icf_core::jobs::{self, JobPayload};
use icf_instagram::{ErrorClass, IgError, LoginOutcome};
use icf_store::first_comments::{self, CommentRun};
use icf_worker::{JobContext, JobHandler, Outcome, default_backoff, parse_payload};
use serde_json::{Value, json};

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::{EngineError, class_name};

/// Attempts of one first comment: as many as a publish has.
const MAX_ATTEMPTS: u32 = crate::publish::MAX_ATTEMPTS;

/// Runs [`jobs::FirstComment`].
pub struct FirstComment {
    pub engine: Engine,
}

impl JobHandler for FirstComment {
    fn kind(&self) -> &'static str {
        jobs::FirstComment::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        MAX_ATTEMPTS
    }

    fn backoff(&self, attempt: u32) -> Duration {
        default_backoff(attempt) / self.engine.settings.speed.max(1)
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let id = match parse_payload::<jobs::FirstComment>(payload) {
            Ok(p) => p.execution_id,
            Err(abandon) => return abandon,
        };
        let last = ctx.attempt() >= ctx.max_attempts().min(MAX_ATTEMPTS as i32);
        let run = match first_comments::run(&self.engine.db, id).await {
            Ok(Some(run)) => run,
            Ok(None) => return Outcome::Abandon("the execution has no first comment".into()),
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        let outcome = match attempt(&self.engine, &run).await {
            Ok(o) => o,
            Err(e) => Outcome::Failure(e.to_string()),
        };
        // The job's end is the comment's end: a last failed attempt fails the comment
        // (never the media, which is published).
        match &outcome {
            Outcome::Failure(msg) | Outcome::Abandon(msg) if last || is_abandon(&outcome) => {
                let _ = first_comments::mark_failed(&self.engine.db, id, msg).await;
            }
            Outcome::Failure(msg) => {
                let _ = first_comments::note_error(&self.engine.db, id, msg).await;
            }
            _ => {}
        }
        outcome
    }
}

fn is_abandon(o: &Outcome) -> bool {
    matches!(o, Outcome::Abandon(_))
}

/// One attempt: connect, log in if the session died, find or post the comment, pin it.
async fn attempt(engine: &Engine, run: &CommentRun) -> Result<Outcome, EngineError> {
    if let Some("success" | "failed" | "cancelled") = run.status.as_deref() {
        return Ok(Outcome::Success);
    }
    let Some(media_id) = run.media_id.clone() else {
        return Ok(Outcome::Abandon(
            "the media was not published, so there is nothing to comment on".into(),
        ));
    };
    let mut conn = match engine.connect(run.account_id).await {
        Ok(c) => c,
        Err(EngineError::Instagram(e)) => return instagram_error(engine, run, e).await,
        Err(e) => return Err(e),
    };
    match engine.ensure_login(&mut conn).await {
        Ok(LoginOutcome::LoggedIn(_)) => {}
        Ok(_) => {
            return Ok(Outcome::Abandon(
                "the account needs a login step by a person (code or challenge)".into(),
            ));
        }
        Err(EngineError::Instagram(e)) => return instagram_error(engine, run, e).await,
        Err(e) => return Err(e),
    }
    let result = comment_and_pin(engine, run, &mut conn, &media_id).await;
    engine.finish(conn).await?;
    match result? {
        Ok(comment_id) => {
            first_comments::mark_success(&engine.db, run.id, &comment_id, Utc::now()).await?;
            Ok(Outcome::Success)
        }
        Err(e) => instagram_error(engine, run, e).await,
    }
}

/// The comment (found from a previous attempt, or posted now), then the pin. `Ok(Err(_))`
/// is Instagram's error.
async fn comment_and_pin(
    engine: &Engine,
    run: &CommentRun,
    conn: &mut Connection,
    media_id: &str,
) -> Result<Result<String, IgError>, EngineError> {
    let found = if run.status.as_deref() == Some("posting") {
        match find_own(engine, run, conn, media_id).await {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        }
    } else {
        None
    };
    let comment_id = match found {
        Some(id) => id,
        None => {
            first_comments::mark_posting(&engine.db, run.id).await?;
            let started = Instant::now();
            let posted = conn.client.comment(media_id, &run.text).await;
            engine
                .log(
                    run.account_id,
                    "comment",
                    started,
                    json!({"execution_id": run.id, "endpoint": "media/comment", "media_id": media_id,
                        "comment_id": posted.as_ref().ok().map(|c| c.pk.clone())}),
                    posted.as_ref().err(),
                )
                .await;
            match posted {
                Ok(c) => c.pk,
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    if run.pin {
        let started = Instant::now();
        let pinned = conn.client.pin_comment(media_id, &comment_id).await;
        engine
            .log(
                run.account_id,
                "pin_comment",
                started,
                json!({"execution_id": run.id, "endpoint": "media/pin_comment", "media_id": media_id, "comment_id": comment_id}),
                pinned.as_ref().err(),
            )
            .await;
        // The comment stays `posting`: the next attempt finds it and pins it again.
        if let Err(e) = pinned {
            return Ok(Err(e));
        }
    }
    Ok(Ok(comment_id))
}

/// The account's own comment with this text on the media, if a previous attempt posted it.
async fn find_own(
    engine: &Engine,
    run: &CommentRun,
    conn: &mut Connection,
    media_id: &str,
) -> Result<Option<String>, IgError> {
    let me = conn.client.session().user_id().unwrap_or_default();
    let started = Instant::now();
    let comments = conn.client.media_comments(media_id).await;
    engine
        .log(
            run.account_id,
            "media_comments",
            started,
            json!({"execution_id": run.id, "endpoint": "media/comments", "media_id": media_id,
                "found": comments.as_ref().map(|c| c.len()).ok()}),
            comments.as_ref().err(),
        )
        .await;
    Ok(comments?
        .into_iter()
        .find(|c| c.user_id == me && c.text == run.text)
        .map(|c| c.pk))
}

/// What Instagram's error means for the comment (the account's status moves as for any
/// action): passing trouble is retried with the backoff, a cooldown waits for its end,
/// anything else ends the comment.
async fn instagram_error(
    engine: &Engine,
    run: &CommentRun,
    e: IgError,
) -> Result<Outcome, EngineError> {
    let class = engine.class_of(&e);
    engine.apply_class(run.account_id, class, &e).await?;
    let msg = format!("{}: {e}", class_name(class));
    Ok(match class {
        ErrorClass::Retryable | ErrorClass::Relogin | ErrorClass::Proxy => Outcome::Failure(msg),
        ErrorClass::Cooldown { until } => {
            Outcome::RetryAfter((until - Utc::now()).to_std().unwrap_or_default())
        }
        _ => Outcome::Abandon(msg),
    })
}
