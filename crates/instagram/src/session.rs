//! The session of one account in instagrapi's settings format (fact sheet §2), so an agency
//! can import what `dump_settings()` wrote and export it back. Keys icf does not use are
//! kept as they came; unknown extras pass through untouched.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use icf_core::device::{AppProfile, Device, DeviceIds};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// `uuids` (§1.4). Missing ids are generated on load, as instagrapi does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Uuids {
    #[serde(default)]
    pub phone_id: String,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub client_session_id: String,
    #[serde(default)]
    pub advertising_id: String,
    #[serde(default)]
    pub android_device_id: String,
    #[serde(default)]
    pub request_id: String,
    #[serde(default)]
    pub tray_session_id: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `device_settings` (§1.1), app profile included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSettings {
    pub android_version: u32,
    pub android_release: String,
    pub dpi: String,
    pub resolution: String,
    pub manufacturer: String,
    pub device: String,
    pub model: String,
    pub cpu: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub version_code: String,
    #[serde(default)]
    pub bloks_versioning_id: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for DeviceSettings {
    /// instagrapi's `DEVICE_SETTINGS` defaults (Pixel 8 Pro).
    fn default() -> Self {
        let app = AppProfile::default();
        DeviceSettings {
            android_version: 34,
            android_release: "14".into(),
            dpi: "480dpi".into(),
            resolution: "1344x2992".into(),
            manufacturer: "Google/google".into(),
            device: "husky".into(),
            model: "Pixel 8 Pro".into(),
            cpu: "husky".into(),
            app_version: app.app_version,
            version_code: app.version_code,
            bloks_versioning_id: app.bloks_versioning_id,
            extra: Map::new(),
        }
    }
}

impl DeviceSettings {
    pub fn app(&self) -> AppProfile {
        AppProfile {
            app_version: self.app_version.clone(),
            version_code: self.version_code.clone(),
            bloks_versioning_id: self.bloks_versioning_id.clone(),
        }
    }
}

fn default_country() -> String {
    "US".into()
}
fn default_country_code() -> u32 {
    1
}
fn default_locale() -> String {
    "en_US".into()
}
fn default_tz() -> i32 {
    -14400
}
fn default_true() -> bool {
    true
}
fn default_request_timeout() -> Value {
    json!(1)
}

/// instagrapi's settings JSON (every key of fact sheet §2.1).
///
/// Transport and retry settings of the Python library are carried as raw JSON values: icf
/// does not act on them, but an exported file must still load in instagrapi.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    #[serde(default)]
    pub uuids: Uuids,
    #[serde(default)]
    pub mid: Option<String>,
    #[serde(default)]
    pub ig_u_rur: Option<String>,
    #[serde(default)]
    pub ig_www_claim: Option<String>,
    #[serde(default)]
    pub authorization_data: Map<String, Value>,
    #[serde(default)]
    pub cookies: BTreeMap<String, String>,
    #[serde(default)]
    pub last_login: Option<f64>,
    #[serde(default)]
    pub device_settings: DeviceSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default = "default_country")]
    pub country: String,
    #[serde(default = "default_country_code")]
    pub country_code: u32,
    #[serde(default = "default_locale")]
    pub locale: String,
    #[serde(default = "default_tz")]
    pub timezone_offset: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_name: Option<String>,
    #[serde(default = "default_true")]
    pub push_disabled: bool,
    #[serde(default = "default_request_timeout")]
    pub request_timeout: Value,
    #[serde(default = "d_retries_count")]
    pub public_request_retries_count: Value,
    #[serde(default = "d_retries_timeout")]
    pub public_request_retries_timeout: Value,
    #[serde(default = "d_retry_total")]
    pub session_retry_total: Value,
    #[serde(default = "d_backoff")]
    pub session_retry_backoff_factor: Value,
    #[serde(default = "d_statuses")]
    pub session_retry_statuses: Value,
    #[serde(default = "d_public_transport")]
    pub public_transport: Value,
    #[serde(default = "d_public_ua")]
    pub public_user_agent: Value,
    #[serde(default = "d_graphql_ua")]
    pub public_graphql_user_agent: Value,
    #[serde(default = "d_private_transport")]
    pub private_transport: Value,
    #[serde(default = "d_impersonate")]
    pub public_transport_impersonate: Value,
    #[serde(default = "d_tls_verify")]
    pub tls_verify: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usdid: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbns_auth: Option<Value>,
    /// Keys written by other tools or later instagrapi releases.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn d_retries_count() -> Value {
    json!(3)
}
fn d_retries_timeout() -> Value {
    json!(2)
}
fn d_retry_total() -> Value {
    json!(3)
}
fn d_backoff() -> Value {
    json!(2)
}
fn d_statuses() -> Value {
    json!([429, 500, 502, 503, 504])
}
fn d_public_transport() -> Value {
    json!("requests")
}
fn d_public_ua() -> Value {
    json!(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15"
    )
}
fn d_graphql_ua() -> Value {
    json!(
        "Instagram 273.0.0.16.70 (iPhone15,2; iOS 17_5_1; en_US; en-US; scale=3.00; 1290x2796; 470085518)"
    )
}
fn d_private_transport() -> Value {
    json!("curl")
}
fn d_impersonate() -> Value {
    json!("chrome136")
}
fn d_tls_verify() -> Value {
    json!(true)
}

impl std::fmt::Debug for Session {
    // Hand-written: the session id, cookies and USDID key are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id())
            .field("logged_in", &self.is_logged_in())
            .field("device", &self.device_settings.model)
            .field("app_version", &self.device_settings.app_version)
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// A session file icf cannot read.
#[derive(Debug, thiserror::Error)]
#[error("not an instagrapi settings file: {0}")]
pub struct SessionFormatError(String);

impl SessionFormatError {
    /// Where and what kind of mistake, never the value: serde's messages quote the
    /// offending value, and in a session file that may be a session id or a cookie.
    fn from_serde(e: serde_json::Error) -> SessionFormatError {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Io => "the file could not be read",
            Category::Syntax => "not valid JSON",
            Category::Eof => "the JSON ends too early",
            Category::Data => "a value has the wrong type or is missing",
        };
        SessionFormatError(format!("{what} (line {}, column {})", e.line(), e.column()))
    }
}

fn random_uuid(rng: &mut impl Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
        .into_uuid()
        .to_string()
}

/// `GMT-04:00` from -14400 (instagrapi derives the name from the offset).
pub fn timezone_name(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!("GMT{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
}

impl Session {
    /// A fresh, logged-out session for an account's device and the current app profile.
    pub fn new(device: &Device, app: &AppProfile) -> Session {
        let DeviceIds {
            phone_id,
            uuid,
            client_session_id,
            advertising_id,
            android_device_id,
            request_id,
            tray_session_id,
        } = device.ids.clone();
        let mut s: Session = serde_json::from_value(json!({}))
            .unwrap_or_else(|_| unreachable!("every key has a default"));
        s.uuids = Uuids {
            phone_id,
            uuid,
            client_session_id,
            advertising_id,
            android_device_id,
            request_id,
            tray_session_id,
            extra: Map::new(),
        };
        s.device_settings = DeviceSettings {
            android_version: device.android_version,
            android_release: device.android_release.clone(),
            dpi: device.dpi.clone(),
            resolution: device.resolution.clone(),
            manufacturer: device.manufacturer.clone(),
            device: device.device.clone(),
            model: device.model.clone(),
            cpu: device.cpu.clone(),
            app_version: app.app_version.clone(),
            version_code: app.version_code.clone(),
            bloks_versioning_id: app.bloks_versioning_id.clone(),
            extra: Map::new(),
        };
        s.user_agent = Some(device.user_agent(app));
        s.locale = device.locale.clone();
        s.country = device.country.clone();
        s.timezone_offset = device.timezone_offset;
        s.timezone_name = Some(timezone_name(device.timezone_offset));
        s
    }

    /// Reads instagrapi's settings JSON; ids that are missing are generated, as on load in
    /// instagrapi.
    pub fn import(json: &str) -> Result<Session, SessionFormatError> {
        let mut s: Session = serde_json::from_str(json).map_err(SessionFormatError::from_serde)?;
        let mut rng = rand::rng();
        for id in [
            &mut s.uuids.phone_id,
            &mut s.uuids.uuid,
            &mut s.uuids.client_session_id,
            &mut s.uuids.advertising_id,
            &mut s.uuids.request_id,
            &mut s.uuids.tray_session_id,
        ] {
            if id.is_empty() {
                *id = random_uuid(&mut rng);
            }
        }
        if s.uuids.android_device_id.is_empty() {
            let hex: String = rng
                .random::<[u8; 8]>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            s.uuids.android_device_id = format!("android-{hex}");
        }
        if s.mid.is_none() {
            s.mid = s.cookies.get("mid").cloned();
        }
        Ok(s)
    }

    /// instagrapi's `dump_settings()` layout (4-space indentation).
    pub fn export(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        if value.serialize(&mut ser).is_err() {
            return value.to_string();
        }
        String::from_utf8(out).unwrap_or_else(|_| value.to_string())
    }

    /// instagrapi's `set_app()` (§1.2): a known app version gets its own version code and
    /// Bloks id back, a missing one (or `override_app_version`) gets the default profile, an
    /// unknown one is kept. When the profile changes the User-Agent is rebuilt, so headers
    /// and UA never name two different releases.
    pub fn apply_app_profile(
        &mut self,
        profiles: &crate::app_profile::AppProfiles,
        override_app_version: bool,
    ) {
        let d = &self.device_settings;
        let target = if override_app_version || d.app_version.is_empty() {
            Some(profiles.default_profile().clone())
        } else {
            profiles.find(&d.app_version).cloned()
        };
        let Some(app) = target else { return };
        if self.device_settings.app() == app {
            return;
        }
        self.device_settings.app_version = app.app_version;
        self.device_settings.version_code = app.version_code;
        self.device_settings.bloks_versioning_id = app.bloks_versioning_id;
        self.user_agent = None;
        self.user_agent = Some(self.user_agent());
    }

    /// The logged-in user's id: the `ds_user_id` cookie, else the Authorization token's.
    pub fn user_id(&self) -> Option<String> {
        self.cookies
            .get("ds_user_id")
            .cloned()
            .or_else(|| {
                self.authorization_data
                    .get("ds_user_id")
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
            })
            .filter(|id| !id.is_empty())
    }

    pub fn is_logged_in(&self) -> bool {
        self.user_id().is_some()
            && (self.authorization_data.contains_key("sessionid")
                || self.cookies.contains_key("sessionid"))
    }

    /// The User-Agent to send: the stored one verbatim, else built from the device (§1.3).
    pub fn user_agent(&self) -> String {
        if let Some(ua) = self.user_agent.as_ref().filter(|u| !u.is_empty()) {
            return ua.clone();
        }
        let d = &self.device_settings;
        format!(
            "Instagram {} Android ({}/{}; {}; {}; {}; {}; {}; {}; {}; {})",
            d.app_version,
            d.android_version,
            d.android_release,
            d.dpi,
            d.resolution,
            d.manufacturer,
            d.model,
            d.device,
            d.cpu,
            self.locale,
            d.version_code
        )
    }

    /// `Authorization: Bearer IGT:2:<base64 of compact JSON>` (§3.4), when logged in.
    pub fn authorization_header(&self) -> Option<String> {
        if self.authorization_data.is_empty() {
            return None;
        }
        let json = serde_json::to_string(&self.authorization_data).ok()?;
        Some(format!("Bearer IGT:2:{}", STANDARD.encode(json)))
    }

    /// Stores an `ig-set-authorization` value. An empty token (`Bearer IGT:2:`) is how
    /// Instagram logs a device out.
    pub fn set_authorization(&mut self, header: &str) {
        let Some(b64) = header.trim().strip_prefix("Bearer IGT:2:") else {
            return;
        };
        if b64.is_empty() {
            self.authorization_data.clear();
            return;
        }
        if let Ok(raw) = STANDARD.decode(b64)
            && let Ok(Value::Object(map)) = serde_json::from_slice(&raw)
        {
            self.authorization_data = map;
        }
    }

    /// Forgets the login but keeps the device (§4.2 `_clear_session_state`).
    pub fn clear_login(&mut self) {
        self.authorization_data.clear();
        self.cookies.clear();
        self.ig_u_rur = None;
        self.ig_www_claim = None;
    }

    pub fn csrf_token(&self) -> String {
        self.cookies.get("csrftoken").cloned().unwrap_or_else(|| {
            let mut rng = rand::rng();
            (0..64)
                .map(|_| {
                    let c = rng.random_range(0..62u8);
                    (match c {
                        0..=9 => b'0' + c,
                        10..=35 => b'a' + c - 10,
                        _ => b'A' + c - 36,
                    }) as char
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_round_trips_through_the_igt_token() {
        let mut s = Session::import("{}").unwrap();
        let token = STANDARD.encode(
            r#"{"ds_user_id":"42","sessionid":"42%3Aabc","should_use_header_over_cookies":true}"#,
        );
        s.set_authorization(&format!("Bearer IGT:2:{token}"));
        assert_eq!(s.user_id().as_deref(), Some("42"));
        assert!(s.is_logged_in());
        let again = s.authorization_header().unwrap();
        let mut t = Session::import("{}").unwrap();
        t.set_authorization(&again);
        assert_eq!(t.authorization_data, s.authorization_data);
        s.set_authorization("Bearer IGT:2:");
        assert!(!s.is_logged_in());
    }

    #[test]
    fn a_last_login_reads_back_as_the_same_number() {
        // Found by the property test below: without exact float parsing this number came back
        // one unit in the last place off.
        let s = Session::import(r#"{"last_login": -111895313496234281}"#).unwrap();
        let again = Session::import(&s.export()).unwrap();
        assert_eq!(again.last_login, s.last_login);
        assert_eq!(again, s);
    }

    #[test]
    fn an_empty_file_gets_generated_ids_and_instagrapi_defaults() {
        let s = Session::import("{}").unwrap();
        assert_eq!(s.uuids.phone_id.len(), 36);
        assert!(s.uuids.android_device_id.starts_with("android-"));
        assert_eq!(s.locale, "en_US");
        assert_eq!(s.device_settings.model, "Pixel 8 Pro");
        assert!(!s.is_logged_in());
        assert!(Session::import("[1,2]").is_err());
    }

    #[test]
    fn app_profiles_move_together_like_instagrapis_set_app() {
        let profiles = crate::app_profile::AppProfiles::built_in();
        let mut s = Session::import(
            r#"{"device_settings":{"android_version":34,"android_release":"14","dpi":"480dpi","resolution":"1344x2992","manufacturer":"Google/google","device":"husky","model":"Pixel 8 Pro","cpu":"husky","app_version":"428.0.0.47.67","version_code":"1","bloks_versioning_id":"stale"}}"#,
        )
        .unwrap();
        s.apply_app_profile(&profiles, false);
        assert_eq!(s.device_settings.version_code, "961145276");
        assert!(
            s.user_agent()
                .starts_with("Instagram 428.0.0.47.67 Android")
        );
        s.apply_app_profile(&profiles, true);
        assert_eq!(s.device_settings.app_version, "449.0.0.52.84");
        assert!(s.user_agent().contains("449.0.0.52.84"));
        assert!(s.user_agent().ends_with("; 1079242191)"));
        s.device_settings.app_version = "999.0.0.0.1".into();
        let before = s.device_settings.clone();
        s.apply_app_profile(&profiles, false);
        assert_eq!(s.device_settings, before, "unknown versions are kept");
    }

    #[test]
    fn debug_output_carries_no_credentials() {
        let s = Session::import(
            r#"{"cookies":{"sessionid":"42%3Asecret-cookie","ds_user_id":"42"},"authorization_data":{"ds_user_id":"42","sessionid":"42%3Asecret-auth"}}"#,
        )
        .unwrap();
        let d = format!("{s:?}");
        assert!(d.contains("42"));
        assert!(!d.contains("secret"), "{d}");
    }

    #[test]
    fn timezone_names_follow_the_offset() {
        assert_eq!(timezone_name(-14400), "GMT-04:00");
        assert_eq!(timezone_name(19800), "GMT+05:30");
    }

    mod props {
        use proptest::prelude::*;

        use super::*;

        const FIXTURE: &str = include_str!("../tests/instagrapi-3.2.2-settings.json");

        /// JSON of any shape, a few levels deep.
        fn arb_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                // Short decimals, as Python writes timestamps: serde_json without its
                // `float_roundtrip` feature may move extreme floats by one ulp on load.
                (any::<i32>(), 0..4u32)
                    .prop_map(|(m, e)| Value::from(f64::from(m) / 10f64.powi(e as i32))),
                ".{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 24, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Keys icf reads, so the generated objects hit typed fields too.
        fn arb_key() -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::sample::select(vec![
                    "uuids",
                    "mid",
                    "authorization_data",
                    "cookies",
                    "last_login",
                    "device_settings",
                    "user_agent",
                    "country",
                    "country_code",
                    "locale",
                    "timezone_offset",
                    "timezone_name",
                    "push_disabled",
                    "usdid",
                ])
                .prop_map(str::to_owned),
                "[a-z_]{1,12}",
            ]
        }

        fn arb_session() -> impl Strategy<Value = Session> {
            (
                proptest::collection::btree_map("[a-z_]{1,10}", ".{0,20}", 0..5),
                proptest::collection::btree_map("[a-z_]{1,10}", ".{0,20}", 0..5),
                proptest::option::of(".{1,20}"),
                proptest::option::of(1_500_000_000u32..2_000_000_000),
                "[a-z]{2}_[A-Z]{2}",
                -43_200i32..=50_400,
                any::<bool>(),
                proptest::collection::btree_map("x_[a-z]{1,8}", ".{0,8}", 0..3),
            )
                .prop_map(|(cookies, auth, mid, login, locale, tz, push, extra)| {
                    let mut s = Session::import("{}").unwrap();
                    s.cookies = cookies;
                    s.authorization_data = auth.into_iter().map(|(k, v)| (k, json!(v))).collect();
                    s.mid = mid;
                    s.last_login = login.map(f64::from);
                    s.locale = locale;
                    s.timezone_offset = tz;
                    s.timezone_name = Some(timezone_name(tz));
                    s.push_disabled = push;
                    s.extra = extra.into_iter().map(|(k, v)| (k, json!(v))).collect();
                    s
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_text_is_a_session_or_an_error(raw in any::<String>()) {
                let _ = Session::import(&raw);
            }

            #[test]
            fn any_json_object_is_a_session_or_an_error(
                fields in proptest::collection::vec((arb_key(), arb_json()), 0..8),
            ) {
                let obj: Map<String, Value> = fields.into_iter().collect();
                if let Ok(s) = Session::import(&Value::Object(obj).to_string()) {
                    // Whatever loaded can be written out and loaded again.
                    prop_assert_eq!(Session::import(&s.export()).ok(), Some(s));
                }
            }

            #[test]
            fn exported_sessions_load_back_unchanged(s in arb_session()) {
                let again = Session::import(&s.export());
                prop_assert_eq!(again.as_ref().ok(), Some(&s), "{:?}", again.as_ref().err());
            }

            #[test]
            fn the_instagrapi_file_keeps_unknown_keys(
                extra in proptest::collection::btree_map("zz_[a-z]{1,8}", arb_json(), 0..4),
            ) {
                let mut v: Value = serde_json::from_str(FIXTURE).unwrap();
                for (k, x) in &extra {
                    v[k] = x.clone();
                }
                let s = Session::import(&v.to_string()).unwrap();
                prop_assert!(s.is_logged_in());
                let out: Value = serde_json::from_str(&s.export()).unwrap();
                for (k, x) in &extra {
                    prop_assert_eq!(&out[k], x);
                }
            }

            #[test]
            fn errors_never_quote_a_value_from_the_file(
                key in proptest::sample::select(vec![
                    "uuids", "authorization_data", "cookies", "last_login", "device_settings",
                    "country_code", "timezone_offset", "push_disabled", "mid",
                ]),
                secret in "[A-Za-z0-9]{16,32}",
                as_number in any::<bool>(),
                nested in any::<bool>(),
            ) {
                let value = if as_number {
                    json!(secret.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) | 1 << 60)
                } else {
                    json!(secret)
                };
                let doc = if nested {
                    json!({ key: {"sessionid": value} })
                } else {
                    json!({ key: value })
                };
                let shown = match &value {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                if let Err(e) = Session::import(&doc.to_string()) {
                    prop_assert!(!e.to_string().contains(&shown), "{}", e);
                }
            }
        }
    }
}
