//! What an Instagram error means for the execution (and the account): retryable → the
//! specification's backoff, cooldown → moved to its end, dead session → a retry, challenge,
//! ban, refused media or password → failed, proxy → checked now and, if dead, the account
//! moved to a reserve proxy and the attempt retried. Failures that say nothing about the
//! account still count: many in a row pause it.

use std::time::Duration;

use icf_instagram::{ErrorClass, IgError};
use icf_store::publishing::{self, ExecutionRun};

use super::end::End;
use crate::engine::Engine;
use crate::error::{EngineError, class_name};
use crate::proxy_health::Failover;

/// Where the error met the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Connecting or logging in: the login already applied its errors to the account, and
    /// connecting fails only on the proxy.
    Connecting,
    /// Logged in: uploading, configuring, or confirming a previous attempt.
    Publishing,
}

pub(super) async fn on_error(
    engine: &Engine,
    exec: &ExecutionRun,
    e: IgError,
    step: Step,
) -> Result<End, EngineError> {
    let class = engine.class_of(&e);
    let msg = e.to_string();
    if step == Step::Publishing || matches!(class, ErrorClass::Proxy) {
        engine.apply_class(exec.account_id, class, &e).await?;
    }
    let fail = |m: String| async move {
        publishing::mark_failed(&engine.db, exec.id, class_name(class), &m).await?;
        Ok::<_, EngineError>(End::Failed(m))
    };
    // Failures that say nothing about the account's standing still count: many in a
    // row pause it, as a person would stop and look.
    if matches!(
        class,
        ErrorClass::Retryable | ErrorClass::Relogin | ErrorClass::Failed
    ) && let Some(until) = engine.count_failure(exec.account_id).await?
    {
        if matches!(class, ErrorClass::Failed) {
            return fail(msg).await;
        }
        return Ok(End::Defer(
            until,
            format!("too many failed actions in a row, the account pauses: {msg}"),
        ));
    }
    match class {
        ErrorClass::Retryable => Ok(End::Retry(msg)),
        ErrorClass::Cooldown { until } => Ok(End::Defer(
            until,
            format!("the account is cooling down: {msg}"),
        )),
        ErrorClass::Relogin => Ok(End::Retry(msg)),
        ErrorClass::Challenge => fail(format!("Instagram asks for a challenge: {msg}")).await,
        ErrorClass::Banned => fail(format!("the account is banned or disabled: {msg}")).await,
        ErrorClass::Proxy => {
            // Checked now: a dead proxy is replaced from the reserve and the attempt
            // retried through the new one; a passing check was a hiccup, retried too.
            match engine.ensure_proxy(exec.account_id, Duration::ZERO).await? {
                Failover::Switched(_) => Ok(End::Retry(format!(
                    "the account's proxy failed ({msg}); moved to a reserve proxy"
                ))),
                Failover::Kept => Ok(End::Retry(msg)),
                Failover::NoneFree | Failover::Left => {
                    fail(format!("the account's proxy failed: {msg}")).await
                }
            }
        }
        ErrorClass::BadMedia => fail(format!("Instagram refused the media: {msg}")).await,
        ErrorClass::Credentials => fail(format!("the password was refused: {msg}")).await,
        ErrorClass::Outdated => {
            fail(format!(
                "Instagram no longer accepts the emulated app version: {msg}"
            ))
            .await
        }
        ErrorClass::Failed => fail(msg).await,
    }
}
