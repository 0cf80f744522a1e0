//! The simulator's CAA (Bloks) login (§4.4–4.5) and USDID registration (§1.5): it checks
//! what Instagram is known to check and answers the `CAA_LOGIN_FALLBACK:` marker for any
//! account that is not a clean login, so the typed error comes from the legacy endpoint.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use super::answers::{fail, json_response};
use super::state::{Answer, Sim, header, user_json};
use crate::app_profile::APP_ID;
use crate::crypto::decrypt_password;

impl Sim {
    /// `IGUSDIDRegistrationMutation`: the token's ES256 signature must verify with the key
    /// it carries.
    pub(super) fn graphql(&self, body: &[u8]) -> Answer {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let bad = || {
            fail(
                StatusCode::BAD_REQUEST,
                json!({"errors":[{"message":"invalid request"}]}),
            )
        };
        if form.get("client_doc_id").map(String::as_str) != Some("124930351917786857261002920888") {
            return Err(bad());
        }
        let vars: Value = form
            .get("variables")
            .and_then(|v| serde_json::from_str(v).ok())
            .ok_or_else(bad)?;
        let token = vars
            .pointer("/input/usdid_token/sensitive_string_value")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        let (usdid, key) = verify_usdid_token(token).ok_or_else(bad)?;
        self.lock().usdids.insert(usdid, key);
        Ok(json_response(
            StatusCode::OK,
            json!({"data":{"usdid_registration":{"success":true}},"extensions":{"is_final":true}}),
        ))
    }

    pub(super) fn keystore(&self, body: &[u8]) -> Answer {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        if form
            .get("app_scoped_device_id")
            .is_none_or(|v| v.is_empty())
        {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Invalid Parameters","status":"fail"}),
            ));
        }
        let nonce = STANDARD.encode(rand::rng().random::<[u8; 24]>());
        self.lock().nonces.insert(nonce.clone());
        Ok(json_response(
            StatusCode::OK,
            json!({"challenge_nonce": nonce, "key_nonce": STANDARD.encode(rand::rng().random::<[u8; 16]>()), "status": "ok"}),
        ))
    }

    /// The CAA Bloks actions (§4.4). Anything but a clean login answers the
    /// `CAA_LOGIN_FALLBACK:` marker, so the typed error comes from the legacy endpoint, as
    /// Instagram does for many accounts; two-factor accounts get the two-step marker.
    pub(super) fn bloks(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let payload_null = || {
            fail(
                StatusCode::NOT_FOUND,
                json!({"message":"Payload returned is null","error_type":"field_exception","status":"fail"}),
            )
        };
        let params: Value = form
            .get("params")
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(payload_null)?;
        if form
            .get("bloks_versioning_id")
            .is_none_or(|v| v.len() != 64)
            || !form.contains_key("_uuid")
        {
            return Err(payload_null());
        }
        let action = path
            .trim_start_matches("/api/v1/bloks/async_action/")
            .trim_end_matches('/');
        let ci = params
            .get("client_input_params")
            .cloned()
            .unwrap_or(Value::Null);
        let sp = params.get("server_params").cloned().unwrap_or(Value::Null);
        let take_last = "(bk.action.core.TakeLast (bk.action.i32.Const 0))";
        match action {
            "com.bloks.www.bloks.caa.login.process_client_data_and_redirect" => {
                // The homepage action takes one flat object (instagrapi 3.2.2's
                // `bloks_caa_login_process_client_data`), not the client/server split of the
                // later actions.
                if params.get("family_device_id").is_none() || params.get("qe_device_id").is_none()
                {
                    return Err(payload_null());
                }
                let aac = format!("AAC{}", uuid::Uuid::new_v4().simple());
                self.lock().aacs.insert(aac.clone());
                Ok(json_response(
                    StatusCode::OK,
                    json!({"layout":{"bloks_payload":{
                        "data":[{"id":"caa_aac","type":"gs","data":{"key":"CAA_ACCOUNT_ACCESS_CONTEXT:aac","initial":aac}}],
                        "action": take_last
                    }},"status":"ok"}),
                ))
            }
            "com.bloks.www.caa.login.oauth.token.fetch.async" => {
                let aac = ci.get("aac").and_then(Value::as_str).unwrap_or_default();
                if !self.lock().aacs.contains(aac) {
                    return Err(payload_null());
                }
                Ok(json_response(
                    StatusCode::OK,
                    json!({"layout":{"bloks_payload":{"action": take_last}},"status":"ok"}),
                ))
            }
            "com.bloks.www.bloks.caa.login.async.send_login_request" => self
                .caa_send_login(headers, &ci, &sp)
                .ok_or_else(payload_null),
            _ => Err(payload_null()),
        }
    }

    fn caa_send_login(&self, headers: &HeaderMap, ci: &Value, sp: &Value) -> Option<Response> {
        // A wrong text-input id format is what broke CAA in #2725: Instagram says null.
        let input_id = sp.get("username_text_input_id")?.as_str()?;
        if !(input_id.len() == 9
            && input_id.ends_with("ig:81")
            && input_id[..4].chars().all(|c| c.is_ascii_hexdigit()))
        {
            return None;
        }
        let aac = ci.get("aac")?.as_str()?;
        let nonce = header(headers, "x-ig-attest-params")
            .and_then(|h| serde_json::from_str::<Value>(h).ok())
            .and_then(|v| {
                v.pointer("/attestation/0/challenge_nonce")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })?;
        {
            let mut g = self.lock();
            if !g.nonces.remove(&nonce) || !g.aacs.remove(aac) {
                return None;
            }
        }
        let username = ci.get("contact_point")?.as_str()?.to_owned();
        if let Some(info) = ci.get("si_device_param_network_info") {
            self.lock()
                .network_info
                .insert(username.clone(), info.clone());
        }
        let password = ci
            .get("password")
            .and_then(Value::as_str)
            .and_then(|p| decrypt_password(p, &self.key).ok());
        let faults = self.faults_for(Some(&username));
        let usdid_ok = header(headers, "x-meta-usdid").is_some_and(|h| self.usdid_header_ok(h));
        let (known, matches, totp, trusted) = {
            let g = self.lock();
            match g.accounts.get(&username) {
                Some(a) => (
                    true,
                    password
                        .as_ref()
                        .is_some_and(|(id, p)| *id == self.key_id && *p == a.cfg.password),
                    a.cfg.totp_secret.is_some(),
                    a.trusted,
                ),
                None => (false, false, false, false),
            }
        };
        let action = |a: String| {
            json_response(
                StatusCode::OK,
                json!({"layout":{"bloks_payload":{"action": a}},"status":"ok"}),
            )
        };
        // Two-factor accounts are not a clean login either: they fall back too, and the
        // legacy endpoint asks for the code (the Bloks two-step screens are not simulated).
        let clean = known
            && matches
            && usdid_ok
            && !(faults.caa_fallback
                || totp
                || faults.two_factor
                || faults.bad_password
                || faults.please_wait
                || faults.banned
                || faults.needs_upgrade)
            && (faults.challenge.is_none() || trusted);
        if !clean {
            // The marker is a string value of its own in the payload, where the reference
            // client looks for `CAA_` markers (instagrapi #2803), as well as in the action.
            return Some(json_response(
                StatusCode::OK,
                json!({"layout":{"bloks_payload":{
                    "data":[{"id":"caa_fallback","type":"gs","data":{"key":"CAA_LOGIN_FALLBACK:fallback_triggered","initial":true}}],
                    "action":"(bk.action.core.TakeLast (bk.action.caa.Log \"CAA_LOGIN_FALLBACK:fallback_triggered\"))"
                }},"status":"ok"}),
            ));
        }
        let user = self.lock().accounts.get(&username).map(user_json)?;
        let parts = self.new_session(&username)?;
        let hdrs: serde_json::Map<String, Value> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                let k = if *k == "ig-set-authorization" {
                    "IG-Set-Authorization".to_owned()
                } else {
                    (*k).to_owned()
                };
                (k, json!(v))
            })
            .collect();
        let cookies: Vec<String> = parts
            .cookies
            .iter()
            .map(|c| format!("Set-Cookie: {c}"))
            .collect();
        let embedded = json!({
            "login_response": json!({"logged_in_user": user, "status": "ok"}).to_string(),
            "headers": Value::Object(hdrs).to_string(),
            "cookies": cookies.join("\n"),
        })
        .to_string();
        let literal = serde_json::to_string(&embedded).ok()?;
        Some(action(format!(
            "(bk.action.core.TakeLast (bk.action.caa.HandleLoginResponse {literal}))"
        )))
    }

    /// `X-Meta-Usdid: {usdid}.{expires}.{sig}` of a registered, unexpired identity.
    fn usdid_header_ok(&self, h: &str) -> bool {
        use p256::ecdsa::signature::Verifier;
        let Some((msg, sig)) = h.rsplit_once('.') else {
            return false;
        };
        let Some((usdid, exp)) = msg.split_once('.') else {
            return false;
        };
        let fresh = exp.parse::<i64>().is_ok_and(|e| e > Utc::now().timestamp());
        let key = self.lock().usdids.get(usdid).copied();
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .ok()
            .and_then(|b| p256::ecdsa::DerSignature::from_bytes(&b).ok());
        match (key, sig) {
            (Some(k), Some(s)) => fresh && k.verify(msg.as_bytes(), &s).is_ok(),
            _ => false,
        }
    }
}

/// Checks a USDID registration token (§1.5): its ES256 signature over `protected.payload`
/// verifies with the public key in the payload. Returns the usdid and that key.
fn verify_usdid_token(token: &str) -> Option<(String, p256::ecdsa::VerifyingKey)> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let outer: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let payload_b64 = outer.get("payload")?.as_str()?;
    let sig0 = outer.get("signatures")?.get(0)?;
    let protected = sig0.get("protected")?.as_str()?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig0.get("signature")?.as_str()?)
        .ok()?;
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload_b64).ok()?).ok()?;
    if payload.get("aud")?.as_str()? != APP_ID || payload.get("alg")?.as_str()? != "ES256" {
        return None;
    }
    let spki = STANDARD.decode(payload.get("pub")?.as_str()?).ok()?;
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).ok()?;
    let sig = p256::ecdsa::DerSignature::from_bytes(&sig).ok()?;
    key.verify(format!("{protected}.{payload_b64}").as_bytes(), &sig)
        .ok()?;
    Some((payload.get("sub")?.as_str()?.to_owned(), key))
}
