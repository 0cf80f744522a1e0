//! The old `accounts/login/` flow (§4.8): the fallback of CAA, and where Instagram still
//! answers typed errors (bad password, two-factor, challenge, please wait).

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use super::two_factor::two_factor_pending;
use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::crypto::totp_code;
use crate::error::{ErrorShape, IgError};
use crate::types::{Credentials, LoginOutcome};
use crate::wire::compact_json;

impl InstagramClient {
    /// `launcher/sync/`, the password key, then `accounts/login/`; a two-factor prompt is
    /// answered with a TOTP code when the secret is known.
    pub(super) async fn legacy_login(
        &mut self,
        creds: Credentials<'_>,
    ) -> Result<LoginOutcome, IgError> {
        self.pre_login().await?;
        let enc = self.encrypted_password(creds.password).await?;
        let s = &self.session;
        let jazoest = format!(
            "2{}",
            s.uuids.phone_id.chars().map(|c| c as u32).sum::<u32>()
        );
        let data = json!({
            "jazoest": jazoest,
            "country_codes": compact_json(&json!([{"country_code": s.country_code.to_string(), "source": ["default"]}])),
            "phone_id": s.uuids.phone_id,
            "enc_password": enc,
            "username": creds.username,
            "adid": s.uuids.advertising_id,
            "guid": s.uuids.uuid,
            "device_id": s.uuids.android_device_id,
            "google_tokens": "[]",
            "login_attempt_count": "0",
        });
        let url = self.api("accounts/login/");
        match self
            .call(Method::POST, url, Body::Signed(data), vec![], true)
            .await
        {
            Ok(v) => self.logged_in(&v).await,
            Err(IgError::Api(e)) if e.kind == ErrorShape::TwoFactorRequired => {
                let pending = two_factor_pending(&e.body, creds.username);
                match creds.totp_secret {
                    Some(secret) if pending.totp_on || !pending.sms_on => {
                        let code = totp_code(secret, Utc::now().timestamp())?;
                        self.submit_two_factor_code(&pending, &code).await
                    }
                    _ => Ok(LoginOutcome::TwoFactorRequired(pending)),
                }
            }
            Err(IgError::Api(e))
                if matches!(
                    e.kind,
                    ErrorShape::ChallengeRequired | ErrorShape::MaskedChallenge
                ) =>
            {
                self.start_challenge(&e.body).await
            }
            Err(e) => Err(e),
        }
    }

    /// `launcher/sync/` before the password; a throttle here is ignored, as the app does.
    async fn pre_login(&mut self) -> Result<(), IgError> {
        let data = json!({"id": self.session.uuids.uuid, "server_config_retrieval": "1"});
        let url = self.api("launcher/sync/");
        match self
            .call(Method::POST, url, Body::Signed(data), vec![], true)
            .await
        {
            Ok(_) => Ok(()),
            Err(IgError::Api(e))
                if matches!(e.kind, ErrorShape::PleaseWait | ErrorShape::Throttled) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
