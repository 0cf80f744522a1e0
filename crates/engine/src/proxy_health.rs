//! Proxy health (specification §3.2 "one stable proxy per account"): every proxy is
//! checked periodically, and an account's proxy again before it acts when its last check
//! is old; an account whose proxy fails moves to a free working proxy of the reserve pool
//! (same country first, device unchanged, never while a challenge waits for its answer,
//! the switch logged); with none free it becomes `proxy_error` and comes back by itself
//! when its proxy works again or a free one appears.

use std::time::{Duration, Instant};

use icf_core::account::Proxy;
use icf_core::enums::{AccountStatus, JobPriority, ProxyStatus};
use icf_core::ids::{AccountId, ProxyId};
use icf_core::jobs::{self, JobPayload};
use icf_store::jobs::NewJob;
use icf_store::proxy_health::{self, ServedAccount};
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use rand::Rng;
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::proxy_check::{self, CheckError};

/// What became of an account after its proxy was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failover {
    /// Its proxy works (or was checked recently enough).
    Kept,
    /// It moved to this proxy of the reserve.
    Switched(ProxyId),
    /// Its proxy fails and the reserve is empty: the account is in `proxy_error`.
    NoneFree,
    /// Its proxy fails, but the account must keep its address (a challenge is pending) or
    /// is banned: left as it is.
    Left,
}

impl From<CheckError> for EngineError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Store(e) => EngineError::Store(e),
            CheckError::Crypto(e) => EngineError::Crypto(e),
        }
    }
}

impl Engine {
    /// Checks the proxy now and acts on the outcome for the account it serves.
    pub async fn check_proxy_and_act(&self, id: ProxyId) -> Result<Proxy, EngineError> {
        let proxy =
            proxy_check::check_proxy(&self.db, &self.cipher, &self.settings.proxy_check, id)
                .await?;
        self.after_check(&proxy).await?;
        Ok(proxy)
    }

    /// A failed proxy's account fails over; a working proxy's account waiting in
    /// `proxy_error` is active again.
    pub async fn after_check(&self, proxy: &Proxy) -> Result<(), EngineError> {
        for account in proxy_health::accounts_on(&self.db, proxy.id).await? {
            if proxy.status == ProxyStatus::Active {
                if account.status == AccountStatus::ProxyError && !account.challenge_pending {
                    self.set_state(
                        account.id,
                        AccountStatus::Active,
                        "its proxy works again",
                        None,
                        None,
                    )
                    .await?;
                }
            } else {
                let why = proxy.last_error.as_deref().unwrap_or("the check failed");
                self.failover(&account, Some(proxy.id), why).await?;
            }
        }
        Ok(())
    }

    /// Moves the account off its failing proxy (`from`), or puts it in `proxy_error`.
    pub async fn failover(
        &self,
        account: &ServedAccount,
        from: Option<ProxyId>,
        why: &str,
    ) -> Result<Failover, EngineError> {
        if account.status == AccountStatus::Banned || account.challenge_pending {
            return Ok(Failover::Left);
        }
        let started = Instant::now();
        let to =
            proxy_health::switch_to_free(&self.db, account.id, from, account.country.as_deref())
                .await?;
        let details = json!({
            "from_proxy_id": from,
            "to_proxy_id": to,
            "reason": why,
        });
        let entry = icf_core::activity::NewActivity {
            account_id: Some(account.id),
            action: "proxy_switch".into(),
            status: if to.is_some() {
                icf_core::enums::ActivityStatus::Success
            } else {
                icf_core::enums::ActivityStatus::Failed
            },
            details,
            error_message: to
                .is_none()
                .then(|| "no free working proxy in the reserve".to_owned()),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        if let Err(e) = icf_store::activity::record(&self.db, entry).await {
            tracing::warn!(error = %e, "cannot write an activity log");
        }
        match to {
            Some(new) => {
                tracing::info!(account = %account.id, proxy = %new, "account moved to a reserve proxy");
                if account.status == AccountStatus::ProxyError {
                    self.set_state(
                        account.id,
                        AccountStatus::Active,
                        "moved to a working proxy of the reserve",
                        None,
                        None,
                    )
                    .await?;
                }
                Ok(Failover::Switched(new))
            }
            None => {
                let reason = match from {
                    Some(_) => format!("its proxy fails ({why}) and no free working proxy is left"),
                    None => "no proxy, and no free working proxy is left".to_owned(),
                };
                self.set_state(account.id, AccountStatus::ProxyError, &reason, None, None)
                    .await?;
                crate::alerts::raise(
                    &self.db,
                    &self.settings.alerts,
                    crate::alerts::AlertKind::ProxyReserveEmpty,
                    &account.username,
                    &reason,
                )
                .await;
                Ok(Failover::NoneFree)
            }
        }
    }

    /// Before an account acts: its proxy is checked now if its last check is older than
    /// `max_age` (or it failed), failing over when the check fails. `Duration::ZERO`
    /// checks always (after the proxy just failed an Instagram request).
    pub async fn ensure_proxy(
        &self,
        id: AccountId,
        max_age: Duration,
    ) -> Result<Failover, EngineError> {
        let wire = icf_store::publishing::account_wire(&self.db, id).await?;
        let Some(proxy_id) = wire.proxy_id else {
            return Ok(Failover::Kept);
        };
        let proxy = icf_store::proxies::get(&self.db, proxy_id).await?.proxy;
        let fresh = proxy.last_check_at.is_some_and(|at| {
            chrono::Utc::now() - at < chrono::Duration::from_std(max_age).unwrap_or_default()
        });
        if fresh && proxy.status == ProxyStatus::Active {
            return Ok(Failover::Kept);
        }
        let proxy =
            proxy_check::check_proxy(&self.db, &self.cipher, &self.settings.proxy_check, proxy_id)
                .await?;
        if proxy.status == ProxyStatus::Active {
            self.after_check(&proxy).await?;
            return Ok(Failover::Kept);
        }
        let Some(account) = proxy_health::accounts_on(&self.db, proxy_id)
            .await?
            .into_iter()
            .find(|a| a.id == id)
        else {
            // Moved meanwhile by someone else.
            return Ok(Failover::Kept);
        };
        let why = proxy.last_error.as_deref().unwrap_or("the check failed");
        self.failover(&account, Some(proxy_id), why).await
    }

    /// Accounts waiting in `proxy_error`: active again when their proxy works, moved to a
    /// free working one otherwise (when there is one).
    pub async fn recover_proxy_errors(&self) -> Result<usize, EngineError> {
        let mut recovered = 0;
        for (account, proxy) in proxy_health::waiting_for_a_proxy(&self.db).await? {
            if let Some(pid) = proxy {
                let p = icf_store::proxies::get(&self.db, pid).await?.proxy;
                if p.status == ProxyStatus::Active {
                    self.set_state(
                        account.id,
                        AccountStatus::Active,
                        "its proxy works again",
                        None,
                        None,
                    )
                    .await?;
                    recovered += 1;
                    continue;
                }
            }
            // Only a free proxy can help; an account with no proxy at all was set up
            // without one on purpose only if no proxy existed, so it gets one too.
            let has_free = !icf_store::proxies::free(&self.db, 1).await?.is_empty();
            if has_free
                && let Failover::Switched(_) = self
                    .failover(&account, proxy, "waiting for a working proxy")
                    .await?
            {
                recovered += 1;
            }
        }
        Ok(recovered)
    }
}

/// Runs [`jobs::CheckProxy`]: checks one proxy and acts for its account.
pub struct CheckProxy {
    pub engine: Engine,
}

impl JobHandler for CheckProxy {
    fn kind(&self) -> &'static str {
        jobs::CheckProxy::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        1
    }

    async fn run(&self, _ctx: JobContext, payload: Value) -> Outcome {
        let p: jobs::CheckProxy = match parse_payload(payload) {
            Ok(p) => p,
            Err(abandon) => return abandon,
        };
        match self.engine.check_proxy_and_act(p.proxy_id).await {
            Ok(_) => Outcome::Success,
            Err(EngineError::Store(icf_store::StoreError::NotFound)) => {
                Outcome::Abandon("the proxy no longer exists".into())
            }
            Err(e) => Outcome::Failure(e.to_string()),
        }
    }
}

/// Runs [`jobs::ScheduleProxyChecks`]: enqueues a `check_proxy` for every proxy, spread over a few seconds per proxy (at most
/// half the period), unique per proxy and period; then recovers waiting accounts.
pub struct ScheduleProxyChecks {
    pub engine: Engine,
    pub every: Duration,
}

impl JobHandler for ScheduleProxyChecks {
    fn kind(&self) -> &'static str {
        jobs::ScheduleProxyChecks::KIND.as_str()
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        if let Err(abandon) = parse_payload::<jobs::ScheduleProxyChecks>(payload) {
            return abandon;
        }
        let ids = match proxy_health::all_ids(&ctx.db).await {
            Ok(ids) => ids,
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        let now = chrono::Utc::now();
        let period =
            now.timestamp() / i64::try_from(self.every.as_secs().max(1)).unwrap_or(i64::MAX);
        let spread_ms = (ids.len() as u64 * 2_000).min(self.every.as_millis() as u64 / 2);
        for id in ids {
            let delay = rand::rng().random_range(0..=spread_ms);
            let job = NewJob::of(&jobs::CheckProxy { proxy_id: id })
                .priority(JobPriority::Low)
                .run_at(now + chrono::Duration::milliseconds(delay as i64))
                .max_attempts(1)
                .unique_key(format!("check_proxy:{id}:{period}"));
            if let Err(e) = icf_store::jobs::enqueue_now(&ctx.db, &job).await {
                return Outcome::Failure(e.to_string());
            }
        }
        match self.engine.recover_proxy_errors().await {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure(e.to_string()),
        }
    }
}

/// Runs [`jobs::RecoverProxyErrors`]: recovers accounts in `proxy_error` now (enqueued
/// when proxies are added).
pub struct RecoverProxyErrors {
    pub engine: Engine,
}

impl JobHandler for RecoverProxyErrors {
    fn kind(&self) -> &'static str {
        jobs::RecoverProxyErrors::KIND.as_str()
    }

    async fn run(&self, _ctx: JobContext, payload: Value) -> Outcome {
        if let Err(abandon) = parse_payload::<jobs::RecoverProxyErrors>(payload) {
            return abandon;
        }
        match self.engine.recover_proxy_errors().await {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure(e.to_string()),
        }
    }
}

/// The job that recovers waiting accounts, to enqueue when proxies are added.
pub fn recover_job() -> NewJob {
    NewJob::of(&jobs::RecoverProxyErrors {}).priority(JobPriority::High)
}
