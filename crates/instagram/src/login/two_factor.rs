//! Two-factor login (§4.7): `accounts/two_factor_login/` with a TOTP code icf generates or
//! a code the user submits.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::request::Body;
use crate::client::{InstagramClient, uuid4};
use crate::error::IgError;
use crate::types::{LoginOutcome, TwoFactorPending};

impl InstagramClient {
    /// `accounts/two_factor_login/` with a TOTP or SMS code (§4.7).
    pub async fn submit_two_factor_code(
        &mut self,
        pending: &TwoFactorPending,
        code: &str,
    ) -> Result<LoginOutcome, IgError> {
        let s = &self.session;
        // instagrapi always sends 3 (authenticator); for SMS-only accounts the app sends 1.
        let method = if !pending.totp_on && pending.sms_on {
            "1"
        } else {
            "3"
        };
        let data = json!({
            "verification_code": code.trim(),
            "phone_id": s.uuids.phone_id,
            "_csrftoken": s.csrf_token(),
            "two_factor_identifier": pending.two_factor_identifier,
            "username": pending.username,
            "trust_this_device": "0",
            "guid": s.uuids.uuid,
            "device_id": s.uuids.android_device_id,
            "waterfall_id": uuid4(),
            "verification_method": method,
        });
        let url = self.api("accounts/two_factor_login/");
        let v = self
            .call(Method::POST, url, Body::Signed(data), vec![], true)
            .await?;
        self.logged_in(&v).await
    }
}

/// What the `two_factor_required` answer says about the second step.
pub(super) fn two_factor_pending(body: &Value, username: &str) -> TwoFactorPending {
    let info = body.get("two_factor_info").cloned().unwrap_or(Value::Null);
    let flag = |k: &str| info.get(k).and_then(Value::as_bool).unwrap_or(false);
    TwoFactorPending {
        username: info
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or(username)
            .to_owned(),
        two_factor_identifier: info
            .get("two_factor_identifier")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        totp_on: flag("totp_two_factor_on"),
        sms_on: flag("sms_two_factor_on"),
        obfuscated_phone_number: info
            .get("obfuscated_phone_number")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| Some(v.to_string()))
            })
            .filter(|s| s != "null"),
    }
}
