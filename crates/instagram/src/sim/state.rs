//! The simulator's state: its accounts and their faults, sessions, uploads and published
//! media, and the sessions it issues. The requests are answered in `handle` (dispatch),
//! `login`, `caa` and `publish`.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::Rng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::answers::{json_response, login_required};

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
    /// The next this many comment requests of each account answer 500 with an HTML page,
    /// without posting the comment.
    pub comment_failures: u32,
}

impl Faults {
    pub(super) fn or(&self, g: &Faults) -> Faults {
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
            comment_failures: self.comment_failures.max(g.comment_failures),
        }
    }

    pub(super) fn code(&self) -> String {
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

/// A published media as `GET /__sim/media` lists it, with the options it was published
/// with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimMedia {
    pub username: String,
    pub media_id: String,
    /// `photo`, `video`, `carousel`, `reel` or `story`.
    pub media_type: String,
    /// A story's `photo` or `video`; `None` for the others.
    #[serde(default)]
    pub story_kind: Option<String>,
    pub caption: String,
    pub created_at: DateTime<Utc>,
    pub code: String,
    pub pk: String,
    pub upload_id: String,
    pub children: usize,
    #[serde(default)]
    pub comments: Vec<SimComment>,
    /// One entry per media item (`null` where none).
    #[serde(default)]
    pub accessibility_captions: Vec<Option<String>>,
    #[serde(default)]
    pub location: Option<SimLocation>,
    #[serde(default)]
    pub usertags: Vec<SimUsertag>,
    /// The collaborators' usernames.
    #[serde(default)]
    pub coauthors: Vec<String>,
    #[serde(default)]
    pub comments_disabled: bool,
    #[serde(default)]
    pub like_and_view_counts_disabled: bool,
    /// A reel also shown in the profile grid; true for every other kind.
    #[serde(default = "yes")]
    pub share_to_feed: bool,
    /// The cover JPEG uploaded for a video or reel.
    #[serde(default)]
    pub cover: Option<SimCover>,
    /// The photos and videos received, in the post's order (a carousel's items).
    #[serde(default)]
    pub files: Vec<SimFile>,
    /// The collaborators' user ids, for the answers.
    #[serde(skip)]
    pub(super) coauthor_pks: Vec<u64>,
}

fn yes() -> bool {
    true
}

/// A comment on a published media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimComment {
    pub pk: String,
    pub username: String,
    pub text: String,
    pub pinned: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub(super) user_pk: u64,
    /// The client's `idempotence_token`: the same one again gets the same comment back.
    #[serde(skip)]
    pub(super) token: String,
}

/// A post's place, as configure's `location` named it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimLocation {
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub facebook_places_id: Option<u64>,
}

/// Someone tagged on item `media_index` of a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimUsertag {
    pub username: String,
    pub x: f64,
    pub y: f64,
    pub media_index: usize,
    #[serde(skip)]
    pub(super) user_pk: u64,
}

/// The cover JPEG of a video or reel: its size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCover {
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

/// A photo or video as Instagram received it (a video's cover is listed apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimFile {
    /// Lowercase hex of the file's SHA-256.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// The 64-bit perceptual hash as 16 hex digits (`icf_media::variant`'s definition: a
    /// video's is its defining frame's), measured when the media is listed.
    #[serde(default)]
    pub phash: Option<String>,
    /// A video (MP4) rather than a JPEG.
    #[serde(default)]
    pub video: bool,
}

/// A place `location_search` finds, seeded by `POST /__sim/venues`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVenue {
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    /// Stable: derived from the name and the point.
    #[serde(default)]
    pub external_id: u64,
}

#[derive(Debug, Clone)]
pub(super) enum Upload {
    Photo(SimFile),
    Video {
        file: SimFile,
        cover: Option<SimCover>,
        reel: bool,
        pending: u32,
    },
}

pub(super) struct Account {
    pub(super) cfg: SimAccount,
    pub(super) pk: u64,
    pub(super) calls: u32,
    pub(super) trusted: bool,
    /// Comment requests failed so far by the `comment_failures` fault.
    pub(super) comment_failures_served: u32,
}

pub(super) struct Inner {
    pub(super) accounts: HashMap<String, Account>,
    pub(super) global: Faults,
    pub(super) sessions: HashMap<String, String>,
    pub(super) uploads: HashMap<(String, String), Upload>,
    pub(super) media: Vec<SimMedia>,
    pub(super) requests: u64,
    pub(super) http2_requests: u64,
    pub(super) two_factor: HashMap<String, String>,
    pub(super) challenges: HashMap<String, (String, String)>,
    pub(super) next_pk: u64,
    /// CAA: issued `aac` values, keystore nonces, registered USDIDs and their keys.
    pub(super) aacs: std::collections::HashSet<String>,
    pub(super) nonces: std::collections::HashSet<String>,
    pub(super) usdids: HashMap<String, p256::ecdsa::VerifyingKey>,
    pub(super) network_info: HashMap<String, Value>,
    pub(super) venues: Vec<SimVenue>,
    pub(super) next_comment_pk: u64,
    /// Perceptual hashes of kept files, by SHA-256 (measured once each).
    pub(super) phashes: HashMap<String, String>,
}

pub(super) struct Sim {
    inner: Mutex<Inner>,
    pub(super) key: RsaPrivateKey,
    pub(super) key_id: u8,
    pub(super) pub_b64: String,
    /// The recording mode (off unless asked for).
    pub(super) recorder: super::record::Recorder,
    /// Every photo and video received, by SHA-256; gone with the simulator.
    pub(super) files_dir: tempfile::TempDir,
}

pub(super) type Answer = Result<Response, Response>;

pub(super) struct SessionParts {
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) cookies: Vec<String>,
}

pub(super) const SHORTCODE: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(super) fn shortcode(mut pk: u64) -> String {
    let mut out = Vec::new();
    while pk > 0 {
        out.push(SHORTCODE[(pk % 64) as usize]);
        pk /= 64;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

pub(super) fn header<'a>(h: &'a HeaderMap, k: &str) -> Option<&'a str> {
    h.get(k).and_then(|v| v.to_str().ok())
}

pub(super) fn user_json(a: &Account) -> Value {
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
                venues: Vec::new(),
                next_comment_pk: 18_000_000_000_000_000,
                phashes: HashMap::new(),
            }),
            key,
            key_id: rand::rng().random_range(1..=255),
            pub_b64: STANDARD.encode(pem),
            recorder: Default::default(),
            files_dir: tempfile::Builder::new()
                .prefix("icf-sim-files-")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot make the simulator's folder for uploads: {e}")),
        };
        for a in seed {
            sim.upsert(a);
        }
        sim
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
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
                acc.comment_failures_served = 0;
            }
            None => {
                g.accounts.insert(
                    name,
                    Account {
                        cfg: a,
                        pk,
                        calls: 0,
                        trusted: false,
                        comment_failures_served: 0,
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
    pub(super) fn session_user(&self, headers: &HeaderMap) -> Option<String> {
        let b64 = header(headers, "authorization")?.strip_prefix("Bearer IGT:2:")?;
        let raw = STANDARD.decode(b64).ok()?;
        let v: Value = serde_json::from_slice(&raw).ok()?;
        let sid = v.get("sessionid")?.as_str()?;
        self.lock().sessions.get(sid).cloned()
    }

    pub(super) fn faults_for(&self, username: Option<&str>) -> Faults {
        let g = self.lock();
        match username.and_then(|u| g.accounts.get(u)) {
            Some(a) => a.cfg.faults.or(&g.global),
            None => g.global.clone(),
        }
    }

    /// A fresh session: the Authorization token and cookies of a successful login.
    pub(super) fn issue_session(&self, username: &str, body: Value) -> Response {
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

    pub(super) fn new_session(&self, username: &str) -> Option<SessionParts> {
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
