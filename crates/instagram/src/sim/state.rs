//! The simulator's accounts, sessions, uploads and media, and the request handler.

// Handlers return Instagram's error answer as `Err(Response)` so `?` reads like the
// protocol's checks; the size of a Response does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::Rng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{dropped_connection, json_response};
use crate::crypto::{decrypt_password, totp_code};
use crate::wire::parse_signed;

/// Faults to inject, per account or for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// `email` or `sms`: a code challenge at login; `app`: "approve in the app"
    /// (`native_flow`); `manual`: an `auth_platform` checkpoint.
    pub challenge: Option<String>,
    /// Ask for a two-factor code at login even without a TOTP secret (then the SMS code
    /// is `code`).
    pub two_factor: bool,
    /// The code the simulator "sends" for challenges and SMS two-factor (default 123456).
    pub code: Option<String>,
    /// Refuse the password even when it is right.
    pub bad_password: bool,
    /// The session dies after this many authenticated requests.
    pub session_expires_after: Option<u32>,
    /// configure answers `feedback_required`.
    pub feedback_required: bool,
    /// Login answers "Please wait a few minutes".
    pub please_wait: bool,
    /// Every request answers 429 with an empty body.
    pub throttle: bool,
    /// Every request answers 500 with an HTML page.
    pub server_error: bool,
    /// Uploads (rupload) answer 500 with an HTML page, as Instagram's upload edge does
    /// when it fails; nothing is stored.
    pub upload_error: bool,
    /// Uploads (rupload) cut the connection before answering; nothing is stored.
    pub drop_during_upload: bool,
    /// configure answers 500 with an HTML page without publishing.
    pub configure_error: bool,
    /// The CAA login answers `CAA_LOGIN_FALLBACK:` even when it would succeed, so the
    /// legacy `accounts/login/` completes it (as Instagram does for many accounts).
    pub caa_fallback: bool,
    /// Every request is delayed this long.
    pub slow_ms: Option<u64>,
    /// configure cuts the connection without publishing.
    pub drop_before_configure: bool,
    /// configure publishes, then cuts the connection before answering.
    pub drop_after_configure: bool,
    /// Video configure answers "Transcode not finished yet." this many times per upload.
    pub transcode_pending: u32,
    /// The account is suspended.
    pub banned: bool,
    /// Login answers the `needs_upgrade` error (a stale app profile).
    pub needs_upgrade: bool,
}

impl Faults {
    fn or(&self, g: &Faults) -> Faults {
        Faults {
            challenge: self.challenge.clone().or_else(|| g.challenge.clone()),
            two_factor: self.two_factor || g.two_factor,
            code: self.code.clone().or_else(|| g.code.clone()),
            bad_password: self.bad_password || g.bad_password,
            session_expires_after: self.session_expires_after.or(g.session_expires_after),
            feedback_required: self.feedback_required || g.feedback_required,
            please_wait: self.please_wait || g.please_wait,
            throttle: self.throttle || g.throttle,
            server_error: self.server_error || g.server_error,
            upload_error: self.upload_error || g.upload_error,
            drop_during_upload: self.drop_during_upload || g.drop_during_upload,
            configure_error: self.configure_error || g.configure_error,
            caa_fallback: self.caa_fallback || g.caa_fallback,
            slow_ms: self.slow_ms.or(g.slow_ms),
            drop_before_configure: self.drop_before_configure || g.drop_before_configure,
            drop_after_configure: self.drop_after_configure || g.drop_after_configure,
            transcode_pending: self.transcode_pending.max(g.transcode_pending),
            banned: self.banned || g.banned,
            needs_upgrade: self.needs_upgrade || g.needs_upgrade,
        }
    }

    fn code(&self) -> String {
        self.code.clone().unwrap_or_else(|| "123456".into())
    }
}

/// A simulated account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimAccount {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub totp_secret: Option<String>,
    #[serde(default)]
    pub faults: Faults,
}

/// A published media as `GET /__sim/media` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimMedia {
    pub username: String,
    pub media_id: String,
    /// `photo`, `video`, `carousel` or `reel`.
    pub media_type: String,
    pub caption: String,
    pub created_at: DateTime<Utc>,
    pub code: String,
    pub pk: String,
    pub upload_id: String,
    pub children: usize,
}

#[derive(Debug, Clone)]
enum Upload {
    Photo,
    Video {
        cover: bool,
        reel: bool,
        pending: u32,
    },
}

struct Account {
    cfg: SimAccount,
    pk: u64,
    calls: u32,
    trusted: bool,
}

struct Inner {
    accounts: HashMap<String, Account>,
    global: Faults,
    sessions: HashMap<String, String>,
    uploads: HashMap<(String, String), Upload>,
    media: Vec<SimMedia>,
    requests: u64,
    http2_requests: u64,
    two_factor: HashMap<String, String>,
    challenges: HashMap<String, (String, String)>,
    next_pk: u64,
    /// CAA: issued `aac` values, keystore nonces, registered USDIDs and their keys.
    aacs: std::collections::HashSet<String>,
    nonces: std::collections::HashSet<String>,
    usdids: HashMap<String, p256::ecdsa::VerifyingKey>,
    network_info: HashMap<String, Value>,
}

pub(super) struct Sim {
    inner: Mutex<Inner>,
    key: RsaPrivateKey,
    key_id: u8,
    pub_b64: String,
    /// The recording mode (off unless asked for).
    pub(super) recorder: super::record::Recorder,
}

type Answer = Result<Response, Response>;

struct SessionParts {
    headers: Vec<(&'static str, String)>,
    cookies: Vec<String>,
}

fn fail(status: StatusCode, body: Value) -> Response {
    json_response(status, body)
}

fn login_required() -> Response {
    fail(
        StatusCode::FORBIDDEN,
        json!({"message":"login_required","error_title":"You've Been Logged Out","error_body":"Please log back in.","logout_reason":8,"status":"fail"}),
    )
}

fn suspended() -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"message":"challenge_required","challenge":{"url":"https://www.instagram.com/accounts/suspended/?next=%2F","api_path":"/accounts/suspended/","hide_webview_header":true,"lock":true,"logout":true,"native_flow":false},"status":"fail","error_type":"checkpoint_challenge_required"}),
    )
}

/// Instagram's 500: an HTML page, not JSON.
fn server_error_page() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "text/html; charset=utf-8")],
        "<html><body><h1>500 Internal Server Error</h1></body></html>",
    )
        .into_response()
}

fn needs_reupload() -> Response {
    fail(
        StatusCode::OK,
        json!({"message":"media_needs_reupload","error_title":"bad image input extra:{}","status":"ok"}),
    )
}

fn bad_upload(message: &str) -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"debug_info":{"retriable":false,"type":"ProcessingFailedError","message":message}}),
    )
}

const SHORTCODE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn shortcode(mut pk: u64) -> String {
    let mut out = Vec::new();
    while pk > 0 {
        out.push(SHORTCODE[(pk % 64) as usize]);
        pk /= 64;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn header<'a>(h: &'a HeaderMap, k: &str) -> Option<&'a str> {
    h.get(k).and_then(|v| v.to_str().ok())
}

fn user_json(a: &Account) -> Value {
    json!({
        "pk": a.pk, "pk_id": a.pk.to_string(), "username": a.cfg.username, "full_name": "",
        "is_private": false, "is_verified": false, "is_business": false,
        "profile_pic_url": "https://scontent.cdninstagram.com/v/t51.2885-19/44884218_345707102882519_2446069589734326272_n.jpg",
        "biography": "", "external_url": ""
    })
}

impl Sim {
    pub(super) fn new(seed: Vec<SimAccount>) -> Sim {
        // Instagram's password key is RSA-2048; the simulator makes its own at start.
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .unwrap_or_else(|e| panic!("cannot generate the simulator's RSA key: {e}"));
        let pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default();
        let sim = Sim {
            inner: Mutex::new(Inner {
                accounts: HashMap::new(),
                global: Faults::default(),
                sessions: HashMap::new(),
                uploads: HashMap::new(),
                media: Vec::new(),
                requests: 0,
                http2_requests: 0,
                two_factor: HashMap::new(),
                challenges: HashMap::new(),
                next_pk: 3_480_000_000_000_000_000,
                aacs: Default::default(),
                nonces: Default::default(),
                usdids: HashMap::new(),
                network_info: HashMap::new(),
            }),
            key,
            key_id: rand::rng().random_range(1..=255),
            pub_b64: STANDARD.encode(pem),
            recorder: Default::default(),
        };
        for a in seed {
            sim.upsert(a);
        }
        sim
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn upsert(&self, a: SimAccount) {
        let mut g = self.lock();
        let pk = 58_000_000_000 + g.accounts.len() as u64 * 7919 + 1;
        let name = a.username.clone();
        match g.accounts.get_mut(&name) {
            Some(acc) => {
                acc.cfg = a;
                acc.calls = 0;
            }
            None => {
                g.accounts.insert(
                    name,
                    Account {
                        cfg: a,
                        pk,
                        calls: 0,
                        trusted: false,
                    },
                );
            }
        }
    }

    pub(super) fn set_global(&self, f: Faults) {
        self.lock().global = f;
    }

    pub(super) fn media(&self, username: Option<&str>) -> Vec<SimMedia> {
        self.lock()
            .media
            .iter()
            .filter(|m| username.is_none_or(|u| m.username == u))
            .cloned()
            .collect()
    }

    pub(super) fn note_version(&self, v: axum::http::Version) {
        if v == axum::http::Version::HTTP_2 {
            self.lock().http2_requests += 1;
        }
    }

    pub(super) fn http2_count(&self) -> u64 {
        self.lock().http2_requests
    }

    pub(super) fn network_info(&self, username: &str) -> Option<Value> {
        self.lock().network_info.get(username).cloned()
    }

    pub(super) fn request_count(&self) -> u64 {
        self.lock().requests
    }

    /// The username behind an `Authorization: Bearer IGT:2:` header, if the session lives.
    fn session_user(&self, headers: &HeaderMap) -> Option<String> {
        let b64 = header(headers, "authorization")?.strip_prefix("Bearer IGT:2:")?;
        let raw = STANDARD.decode(b64).ok()?;
        let v: Value = serde_json::from_slice(&raw).ok()?;
        let sid = v.get("sessionid")?.as_str()?;
        self.lock().sessions.get(sid).cloned()
    }

    fn faults_for(&self, username: Option<&str>) -> Faults {
        let g = self.lock();
        match username.and_then(|u| g.accounts.get(u)) {
            Some(a) => a.cfg.faults.or(&g.global),
            None => g.global.clone(),
        }
    }

    /// A fresh session: the Authorization token and cookies of a successful login.
    fn issue_session(&self, username: &str, body: Value) -> Response {
        let Some(parts) = self.new_session(username) else {
            return login_required();
        };
        let mut resp = json_response(StatusCode::OK, body);
        let h = resp.headers_mut();
        let cookies = parts.cookies.iter().map(|c| ("set-cookie", c));
        for (k, v) in parts.headers.iter().map(|(k, v)| (*k, v)).chain(cookies) {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.append(k, v);
            }
        }
        resp
    }

    fn new_session(&self, username: &str) -> Option<SessionParts> {
        let mut rng = rand::rng();
        let token: String = (0..24)
            .map(|_| SHORTCODE[rng.random_range(0..62)] as char)
            .collect();
        let mut g = self.lock();
        let acc = g.accounts.get_mut(username)?;
        acc.calls = 0;
        let pk = acc.pk;
        let sessionid = format!("{pk}%3A{token}%3A12%3AAY{}", &token[..8]);
        g.sessions.insert(sessionid.clone(), username.to_owned());
        drop(g);
        let auth = json!({"ds_user_id": pk.to_string(), "sessionid": sessionid, "should_use_header_over_cookies": true});
        let mid: String = (0..28)
            .map(|_| SHORTCODE[rng.random_range(0..62)] as char)
            .collect();
        Some(SessionParts {
            headers: vec![
                (
                    "ig-set-authorization",
                    format!("Bearer IGT:2:{}", STANDARD.encode(auth.to_string())),
                ),
                ("ig-set-x-mid", mid.clone()),
                ("ig-set-ig-u-rur", format!("CCO,{pk},1795000000:01f7sim")),
            ],
            cookies: vec![
                format!("csrftoken={token}; Domain=.instagram.com; Path=/; Secure"),
                format!("ds_user_id={pk}; Domain=.instagram.com; Path=/; Secure"),
                format!("mid={mid}; Domain=.instagram.com; Path=/; Secure"),
                format!(
                    "rur=\"CCO\\054{pk}\\0541795000000:01f7sim\"; Domain=.instagram.com; Path=/; HttpOnly; Secure"
                ),
            ],
        })
    }

    pub(super) async fn handle(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        self.lock().requests += 1;
        let path = uri.path().to_owned();
        let query = uri.query().unwrap_or_default().to_owned();
        let user = self.session_user(&headers);
        // Before a session exists, the account is named in the login body itself.
        let login_user = if path == "/api/v1/accounts/login/" {
            parse_signed(&body)
                .and_then(|v| v.get("username").and_then(Value::as_str).map(str::to_owned))
        } else if path.starts_with("/api/v1/bloks/async_action/") {
            form_urlencoded::parse(&body)
                .find(|(k, _)| k == "params")
                .and_then(|(_, v)| serde_json::from_str::<Value>(&v).ok())
                .and_then(|v| {
                    let ci = v.get("client_input_params")?;
                    ci.get("contact_point")
                        .or_else(|| ci.get("username_input"))?
                        .as_str()
                        .map(str::to_owned)
                })
        } else {
            None
        };
        let faults = self.faults_for(user.as_deref().or(login_user.as_deref()));
        if let Some(ms) = faults.slow_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if faults.server_error {
            return server_error_page();
        }
        if faults.throttle {
            return StatusCode::TOO_MANY_REQUESTS.into_response();
        }
        // The password key is fetched with the web session (instagrapi's
        // `password_publickeys`), and Instagram hands it to any client.
        if !path.starts_with("/graphql_www")
            && path != "/api/v1/qe/sync/"
            && let Err(r) = check_app_headers(&headers)
        {
            return r;
        }
        let result = match (method.clone(), path.as_str()) {
            (_, "/api/v1/qe/sync/") => Ok(self.qe_sync()),
            (Method::POST, "/api/v1/launcher/sync/") => Ok(json_response(
                StatusCode::OK,
                json!({"configs": {}, "status": "ok"}),
            )),
            (Method::POST, "/api/v1/accounts/login/") => self.login(&headers, &body, &faults),
            (Method::POST, "/api/v1/accounts/two_factor_login/") => self.two_factor(&body),
            (Method::POST, "/graphql_www") => self.graphql(&body),
            (Method::POST, "/api/v1/attestation/create_android_keystore/") => self.keystore(&body),
            (Method::POST, p) if p.starts_with("/api/v1/bloks/async_action/") => {
                self.bloks(p, &headers, &body)
            }
            (_, p) if p.starts_with("/api/v1/challenge/") => self.challenge(&method, p, &body),
            _ => {
                self.authenticated(&method, &path, &query, &headers, &body, user, &faults)
                    .await
            }
        };
        result.unwrap_or_else(|e| e)
    }

    /// `IGUSDIDRegistrationMutation`: the token's ES256 signature must verify with the key
    /// it carries.
    fn graphql(&self, body: &[u8]) -> Answer {
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

    fn keystore(&self, body: &[u8]) -> Answer {
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
    fn bloks(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
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

    fn qe_sync(&self) -> Response {
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

    fn login(&self, headers: &HeaderMap, body: &[u8], faults: &Faults) -> Answer {
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
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"challenge_required","challenge":{"url":format!("https://i.instagram.com{api_path}"),"api_path":api_path,"hide_webview_header":true,"lock":true,"logout":false,"native_flow":native},"status":"fail","error_type":"checkpoint_challenge_required"}),
            ));
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

    fn two_factor(&self, body: &[u8]) -> Answer {
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

    fn challenge(&self, method: &Method, path: &str, body: &[u8]) -> Answer {
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

    /// Everything that needs a live session.
    #[allow(clippy::too_many_arguments)]
    async fn authenticated(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &Bytes,
        user: Option<String>,
        faults: &Faults,
    ) -> Answer {
        let username = user.ok_or_else(login_required)?;
        {
            let mut g = self.lock();
            let Some(acc) = g.accounts.get_mut(&username) else {
                return Err(login_required());
            };
            acc.calls += 1;
            if let Some(n) = faults.session_expires_after
                && acc.calls > n
            {
                g.sessions.retain(|_, u| *u != username);
                return Err(login_required());
            }
        }
        if faults.banned {
            return Err(suspended());
        }
        let pk = self
            .lock()
            .accounts
            .get(&username)
            .map(|a| a.pk)
            .unwrap_or(0);
        match (method.clone(), path) {
            (Method::GET, "/api/v1/accounts/current_user/") => {
                let user = self
                    .lock()
                    .accounts
                    .get(&username)
                    .map(user_json)
                    .unwrap_or(Value::Null);
                Ok(json_response(
                    StatusCode::OK,
                    json!({"user": user, "status": "ok"}),
                ))
            }
            (Method::POST, "/api/v1/accounts/logout/") => {
                self.lock().sessions.retain(|_, u| *u != username);
                Ok(json_response(StatusCode::OK, json!({"status": "ok"})))
            }
            (Method::POST, "/api/v1/feed/reels_tray/") => Ok(json_response(
                StatusCode::OK,
                json!({"tray": [], "status": "ok"}),
            )),
            (Method::POST, "/api/v1/feed/timeline/") => Ok(json_response(
                StatusCode::OK,
                json!({"feed_items": [], "more_available": false, "status": "ok"}),
            )),
            (Method::GET, p) if p.starts_with("/api/v1/feed/user/") => {
                let items: Vec<Value> = self
                    .media(Some(&username))
                    .iter()
                    .rev()
                    .map(|m| media_json(m, pk, &username))
                    .collect();
                Ok(json_response(
                    StatusCode::OK,
                    json!({"items": items, "num_results": items.len(), "more_available": false, "status": "ok"}),
                ))
            }
            (_, p)
                if (p.starts_with("/rupload_igphoto/") || p.starts_with("/rupload_igvideo/"))
                    && (faults.upload_error || faults.drop_during_upload) =>
            {
                if faults.drop_during_upload {
                    Err(dropped_connection())
                } else {
                    Err(server_error_page())
                }
            }
            (Method::POST, p) if p.starts_with("/rupload_igphoto/") => {
                self.rupload_photo(&username, headers, body)
            }
            (_, p) if p.starts_with("/rupload_igvideo/") => {
                self.rupload_video(method, &username, headers, body).await
            }
            (Method::POST, p) if p.starts_with("/upload_settings/") => {
                serde_json::from_slice::<Value>(body)
                    .ok()
                    .filter(|v| v.get("composer_session_id").is_some())
                    .map(|_| json_response(StatusCode::OK, json!({"status": "ok"})))
                    .ok_or_else(|| bad_upload("upload settings are not JSON"))
            }
            (Method::POST, "/api/v1/media/configure/") => {
                let kind = if query.contains("video=1") {
                    "video"
                } else {
                    "photo"
                };
                self.configure(&username, pk, kind, body, faults)
            }
            (Method::POST, "/api/v1/media/configure_to_clips/") => {
                self.configure(&username, pk, "reel", body, faults)
            }
            (Method::POST, "/api/v1/media/configure_sidecar/") => {
                self.configure(&username, pk, "carousel", body, faults)
            }
            _ => Err(json_response(
                StatusCode::NOT_FOUND,
                json!({"message": "Page not found", "status": "fail"}),
            )),
        }
    }

    fn rupload_params(headers: &HeaderMap, body: &Bytes) -> Result<(Value, String), Response> {
        let params: Value = header(headers, "x-instagram-rupload-params")
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(|| bad_upload("missing X-Instagram-Rupload-Params"))?;
        let upload_id = params
            .get("upload_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_upload("missing upload_id"))?
            .to_owned();
        if !body.is_empty() {
            let declared: Option<usize> =
                header(headers, "x-entity-length").and_then(|l| l.parse().ok());
            if declared != Some(body.len()) {
                return Err(bad_upload("X-Entity-Length does not match the body"));
            }
        }
        Ok((params, upload_id))
    }

    fn rupload_photo(&self, username: &str, headers: &HeaderMap, body: &Bytes) -> Answer {
        let (_, upload_id) = Self::rupload_params(headers, body)?;
        if image::load_from_memory_with_format(body, image::ImageFormat::Jpeg).is_err() {
            return Err(bad_upload("Uploaded image isn't a valid JPEG"));
        }
        let mut g = self.lock();
        let key = (username.to_owned(), upload_id.clone());
        match g.uploads.get_mut(&key) {
            // The cover of a video shares its upload id.
            Some(Upload::Video { cover, .. }) => *cover = true,
            _ => {
                g.uploads.insert(key, Upload::Photo);
            }
        }
        Ok(json_response(
            StatusCode::OK,
            json!({"upload_id": upload_id, "xsharing_nonces": {}, "status": "ok"}),
        ))
    }

    async fn rupload_video(
        &self,
        method: &Method,
        username: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Answer {
        let (params, upload_id) = Self::rupload_params(headers, body)?;
        if *method == Method::GET {
            return Ok(json_response(
                StatusCode::OK,
                json!({"offset": 0, "status": "ok"}),
            ));
        }
        if !probe_video(body).await {
            return Err(bad_upload("Uploaded video could not be processed"));
        }
        let reel = params.get("is_clips_video").and_then(Value::as_str) == Some("1");
        let pending = self.faults_for(Some(username)).transcode_pending;
        self.lock().uploads.insert(
            (username.to_owned(), upload_id.clone()),
            Upload::Video {
                cover: false,
                reel,
                pending,
            },
        );
        Ok(json_response(
            StatusCode::OK,
            json!({"upload_id": upload_id, "xsharing_nonces": {}, "status": "ok"}),
        ))
    }

    fn configure(
        &self,
        username: &str,
        pk: u64,
        kind: &str,
        body: &Bytes,
        faults: &Faults,
    ) -> Answer {
        let v = parse_signed(body).ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Invalid Parameters","status":"fail"}),
            )
        })?;
        let upload_id = v
            .get("upload_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let caption = v
            .get("caption")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if faults.feedback_required {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"feedback_required","spam":true,"feedback_title":"Action Blocked","feedback_message":"This action was blocked. Please try again later. We restrict certain content and actions to protect our community.","feedback_url":"repute/report_problem/scraping/","feedback_appeal_label":"Report problem","feedback_ignore_label":"OK","feedback_action":"report_problem","status":"fail"}),
            ));
        }
        if faults.configure_error {
            return Err(server_error_page());
        }
        if faults.drop_before_configure {
            return Err(dropped_connection());
        }
        let mut children = 0;
        {
            let mut g = self.lock();
            match kind {
                "photo" => {
                    if !matches!(
                        g.uploads.get(&(username.to_owned(), upload_id.clone())),
                        Some(Upload::Photo)
                    ) {
                        return Err(needs_reupload());
                    }
                }
                "video" => check_video(&mut g.uploads, username, &upload_id, Some(false))?,
                "reel" => check_video(&mut g.uploads, username, &upload_id, Some(true))?,
                _ => {
                    let items = v
                        .get("children_metadata")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    if !(2..=10).contains(&items.len()) {
                        return Err(fail(
                            StatusCode::BAD_REQUEST,
                            json!({"message":"Invalid number of children for the album.","status":"fail"}),
                        ));
                    }
                    for item in &items {
                        let id = item
                            .get("upload_id")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if item.get("clips").is_some() {
                            check_video(&mut g.uploads, username, id, None)?;
                        } else if !matches!(
                            g.uploads.get(&(username.to_owned(), id.to_owned())),
                            Some(Upload::Photo)
                        ) {
                            return Err(needs_reupload());
                        }
                    }
                    children = items.len();
                }
            }
        }
        let record = {
            let mut g = self.lock();
            g.next_pk += rand::rng().random_range(1..1000);
            let media_pk = g.next_pk;
            let m = SimMedia {
                username: username.to_owned(),
                media_id: format!("{media_pk}_{pk}"),
                media_type: kind.to_owned(),
                caption,
                created_at: Utc::now(),
                code: shortcode(media_pk),
                pk: media_pk.to_string(),
                upload_id,
                children,
            };
            g.media.push(m.clone());
            m
        };
        if faults.drop_after_configure {
            return Err(dropped_connection());
        }
        Ok(json_response(
            StatusCode::OK,
            json!({"media": media_json(&record, pk, username), "upload_id": record.upload_id, "status": "ok"}),
        ))
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
    if payload.get("aud")?.as_str()? != crate::app_profile::APP_ID
        || payload.get("alg")?.as_str()? != "ES256"
    {
        return None;
    }
    let spki = STANDARD.decode(payload.get("pub")?.as_str()?).ok()?;
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).ok()?;
    let sig = p256::ecdsa::DerSignature::from_bytes(&sig).ok()?;
    key.verify(format!("{protected}.{payload_b64}").as_bytes(), &sig)
        .ok()?;
    Some((payload.get("sub")?.as_str()?.to_owned(), key))
}

/// The app's standard headers (§3.3): a request without them is not from the Android app.
fn check_app_headers(h: &HeaderMap) -> Result<(), Response> {
    let ua_ok = header(h, "user-agent").is_some_and(|ua| {
        ua.starts_with("Instagram ") && ua.contains(" Android (") && ua.ends_with(')')
    });
    let app_ok = header(h, "x-ig-app-id") == Some(crate::app_profile::APP_ID);
    let bloks_ok = header(h, "x-bloks-version-id")
        .is_some_and(|b| b.len() == 64 && b.chars().all(|c| c.is_ascii_hexdigit()));
    let ids_ok = [
        "x-ig-device-id",
        "x-ig-family-device-id",
        "x-ig-android-id",
        "x-pigeon-session-id",
    ]
    .iter()
    .all(|k| header(h, k).is_some_and(|v| !v.is_empty()));
    if ua_ok && app_ok && bloks_ok && ids_ok {
        Ok(())
    } else {
        Err(fail(
            StatusCode::BAD_REQUEST,
            json!({"message":"useragent mismatch","status":"fail"}),
        ))
    }
}

type Uploads = HashMap<(String, String), Upload>;

/// A video upload is ready for configure once its cover arrived and transcoding is done.
fn check_video(
    uploads: &mut Uploads,
    username: &str,
    id: &str,
    want_reel: Option<bool>,
) -> Result<(), Response> {
    match uploads.get_mut(&(username.to_owned(), id.to_owned())) {
        Some(Upload::Video {
            cover,
            reel,
            pending,
        }) => {
            if !*cover || want_reel.is_some_and(|r| r != *reel) {
                return Err(needs_reupload());
            }
            if *pending > 0 {
                *pending -= 1;
                return Err(fail(
                    StatusCode::ACCEPTED,
                    json!({"message":"Transcode not finished yet.","status":"fail"}),
                ));
            }
            Ok(())
        }
        _ => Err(needs_reupload()),
    }
}

fn media_json(m: &SimMedia, owner: u64, username: &str) -> Value {
    let (media_type, product_type) = match m.media_type.as_str() {
        "photo" => (1, "feed"),
        "video" => (2, "feed"),
        "reel" => (2, "clips"),
        _ => (8, "carousel_container"),
    };
    json!({
        "pk": m.pk, "id": m.media_id, "code": m.code,
        "taken_at": m.created_at.timestamp(),
        "media_type": media_type, "product_type": product_type,
        "user": {"pk": owner, "username": username},
        "caption": {"text": m.caption},
    })
}

/// A video must be something ffprobe reads as having a video stream.
async fn probe_video(bytes: &[u8]) -> bool {
    let Ok(file) = tempfile::NamedTempFile::new() else {
        return false;
    };
    if std::fs::write(file.path(), bytes).is_err() {
        return false;
    }
    let out = tokio::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(file.path())
        .output()
        .await;
    matches!(out, Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("video"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_use_instagrams_alphabet() {
        assert_eq!(shortcode(0), "");
        assert_eq!(shortcode(63), "_");
        assert_eq!(shortcode(64), "BA");
    }
}
