//! Login (fact sheet §4). A live session is reused without sending the password; otherwise
//! the CAA (Bloks) login instagrapi 3.x tries first (`caa`) runs, and the legacy
//! `accounts/login/` (`legacy`) when CAA falls back, with the two-factor (`two_factor`) and
//! challenge (`challenge`) answers it can give. Every path that ends logged in goes through
//! `logged_in`.

pub mod caa;
mod challenge;
mod legacy;
mod logged_in;
mod password;
mod two_factor;

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::error::{ErrorAnswer, ErrorShape, IgError};
use crate::types::{AccountInfo, Credentials, LoginOutcome};
use logged_in::account_info;

impl InstagramClient {
    /// The cheap validity check instagrapi uses before reusing a session (§4.2):
    /// `GET accounts/current_user/?edit=true`. A dead session comes back as a relogin error.
    pub async fn check_session(&mut self) -> Result<AccountInfo, IgError> {
        if !self.session.is_logged_in() {
            return Err(IgError::Api(ErrorAnswer::login_required(
                "the session holds no login",
            )));
        }
        let url = self.api("accounts/current_user/?edit=true");
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        account_info(v.get("user").unwrap_or(&Value::Null))
            .ok_or_else(|| IgError::Protocol("current_user has no user".into()))
    }

    /// Logs in: reuses a live session without sending the password, else runs the password
    /// login once. Never loops: a two-factor prompt or a challenge comes back as an outcome
    /// for a human, any other refusal as an error.
    pub async fn login(&mut self, creds: Credentials<'_>) -> Result<LoginOutcome, IgError> {
        if self.session.is_logged_in() {
            match self.check_session().await {
                Ok(info) => return Ok(LoginOutcome::LoggedIn(info)),
                Err(e) if e.api_kind() == Some(&ErrorShape::LoginRequired) => {
                    self.forget_login();
                }
                Err(e) => return Err(e),
            }
        }
        if self.cfg.caa_login
            && let Some(outcome) = self.caa_login(creds).await?
        {
            return Ok(outcome);
        }
        self.legacy_login(creds).await
    }

    /// `accounts/logout/`, then forget the login (the device stays).
    pub async fn logout(&mut self) -> Result<(), IgError> {
        let url = self.api("accounts/logout/");
        let data = json!({"one_tap_app_login": true});
        let r = self
            .call(Method::POST, url, Body::Signed(data), vec![], false)
            .await;
        self.forget_login();
        r.map(|_| ())
    }
}
