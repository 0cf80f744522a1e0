//! Challenges (§4.10): a code by email or SMS is advanced to the point where Instagram has
//! sent it, then completed with the code a human submits; "approve in the app" and manual
//! checkpoints are reported for a human.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::error::IgError;
use crate::types::{ChallengeAsk, ChallengePending, LoginOutcome};
use crate::wire::py_json;

impl InstagramClient {
    /// Opens a challenge (§4.10): code-type steps are advanced to the point where Instagram
    /// has sent a code; the others are reported for a human.
    pub(super) async fn start_challenge(&mut self, body: &Value) -> Result<LoginOutcome, IgError> {
        let ch = body.get("challenge").cloned().unwrap_or(Value::Null);
        let api_path = ch
            .get("api_path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let manual = |asks| {
            Ok(LoginOutcome::ChallengeRequired(ChallengePending {
                api_path: api_path.clone(),
                asks,
                step_name: String::new(),
                contact: None,
            }))
        };
        if api_path.is_empty()
            || api_path.starts_with("/auth_platform/")
            || ch.get("bloks_action").is_some()
        {
            return manual(ChallengeAsk::Manual);
        }
        if ch.get("native_flow").and_then(Value::as_bool) == Some(true) {
            return manual(ChallengeAsk::AppApproval);
        }
        // `challenge_resolve`: the context Instagram gave, else one made of the user id and
        // nonce in the challenge's path (`/challenge/{user_id}/{nonce}/`).
        let context = match ch.get("challenge_context").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => c.to_owned(),
            _ => {
                let mut parts = api_path.trim_matches('/').split('/').skip(1);
                let user_id = parts.next().and_then(|u| u.parse::<u64>().ok());
                let nonce = parts.next().unwrap_or_default();
                py_json(&json!({
                    "step_name": "", "nonce_code": nonce, "user_id": user_id, "is_stateless": false
                }))
            }
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("guid", &self.session.uuids.uuid)
            .append_pair("device_id", &self.session.uuids.android_device_id)
            .append_pair("challenge_context", &context)
            .finish();
        let url = format!("{}?{query}", self.api(&api_path));
        let mut step = self
            .call(Method::GET, url, Body::Empty, vec![], true)
            .await?;
        for _ in 0..3 {
            let name = step
                .get("step_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match name.as_str() {
                "delta_login_review"
                | "delta_acknowledge_approved"
                | "scraping_warning"
                | "select_verify_method" => {
                    let choice = if name == "select_verify_method"
                        && step.pointer("/step_data/email").is_none()
                    {
                        "0"
                    } else if name == "select_verify_method" {
                        "1"
                    } else {
                        "0"
                    };
                    let url = self.api(&api_path);
                    let data = json!({"choice": choice});
                    step = self
                        .call(Method::POST, url, Body::Signed(data), vec![], true)
                        .await?;
                    if step.get("action").and_then(Value::as_str) == Some("close") {
                        return self.after_challenge(&step).await;
                    }
                }
                "verify_email" | "verify_email_code" | "verify_sms" | "verify_sms_code"
                | "verify_phone" | "verify_phone_code" => {
                    let asks = if name.contains("email") {
                        ChallengeAsk::EmailCode
                    } else {
                        ChallengeAsk::SmsCode
                    };
                    let contact = step
                        .pointer("/step_data/contact_point")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    return Ok(LoginOutcome::ChallengeRequired(ChallengePending {
                        api_path,
                        asks,
                        step_name: name,
                        contact,
                    }));
                }
                _ => break,
            }
        }
        let name = step
            .get("step_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(LoginOutcome::ChallengeRequired(ChallengePending {
            api_path,
            asks: ChallengeAsk::Manual,
            step_name: name,
            contact: None,
        }))
    }

    /// Sends the code a human received for a pending challenge.
    pub async fn submit_challenge_code(
        &mut self,
        pending: &ChallengePending,
        code: &str,
    ) -> Result<LoginOutcome, IgError> {
        let url = self.api(&pending.api_path);
        let data = json!({"security_code": code.trim()});
        let v = self
            .call(Method::POST, url, Body::Signed(data), vec![], true)
            .await?;
        self.after_challenge(&v).await
    }

    async fn after_challenge(&mut self, v: &Value) -> Result<LoginOutcome, IgError> {
        if self.session.is_logged_in() {
            return self.logged_in(v).await;
        }
        Ok(LoginOutcome::ChallengePassed)
    }
}
