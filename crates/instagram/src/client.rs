//! The per-account client: the standard request (headers of fact sheet §3.3, session
//! write-back of §3.6), login (§4) and publishing (§5).

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::caa::{CaaAnswer, Usdid, extract_aac, read_login_answer};
use crate::crypto::{PasswordKey, encrypt_password, totp_code};
use crate::error::{ApiErrorKind, IgError, classify};
use crate::headers::HeaderJar;
use crate::session::Session;
use crate::transport::{ProxySpec, TransportOptions, build_client, build_web_client, map_reqwest};
use crate::wire::{compact_json, py_json, signed_body};

pub const APP_ID: &str = "567067343352427";
const NAV_CHAIN: &str =
    "9MV:self_profile:2,ProfileMediaTabFragment:self_profile:3,9Xf:self_following:4";
const DEFAULT_API_BASE: &str = "https://i.instagram.com";
/// The navigation chain instagrapi sends with a photo's configure.
const PHOTO_NAV_CHAIN: &str = "8rL:self_profile:4,ProfileMediaTabFragment:self_profile:5,UniversalCreationMenuFragment:universal_creation_menu:7,ProfileMediaTabFragment:self_profile:8,MediaCaptureFragment:tabbed_gallery_camera:9,Dd3:photo_filter:10,FollowersShareFragment:metadata_followers_share:11";

/// Client settings that are not per account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://i.instagram.com`, or the simulator (`INSTAGRAM_API_URL`).
    pub api_base: String,
    /// Sleep before each non-login request (instagrapi `request_timeout`, 1 s).
    pub pace: Duration,
    /// Sleep before each configure attempt (3 s in instagrapi).
    pub configure_interval: Duration,
    /// Extra sleep after "Transcode not finished yet." (10 s in instagrapi).
    pub transcode_wait: Duration,
    /// Configure attempts before giving up on transcoding (50 in instagrapi).
    pub max_configure_attempts: u32,
    pub transport: TransportOptions,
    /// Extra trusted CA certificates (PEM) for the API host: the TLS simulator's.
    pub extra_ca_pem: Option<String>,
    /// Host of the CAA login calls: `https://b.i.instagram.com`, or `api_base` when that
    /// is overridden (the simulator serves both).
    pub caa_api_base: Option<String>,
    /// Try the CAA login before the legacy one, as instagrapi 3.x does (default true).
    pub caa_login: bool,
    /// `si_device_param_network_info` sent by the CAA login; `None` sends instagrapi's
    /// constant (a T-Mobile US SIM). Set it per account to match the proxy's country.
    pub caa_network_info: Option<Value>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_base: DEFAULT_API_BASE.into(),
            pace: Duration::from_secs(1),
            configure_interval: Duration::from_secs(3),
            transcode_wait: Duration::from_secs(10),
            max_configure_attempts: 50,
            transport: TransportOptions::default(),
            extra_ca_pem: None,
            caa_api_base: None,
            caa_login: true,
            caa_network_info: None,
        }
    }
}

impl ClientConfig {
    /// Defaults with the API base overridden (e.g. from `INSTAGRAM_API_URL`).
    pub fn with_api_base(base: impl Into<String>) -> ClientConfig {
        ClientConfig {
            api_base: base.into().trim_end_matches('/').to_owned(),
            ..ClientConfig::default()
        }
    }
}

/// Who is logging in. The TOTP secret, when known, lets icf answer two-factor alone.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub totp_secret: Option<&'a str>,
}

/// The logged-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub user_id: String,
    pub username: String,
}

/// Two-factor login waiting for a code (no TOTP secret stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorPending {
    pub username: String,
    pub two_factor_identifier: String,
    pub totp_on: bool,
    pub sms_on: bool,
    pub obfuscated_phone_number: Option<String>,
}

/// What a challenge asks the human for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeAsk {
    /// A 6-digit code Instagram sent by email: submit it.
    EmailCode,
    /// A 6-digit code Instagram sent by SMS: submit it.
    SmsCode,
    /// "Was this you?" in the official app: approve there, then log in again.
    AppApproval,
    /// A checkpoint only the owner can pass in the official app (captcha, selfie, …).
    Manual,
}

/// A challenge waiting for a human; persist it with the account and never change the
/// account's proxy or device while it is pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengePending {
    pub api_path: String,
    pub asks: ChallengeAsk,
    pub step_name: String,
    /// Where the code went (`j***@example.com`), when Instagram says.
    pub contact: Option<String>,
}

/// The result of a login attempt that did not fail outright.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LoginOutcome {
    LoggedIn(AccountInfo),
    TwoFactorRequired(TwoFactorPending),
    ChallengeRequired(ChallengePending),
    /// The challenge was passed but Instagram gave no session: log in again (once).
    ChallengePassed,
}

/// A JPEG as it will be uploaded (already cropped and sized) and its dimensions.
#[derive(Debug, Clone)]
pub struct Photo {
    pub jpeg: Bytes,
    pub width: u32,
    pub height: u32,
}

/// Where a video's bytes are. A stored video is a file, streamed from disk on every upload,
/// so that a 1 GB video published to 50 accounts never sits in a worker's memory.
#[derive(Debug, Clone)]
pub enum VideoData {
    Bytes(Bytes),
    File { path: std::path::PathBuf, len: u64 },
}

impl VideoData {
    pub fn len(&self) -> u64 {
        match self {
            VideoData::Bytes(b) => b.len() as u64,
            VideoData::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Bytes> for VideoData {
    fn from(b: Bytes) -> Self {
        VideoData::Bytes(b)
    }
}

/// An MP4 (H.264/AAC, moov first) with its metadata and a JPEG cover.
#[derive(Debug, Clone)]
pub struct Video {
    pub mp4: VideoData,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub cover: Photo,
}

#[derive(Debug, Clone)]
pub enum CarouselItem {
    Photo(Photo),
    Video(Video),
}

/// One post's media, prepared once and shared (cheaply cloned `Bytes`) by every account.
#[derive(Debug, Clone)]
pub enum Media {
    Photo(Photo),
    Video(Video),
    Carousel(Vec<CarouselItem>),
    Reel(Video),
}

/// The result of the upload step; record `upload_id` before calling configure, so that a
/// crash between the two can be told apart from "never published".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub upload_id: String,
    /// The upload ids of carousel items, in order.
    pub children: Vec<String>,
}

/// A published media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// `{pk}_{owner_pk}`.
    pub media_id: String,
    pub pk: String,
    pub code: String,
    /// 1 photo, 2 video, 8 carousel.
    pub media_type: u8,
    pub product_type: Option<String>,
    pub taken_at: Option<i64>,
    pub caption: Option<String>,
}

impl Published {
    pub fn url(&self) -> String {
        if self.product_type.as_deref() == Some("clips") {
            format!("https://www.instagram.com/reel/{}/", self.code)
        } else {
            format!("https://www.instagram.com/p/{}/", self.code)
        }
    }

    fn from_media(m: &Value) -> Option<Published> {
        let s = |k: &str| {
            m.get(k).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Some(Published {
            media_id: s("id")?,
            pk: s("pk")?,
            code: s("code")?,
            media_type: m.get("media_type").and_then(Value::as_u64).unwrap_or(0) as u8,
            product_type: s("product_type"),
            taken_at: m.get("taken_at").and_then(Value::as_i64),
            caption: m
                .pointer("/caption/text")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

enum Body {
    Empty,
    Signed(Value),
    Form(Vec<(String, String)>),
    Raw(Bytes),
    /// A file sent as the body, read as it goes out.
    File {
        path: std::path::PathBuf,
        len: u64,
    },
}

impl Body {
    /// A video's bytes, or its file streamed as it goes out.
    fn video(data: &VideoData) -> Body {
        match data {
            VideoData::Bytes(bytes) => Body::Raw(bytes.clone()),
            VideoData::File { path, len } => Body::File {
                path: path.clone(),
                len: *len,
            },
        }
    }
}

const FORM_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// instagrapi's web user agent (`PublicRequestMixin.public_user_agent`).
const PUBLIC_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15";

/// The fixed signatures of instagrapi's synthetic `IG-U-*` headers (`base_headers`).
const HINT_SIG: &str = "01f7bae7d8b131877d8e0ae1493252280d72f6d0d554447cb1dc9049b6b2c507c08605b7";
const SHBID_SIG: &str = "01f778d9c9f7546cf3722578fbf9b85143cd6e5132723e5c93f40f55ca0459c8ef8a0d9f";
const SHBTS_SIG: &str = "01f7ace11925d0388080078d0282b75b8059844855da27e23c90a362270fddfb3fae7e28";
const RUR_SIG: &str = "01f7f627f9ae4ce2874b2e04463efdb184340968b1b006fa88cb4cc69a942a04201e544c";

/// A float as Python's `str()` prints it: the shortest form that reads back, and `.0` on
/// a whole number.
fn py_float(x: f64) -> String {
    let s = x.to_string();
    if s.contains(['.', 'e', 'E']) || !x.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// One account's connection to Instagram. Not shared between accounts; after each call the
/// caller persists [`InstagramClient::session`] (encrypted), which carries every cookie and
/// token Instagram handed out.
pub struct InstagramClient {
    http: reqwest::Client,
    /// The web session's client (HTTP/1.1), made when first needed.
    web: Option<reqwest::Client>,
    proxy: ProxySpec,
    cfg: ClientConfig,
    session: Session,
    pigeon_session_id: String,
    /// The private session's header dictionary, as it stands after the calls so far.
    jar: HeaderJar,
    usdid: Option<Usdid>,
    usdid_header: Option<(String, i64)>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn uuid4() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl InstagramClient {
    /// A client for one account. There is no constructor without a proxy: an account's
    /// traffic never goes direct.
    pub fn new(session: Session, proxy: &ProxySpec, cfg: ClientConfig) -> Result<Self, IgError> {
        let plain = cfg.api_base.starts_with("http://");
        let http = build_client(proxy, plain, cfg.transport, cfg.extra_ca_pem.as_deref())?;
        let mut c = InstagramClient {
            http,
            web: None,
            proxy: proxy.clone(),
            cfg,
            usdid: session.usdid.as_ref().and_then(Usdid::from_settings),
            pigeon_session_id: format!("UFS-{}-1", uuid4()),
            jar: HeaderJar::requests_session(),
            usdid_header: None,
            session,
        };
        c.init_headers();
        Ok(c)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn into_session(self) -> Session {
        self.session
    }

    fn api(&self, endpoint: &str) -> String {
        format!(
            "{}/api/v1/{}",
            self.cfg.api_base,
            endpoint.trim_start_matches('/')
        )
    }

    fn root(&self, path: &str) -> String {
        format!("{}/{}", self.cfg.api_base, path.trim_start_matches('/'))
    }

    /// Drops the login, and with it what instagrapi's `_clear_session_state` takes out of
    /// the session's headers (the token, the `IG-U-*` values, the claim), so that a new
    /// login in this client carries none of the dead one's.
    fn forget_login(&mut self) {
        self.session.clear_login();
        self.jar.retain(|name| {
            let n = name.to_ascii_lowercase();
            !(n.starts_with("ig-u-")
                || n == "ig-intended-user-id"
                || n == "x-ig-www-claim"
                || n == "authorization")
        });
        self.jar.update([
            ("IG-INTENDED-USER-ID", Some("0".to_owned())),
            ("X-IG-WWW-Claim", Some("0".to_owned())),
        ]);
    }

    /// instagrapi's `base_headers` (§3.3), name for name and in its order, `None` where it
    /// writes `None` (the name keeps its place in the session's dictionary, see
    /// [`HeaderJar`]). `Host` and `Connection` keep their places and are left to the
    /// transport.
    fn base_headers(&mut self) -> Vec<(&'static str, Option<String>)> {
        let usdid = self.usdid_header();
        let s = &self.session;
        let locale = s.locale.replace('-', "_");
        let lang = locale.replace('_', "-");
        let accept_language = if lang.is_empty() || lang == "en-US" {
            "en-US".to_owned()
        } else {
            format!("{lang}, en-US")
        };
        let now = Utc::now();
        let some = |v: &str| Some(v.to_owned());
        let mut h = vec![
            ("X-IG-App-Locale", Some(locale.clone())),
            ("X-IG-Device-Locale", Some(locale.clone())),
            ("X-IG-Mapped-Locale", Some(locale)),
            ("X-Pigeon-Session-Id", Some(self.pigeon_session_id.clone())),
            (
                "X-Pigeon-Rawclienttime",
                Some(format!(
                    "{}.{:03}",
                    now.timestamp(),
                    now.timestamp_subsec_millis()
                )),
            ),
            ("X-IG-Bandwidth-Speed-KBPS", some("-1.000")),
            ("X-IG-Bandwidth-TotalBytes-B", some("0")),
            ("X-IG-Bandwidth-TotalTime-MS", some("0")),
            ("X-IG-App-Startup-Country", Some(s.country.to_uppercase())),
            (
                "X-Bloks-Version-Id",
                Some(s.device_settings.bloks_versioning_id.clone()),
            ),
            ("X-IG-WWW-Claim", some("0")),
            ("X-Bloks-Is-Layout-RTL", some("false")),
            ("X-Bloks-Is-Panorama-Enabled", some("true")),
            ("X-IG-Device-ID", Some(s.uuids.uuid.clone())),
            ("X-IG-Family-Device-ID", Some(s.uuids.phone_id.clone())),
            ("X-IG-Android-ID", Some(s.uuids.android_device_id.clone())),
            ("X-IG-Timezone-Offset", Some(s.timezone_offset.to_string())),
            ("X-IG-Connection-Type", some("WIFI")),
            ("X-IG-Capabilities", some("3brTv10=")),
            ("X-IG-App-ID", some(APP_ID)),
            ("Priority", some("u=3")),
            ("User-Agent", Some(s.user_agent())),
            ("Accept-Language", Some(accept_language)),
            ("X-MID", s.mid.clone().filter(|m| !m.is_empty())),
            ("Accept-Encoding", some("gzip, deflate")),
            ("Host", some("i.instagram.com")),
            ("X-FB-HTTP-Engine", some("Tigon/MNS/TCP")),
            ("X-Tigon-Is-Retry", some("False")),
            ("X-Zero-Balance", some("INIT")),
            ("X-Zero-Eh", some("")),
            ("X-Zero-State", some("unknown")),
            ("Zero-HTTP-Network-Interface", some("wifi")),
            ("Connection", some("keep-alive")),
            ("X-FB-Client-IP", some("True")),
            ("X-FB-Server-Cluster", some("True")),
            (
                "IG-INTENDED-USER-ID",
                Some(s.user_id().unwrap_or_else(|| "0".into())),
            ),
            ("X-IG-Nav-Chain", some(NAV_CHAIN)),
        ];
        if let Some(uid) = s.user_id() {
            // instagrapi's constants: routing hints with its own fixed signatures, valid
            // for a year from now (a Python float, printed as Python prints it).
            let next_year = py_float(now.timestamp_micros() as f64 / 1e6 + 31_536_000.0);
            h.push(("IG-U-DS-USER-ID", Some(uid.clone())));
            h.push((
                "IG-U-IG-DIRECT-REGION-HINT",
                Some(format!("LLA,{uid},{next_year}:{HINT_SIG}")),
            ));
            h.push((
                "IG-U-SHBID",
                Some(format!("12695,{uid},{next_year}:{SHBID_SIG}")),
            ));
            h.push((
                "IG-U-SHBTS",
                Some(format!("{},{uid},{next_year}:{SHBTS_SIG}", now.timestamp())),
            ));
            h.push(("IG-U-RUR", Some(format!("RVA,{uid},{next_year}:{RUR_SIG}"))));
        }
        if let Some(rur) = s.ig_u_rur.clone().filter(|r| !r.is_empty()) {
            h.push(("IG-U-RUR", Some(rur)));
        }
        if let Some(claim) = s.ig_www_claim.clone().filter(|c| !c.is_empty()) {
            h.push(("X-IG-WWW-Claim", Some(claim)));
        }
        if let Some(u) = usdid {
            h.push(("X-Meta-Usdid", Some(u)));
        }
        h
    }

    /// `X-Meta-Usdid`, rebuilt when less than 5 minutes of its hour remain (§1.5).
    fn usdid_header(&mut self) -> Option<String> {
        let u = self.usdid.as_ref()?;
        let now = Utc::now().timestamp();
        let fresh = self
            .usdid_header
            .as_ref()
            .is_some_and(|(_, exp)| exp - now > 300);
        if !fresh {
            self.usdid_header = Some((u.header(now + 3600), now + 3600));
        }
        self.usdid_header.as_ref().map(|(h, _)| h.clone())
    }

    /// What instagrapi's `init()` writes into a new client's session headers.
    fn init_headers(&mut self) {
        let mut h = self.base_headers();
        if let Some(auth) = self.session.authorization_header() {
            h.push(("Authorization", Some(auth)));
        } else {
            self.jar.pop("Authorization");
        }
        if self.session.ig_u_rur.as_deref().is_none_or(str::is_empty) {
            self.jar.pop("IG-U-RUR");
        }
        self.jar.update(h);
    }

    /// Stores what Instagram hands out on every response (§3.6).
    fn write_back(&mut self, headers: &HeaderMap) {
        let get = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(a) = get("ig-set-authorization") {
            self.session.set_authorization(&a);
        }
        if let Some(mid) = get("ig-set-x-mid").filter(|m| !m.is_empty()) {
            self.session.mid = Some(mid);
        }
        if let Some(rur) = get("ig-set-ig-u-rur").filter(|m| !m.is_empty()) {
            self.session.ig_u_rur = Some(rur);
        }
        if let Some(claim) = get("x-ig-set-www-claim").filter(|m| !m.is_empty()) {
            self.session.ig_www_claim = Some(claim);
        }
        for c in headers.get_all("set-cookie") {
            let Ok(c) = c.to_str() else { continue };
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let (name, value) = (name.trim(), value.trim());
                if name.is_empty() {
                    continue;
                }
                let expired = c.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.session.cookies.remove(name);
                } else {
                    self.session.cookies.insert(name.into(), value.into());
                }
            }
        }
    }

    /// instagrapi's `private_request`: the standard headers laid over the session's,
    /// `Content-Type` kept for a POST and dropped for a GET, `Authorization` with the
    /// request's own headers.
    async fn send(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        extra: Vec<(&'static str, String)>,
        login: bool,
    ) -> Result<(u16, Bytes), IgError> {
        if !login && !self.cfg.pace.is_zero() {
            tokio::time::sleep(self.cfg.pace).await;
        }
        let base = self.base_headers();
        self.jar.update(base);
        let mut request: Vec<(String, Option<String>)> = extra
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v)))
            .collect();
        if let Some(auth) = self.session.authorization_header()
            && !request
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            request.push(("Authorization".into(), Some(auth)));
        }
        match body {
            Body::Empty => self.jar.pop("Content-Type"),
            _ => self.jar.set("Content-Type", Some(FORM_TYPE.into())),
        }
        self.transmit(method, url, body, request).await
    }

    /// instagrapi's `private_headers(extra)`: the standard headers, then the request's,
    /// then `Authorization`; sent beside the session's headers without changing them (the
    /// uploads call `requests.Session.post` directly).
    fn private_headers(
        &mut self,
        extra: Vec<(&'static str, String)>,
    ) -> Vec<(String, Option<String>)> {
        let mut h: Vec<(String, Option<String>)> = Vec::new();
        let mut put = |k: &str, v: Option<String>| match h
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(k))
        {
            Some(i) => h[i].1 = v,
            None => h.push((k.to_owned(), v)),
        };
        for (k, v) in self.base_headers() {
            put(k, v);
        }
        for (k, v) in extra {
            put(k, Some(v));
        }
        if let Some(auth) = self.session.authorization_header()
            && !h
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            h.push(("Authorization".into(), Some(auth)));
        }
        h
    }

    /// instagrapi's `request_timeout` sleep before a request that is not part of a login.
    async fn pace(&self) {
        if !self.cfg.pace.is_zero() {
            tokio::time::sleep(self.cfg.pace).await;
        }
    }

    /// Sends one request: the session's headers with the request's merged in, then the
    /// cookies and the length as the transport adds them.
    async fn transmit(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        request: Vec<(String, Option<String>)>,
    ) -> Result<(u16, Bytes), IgError> {
        let is_post = method == Method::POST;
        let mut req = self.http.request(method, url);
        let headers = self.jar.merged(&request);
        let explicit_length = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let (bytes, file) = match body {
            Body::Empty => (None, None),
            Body::Signed(v) => (Some(Bytes::from(signed_body(&v))), None),
            Body::Form(pairs) => (
                Some(Bytes::from(
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish(),
                )),
                None,
            ),
            Body::Raw(bytes) => (Some(bytes), None),
            Body::File { path, len } => (None, Some((path, len))),
        };
        let len = bytes
            .as_ref()
            .map(|b| b.len() as u64)
            .or(file.as_ref().map(|(_, l)| *l));
        // The transport adds the cookies after the request's headers, and the length
        // last unless the request named it.
        if let Some(cookie) = self.cookie_header() {
            req = req.header("Cookie", cookie);
        }
        if let (Some(len), false) = (len, explicit_length) {
            req = req.header("Content-Length", len.to_string());
        }
        req = match (bytes, file) {
            (Some(b), _) => req.body(b),
            (None, Some((path, _))) => {
                // Checked when the media was prepared; gone since means the post was deleted.
                let file = tokio::fs::File::open(&path).await.map_err(|e| {
                    IgError::BadMedia(format!("the stored video cannot be read: {e}"))
                })?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                req.body(reqwest::Body::wrap_stream(stream))
            }
            (None, None) => req,
        };
        // Once connected, a POST may have reached Instagram even if no answer came back.
        let resp = req.send().await.map_err(|e| map_reqwest(e, is_post))?;
        let status = resp.status().as_u16();
        // Instagram never asks for HTTP auth; a proxy that rejects our credentials does
        // (407, or tinyproxy's 401 with a Basic challenge on plain-HTTP requests).
        let auth_challenge = resp.headers().contains_key("www-authenticate")
            || resp.headers().contains_key("proxy-authenticate");
        if status == 407 || (status == 401 && auth_challenge) {
            return Err(IgError::Proxy(
                "the proxy refused the credentials (HTTP 407)".into(),
            ));
        }
        self.write_back(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| map_reqwest(e, true))?;
        if status == 403
            && classify(status, &bytes).is_some_and(|e| e.kind == ApiErrorKind::LoginRequired)
        {
            // The session is dead; keep the device, drop the login (§4.2).
            self.forget_login();
        }
        Ok((status, bytes))
    }

    /// The session's cookies as the `Cookie` header.
    fn cookie_header(&self) -> Option<String> {
        let c = &self.session.cookies;
        (!c.is_empty()).then(|| {
            c.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// instagrapi's web session (`Client.public`): HTTP/1.1 with a desktop Safari's
    /// headers, used for the password key (`password_publickeys`). Same proxy, no cookies.
    async fn public_get(&mut self, url: String) -> Result<(u16, HeaderMap, Bytes), IgError> {
        if self.web.is_none() {
            self.web = Some(build_web_client(&self.proxy, &self.cfg)?);
        }
        let Some(web) = &self.web else {
            return Err(IgError::Protocol("no web client".into()));
        };
        // First, as urllib3 writes it over HTTP/1.1; with the port only when it is not the
        // scheme's.
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| {
                let h = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h,
                })
            })
            .unwrap_or_default();
        let req = web
            .get(url)
            .header("Host", host)
            .header("User-Agent", PUBLIC_USER_AGENT)
            .header("Accept-Encoding", "gzip,deflate")
            .header("Accept", "*/*")
            .header("Connection", "Keep-Alive")
            .header("Accept-Language", "en-US");
        let resp = req.send().await.map_err(|e| map_reqwest(e, false))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| map_reqwest(e, false))?;
        Ok((status, headers, bytes))
    }

    /// A private API call: the answer as JSON, or the classified error.
    async fn call(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        extra: Vec<(&'static str, String)>,
        login: bool,
    ) -> Result<Value, IgError> {
        let (status, bytes) = self.send(method, url, body, extra, login).await?;
        if let Some(e) = classify(status, &bytes) {
            return Err(IgError::Api(e));
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| IgError::Protocol("the answer is not JSON".into()))
    }

    /// instagrapi's `with_default_data`: `_uuid` and `device_id` first, then the data.
    fn default_data(&self, v: Value) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("_uuid".into(), json!(self.session.uuids.uuid));
        m.insert(
            "device_id".into(),
            json!(self.session.uuids.android_device_id),
        );
        if let Value::Object(data) = v {
            m.extend(data);
        }
        Value::Object(m)
    }

    /// instagrapi's `device` property.
    fn device_object(&self) -> Value {
        let d = &self.session.device_settings;
        json!({
            "android_version": d.android_version,
            "android_release": d.android_release,
            "manufacturer": d.manufacturer,
            "model": d.model,
        })
    }

    // ---- sessions -------------------------------------------------------------------------

    /// The cheap validity check instagrapi uses before reusing a session (§4.2):
    /// `GET accounts/current_user/?edit=true`. A dead session comes back as a relogin error.
    pub async fn check_session(&mut self) -> Result<AccountInfo, IgError> {
        if !self.session.is_logged_in() {
            return Err(IgError::Api(crate::error::ApiError {
                status: 403,
                kind: ApiErrorKind::LoginRequired,
                message: "the session holds no login".into(),
                body: Value::Null,
            }));
        }
        let url = self.api("accounts/current_user/?edit=true");
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        account_info(v.get("user").unwrap_or(&Value::Null))
            .ok_or_else(|| IgError::Protocol("current_user has no user".into()))
    }

    // ---- login ----------------------------------------------------------------------------

    /// Logs in: reuses a live session without sending the password, else runs the password
    /// login once. Never loops: a two-factor prompt or a challenge comes back as an outcome
    /// for a human, any other refusal as an error.
    pub async fn login(&mut self, creds: Credentials<'_>) -> Result<LoginOutcome, IgError> {
        if self.session.is_logged_in() {
            match self.check_session().await {
                Ok(info) => return Ok(LoginOutcome::LoggedIn(info)),
                Err(e) if e.api_kind() == Some(&ApiErrorKind::LoginRequired) => {
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

    /// The old `accounts/login/` flow (§4.8): the fallback of CAA, and where Instagram still
    /// answers typed errors (bad password, two-factor, challenge, please wait).
    async fn legacy_login(&mut self, creds: Credentials<'_>) -> Result<LoginOutcome, IgError> {
        self.pre_login().await?;
        let key = self.fetch_password_key().await?;
        let enc = encrypt_password(creds.password, &key, Utc::now().timestamp())?;
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
            Err(IgError::Api(e)) if e.kind == ApiErrorKind::TwoFactorRequired => {
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
                    ApiErrorKind::ChallengeRequired | ApiErrorKind::MaskedChallenge
                ) =>
            {
                self.start_challenge(&e.body).await
            }
            Err(e) => Err(e),
        }
    }

    fn caa_url(&self, endpoint: &str) -> String {
        let base = match &self.cfg.caa_api_base {
            Some(b) => b.trim_end_matches('/').to_owned(),
            None if self.cfg.api_base == DEFAULT_API_BASE => "https://b.i.instagram.com".into(),
            None => self.cfg.api_base.clone(),
        };
        format!("{base}/{}", endpoint.trim_start_matches('/'))
    }

    /// instagrapi's `_bloks_payload`: the params as compact JSON, then the device and the
    /// Bloks version.
    fn bloks_form(&self, params: Value) -> Vec<(String, String)> {
        let hash = self.session.device_settings.bloks_versioning_id.clone();
        vec![
            ("params".into(), compact_json(&params)),
            ("_uuid".into(), self.session.uuids.uuid.clone()),
            (
                "bk_client_context".into(),
                compact_json(&json!({"bloks_version": hash, "styles_id": "instagram"})),
            ),
            ("bloks_versioning_id".into(), hash),
        ]
    }

    async fn bloks_action(
        &mut self,
        action: &str,
        params: Value,
        extra: Vec<(&'static str, String)>,
    ) -> Result<Value, IgError> {
        let endpoint = format!("bloks/async_action/{action}/");
        let mut headers = vec![("X-FB-Friendly-Name", format!("IgApi: {endpoint}"))];
        headers.extend(extra);
        let url = self.caa_url(&format!("api/v1/{endpoint}"));
        let form = self.bloks_form(params);
        self.call(Method::POST, url, Body::Form(form), headers, true)
            .await
    }

    /// Registers the USDID key once (§1.5); a refusal only means it stays unregistered.
    async fn register_usdid(&mut self) -> Result<(), IgError> {
        let usdid = match &self.usdid {
            Some(u) => u.clone(),
            None => {
                let u = Usdid::generate();
                self.usdid = Some(u.clone());
                self.session.usdid = Some(u.to_settings());
                u
            }
        };
        if usdid.registered {
            return Ok(());
        }
        let variables = compact_json(&json!({"input": {
            "usdid_token": {"sensitive_string_value": usdid.registration_token(Utc::now().timestamp())},
            "fdid": {"sensitive_string_value": self.session.uuids.phone_id}
        }}));
        let doc_id = "124930351917786857261002920888";
        let form: Vec<(String, String)> = [
            ("method", "post"),
            ("pretty", "false"),
            ("format", "json"),
            ("server_timestamps", "true"),
            ("locale", "user"),
            ("fb_api_req_friendly_name", "IGUSDIDRegistrationMutation"),
            ("enable_canonical_naming", "true"),
            ("enable_canonical_variable_overrides", "true"),
            ("enable_canonical_naming_ambiguous_type_prefixing", "true"),
            ("variables", variables.as_str()),
            ("purpose", "fetch"),
            ("client_doc_id", doc_id),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let headers = vec![
            (
                "X-FB-Friendly-Name",
                "IGUSDIDRegistrationMutation".to_owned(),
            ),
            ("Content-Type", FORM_TYPE.to_owned()),
            ("X-Client-Doc-Id", doc_id.to_owned()),
            ("X-Root-Field-Name", "usdid_registration".to_owned()),
            ("X-Graphql-Client-Library", "pando".to_owned()),
        ];
        // `private_graphql_www_request`: the standard headers and these as the request's
        // own, beside the session's (which it leaves as they are).
        let headers = self.private_headers(headers);
        let url = self.caa_url("graphql_www");
        let (status, body) = self
            .transmit(Method::POST, url, Body::Form(form), headers)
            .await?;
        if let Some(e) = classify(status, &body) {
            if e.kind == ApiErrorKind::NotFound {
                return Ok(());
            }
            return Err(IgError::Api(e));
        }
        // The answer may be several JSON documents, one per line.
        let ok = String::from_utf8_lossy(&body).lines().any(|l| {
            serde_json::from_str::<Value>(l).ok().is_some_and(|v| {
                v.pointer("/data/usdid_registration/success")
                    .and_then(Value::as_bool)
                    == Some(true)
            })
        });
        if ok && let Some(u) = self.usdid.as_mut() {
            u.registered = true;
            self.session.usdid = Some(u.to_settings());
        }
        Ok(())
    }

    /// The CAA login (§4.4). `None` means "continue with the legacy login": the answer
    /// carried `CAA_LOGIN_FALLBACK:`, asked for two-step verification (whose Bloks screens
    /// icf does not drive; the legacy endpoint answers the same need with
    /// `two_factor_required`), or the CAA endpoints are gone (404).
    async fn caa_login(&mut self, creds: Credentials<'_>) -> Result<Option<LoginOutcome>, IgError> {
        if self.session.device_settings.bloks_versioning_id.is_empty() {
            return Ok(None);
        }
        match self.caa_steps(creds).await {
            Ok(r) => Ok(r),
            Err(IgError::Api(e)) if e.kind == ApiErrorKind::NotFound => {
                tracing::warn!("CAA login endpoints answered 404; using the legacy login");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn caa_steps(&mut self, creds: Credentials<'_>) -> Result<Option<LoginOutcome>, IgError> {
        self.register_usdid().await?;
        let network_info = self
            .cfg
            .caa_network_info
            .clone()
            .unwrap_or_else(crate::caa::device_network_info);
        let ids = self.session.uuids.clone();
        let waterfall = uuid4();
        let group = "caa_iteration_v3_perf_ig_4";
        let homepage = "Deploy: Not in Experiment";
        // The login homepage: one flat object (`bloks_caa_login_process_client_data`).
        let params = json!({
            "is_from_logged_out": false,
            "logged_out_user": "",
            "qpl_join_id": null,
            "family_device_id": ids.phone_id,
            "device_id": ids.android_device_id,
            "offline_experiment_group": group,
            "waterfall_id": waterfall,
            "logout_source": "",
            "show_internal_settings": false,
            "last_auto_login_time": 0,
            "disable_auto_login": false,
            "qe_device_id": ids.uuid,
            "use_auto_login_interstitial": true,
            "disable_recursive_auto_login_interstitial": true,
            "auto_login_interstitial_experiment_group_name": "",
            "is_from_logged_in_switcher": false,
            "switcher_logged_in_uid": "",
            "account_list": [],
            "blocked_uid": [],
            "INTERNAL_INFRA_THEME": "THREE_NEUTRAL_GRAY",
            "layered_homepage_experiment_group": homepage,
            "launched_url": "",
            "sim_phone_numbers": [],
            "is_from_registration_reminder": false,
        });
        let v = self
            .bloks_action(
                "com.bloks.www.bloks.caa.login.process_client_data_and_redirect",
                params,
                vec![],
            )
            .await?;
        let aac = extract_aac(&v);

        let url = self.caa_url("api/v1/attestation/create_android_keystore/");
        let form = vec![
            ("app_scoped_device_id".to_owned(), ids.uuid.clone()),
            ("key_hash".to_owned(), String::new()),
        ];
        let headers = vec![(
            "X-FB-Friendly-Name",
            "IgApi: attestation/create_android_keystore/".to_owned(),
        )];
        let k = self
            .call(Method::POST, url, Body::Form(form), headers, true)
            .await?;
        let nonce = k
            .get("challenge_nonce")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);

        if let Some(aac) = &aac {
            let params = json!({
                "client_input_params": {
                    "username_input": creds.username,
                    "si_device_param_network_info": network_info.clone(),
                    "aac": aac,
                    "lois_settings": {"lois_token": ""},
                    "cloud_trust_token": null,
                    "zero_balance_state": "",
                    "network_bssid": null,
                },
                "server_params": {
                    "is_from_logged_out": 0,
                    "layered_homepage_experiment_group": homepage,
                    "device_id": ids.android_device_id,
                    "login_surface": "login_home",
                    "waterfall_id": waterfall,
                    "INTERNAL__latency_qpl_instance_id": now_ms(),
                    "is_platform_login": 0,
                    "login_entry_point": "logged_out",
                    "INTERNAL__latency_qpl_marker_id": 36707139,
                    "family_device_id": ids.phone_id,
                    "offline_experiment_group": group,
                    "access_flow_version": "pre_mt_behavior",
                    "is_from_logged_in_switcher": 0,
                    "qe_device_id": ids.uuid,
                },
            });
            self.bloks_action(
                "com.bloks.www.caa.login.oauth.token.fetch.async",
                params,
                vec![],
            )
            .await?;
        }
        let (Some(aac), Some(nonce)) = (aac, nonce) else {
            return Err(IgError::Protocol(
                "CAA preflight did not return account access and attestation data".into(),
            ));
        };

        let key = self.fetch_password_key().await?;
        let enc = encrypt_password(creds.password, &key, Utc::now().timestamp())?;
        // Four hex digits then `ig`, as instagrapi writes the text-input ids (#2725).
        let input_id = format!("{}ig", &uuid::Uuid::new_v4().simple().to_string()[..4]);
        let params = json!({
            "client_input_params": {
                "blocked_uids": [],
                "aac": aac,
                "sim_phones": [],
                "aymh_accounts": [],
                "network_bssid": null,
                "secure_family_device_id": "",
                "has_granted_read_contacts_permissions": 0,
                "auth_secure_device_id": "",
                "has_whatsapp_installed": 0,
                "si_device_param_network_info": network_info,
                "password": enc,
                "sso_token_map_json_string": "",
                "block_store_machine_id": "",
                "ig_vetted_device_nonces": null,
                "cloud_trust_token": null,
                "event_flow": "login_manual",
                "password_contains_non_ascii": if creds.password.is_ascii() { "false" } else { "true" },
                "client_known_key_hash": "",
                "sso_accounts_auth_data": [],
                "encrypted_msisdn": "",
                "has_granted_read_phone_permissions": 0,
                "app_manager_id": "",
                "should_show_nested_nta_from_aymh": 0,
                "device_id": ids.android_device_id,
                "zero_balance_state": "",
                "login_attempt_count": 1,
                "machine_id": self.session.mid.clone(),
                "flash_call_permission_status": {
                    "READ_PHONE_STATE": "DENIED",
                    "READ_CALL_LOG": "DENIED",
                    "ANSWER_PHONE_CALLS": "DENIED",
                },
                "accounts_list": [],
                "gms_incoming_call_retriever_eligibility": "eligible",
                "family_device_id": ids.phone_id,
                "fb_ig_device_id": [],
                "device_emails": [],
                "try_num": 1,
                "lois_settings": {"lois_token": ""},
                "event_step": "home_page",
                "headers_infra_flow_id": "",
                "openid_tokens": {},
                "contact_point": creds.username,
            },
            "server_params": {
                "should_trigger_override_login_2fa_action": 0,
                "is_from_logged_out": 0,
                "should_trigger_override_login_success_action": 0,
                "login_credential_type": "none",
                "server_login_source": "login",
                "waterfall_id": waterfall,
                "two_step_login_type": "one_step_login",
                "login_source": "Login",
                "is_platform_login": 0,
                "login_entry_point": "logged_out",
                "INTERNAL__latency_qpl_marker_id": 36707139,
                "is_from_aymh": 0,
                "offline_experiment_group": group,
                "is_from_landing_page": 0,
                "left_nav_button_action": "NONE",
                "password_text_input_id": format!("{input_id}:82"),
                "is_from_empty_password": 0,
                "is_from_msplit_fallback": 0,
                "ar_event_source": "login_home_page",
                "qe_device_id": ids.uuid,
                "username_text_input_id": format!("{input_id}:81"),
                "layered_homepage_experiment_group": homepage,
                "device_id": ids.android_device_id,
                "login_surface": "login_home",
                "INTERNAL__latency_qpl_instance_id": now_ms(),
                "reg_flow_source": "login_home_native_integration_point",
                "is_caa_perf_enabled": 1,
                "credential_type": "password",
                "is_from_password_entry_page": 0,
                "caller": "gslr",
                "family_device_id": ids.phone_id,
                "is_from_assistive_id": 0,
                "access_flow_version": "pre_mt_behavior",
                "is_from_logged_in_switcher": 0,
            },
        });
        let attest = compact_json(&json!({"attestation": [{
            "version": 2, "type": "keystore", "errors": [-1013],
            "challenge_nonce": nonce, "signed_nonce": "", "key_hash": ""
        }]}));
        let v = self
            .bloks_action(
                "com.bloks.www.bloks.caa.login.async.send_login_request",
                params,
                vec![("X-IG-Attest-Params", attest)],
            )
            .await?;
        match read_login_answer(&v) {
            CaaAnswer::LoggedIn(l) => {
                // As instagrapi's `bloks_apply_login_response`: the token, the cookies and
                // the routing values go straight into the session's headers.
                let header = |name: &str| {
                    l.headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned)
                };
                if let Some(auth) = header("ig-set-authorization") {
                    self.session.set_authorization(&auth);
                    if let Some(a) = self.session.authorization_header() {
                        self.jar.set("Authorization", Some(a));
                    }
                }
                for (k, val) in l.cookies {
                    self.session.cookies.insert(k, val);
                }
                if let Some(rur) = header("ig-set-ig-u-rur") {
                    self.session.ig_u_rur = Some(rur.clone());
                    self.jar.set("IG-U-RUR", Some(rur));
                }
                if let Some(claim) = header("x-ig-set-www-claim") {
                    self.session.ig_www_claim = Some(claim.clone());
                    self.jar.set("X-IG-WWW-Claim", Some(claim));
                }
                let body = json!({"logged_in_user": l.logged_in_user});
                self.logged_in(&body).await.map(Some)
            }
            CaaAnswer::Fallback | CaaAnswer::TwoStep => Ok(None),
            CaaAnswer::NoSession => Err(IgError::Protocol(
                "CAA login did not return a session".into(),
            )),
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
                if matches!(e.kind, ApiErrorKind::PleaseWait | ApiErrorKind::Throttled) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// `GET qe/sync/` with the web session, for every password sent, as instagrapi's
    /// `password_publickeys` does: the key arrives in response headers (§4.3).
    async fn fetch_password_key(&mut self) -> Result<PasswordKey, IgError> {
        let url = self.api("qe/sync/");
        let (status, headers, body) = self.public_get(url).await?;
        if let Some(e) = classify(status, &body) {
            return Err(IgError::Api(e));
        }
        let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
        match (
            get("ig-set-password-encryption-key-id"),
            get("ig-set-password-encryption-pub-key"),
        ) {
            (Some(id), Some(key)) => Ok(PasswordKey::from_headers(id, key)?),
            _ => Err(IgError::Protocol(
                "qe/sync/ gave no password encryption key".into(),
            )),
        }
    }

    async fn logged_in(&mut self, v: &Value) -> Result<LoginOutcome, IgError> {
        let info = account_info(v.get("logged_in_user").unwrap_or(&Value::Null))
            .or_else(|| {
                Some(AccountInfo {
                    user_id: self.session.user_id()?,
                    username: String::new(),
                })
            })
            .ok_or_else(|| IgError::Protocol("login answered without a user".into()))?;
        if !self.session.is_logged_in() {
            return Err(IgError::Protocol(
                "login answered without an authorization token".into(),
            ));
        }
        self.session.last_login = Some(Utc::now().timestamp_millis() as f64 / 1000.0);
        self.warm_up().await;
        Ok(LoginOutcome::LoggedIn(info))
    }

    /// The app's first screens after login (§4.9), as instagrapi's `login_flow`:
    /// `get_reels_tray_feed("cold_start")`, then `get_timeline_feed(["cold_start_fetch"])`.
    /// Failures here do not undo the login.
    async fn warm_up(&mut self) {
        let s = &self.session;
        let tray = json!({
            "supported_capabilities_new": [
                {"value": "119.0,120.0,121.0,122.0,123.0,124.0,125.0,126.0,127.0,128.0,129.0,130.0,131.0,132.0,133.0,134.0,135.0,136.0,137.0,138.0,139.0,140.0,141.0,142.0", "name": "SUPPORTED_SDK_VERSIONS"},
                {"value": "14", "name": "FACE_TRACKER_VERSION"},
                {"value": "ETC2_COMPRESSION", "name": "COMPRESSION"},
                {"value": "gyroscope_enabled", "name": "gyroscope"}
            ],
            "reason": "cold_start",
            "timezone_offset": s.timezone_offset.to_string(),
            "tray_session_id": s.uuids.tray_session_id,
            "request_id": s.uuids.request_id,
            "page_size": 50,
            "_uuid": s.uuids.uuid,
            "reel_tray_impressions": {},
        });
        let now = now_ms().to_string();
        // Drawn before any await: the thread's generator cannot be held across one.
        let (charging, sound, latency) = {
            let mut rng = rand::rng();
            (
                rng.random_range(0..=1),
                rng.random_range(0..=1),
                rng.random_range(1..=5),
            )
        };
        let timeline = json!({
            "app_start_time": now,
            "has_camera_permission": "1",
            "feed_view_info": "[]",
            "client_recorded_request_time_ms": now,
            "client_seen_store_media_list": "",
            "client_view_state_media_list": "[]",
            "device_timezone_name": s.timezone_name.clone().unwrap_or_else(|| crate::session::timezone_name(s.timezone_offset)),
            "feed_reshare_info": "",
            "phone_id": s.uuids.phone_id,
            // instagrapi passes the reason as a list here.
            "reason": ["cold_start_fetch"],
            "battery_level": 100,
            "timezone_offset": s.timezone_offset.to_string(),
            "device_id": s.uuids.uuid,
            "include_attribution_ui_data": "true",
            "push_disabled": s.push_disabled.to_string(),
            "request_id": s.uuids.request_id,
            "request_build_time": now,
            "_uuid": s.uuids.uuid,
            "is_charging": charging,
            "is_dark_mode": 1,
            "will_sound_on": sound,
            "session_id": s.uuids.client_session_id,
            "session_level_signals": compact_json(&session_level_signals()),
            "bloks_versioning_id": s.device_settings.bloks_versioning_id,
            "is_pull_to_refresh": "0",
        });
        let headers = vec![
            ("X-Ads-Opt-Out", "0".to_owned()),
            ("X-DEVICE-ID", s.uuids.uuid.clone()),
            ("X-CM-Bandwidth-KBPS", "-1.000".to_owned()),
            ("X-CM-Latency", latency.to_string()),
        ];
        let url = self.api("feed/reels_tray/");
        if let Err(e) = self
            .call(Method::POST, url, Body::Signed(tray), vec![], false)
            .await
        {
            tracing::debug!(error = %e, "reels tray warm-up failed");
        }
        let url = self.api("feed/timeline/");
        // `json.dumps(data)` posted as the form body, unsigned.
        let raw = Body::Raw(Bytes::from(py_json(&timeline)));
        if let Err(e) = self.call(Method::POST, url, raw, headers, false).await {
            tracing::debug!(error = %e, "timeline warm-up failed");
        }
    }

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

    /// Opens a challenge (§4.10): code-type steps are advanced to the point where Instagram
    /// has sent a code; the others are reported for a human.
    async fn start_challenge(&mut self, body: &Value) -> Result<LoginOutcome, IgError> {
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

    // ---- publishing -----------------------------------------------------------------------

    /// Uploads the media (rupload); nothing is visible on the profile yet.
    pub async fn upload(&mut self, media: &Media) -> Result<Uploaded, IgError> {
        self.require_login()?;
        match media {
            Media::Photo(p) => {
                // instagrapi's `photo_upload` reads the account's feed first, to find the
                // new post there should configure's answer lack it.
                let uid = self.require_login()?;
                if let Err(e) = self.user_feed(&uid).await {
                    tracing::debug!(error = %e, "feed before the upload failed");
                }
                let id = now_ms().to_string();
                self.rupload_photo(p, &id, false).await?;
                Ok(Uploaded {
                    upload_id: id,
                    children: vec![],
                })
            }
            Media::Video(v) => {
                let id = now_ms().to_string();
                self.rupload_video(v, &id, VideoKind::Feed).await?;
                Ok(Uploaded {
                    upload_id: id,
                    children: vec![],
                })
            }
            Media::Reel(v) => {
                let id = now_ms().to_string();
                self.rupload_reel(v, &id).await?;
                Ok(Uploaded {
                    upload_id: id,
                    children: vec![],
                })
            }
            Media::Carousel(items) => {
                check_carousel(items)?;
                let mut children = Vec::with_capacity(items.len());
                let mut last = 0;
                for item in items {
                    // Distinct ms timestamps, as sequential uploads on a phone would have.
                    let mut id = now_ms();
                    if id <= last {
                        id = last + 1;
                    }
                    last = id;
                    let id = id.to_string();
                    match item {
                        CarouselItem::Photo(p) => self.rupload_photo(p, &id, true).await?,
                        CarouselItem::Video(v) => {
                            self.rupload_video(v, &id, VideoKind::Sidecar).await?;
                            // The cover goes up as a plain photo (`photo_rupload(thumbnail,
                            // upload_id)` in instagrapi's `album_upload`).
                            self.rupload_photo(&v.cover, &id, false).await?;
                        }
                    }
                    children.push(id);
                }
                Ok(Uploaded {
                    upload_id: (last + 1).to_string(),
                    children,
                })
            }
        }
    }

    /// The irreversible step: makes the uploaded media a post, polling while Instagram
    /// transcodes. A network error here may still have published (see
    /// [`IgError::maybe_applied`]): check [`InstagramClient::recent_media`] before retrying.
    pub async fn configure(
        &mut self,
        media: &Media,
        uploaded: &Uploaded,
        caption: &str,
    ) -> Result<Published, IgError> {
        self.require_login()?;
        let attempts = self.cfg.max_configure_attempts.max(1);
        let mut last_err = None;
        for attempt in 0..attempts {
            if attempt > 0 || !matches!(media, Media::Photo(_)) {
                tokio::time::sleep(self.cfg.configure_interval).await;
            }
            let result = match media {
                Media::Photo(p) => self.configure_photo(p, uploaded, caption).await,
                Media::Video(v) => {
                    self.rupload_photo(&v.cover, &uploaded.upload_id, false)
                        .await?;
                    self.configure_video(v, uploaded, caption).await
                }
                Media::Reel(v) => {
                    self.rupload_photo(&v.cover, &uploaded.upload_id, false)
                        .await?;
                    self.configure_reel(v, uploaded, caption).await
                }
                Media::Carousel(items) => self.configure_sidecar(items, uploaded, caption).await,
            };
            match result {
                Ok(v) => {
                    let media = v
                        .get("media")
                        .ok_or_else(|| IgError::Protocol("configure gave no media".into()))?;
                    return Published::from_media(media)
                        .ok_or_else(|| IgError::Protocol("configure media has no id".into()));
                }
                Err(IgError::Api(e)) if e.kind == ApiErrorKind::TranscodeNotFinished => {
                    tokio::time::sleep(self.cfg.transcode_wait).await;
                    last_err = Some(IgError::Api(e));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| IgError::Protocol("configure never finished".into())))
    }

    /// Upload then configure.
    pub async fn publish(&mut self, media: &Media, caption: &str) -> Result<Published, IgError> {
        let uploaded = self.upload(media).await?;
        self.configure(media, &uploaded, caption).await
    }

    /// The account's latest posts taken at or after `since`, optionally with exactly this
    /// caption: after a crash between configure and recording its answer, this tells
    /// whether the post exists.
    pub async fn recent_media(
        &mut self,
        since: DateTime<Utc>,
        caption: Option<&str>,
    ) -> Result<Vec<Published>, IgError> {
        let uid = self.require_login()?;
        let url = self.api(&format!("feed/user/{uid}/?count=12"));
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        let items = v
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(items
            .iter()
            .filter_map(Published::from_media)
            .filter(|p| p.taken_at.is_none_or(|t| t >= since.timestamp()))
            .filter(|p| caption.is_none_or(|c| p.caption.as_deref() == Some(c)))
            .collect())
    }

    /// `feed/user/{id}/` as instagrapi's `user_medias_paginated_v1` asks for it.
    async fn user_feed(&mut self, uid: &str) -> Result<Value, IgError> {
        let rank_token = format!("{uid}_{}", self.session.uuids.uuid);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("max_id", "")
            .append_pair("count", "20")
            .append_pair("rank_token", &rank_token)
            .append_pair("ranked_content", "true")
            .finish();
        let url = self.api(&format!("feed/user/{uid}/?{query}"));
        self.call(Method::GET, url, Body::Empty, vec![], false)
            .await
    }

    fn require_login(&self) -> Result<String, IgError> {
        self.session
            .user_id()
            .filter(|_| self.session.is_logged_in())
            .ok_or_else(|| {
                IgError::Api(crate::error::ApiError {
                    status: 403,
                    kind: ApiErrorKind::LoginRequired,
                    message: "log in first".into(),
                    body: Value::Null,
                })
            })
    }

    fn retry_context() -> String {
        compact_json(
            &json!({"num_step_auto_retry": 0, "num_reupload": 0, "num_step_manual_retry": 0}),
        )
    }

    async fn rupload_photo(
        &mut self,
        p: &Photo,
        upload_id: &str,
        sidecar: bool,
    ) -> Result<(), IgError> {
        let name = format!(
            "{upload_id}_0_{}",
            rand::rng().random_range(1_000_000_000u64..10_000_000_000)
        );
        let mut params = json!({
            "retry_context": Self::retry_context(),
            "media_type": "1",
            "xsharing_user_ids": "[]",
            "upload_id": upload_id,
            "image_compression": py_json(&json!({"lib_name": "moz", "lib_version": "3.1.m", "quality": "80"})),
        });
        if sidecar {
            params["is_sidecar"] = json!("1");
        }
        let len = p.jpeg.len().to_string();
        let headers = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("X-Instagram-Rupload-Params", py_json(&params)),
            ("X_FB_PHOTO_WATERFALL_ID", uuid4()),
            ("X-Entity-Type", "image/jpeg".into()),
            ("Offset", "0".into()),
            ("X-Entity-Name", name.clone()),
            ("X-Entity-Length", len.clone()),
            ("Content-Type", "application/octet-stream".into()),
            ("Content-Length", len),
        ]);
        let url = self.root(&format!("rupload_igphoto/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::Raw(p.jpeg.clone()), headers)
            .await?;
        upload_result(status, &body, "photo")
    }

    async fn rupload_video(
        &mut self,
        v: &Video,
        upload_id: &str,
        kind: VideoKind,
    ) -> Result<(), IgError> {
        let mut headers: Vec<(&'static str, String)> = Vec::new();
        let (name, params) = match kind {
            VideoKind::Feed | VideoKind::Sidecar => {
                let name = format!(
                    "{upload_id}_0_{}",
                    rand::rng().random_range(1_000_000_000u64..10_000_000_000)
                );
                let mut params = json!({
                    "retry_context": Self::retry_context(),
                    "media_type": "2",
                    "xsharing_user_ids": compact_json(&json!([self.session.user_id().and_then(|u| u.parse::<u64>().ok())])),
                    "upload_id": upload_id,
                    "upload_media_duration_ms": v.duration_ms.to_string(),
                    "upload_media_width": v.width.to_string(),
                    "upload_media_height": v.height.to_string(),
                });
                headers.push(("X_FB_VIDEO_WATERFALL_ID", uuid4()));
                if matches!(kind, VideoKind::Sidecar) {
                    params["is_sidecar"] = json!("1");
                    headers.push(("Segment-Start-Offset", "0".into()));
                    headers.push(("Segment-Type", "3".into()));
                }
                (name, params)
            }
        };
        // instagrapi sends these beside the session's headers only (not `private_headers`):
        // the GET that opens the upload, then the POST with the bytes.
        let mut first: Vec<(String, Option<String>)> = Vec::new();
        if !matches!(kind, VideoKind::Feed) {
            first.push(("Segment-Start-Offset".into(), Some("0".into())));
            first.push(("Segment-Type".into(), Some("3".into())));
        }
        first.push(("Accept-Encoding".into(), Some("gzip, deflate".into())));
        first.push((
            "X-Instagram-Rupload-Params".into(),
            Some(compact_json(&params)),
        ));
        for (k, v) in headers {
            if !k.starts_with("Segment-") {
                first.push((k.to_owned(), Some(v)));
            }
        }
        let url = self.root(&format!("rupload_igvideo/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::GET, url.clone(), Body::Empty, first.clone())
            .await?;
        upload_result(status, &body, "video")?;
        let len = v.mp4.len().to_string();
        let mut second: Vec<(String, Option<String>)> = [
            ("Offset", "0".to_owned()),
            ("X-Entity-Name", name.clone()),
            ("X-Entity-Length", len.clone()),
            ("Content-Type", "application/octet-stream".into()),
            ("Content-Length", len),
            ("X-Entity-Type", "video/mp4".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Some(v)))
        .collect();
        second.extend(first);
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::video(&v.mp4), second)
            .await?;
        upload_result(status, &body, "video")
    }

    /// A reel's upload as instagrapi's `clip_upload` makes it (§5.6): the
    /// `upload_settings` preflight, then the rupload GET and POST, each with the standard
    /// headers as its own.
    async fn rupload_reel(&mut self, v: &Video, upload_id: &str) -> Result<(), IgError> {
        let composer = uuid4();
        let asset_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase();
        let len = v.mp4.len();
        let name = format!(
            "{}-0-{len}-{upload_id}-{upload_id}",
            uuid::Uuid::new_v4().simple()
        );
        let mut context = json!({
            "source_attribution": null,
            "enable_video_dimension_upscale": false,
            "source_type": "clips",
            "quality": "",
        });
        if let Some(uid) = self.session.user_id().and_then(|u| u.parse::<u64>().ok()) {
            context["target_id"] = json!(uid);
        }
        let settings = json!({
            "composer_session_id": composer,
            "upload_setting_properties": {
                "upload_settings_version": "v0.1",
                "codec": {},
                "context": context,
                "video": {
                    "video_height": v.height,
                    "video_gop_size_sec": 0,
                    "video_rotation_angle": 0,
                    "video_width": v.width,
                    "source_video_codec": null,
                    "video_partial_frame_size_bytes": 0,
                    "asset_id": asset_id,
                    "video_key_frame_size_bytes": 0,
                    "target_duration": v.duration_ms / 1000,
                    "video_original_file_size": len,
                    "video_duration_milliseconds": v.duration_ms,
                    "audio_bit_rate_bps": -1,
                    "video_bit_rate_bps": 0,
                    "audio_codec_type": null,
                    "video_fps": 30,
                },
                "creative_tools": {"transmuxing_eligible": false, "transcoding_required": true},
                "network": {
                    "download_latency_connection_quality": "ig_dummy",
                    "network_connection_name": "ig_dummy",
                    "download_bandwidth_connection_quality": "ig_dummy",
                },
            },
            "preview_spec": {
                "spec_version": 1,
                "video_dur_ms": v.duration_ms,
                "audio_dur_ms": v.duration_ms,
            },
        });
        let text = py_json(&settings);
        let text_len = text.len().to_string();
        let headers = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("Content-Type", "application/json".into()),
            ("Content-Length", text_len.clone()),
            ("Offset", "0".into()),
            ("X-Entity-Length", text_len),
            ("X-Entity-Name", "upload_settings".into()),
            ("X-Entity-Type", "application/json".into()),
            ("X_FB_VIDEO_WATERFALL_ID", format!("{composer}_settings")),
        ]);
        let url = self.root(&format!("upload_settings/{composer}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::Raw(Bytes::from(text)), headers)
            .await?;
        upload_result(status, &body, "reel settings")?;

        let params = json!({
            "provenance_metadata": py_json(&json!({"origin": ["EXTERNAL"]})),
            "upload_media_height": v.height.to_string(),
            "share_type": "reels",
            "debug_segment_id": "0",
            "extract_cover_frame": "1",
            "upload_engine_config_enum": "0",
            "xsharing_user_ids": "[]",
            "upload_media_width": v.width.to_string(),
            "stella_data": "{}",
            "is_clips_video": "1",
            "is_optimistic_upload": "true",
            "upload_media_duration_ms": v.duration_ms.to_string(),
            "content_tags": "use_default_cover",
            "upload_id": upload_id,
            "retry_context": compact_json(&json!({"num_reupload": 0, "num_step_manual_retry": 0, "num_step_auto_retry": 0})),
            "session_id": upload_id,
            "media_type": "2",
        });
        let opening = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("X-Instagram-Rupload-Params", py_json(&params)),
            (
                "X_FB_VIDEO_WATERFALL_ID",
                format!("{composer}_{asset_id}_Mixed_0"),
            ),
            ("X-Entity-Type", "video/mp4".into()),
            ("Segment-Start-Offset", "0".into()),
            ("Segment-Type", "3".into()),
        ]);
        let url = self.root(&format!("rupload_igvideo/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::GET, url.clone(), Body::Empty, opening.clone())
            .await?;
        upload_result(status, &body, "reel")?;
        // `{Offset, X-Entity-Name, X-Entity-Length, Content-Type, Content-Length, **headers}`.
        let len = len.to_string();
        let mut sending = dict(
            [
                ("Offset", "0".to_owned()),
                ("X-Entity-Name", name),
                ("X-Entity-Length", len.clone()),
                ("Content-Type", "application/octet-stream".into()),
                ("Content-Length", len),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v))),
        );
        sending = dict(sending.into_iter().chain(opening));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::video(&v.mp4), sending)
            .await?;
        upload_result(status, &body, "reel")
    }

    fn local_time(&self) -> String {
        let t = Utc::now() + chrono::Duration::seconds(self.session.timezone_offset.into());
        t.format("%Y%m%dT%H%M%S.000Z").to_string()
    }

    async fn configure_photo(
        &mut self,
        p: &Photo,
        up: &Uploaded,
        caption: &str,
    ) -> Result<Value, IgError> {
        let d = &self.session.device_settings;
        let software = format!(
            "{}-user+{}+OPR1.170623.032+V10.2.3.0.OAGMIXM+release-keys",
            d.model, d.android_release
        );
        let now = self.local_time();
        let data = self.default_data(json!({
            "timezone_offset": self.session.timezone_offset.to_string(),
            "camera_model": d.model,
            "camera_make": d.manufacturer,
            "scene_type": "?",
            "nav_chain": PHOTO_NAV_CHAIN,
            "date_time_original": now,
            "date_time_digitalized": now,
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "scene_capture_type": "standard",
            "software": software,
            "multi_sharing": "1",
            "location": "{}",
            "media_folder": "Camera",
            "source_type": "4",
            "caption": caption,
            "upload_id": up.upload_id,
            "device": self.device_object(),
            "usertags": py_json(&json!({"in": []})),
            "edits": {"crop_original_size": [p.width as f64, p.height as f64], "crop_center": [0.0, 0.0], "crop_zoom": 1.0},
            "extra": {"source_width": p.width, "source_height": p.height},
        }));
        let url = self.api("media/configure/");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_video(
        &mut self,
        v: &Video,
        up: &Uploaded,
        caption: &str,
    ) -> Result<Value, IgError> {
        let secs = v.duration_ms as f64 / 1000.0;
        let data = self.default_data(json!({
            "multi_sharing": "1",
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "upload_id": up.upload_id,
            "source_type": "4",
            "location": "{}",
            "poster_frame_index": 0,
            "length": secs,
            "audio_muted": false,
            "usertags": compact_json(&json!({"in": []})),
            "filter_type": "0",
            "date_time_original": self.local_time(),
            "timezone_offset": self.session.timezone_offset.to_string(),
            "clips": [{"length": secs, "source_type": "4"}],
            "extra": {"source_width": v.width, "source_height": v.height},
            "device": self.device_object(),
            "caption": caption,
        }));
        let url = self.api("media/configure/?video=1");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_reel(
        &mut self,
        v: &Video,
        up: &Uploaded,
        caption: &str,
    ) -> Result<Value, IgError> {
        let secs = v.duration_ms as f64 / 1000.0;
        let data = self.default_data(json!({
            "filter_type": "0",
            "timezone_offset": self.session.timezone_offset.to_string(),
            "location": "{}",
            "source_type": "4",
            "caption": caption,
            "usertags": py_json(&json!({"in": []})),
            "clips_share_preview_to_feed": "1",
            "upload_id": up.upload_id,
            "device": self.device_object(),
            "length": secs,
            "clips_segments_metadata": {"num_segments": 1, "clips_segments": [{
                "index": 0, "face_effect_id": null, "speed": 100, "source_type": 4,
                "duration_ms": v.duration_ms, "audio_type": "original", "from_draft": 0,
                "camera_position": -1, "media_folder": null, "media_type": "video",
                "original_media_type": 2, "original_segment_hash": null, "is_remix": false,
                "has_reusable_template_asset": false
            }]},
            "clips_audio_metadata": {"original": {"volume_level": 1.0}},
            "additional_audio_info": {"has_voiceover_attribution": 0},
            "edits": {"filter_type": 0, "filter_strength": 1.0},
            "capture_type": "clips_v2",
            "clips_creation_entry_point": "clips",
            "camera_entry_point": "71",
            "audience": "default",
            "include_e2ee_mentioned_user_list": "1",
            "hide_from_profile_grid": "false",
            "original_width": v.width,
            "original_height": v.height,
            "extra": {"source_width": v.width, "source_height": v.height},
            "audio_muted": false,
            "poster_frame_index": 70,
        }));
        let url = self.api("media/configure_to_clips/?video=1");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_sidecar(
        &mut self,
        items: &[CarouselItem],
        up: &Uploaded,
        caption: &str,
    ) -> Result<Value, IgError> {
        let tz = self.session.timezone_offset.to_string();
        let device = compact_json(&self.device_object());
        let now = self.local_time();
        let children: Vec<Value> = items
            .iter()
            .zip(&up.children)
            .map(|(item, id)| match item {
                CarouselItem::Photo(p) => json!({
                    "source_type": "4", "timezone_offset": tz, "device": device, "upload_id": id,
                    "edits": compact_json(&json!({"crop_original_size": [p.width, p.height], "crop_center": [0.0, -0.0], "crop_zoom": 1.0})),
                    "extra": compact_json(&json!({"source_width": p.width, "source_height": p.height})),
                    "scene_capture_type": "", "scene_type": null,
                }),
                CarouselItem::Video(v) => {
                    let secs = v.duration_ms as f64 / 1000.0;
                    json!({
                        "source_type": "4", "timezone_offset": tz, "device": device, "upload_id": id,
                        "clips": compact_json(&json!([{"length": secs, "source_type": "4"}])),
                        "extra": compact_json(&json!({"source_width": v.width, "source_height": v.height})),
                        "length": secs, "poster_frame_index": "0", "filter_type": "0",
                        "video_result": "", "date_time_original": now, "audio_muted": "false",
                    })
                }
            })
            .collect();
        let data = self.default_data(json!({
            "timezone_offset": tz,
            "source_type": "4",
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "location": "{}",
            "caption": caption,
            "client_sidecar_id": up.upload_id,
            "upload_id": up.upload_id,
            "suggested_venue_position": -1,
            "device": self.device_object(),
            "is_suggested_venue": false,
            "children_metadata": children,
        }));
        let url = self.api("media/configure_sidecar/");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }
}

#[derive(Clone, Copy)]
enum VideoKind {
    Feed,
    Sidecar,
}

/// A Python dict built from pairs: a repeated name keeps its first place and takes the
/// last value (case-insensitively, as requests' header dictionaries).
fn dict(
    pairs: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter().position(|(n, _)| n.eq_ignore_ascii_case(&k)) {
            Some(i) => out[i].1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// What the timeline request says of the app session (`_timeline_session_level_signals_json`):
/// a fresh session with no activity.
fn session_level_signals() -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in [
        ("time_since_current_surface_session_start", 0),
        ("time_since_fg_session_start", 0),
        ("time_since_last_background", 0),
        ("num_ad_seen_current_surface_current_session", 0),
    ] {
        m.insert(k.into(), json!(v));
    }
    m.insert("app_entry".into(), json!("normal"));
    m.insert("last_surfaces_visited_current_session".into(), json!([]));
    for k in [
        "video_play_count",
        "video_pause_count",
        "video_dwell_time_sum",
        "video_dwell_time_max",
        "video_view_count",
        "video_intentional_audio_on",
        "video_intentional_audio_off",
        "video_audio_on_count",
        "feed_to_reels_iv_entry",
    ] {
        m.insert(k.into(), json!(0));
    }
    for k in [
        "time_since_last_ad_click",
        "time_since_last_ad_like",
        "time_since_last_organic_like",
        "time_since_last_like",
        "time_since_last_organic_business_profile_visit",
        "time_since_last_ad_imp",
        "time_since_last_search",
        "time_since_last_organic_engagement_event",
        "time_since_last_ad_profile_visit",
        "time_since_last_ad_cta",
        "time_since_last_ad_caption_more_click",
        "time_since_last_ad_comment_button",
        "time_since_last_ad_share",
        "time_since_last_ad_media_tap",
        "time_since_last_ad_gesture",
        "time_since_last_search_result_click",
        "time_since_last_serp_click",
        "time_since_last_organic_share",
        "time_since_last_organic_comment",
        "time_since_last_organic_caption_click",
        "time_since_last_organic_media_tap",
        "time_since_last_organic_gesture",
    ] {
        m.insert(k.into(), json!(-1));
    }
    m.insert("num_search_clicks_current_session".into(), json!(0));
    Value::Object(m)
}

fn check_carousel(items: &[CarouselItem]) -> Result<(), IgError> {
    if !(2..=10).contains(&items.len()) {
        return Err(IgError::BadMedia(format!(
            "a carousel needs 2 to 10 items, got {}",
            items.len()
        )));
    }
    Ok(())
}

/// rupload answers bypass the usual mapping in instagrapi (any non-200 is "not uploaded");
/// icf still tells account problems from media problems.
fn upload_result(status: u16, body: &[u8], what: &str) -> Result<(), IgError> {
    if status == 200 {
        return Ok(());
    }
    match classify(status, body) {
        Some(e)
            if matches!(
                e.kind,
                ApiErrorKind::Unknown | ApiErrorKind::BadRequestEmpty | ApiErrorKind::Other
            ) && (400..500).contains(&status) =>
        {
            Err(IgError::BadMedia(format!(
                "{what} upload refused: {}",
                e.message
            )))
        }
        Some(e) => Err(IgError::Api(e)),
        None => Err(IgError::BadMedia(format!(
            "{what} upload answered HTTP {status}"
        ))),
    }
}

fn account_info(user: &Value) -> Option<AccountInfo> {
    let pk = match user.get("pk")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(AccountInfo {
        user_id: pk,
        username: user.get("username")?.as_str()?.to_owned(),
    })
}

fn two_factor_pending(body: &Value, username: &str) -> TwoFactorPending {
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
