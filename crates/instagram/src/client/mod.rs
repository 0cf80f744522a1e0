//! The per-account client's core: the account's connection and session, the standard
//! headers of fact sheet §3.3 kept as instagrapi's session keeps them, and the request path
//! with the session write-back of §3.6 (`request`). Login and publishing add their calls in
//! `impl InstagramClient` blocks of their own, in the `login` and `publish` modules.

pub(crate) mod config;
pub(crate) mod jar;
pub(crate) mod request;

pub use config::ClientConfig;

use chrono::Utc;
use serde_json::{Value, json};

use crate::app_profile::APP_ID;
use crate::error::{ErrorAnswer, IgError};
use crate::session::Session;
use crate::transport::{ProxyEndpoint, build_client};
use crate::usdid::Usdid;
use crate::wire::py_float;
use jar::HeaderJar;

/// The screens instagrapi says the app came through (`X-IG-Nav-Chain`), the same on
/// every request.
const NAV_CHAIN: &str =
    "9MV:self_profile:2,ProfileMediaTabFragment:self_profile:3,9Xf:self_following:4";

/// The fixed signatures of instagrapi's synthetic `IG-U-*` headers (`base_headers`).
const HINT_SIG: &str = "01f7bae7d8b131877d8e0ae1493252280d72f6d0d554447cb1dc9049b6b2c507c08605b7";
const SHBID_SIG: &str = "01f778d9c9f7546cf3722578fbf9b85143cd6e5132723e5c93f40f55ca0459c8ef8a0d9f";
const SHBTS_SIG: &str = "01f7ace11925d0388080078d0282b75b8059844855da27e23c90a362270fddfb3fae7e28";
const RUR_SIG: &str = "01f7f627f9ae4ce2874b2e04463efdb184340968b1b006fa88cb4cc69a942a04201e544c";

/// One account's connection to Instagram. Not shared between accounts; after each call the
/// caller persists [`InstagramClient::session`] (encrypted), which carries every cookie and
/// token Instagram handed out.
pub struct InstagramClient {
    http: reqwest::Client,
    /// The web session's client (HTTP/1.1), made when first needed.
    web: Option<reqwest::Client>,
    proxy: ProxyEndpoint,
    pub(crate) cfg: ClientConfig,
    pub(crate) session: Session,
    pigeon_session_id: String,
    /// The private session's header dictionary, as it stands after the calls so far.
    pub(crate) jar: HeaderJar,
    pub(crate) usdid: Option<Usdid>,
    usdid_header: Option<(String, i64)>,
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(crate) fn uuid4() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl InstagramClient {
    /// A client for one account. There is no constructor without a proxy: an account's
    /// traffic never goes direct.
    pub fn new(
        session: Session,
        proxy: &ProxyEndpoint,
        cfg: ClientConfig,
    ) -> Result<Self, IgError> {
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

    pub(crate) fn api(&self, endpoint: &str) -> String {
        format!(
            "{}/api/v1/{}",
            self.cfg.api_base,
            endpoint.trim_start_matches('/')
        )
    }

    pub(crate) fn root(&self, path: &str) -> String {
        format!("{}/{}", self.cfg.api_base, path.trim_start_matches('/'))
    }

    /// Drops the login, and with it what instagrapi's `_clear_session_state` takes out of
    /// the session's headers (the token, the `IG-U-*` values, the claim), so that a new
    /// login in this client carries none of the dead one's.
    pub(crate) fn forget_login(&mut self) {
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

    /// instagrapi's `with_default_data`: `_uuid` and `device_id` first, then the data.
    pub(crate) fn default_data(&self, v: Value) -> Value {
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
    pub(crate) fn device_object(&self) -> Value {
        let d = &self.session.device_settings;
        json!({
            "android_version": d.android_version,
            "android_release": d.android_release,
            "manufacturer": d.manufacturer,
            "model": d.model,
        })
    }

    /// The logged-in account's user id, or the error a dead session gets.
    pub(crate) fn require_login(&self) -> Result<String, IgError> {
        self.session
            .user_id()
            .filter(|_| self.session.is_logged_in())
            .ok_or_else(|| IgError::Api(ErrorAnswer::login_required("log in first")))
    }
}
