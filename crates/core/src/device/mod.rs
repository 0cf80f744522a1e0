//! The emulated Android device of an Instagram account (fact sheet §1).
//!
//! Each account gets one device when it is created, drawn from a curated list of real
//! phones, plus identifiers generated once; both are kept for the account's life, because a
//! device that changes between sessions is one of Instagram's strongest ban signals.
//! The app profile (version, version code, Bloks id) is separate: it moves every few weeks
//! for every account at once.
//!
//! The phone's SIM carrier, locale and time zone follow the country of the account's proxy
//! (`data/carriers.json`), because a German IP whose phone reports a T-Mobile US SIM and a
//! New York clock is as odd to Instagram as a phone that changes model.

mod carriers;
mod models;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

pub use carriers::{Carrier, carrier_countries, carriers, timezone_offset_for};
pub use models::{DeviceModel, MODELS};

/// The identifiers instagrapi keeps under `uuids` (fact sheet §1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIds {
    pub phone_id: String,
    pub uuid: String,
    pub client_session_id: String,
    pub advertising_id: String,
    /// `android-` and 16 hex digits.
    pub android_device_id: String,
    pub request_id: String,
    pub tray_session_id: String,
}

/// Everything about an account's emulated phone that stays fixed: the hardware, its
/// identifiers, and its locale and time zone (matched to the account's audience).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub manufacturer: String,
    pub model: String,
    pub device: String,
    pub cpu: String,
    pub dpi: String,
    pub resolution: String,
    pub android_version: u32,
    pub android_release: String,
    pub ids: DeviceIds,
    /// `en_US`, with an underscore as in the User-Agent.
    pub locale: String,
    /// Two-letter country, upper case.
    pub country: String,
    /// Seconds east of UTC.
    pub timezone_offset: i32,
    /// The SIM's carrier, chosen with the device. Devices stored before carriers existed
    /// have none; [`Device::carrier`] derives theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Carrier>,
}

/// The Instagram app release being emulated; the three values move together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppProfile {
    pub app_version: String,
    pub version_code: String,
    pub bloks_versioning_id: String,
}

impl Default for AppProfile {
    /// instagrapi 3.2.2's default profile (fact sheet §1.2).
    fn default() -> Self {
        Self {
            app_version: "449.0.0.52.84".into(),
            version_code: "1079242191".into(),
            bloks_versioning_id: "799db3e387d7a21a19c72918b8698b6cd28a1516ade363792c100ed45a0f9f0b"
                .into(),
        }
    }
}

impl Device {
    /// A new device for an account whose audience speaks `language` (an icf language code
    /// such as `en`, `pt-BR`), optionally behind a proxy in `country`.
    pub fn generate(rng: &mut impl Rng, language: &str, country: Option<&str>) -> Device {
        let model = *MODELS.choose(rng).unwrap_or(&MODELS[0]);
        Device::with_model(rng, model, language, country)
    }

    pub fn with_model(
        rng: &mut impl Rng,
        model: DeviceModel,
        language: &str,
        country: Option<&str>,
    ) -> Device {
        let mut uuid = || {
            uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
                .into_uuid()
                .to_string()
        };
        let ids = DeviceIds {
            phone_id: uuid(),
            uuid: uuid(),
            client_session_id: uuid(),
            advertising_id: uuid(),
            request_id: uuid(),
            tray_session_id: uuid(),
            android_device_id: String::new(),
        };
        let android_device_id = format!(
            "android-{}",
            rng.random::<[u8; 8]>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let (locale, country) = locale_for(language, country);
        let timezone_offset = timezone_offset_for(&country);
        let network = carriers::random_carrier(&country, rng);
        Device {
            manufacturer: model.manufacturer.into(),
            model: model.model.into(),
            device: model.device.into(),
            cpu: model.cpu.into(),
            dpi: model.dpi.into(),
            resolution: model.resolution.into(),
            android_version: model.android_version,
            android_release: model.android_release.into(),
            ids: DeviceIds {
                android_device_id,
                ..ids
            },
            locale,
            country,
            timezone_offset,
            network,
        }
    }

    /// The SIM carrier this phone reports: the one chosen with it, or, for a device stored
    /// before carriers existed, one of its country's carriers picked by a hash of its own
    /// ids, so it is the same on every run and every worker. `None` when the country has
    /// no carriers in the data file.
    pub fn carrier(&self) -> Option<Carrier> {
        if let Some(c) = &self.network {
            return Some(c.clone());
        }
        let seed = fnv1a(&[&self.ids.phone_id, &self.ids.android_device_id]);
        carriers::carrier_by_seed(&self.country, seed)
    }

    /// The international calling code of the phone's country (`49`), what instagrapi calls
    /// `country_code`; `None` for a country the data file does not know.
    pub fn calling_code(&self) -> Option<u32> {
        carriers::calling_code(&self.country)
    }

    /// The User-Agent of fact sheet §1.3:
    /// `Instagram {app} Android ({api}/{release}; {dpi}; {res}; {maker}; {model}; {device}; {cpu}; {locale}; {code})`.
    pub fn user_agent(&self, app: &AppProfile) -> String {
        format!(
            "Instagram {} Android ({}/{}; {}; {}; {}; {}; {}; {}; {}; {})",
            app.app_version,
            self.android_version,
            self.android_release,
            self.dpi,
            self.resolution,
            self.manufacturer,
            self.model,
            self.device,
            self.cpu,
            self.locale,
            app.version_code
        )
    }
}

/// The locale (`es_MX`) and country (`MX`) for an audience language and an optional proxy
/// country: the proxy's country wins, so the phone looks like it is where its IP is.
pub fn locale_for(language: &str, country: Option<&str>) -> (String, String) {
    let mut parts = language.split(['-', '_']);
    let lang = parts.next().unwrap_or("en").to_ascii_lowercase();
    let region = parts
        .find(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase);
    let country = country
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase)
        .or(region)
        .unwrap_or_else(|| default_country(&lang).to_owned());
    let lang = if lang.is_empty() || lang.len() > 3 {
        "en".into()
    } else {
        lang
    };
    (format!("{lang}_{country}"), country)
}

fn default_country(lang: &str) -> &'static str {
    match lang {
        "en" => "US",
        "ru" => "RU",
        "es" => "ES",
        "pt" => "BR",
        "de" => "DE",
        "fr" => "FR",
        "it" => "IT",
        "uk" => "UA",
        "pl" => "PL",
        "tr" => "TR",
        "nl" => "NL",
        "ja" => "JP",
        "ko" => "KR",
        "zh" => "CN",
        "ar" => "SA",
        "id" => "ID",
        "hi" => "IN",
        "kk" => "KZ",
        "cs" => "CZ",
        "sv" => "SE",
        _ => "US",
    }
}

/// 64-bit FNV-1a over the parts (with a separator), written out here because the derived
/// carrier of an old device must not change when the standard library's hasher does.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use uuid::Uuid;

    #[test]
    fn user_agent_matches_the_fact_sheet_default() {
        let mut rng = StdRng::seed_from_u64(1);
        let device = Device::with_model(&mut rng, MODELS[0], "en", Some("US"));
        assert_eq!(
            device.user_agent(&AppProfile::default()),
            "Instagram 449.0.0.52.84 Android (34/14; 480dpi; 1344x2992; Google/google; \
             Pixel 8 Pro; husky; husky; en_US; 1079242191)"
        );
    }

    #[test]
    fn identifiers_have_instagrams_shapes_and_differ_per_device() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = Device::generate(&mut rng, "ru", None);
        let b = Device::generate(&mut rng, "ru", None);
        assert_ne!(a.ids, b.ids);
        let id = &a.ids.android_device_id;
        assert!(id.starts_with("android-") && id.len() == 24, "{id}");
        assert!(id[8..].chars().all(|c| c.is_ascii_hexdigit()));
        for u in [&a.ids.uuid, &a.ids.phone_id, &a.ids.advertising_id] {
            assert_eq!(Uuid::parse_str(u).unwrap().get_version_num(), 4);
        }
        assert_eq!((a.locale.as_str(), a.country.as_str()), ("ru_RU", "RU"));
        assert_eq!(a.timezone_offset, 3 * 3600);
    }

    #[test]
    fn locale_follows_the_proxy_country_then_the_language() {
        assert_eq!(locale_for("es", Some("mx")), ("es_MX".into(), "MX".into()));
        assert_eq!(locale_for("pt-BR", None), ("pt_BR".into(), "BR".into()));
        assert_eq!(locale_for("zh-Hans", None), ("zh_CN".into(), "CN".into()));
        assert_eq!(locale_for("en", None), ("en_US".into(), "US".into()));
    }

    #[test]
    fn the_data_covers_every_default_country_and_the_big_markets() {
        let langs = [
            "en", "ru", "es", "pt", "de", "fr", "it", "uk", "pl", "tr", "nl", "ja", "ko", "zh",
            "ar", "id", "hi", "kk", "cs", "sv",
        ];
        let big = [
            "US", "GB", "DE", "FR", "ES", "IT", "RU", "UA", "BR", "PT", "MX", "IN", "TR", "PL",
            "NL", "JP", "KR", "CN", "ID", "AR", "CA", "AU", "KZ",
        ];
        for country in langs.iter().map(|l| default_country(l)).chain(big) {
            assert!(!carriers(country).is_empty(), "{country} has no carriers");
        }
        // The offsets that were code before the data file moved them keep their values.
        assert_eq!(timezone_offset_for("RU"), 3 * 3600);
        assert_eq!(timezone_offset_for("IN"), 5 * 3600 + 1800);
        assert_eq!(timezone_offset_for("US"), -5 * 3600);
        assert_eq!(timezone_offset_for("XX"), 0);
    }

    #[test]
    fn a_new_device_gets_a_carrier_of_its_proxys_country() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let d = Device::generate(&mut rng, "en", Some("de"));
            let c = d.network.clone().expect("DE has carriers");
            assert_eq!((c.country.as_str(), c.mcc()), ("DE", "262"));
            assert_eq!(d.carrier(), Some(c.clone()));
            assert_eq!(d.calling_code(), Some(49));
            assert_eq!((d.locale.as_str(), d.timezone_offset), ("en_DE", 3600));
            seen.insert(c.mcc_mnc);
        }
        assert!(seen.len() > 1, "the carrier is drawn, not fixed: {seen:?}");

        // Without a proxy the language's country decides; an unknown country has none.
        let ru = Device::generate(&mut rng, "ru", None);
        assert_eq!(ru.network.map(|c| c.country), Some("RU".to_owned()));
        let unknown = Device::generate(&mut rng, "en", Some("LI"));
        assert_eq!((&unknown.network, unknown.carrier()), (&None, None));
        assert_eq!(unknown.calling_code(), None);
    }

    #[test]
    fn a_stored_device_keeps_its_carrier() {
        let mut rng = StdRng::seed_from_u64(5);
        let d = Device::generate(&mut rng, "pt-BR", Some("BR"));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["network"]["country"], "BR");
        let back: Device = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.carrier(), d.network);
    }

    #[test]
    fn an_old_device_without_a_carrier_gets_a_stable_one_from_its_ids() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let mut json = serde_json::to_value(Device::generate(&mut rng, "ru", None)).unwrap();
            json.as_object_mut().unwrap().remove("network");
            let old: Device = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(old.network, None);
            let c = old.carrier().expect("RU has carriers");
            assert!(carriers("RU").contains(&c), "{c:?}");
            let again: Device = serde_json::from_value(json).unwrap();
            assert_eq!(again.carrier(), Some(c.clone()));
            seen.insert(c.mcc_mnc);
        }
        assert!(
            seen.len() > 1,
            "old devices spread over the carriers: {seen:?}"
        );
        // Pinned, so a change of the derivation (which would move old accounts to another
        // carrier) fails here first.
        let old: Device = serde_json::from_value(serde_json::json!({
            "manufacturer": "Google/google", "model": "Pixel 8", "device": "shiba",
            "cpu": "shiba", "dpi": "420dpi", "resolution": "1080x2400",
            "android_version": 34, "android_release": "14",
            "ids": {"phone_id": "p-1", "uuid": "u", "client_session_id": "c",
                    "advertising_id": "a", "android_device_id": "android-0123456789abcdef",
                    "request_id": "r", "tray_session_id": "t"},
            "locale": "de_DE", "country": "DE", "timezone_offset": 3600
        }))
        .unwrap();
        assert_eq!(old.carrier().map(|c| c.mcc_mnc), Some("26202".to_owned()));
    }

    #[test]
    fn devices_round_trip_through_json() {
        let mut rng = StdRng::seed_from_u64(3);
        let d = Device::generate(&mut rng, "en", None);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Device>(&json).unwrap(), d);
    }
}
