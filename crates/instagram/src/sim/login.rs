//! The simulator's login endpoints (§4): the password key (`qe/sync/`), the legacy
//! `accounts/login/` with the faults it answers, two-factor and challenges.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use super::answers::{fail, json_response, login_required};
use super::state::{Answer, Faults, SHORTCODE, Sim, header, user_json};
use crate::crypto::{decrypt_password, totp_code};
use crate::wire::parse_signed;

impl Sim {
    pub(super) fn qe_sync(&self) -> Response {
        let mut r = json_response(StatusCode::OK, json!({"experiments": [], "status": "ok"}));
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.key_id.to_string()) {
            h.insert("ig-set-password-encryption-key-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.pub_b64) {
            h.insert("ig-set-password-encryption-pub-key", v);
        }
        r
    }

    pub(super) fn login(&self, headers: &HeaderMap, body: &[u8], faults: &Faults) -> Answer {
        let v = parse_signed(body).ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Invalid Parameters","status":"fail"}),
            )
        })?;
        // The ids in the body must be the ones the headers announce: one phone, not two.
        for (field, h) in [
            ("guid", "x-ig-device-id"),
            ("phone_id", "x-ig-family-device-id"),
            ("device_id", "x-ig-android-id"),
        ] {
            if v.get(field).and_then(Value::as_str) != header(headers, h) {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    json!({"message":"Invalid Parameters","status":"fail"}),
                ));
            }
        }
        let username = v
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let enc = v
            .get("enc_password")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for field in ["phone_id", "guid", "device_id", "adid", "jazoest"] {
            if v.get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    json!({"message":"Invalid Parameters","status":"fail"}),
                ));
            }
        }
        let (acc_password, totp, pk, trusted) = {
            let g = self.lock();
            match g.accounts.get(username) {
                Some(a) => (
                    a.cfg.password.clone(),
                    a.cfg.totp_secret.clone(),
                    a.pk,
                    a.trusted,
                ),
                None => {
                    return Err(fail(
                        StatusCode::BAD_REQUEST,
                        json!({"message":"The username you entered doesn't appear to belong to an account. Please check your username and try again.","invalid_credentials":true,"error_title":"Incorrect Username","error_type":"invalid_user","status":"fail"}),
                    ));
                }
            }
        };
        if faults.needs_upgrade {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Please update your app to continue.","error_type":"needs_upgrade","status":"fail"}),
            ));
        }
        if faults.please_wait {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Please wait a few minutes before you try again.","status":"fail"}),
            ));
        }
        let password = match decrypt_password(enc, &self.key) {
            Ok((id, p)) if id == self.key_id => Some(p),
            _ => None,
        };
        if faults.banned {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"checkpoint_required","checkpoint_url":"https://i.instagram.com/accounts/suspended/?next=%2F","lock":true,"flow_render_type":0,"status":"fail"}),
            ));
        }
        if faults.bad_password || password.as_deref() != Some(acc_password.as_str()) {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"The password you entered is incorrect. Please try again.","invalid_credentials":true,"error_title":"Incorrect Password","error_type":"bad_password","exception_name":"UserInvalidCredentials","status":"fail"}),
            ));
        }
        if let Some(kind) = faults.challenge.as_deref().filter(|_| !trusted) {
            return Err(self.open_challenge(username, pk, kind));
        }
        if totp.is_some() || faults.two_factor {
            let identifier = uuid::Uuid::new_v4().simple().to_string();
            self.lock()
                .two_factor
                .insert(identifier.clone(), username.to_owned());
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Two-factor authentication required","two_factor_required":true,"two_factor_info":{"username":username,"two_factor_identifier":identifier,"sms_two_factor_on":totp.is_none(),"totp_two_factor_on":totp.is_some(),"obfuscated_phone_number":"**12","pk":pk},"phone_verification_settings":{},"status":"fail","error_type":"two_factor_required"}),
            ));
        }
        Ok(self.logged_in(username))
    }

    /// A challenge of the fault's kind (`email`, `sms`, `app`, `manual`) at a fresh path,
    /// remembered until it is passed.
    fn open_challenge(&self, username: &str, pk: u64, kind: &str) -> Response {
        let nonce: String = {
            let mut rng = rand::rng();
            (0..10)
                .map(|_| SHORTCODE[rng.random_range(0..62)] as char)
                .collect()
        };
        let (api_path, native) = match kind {
            "manual" => (format!("/auth_platform/codeentry/?apc={nonce}"), false),
            "app" => (format!("/challenge/{pk}/{nonce}/"), true),
            _ => (format!("/challenge/{pk}/{nonce}/"), false),
        };
        self.lock().challenges.insert(
            format!("/api/v1{api_path}"),
            (username.to_owned(), kind.to_owned()),
        );
        fail(
            StatusCode::BAD_REQUEST,
            json!({"message":"challenge_required","challenge":{"url":format!("https://i.instagram.com{api_path}"),"api_path":api_path,"hide_webview_header":true,"lock":true,"logout":false,"native_flow":native},"status":"fail","error_type":"checkpoint_challenge_required"}),
        )
    }

    fn logged_in(&self, username: &str) -> Response {
        let user = {
            let g = self.lock();
            g.accounts
                .get(username)
                .map(user_json)
                .unwrap_or(Value::Null)
        };
        self.issue_session(
            username,
            json!({"logged_in_user": user, "session_flush_nonce": null, "status": "ok"}),
        )
    }

    pub(super) fn two_factor(&self, body: &[u8]) -> Answer {
        let bad = || {
            fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Invalid Parameters","status":"fail"}),
            )
        };
        let v = parse_signed(body).ok_or_else(bad)?;
        let id = v
            .get("two_factor_identifier")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        let code = v
            .get("verification_code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let username = self.lock().two_factor.get(id).cloned().ok_or_else(|| {
            fail(StatusCode::BAD_REQUEST, json!({"message":"This page is no longer available.","error_type":"invalid_identifier","status":"fail"}))
        })?;
        let (secret, faults) = {
            let g = self.lock();
            let a = g.accounts.get(&username).ok_or_else(bad)?;
            (a.cfg.totp_secret.clone(), a.cfg.faults.or(&g.global))
        };
        let now = Utc::now().timestamp();
        let ok = match secret {
            Some(s) => [now - 30, now, now + 30]
                .iter()
                .any(|t| totp_code(&s, *t).ok().as_deref() == Some(code)),
            None => code == faults.code(),
        };
        if !ok {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Please check the security code and try again.","error_type":"sms_code_validation_code_invalid","status":"fail"}),
            ));
        }
        self.lock().two_factor.remove(id);
        Ok(self.logged_in(&username))
    }

    pub(super) fn challenge(&self, method: &Method, path: &str, body: &[u8]) -> Answer {
        let (username, kind) =
            self.lock().challenges.get(path).cloned().ok_or_else(|| {
                json_response(StatusCode::NOT_FOUND, json!({"message":"Not Found"}))
            })?;
        let (pk, faults) = {
            let g = self.lock();
            let a = g.accounts.get(&username).ok_or_else(login_required)?;
            (a.pk, a.cfg.faults.or(&g.global))
        };
        let email = "j****e@example.com";
        let phone = "+1 ***-***-**12";
        if *method == Method::GET {
            let mut data = json!({"choice": "1", "phone_number": phone, "fb_access_token": "None", "big_blue_token": "None", "google_oauth_token": "true"});
            if kind == "email" {
                data["email"] = json!(email);
            }
            return Ok(json_response(
                StatusCode::OK,
                json!({"step_name":"select_verify_method","step_data":data,"flow_render_type":3,"bloks_action":null,"user_id":pk,"nonce_code":"x","challenge_context":"{}","status":"ok"}),
            ));
        }
        let v = parse_signed(body).unwrap_or(Value::Null);
        if let Some(choice) = v.get("choice").and_then(Value::as_str) {
            let (step, contact) = if choice == "1" {
                ("verify_email", email)
            } else {
                ("verify_sms", phone)
            };
            return Ok(json_response(
                StatusCode::OK,
                json!({"step_name":step,"step_data":{"security_code":"None","resend_delay":60,"contact_point":contact,"form_type":if choice=="1"{"email"}else{"phone_number"}},"user_id":pk,"nonce_code":"x","status":"ok"}),
            ));
        }
        let code = v
            .get("security_code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if code != faults.code() {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Please check the code we sent you and try again.","challenge":{"errors":["Please check the code we sent you and try again."]},"status":"fail"}),
            ));
        }
        {
            let mut g = self.lock();
            g.challenges.remove(path);
            if let Some(a) = g.accounts.get_mut(&username) {
                a.trusted = true;
            }
        }
        let user = {
            let g = self.lock();
            g.accounts
                .get(&username)
                .map(user_json)
                .unwrap_or(Value::Null)
        };
        Ok(self.issue_session(
            &username,
            json!({"action":"close","status":"ok","logged_in_user":user}),
        ))
    }
}
