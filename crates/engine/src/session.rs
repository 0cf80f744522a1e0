//! The account's login with Instagram: logging in with the password (and TOTP secret),
//! answering a pending two-factor code or challenge, checking that the session is still
//! accepted. Each call is logged, its session written back, and what Instagram answers
//! recorded on the account (active, or `login_required` with what it asks).

use std::time::Instant;

use icf_core::enums::AccountStatus;
use icf_core::ids::AccountId;
use icf_instagram::{Credentials, ErrorClass, LoginOutcome};
use icf_store::publishing;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Logs in with the account's password (and TOTP secret), recording the outcome on the
    /// account: active when logged in, `login_required` with what Instagram asks when a
    /// two-factor code or a challenge is pending. A passed challenge logs in once more,
    /// never in a loop.
    pub async fn login(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        let mut outcome = self.login_once(conn).await?;
        if outcome == LoginOutcome::ChallengePassed {
            outcome = self.login_once(conn).await?;
        }
        self.record_login(conn.account.id, &outcome).await?;
        Ok(outcome)
    }

    async fn login_once(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        let started = Instant::now();
        let username = conn.account.username.clone();
        let r = conn
            .client
            .login(Credentials {
                username: &username,
                password: conn.password.expose_secret(),
                totp_secret: conn.totp.as_ref().map(|t| t.expose_secret()),
            })
            .await;
        self.save_session(conn).await?;
        match r {
            Ok(outcome) => {
                self.log(
                    conn.account.id,
                    "login",
                    started,
                    json!({"endpoint": "accounts/login", "outcome": outcome_name(&outcome)}),
                    None,
                )
                .await;
                Ok(outcome)
            }
            Err(e) => {
                self.log(
                    conn.account.id,
                    "login",
                    started,
                    json!({"endpoint": "accounts/login"}),
                    Some(&e),
                )
                .await;
                self.apply_error(conn.account.id, &e).await?;
                Err(e.into())
            }
        }
    }

    async fn record_login(&self, id: AccountId, outcome: &LoginOutcome) -> Result<(), EngineError> {
        match outcome {
            LoginOutcome::LoggedIn(_) => publishing::mark_logged_in(&self.db, id).await?,
            LoginOutcome::TwoFactorRequired(p) => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "two-factor code required",
                    None,
                    Some(json!({"kind": "two_factor", "details": p})),
                )
                .await?
            }
            LoginOutcome::ChallengeRequired(c) => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "Instagram asks for a challenge",
                    None,
                    Some(json!({"kind": "challenge", "details": c})),
                )
                .await?
            }
            LoginOutcome::ChallengePassed => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "the challenge was passed but Instagram gave no session: log in again",
                    None,
                    None,
                )
                .await?
            }
        }
        Ok(())
    }

    /// Answers the pending two-factor code or challenge with the code a person received.
    /// `Ok(None)` when nothing is pending.
    pub async fn submit_code(
        &self,
        conn: &mut Connection,
        code: &str,
    ) -> Result<Option<LoginOutcome>, EngineError> {
        let Some(pending) = conn.account.pending_challenge.clone() else {
            return Ok(None);
        };
        let started = Instant::now();
        let details = pending.get("details").cloned().unwrap_or(Value::Null);
        let r = match pending.get("kind").and_then(Value::as_str) {
            Some("two_factor") => match serde_json::from_value(details) {
                Ok(p) => conn.client.submit_two_factor_code(&p, code).await,
                Err(_) => return Ok(None),
            },
            Some("challenge") => match serde_json::from_value(details) {
                Ok(p) => conn.client.submit_challenge_code(&p, code).await,
                // A challenge met while publishing carries no path to answer: log in.
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.save_session(conn).await?;
        self.log(
            conn.account.id,
            "submit_code",
            started,
            json!({"kind": pending.get("kind")}),
            r.as_ref().err(),
        )
        .await;
        let mut outcome = match r {
            Ok(o) => o,
            Err(e) => {
                self.apply_error(conn.account.id, &e).await?;
                return Err(e.into());
            }
        };
        if outcome == LoginOutcome::ChallengePassed {
            outcome = self.login_once(conn).await?;
        }
        self.record_login(conn.account.id, &outcome).await?;
        Ok(Some(outcome))
    }

    /// The cheap session check (`accounts/current_user`), logged. `Ok(false)` when the
    /// session holds no login or Instagram says it is dead.
    pub async fn check_session(&self, conn: &mut Connection) -> Result<bool, EngineError> {
        if !conn.client.session().is_logged_in() {
            return Ok(false);
        }
        let started = Instant::now();
        let r = conn.client.check_session().await;
        self.save_session(conn).await?;
        self.log(
            conn.account.id,
            "check_session",
            started,
            json!({}),
            r.as_ref().err(),
        )
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.class() == ErrorClass::Relogin => Ok(false),
            Err(e) => {
                self.apply_error(conn.account.id, &e).await?;
                Err(e.into())
            }
        }
    }

    /// Logs in unless the session is already logged in.
    pub async fn ensure_login(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        if conn.client.session().is_logged_in() {
            let user_id = conn.client.session().user_id().unwrap_or_default();
            return Ok(LoginOutcome::LoggedIn(icf_instagram::AccountInfo {
                user_id,
                username: conn.account.username.clone(),
            }));
        }
        self.login(conn).await
    }
}

fn outcome_name(o: &LoginOutcome) -> &'static str {
    match o {
        LoginOutcome::LoggedIn(_) => "logged_in",
        LoginOutcome::TwoFactorRequired(_) => "two_factor_required",
        LoginOutcome::ChallengeRequired(_) => "challenge_required",
        LoginOutcome::ChallengePassed => "challenge_passed",
    }
}
