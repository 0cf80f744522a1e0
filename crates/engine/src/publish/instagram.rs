//! The exchange with Instagram for one publish: log in, upload the media, write the upload
//! id on the execution (the marker), configure. An attempt that finds a marker instead asks
//! Instagram whether the previous attempt published, and never configures blindly again.

use std::time::Instant;

use chrono::Utc;
use icf_core::activity::NewActivity;
use icf_instagram::{ErrorClass, IgError, LoginOutcome, Media, PostOptions, Uploaded};
use icf_store::publishing::{self, ExecutionRun, Published};
use serde_json::json;

use super::end::End;
use super::failure::{Step, on_error};
use super::options::{self, Unusable};
use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::variants::{self, VariantError};

pub const UNCONFIRMED: &str =
    "unconfirmed — check the account before reposting (configure may have published it)";

/// Logs in and publishes, or confirms a previous attempt's configure. A dead session is
/// logged in once more, with the same device and proxy; every other Instagram error goes
/// to [`on_error`].
pub(super) async fn publish(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
) -> Result<End, EngineError> {
    let mut relogged = false;
    loop {
        let logging_in = !conn.client.session().is_logged_in();
        if let Some(end) = log_in(engine, exec, conn).await? {
            return Ok(end);
        }
        // Read again after a login: another attempt may have written its marker meanwhile.
        // (Without one the attempt read it moments ago; one written since still loses the
        // claim before configure.)
        let exec = if logging_in {
            publishing::execution(&engine.db, exec.id).await?
        } else {
            exec.clone()
        };
        let result = if exec.upload_id.is_some() {
            Ok(confirm(engine, &exec, conn).await)
        } else {
            upload_and_configure(engine, &exec, conn).await?
        };
        match result {
            Err(e) if e.class() == ErrorClass::Relogin && !relogged => {
                relogged = true;
                if let Err(e) = conn.clear_login() {
                    return on_error(engine, &exec, e, Step::Publishing).await;
                }
            }
            Err(e) => return on_error(engine, &exec, e, Step::Publishing).await,
            Ok(end) => return Ok(end),
        }
    }
}

/// `Some` when the account cannot be logged in now.
async fn log_in(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
) -> Result<Option<End>, EngineError> {
    match engine.ensure_login(conn).await {
        Ok(LoginOutcome::LoggedIn(_)) => Ok(None),
        Ok(_) => {
            let msg = "the account needs a login step by a person (code or challenge)";
            publishing::mark_failed(&engine.db, exec.id, "challenge", msg).await?;
            Ok(Some(End::Failed(msg.into())))
        }
        // Already applied to the account by the login itself.
        Err(EngineError::Instagram(e)) => {
            on_error(engine, exec, e, Step::Connecting).await.map(Some)
        }
        Err(e) => Err(e),
    }
}

/// The publish proper: upload, marker, configure. `Ok(Err(_))` is Instagram's error,
/// for [`on_error`].
async fn upload_and_configure(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
) -> Result<Result<End, IgError>, EngineError> {
    let prepared = match engine.post_media(exec.post_id).await {
        Ok(m) => m,
        Err(EngineError::Store(e)) => return Err(e.into()),
        Err(e) => {
            let msg = e.to_string();
            publishing::mark_failed(&engine.db, exec.id, "bad_media", &msg).await?;
            return Ok(Ok(End::Failed(msg)));
        }
    };
    let options = match options::for_instagram(engine, exec, conn, &prepared.options).await? {
        Ok(o) => o,
        Err(Unusable::Instagram(e)) => return Ok(Err(e)),
        Err(Unusable::Post(msg)) => {
            publishing::mark_failed(&engine.db, exec.id, "post", &msg).await?;
            return Ok(Ok(End::Failed(msg)));
        }
    };
    // The account's own copy of the media, when its post or group asks for one.
    let own;
    let media = match variants::strength(prepared.options.media_variants, exec) {
        None => &prepared.media,
        Some(strength) => {
            match variants::for_execution(engine, exec, &prepared.media, strength).await {
                Ok(m) => {
                    own = m;
                    &own
                }
                Err(VariantError::Media(msg)) => {
                    publishing::mark_failed(&engine.db, exec.id, "bad_media", &msg).await?;
                    return Ok(Ok(End::Failed(msg)));
                }
                Err(VariantError::Disk(msg)) => return Ok(Ok(End::Retry(msg))),
                Err(VariantError::Store(e)) => return Err(e),
            }
        }
    };
    let (uploaded, logged) = match upload(engine, exec, conn, media).await {
        Ok(u) => u,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = engine.save_session(conn).await {
        engine.write_log(logged).await;
        return Err(e);
    }
    // The marker: from here on a lost answer is checked, never blindly repeated. It is
    // the last step before configure, so that a crash between the two (which ends as
    // "unconfirmed", for a person to check) has as narrow a window as can be.
    // Written only if no other attempt wrote one since this one began: a worker that lost
    // its lease in a database outage and came back must not configure beside the worker
    // now holding the job. The one that finds the marker taken stops; the next attempt
    // checks Instagram for whatever the other one published. The upload's log line goes
    // with it, on one connection.
    if !publishing::claim_upload_logged(&engine.db, exec.id, &uploaded.upload_id, logged).await? {
        return Ok(Ok(End::Retry(
            "another attempt of this execution reached configure first".into(),
        )));
    }
    configure(engine, exec, conn, media, &uploaded, &options).await
}

/// Uploads the media. A failure is logged here; a success's log line is returned, to be
/// written with the marker.
async fn upload(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    media: &Media,
) -> Result<(Uploaded, NewActivity), IgError> {
    let started = Instant::now();
    match conn.client.upload(media).await {
        Ok(u) => {
            let line = Engine::log_line(
                conn.account.id,
                "upload",
                started,
                json!({"execution_id": exec.id, "endpoint": "rupload", "upload_id": u.upload_id}),
                None,
            );
            Ok((u, line))
        }
        Err(e) => {
            engine
                .log(
                    conn.account.id,
                    "upload",
                    started,
                    json!({"execution_id": exec.id, "endpoint": "media/configure"}),
                    Some(&e),
                )
                .await;
            Err(e)
        }
    }
}

/// The irreversible step. Published: recorded with the account's history and the spacing
/// mark. Refused for sure: the marker is taken away and the next attempt starts afresh;
/// maybe applied: the marker stays, for the next attempt to check.
async fn configure(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    media: &Media,
    uploaded: &Uploaded,
    options: &PostOptions,
) -> Result<Result<End, IgError>, EngineError> {
    let id = conn.account.id;
    let started = Instant::now();
    match conn
        .client
        .configure_with(media, uploaded, &exec.caption, options)
        .await
    {
        Ok(p) => {
            // Written with the publish's record, in its transaction (`end::record`).
            let line = Engine::log_line(
                id,
                "configure",
                started,
                json!({"execution_id": exec.id, "endpoint": "media/configure", "media_id": p.media_id, "code": p.code}),
                None,
            );
            let published = Published {
                media_id: p.media_id,
                code: p.code,
                at: Utc::now(),
            };
            Ok(Ok(End::Published(
                published,
                Box::new(conn.account.clone()),
                Some(Box::new(line)),
            )))
        }
        Err(e) => {
            engine
                .log(
                    id,
                    "configure",
                    started,
                    json!({"execution_id": exec.id, "endpoint": "media/configure"}),
                    Some(&e),
                )
                .await;
            if !e.maybe_applied() {
                // Instagram surely did not publish: the next attempt starts afresh.
                publishing::release_upload(&engine.db, exec.id, &uploaded.upload_id).await?;
            }
            Ok(Err(e))
        }
    }
}

/// A previous attempt reached configure: is the media on the account?
async fn confirm(engine: &Engine, exec: &ExecutionRun, conn: &mut Connection) -> End {
    let since = exec.upload_at.unwrap_or(exec.created_at) - chrono::Duration::minutes(5);
    let started = Instant::now();
    let found = conn.client.recent_media(since, Some(&exec.caption)).await;
    engine
        .log(
            conn.account.id,
            "recent_media",
            started,
            json!({"execution_id": exec.id, "endpoint": "feed/user", "found": found.as_ref().map(|v| v.len()).ok()}),
            found.as_ref().err(),
        )
        .await;
    let result = match found {
        Ok(items) => match items.first() {
            // Recorded with the job's completion (`end::record`).
            Some(p) => Ok(End::Published(
                Published {
                    media_id: p.media_id.clone(),
                    code: p.code.clone(),
                    at: p
                        .taken_at
                        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                        .unwrap_or_else(Utc::now),
                },
                Box::new(conn.account.clone()),
                None,
            )),
            None => publishing::mark_unconfirmed(&engine.db, exec, UNCONFIRMED)
                .await
                .map(|_| End::Failed(UNCONFIRMED.into())),
        },
        Err(e) if e.class() == ErrorClass::Retryable => Ok(End::Retry(e.to_string())),
        Err(_) => publishing::mark_unconfirmed(&engine.db, exec, UNCONFIRMED)
            .await
            .map(|_| End::Failed(UNCONFIRMED.into())),
    };
    // A store failure here leaves the marker: the next attempt asks again.
    result.unwrap_or_else(|e| End::Retry(e.to_string()))
}
