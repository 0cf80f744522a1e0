//! The emulated Android device of an Instagram account (fact sheet §1).
//!
//! Each account gets one device when it is created, drawn from a curated list of real
//! phones, plus identifiers generated once; both are kept for the account's life, because a
//! device that changes between sessions is one of Instagram's strongest ban signals.
//! The app profile (version, version code, Bloks id) is separate: it moves every few weeks
//! for every account at once.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

/// A phone model as Instagram's User-Agent describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceModel {
    /// `Maker/brand`, as instagrapi writes it (`Google/google`).
    pub manufacturer: &'static str,
    pub model: &'static str,
    /// The device codename (`husky`).
    pub device: &'static str,
    pub cpu: &'static str,
    pub dpi: &'static str,
    pub resolution: &'static str,
    /// Android API level.
    pub android_version: u32,
    pub android_release: &'static str,
}

macro_rules! models {
    ($(($m:literal, $model:literal, $dev:literal, $cpu:literal, $dpi:literal, $res:literal, $api:literal, $rel:literal)),* $(,)?) => {
        &[$(DeviceModel {
            manufacturer: $m, model: $model, device: $dev, cpu: $cpu, dpi: $dpi,
            resolution: $res, android_version: $api, android_release: $rel,
        }),*]
    };
}

/// Popular phones of 2022–2025 with the values their own Instagram app reports.
pub const MODELS: &[DeviceModel] = models![
    (
        "Google/google",
        "Pixel 8 Pro",
        "husky",
        "husky",
        "480dpi",
        "1344x2992",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 8",
        "shiba",
        "shiba",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 7",
        "panther",
        "panther",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 7a",
        "lynx",
        "lynx",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Google/google",
        "Pixel 6a",
        "bluejay",
        "bluejay",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "samsung/samsung",
        "SM-S918B",
        "dm3q",
        "qcom",
        "600dpi",
        "1440x3088",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-S911B",
        "dm1q",
        "qcom",
        "420dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-A546B",
        "a54x",
        "s5e8835",
        "450dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-A346B",
        "a34x",
        "mt6877",
        "450dpi",
        "1080x2340",
        34,
        "14"
    ),
    (
        "samsung/samsung",
        "SM-G991B",
        "o1s",
        "exynos2100",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "samsung/samsung",
        "SM-A135F",
        "a13",
        "exynos850",
        "450dpi",
        "1080x2408",
        33,
        "13"
    ),
    (
        "Xiaomi/xiaomi",
        "2211133G",
        "fuxi",
        "qcom",
        "440dpi",
        "1080x2400",
        34,
        "14"
    ),
    (
        "Xiaomi/Redmi",
        "2201117TY",
        "spes",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Xiaomi/Redmi",
        "23021RAA2Y",
        "topaz",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Xiaomi/POCO",
        "22101320G",
        "redwood",
        "qcom",
        "440dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OnePlus/OnePlus",
        "CPH2449",
        "salami",
        "qcom",
        "450dpi",
        "1440x3216",
        34,
        "14"
    ),
    (
        "OnePlus/OnePlus",
        "LE2113",
        "lemonade",
        "qcom",
        "420dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OnePlus/OnePlus",
        "CPH2415",
        "ivan",
        "mt6893",
        "480dpi",
        "1080x2412",
        33,
        "13"
    ),
    (
        "motorola/motorola",
        "moto g(60)",
        "hanoip",
        "qcom",
        "400dpi",
        "1080x2460",
        31,
        "12"
    ),
    (
        "motorola/motorola",
        "motorola edge 30",
        "dubai",
        "qcom",
        "400dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "OPPO/OPPO",
        "CPH2305",
        "OP52EBL1",
        "mt6877",
        "480dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "realme/realme",
        "RMX3363",
        "RE54E4L1",
        "qcom",
        "480dpi",
        "1080x2400",
        33,
        "13"
    ),
    (
        "Sony/Sony",
        "XQ-CT54",
        "pdx223",
        "qcom",
        "560dpi",
        "1644x3840",
        34,
        "14"
    ),
    (
        "Nothing/Nothing",
        "A063",
        "Spacewar",
        "qcom",
        "420dpi",
        "1080x2400",
        34,
        "14"
    ),
];

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
        }
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

/// A representative UTC offset (seconds) for a country: its most populous time zone,
/// standard time. Editable per account later; this only avoids a Moscow phone in GMT-4.
pub fn timezone_offset_for(country: &str) -> i32 {
    const H: i32 = 3600;
    match country {
        "US" => -5 * H,
        "CA" => -5 * H,
        "MX" => -6 * H,
        "BR" => -3 * H,
        "AR" => -3 * H,
        "GB" | "PT" | "IE" => 0,
        "ES" | "FR" | "DE" | "IT" | "NL" | "PL" | "CZ" | "SE" | "AT" | "BE" => H,
        "UA" | "FI" | "GR" | "RO" => 2 * H,
        "RU" | "TR" | "SA" | "BY" => 3 * H,
        "AE" => 4 * H,
        "KZ" => 5 * H,
        "IN" => 5 * H + 1800,
        "ID" | "TH" | "VN" => 7 * H,
        "CN" | "SG" => 8 * H,
        "JP" | "KR" => 9 * H,
        "AU" => 10 * H,
        _ => 0,
    }
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
    fn devices_round_trip_through_json() {
        let mut rng = StdRng::seed_from_u64(3);
        let d = Device::generate(&mut rng, "en", None);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Device>(&json).unwrap(), d);
    }
}
