//! What Instagram's verdicts do to an account: its status changes, with history (and an
//! alert when a person is needed); failures in a row pause it; a used-up daily limit
//! cools it down until its window frees a place.

use chrono::{DateTime, Utc};
use icf_core::account::Account;
use icf_core::enums::AccountStatus;
use icf_core::ids::AccountId;
use icf_instagram::{ErrorClass, IgError};
use icf_store::publishing::{self, InstagramState};
use serde_json::{Value, json};

use crate::alerts;
use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Changes the account's status with history.
    pub async fn set_state(
        &self,
        id: AccountId,
        status: AccountStatus,
        reason: &str,
        cooldown_until: Option<chrono::DateTime<Utc>>,
        pending_challenge: Option<Value>,
    ) -> Result<(), EngineError> {
        let challenge = pending_challenge.is_some();
        publishing::set_state(
            &self.db,
            id,
            &InstagramState {
                status,
                reason: reason.to_owned(),
                cooldown_until,
                pending_challenge,
            },
        )
        .await?;
        let kind = match status {
            AccountStatus::Banned => Some(alerts::AlertKind::AccountBanned),
            AccountStatus::LoginRequired if challenge => Some(alerts::AlertKind::ChallengeRequired),
            _ => None,
        };
        if let Some(kind) = kind
            && self.settings.alerts.enabled()
        {
            let username = icf_store::accounts::get(&self.db, id)
                .await
                .map(|a| a.username)
                .unwrap_or_else(|_| id.to_string());
            alerts::raise(&self.db, &self.settings.alerts, kind, &username, reason).await;
        }
        Ok(())
    }

    /// What an Instagram error means for the account itself.
    pub async fn apply_error(&self, id: AccountId, e: &IgError) -> Result<(), EngineError> {
        self.apply_class(id, self.class_of(e), e).await
    }

    /// Counts one more failed action of the account; at the threshold the account cools
    /// down (its counter starts again) and the end of the pause is returned.
    pub async fn count_failure(
        &self,
        id: AccountId,
    ) -> Result<Option<chrono::DateTime<Utc>>, EngineError> {
        let n = icf_store::maintenance::note_failed_attempt(&self.db, id).await?;
        let max = self.settings.max_failed_attempts;
        if max == 0 || u32::try_from(n).unwrap_or(0) < max {
            return Ok(None);
        }
        let until = Utc::now() + self.settings.cooldowns.failed_attempts;
        self.set_state(
            id,
            AccountStatus::Cooldown,
            &format!("{n} failed actions in a row"),
            Some(until),
            None,
        )
        .await?;
        icf_store::maintenance::reset_failed_attempts(&self.db, id).await?;
        Ok(Some(until))
    }

    /// After a post: an account that has used its whole daily limit cools down until its
    /// rolling window frees a place (specification §3.2), so plans and the UI show why it
    /// waits.
    pub async fn cool_down_at_the_limit(
        &self,
        account: &Account,
        posted: &[DateTime<Utc>],
    ) -> Result<(), EngineError> {
        let now = Utc::now();
        let rules = &self.settings.pacing;
        let limit = u32::try_from(account.posts_limit_per_day).unwrap_or(0);
        if let Some(until) = icf_core::pacing::limit_reached_until(
            rules,
            account.account_age_days,
            limit,
            posted,
            now,
        ) && account.status == AccountStatus::Active
        {
            let n = rules.daily_limit(account.account_age_days, limit);
            self.set_state(
                account.id,
                AccountStatus::Cooldown,
                &format!("daily limit reached: {n} in 24 h"),
                Some(until),
                None,
            )
            .await?;
        }
        Ok(())
    }

    /// Instagram's class of an error, with icf's configured cooldown lengths.
    pub fn class_of(&self, e: &IgError) -> ErrorClass {
        let now = Utc::now();
        match e.api_kind() {
            Some(icf_instagram::ErrorShape::PleaseWait) => ErrorClass::Cooldown {
                until: now + self.settings.cooldowns.please_wait,
            },
            Some(icf_instagram::ErrorShape::FeedbackRequired) => ErrorClass::Cooldown {
                until: now + self.settings.cooldowns.feedback,
            },
            _ => e.class_at(now),
        }
    }

    /// [`Engine::apply_error`] with the class already computed (a cooldown's end is
    /// computed once, so the account and the execution agree on it).
    pub async fn apply_class(
        &self,
        id: AccountId,
        class: ErrorClass,
        e: &IgError,
    ) -> Result<(), EngineError> {
        let reason = e.to_string();
        match class {
            ErrorClass::Cooldown { until } => {
                self.set_state(id, AccountStatus::Cooldown, &reason, Some(until), None)
                    .await
            }
            ErrorClass::Challenge => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    &reason,
                    None,
                    Some(json!({"kind": "challenge", "message": reason})),
                )
                .await
            }
            ErrorClass::Banned => {
                self.set_state(id, AccountStatus::Banned, &reason, None, None)
                    .await
            }
            ErrorClass::Proxy => {
                self.set_state(id, AccountStatus::ProxyError, &reason, None, None)
                    .await
            }
            ErrorClass::Credentials => {
                self.set_state(id, AccountStatus::LoginRequired, &reason, None, None)
                    .await
            }
            _ => Ok(()),
        }
    }
}
