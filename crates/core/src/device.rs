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

use std::collections::BTreeMap;
use std::sync::LazyLock;

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
    /// The SIM's carrier, chosen with the device. Devices stored before carriers existed
    /// have none; [`Device::carrier`] derives theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Carrier>,
}

/// The mobile network of the phone's SIM, as Android's `TelephonyManager` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carrier {
    /// MCC and MNC together (`26201`), `getSimOperator()`.
    pub mcc_mnc: String,
    /// `getSimOperatorName()` (`Telekom.de`).
    pub name: String,
    /// The carrier's two-letter country, upper case.
    pub country: String,
}

impl Carrier {
    /// The mobile country code: the first three digits (ITU-T E.212).
    pub fn mcc(&self) -> &str {
        self.mcc_mnc.get(..3).unwrap_or(&self.mcc_mnc)
    }

    /// The mobile network code: the two or three digits after the MCC.
    pub fn mnc(&self) -> &str {
        self.mcc_mnc.get(3..).unwrap_or("")
    }
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
        let network = carriers_of(&country)
            .choose(rng)
            .map(|c| c.to_carrier(&country));
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
        let carriers = carriers_of(&self.country);
        if carriers.is_empty() {
            return None;
        }
        let seed = fnv1a(&[&self.ids.phone_id, &self.ids.android_device_id]);
        let index = usize::try_from(seed % carriers.len() as u64).unwrap_or(0);
        carriers.get(index).map(|c| c.to_carrier(&self.country))
    }

    /// The international calling code of the phone's country (`49`), what instagrapi calls
    /// `country_code`; `None` for a country the data file does not know.
    pub fn calling_code(&self) -> Option<u32> {
        CARRIERS
            .countries
            .get(&self.country)
            .map(|c| c.calling_code)
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
/// standard time, from `data/carriers.json`; 0 for a country the file does not list.
/// This only avoids a Moscow phone in GMT-4.
pub fn timezone_offset_for(country: &str) -> i32 {
    CARRIERS
        .countries
        .get(country)
        .map_or(0, |c| c.timezone_offset)
}

/// The carriers of a country (two letters, upper case), largest first; empty when the data
/// file does not list the country.
pub fn carriers(country: &str) -> Vec<Carrier> {
    carriers_of(country)
        .iter()
        .map(|c| c.to_carrier(country))
        .collect()
}

/// The countries the data file knows, alphabetically.
pub fn carrier_countries() -> impl Iterator<Item = &'static str> {
    CARRIERS.countries.keys().map(String::as_str)
}

/// `data/carriers.json`: per country its calling code, a representative time zone and its
/// largest mobile networks. Kept as data so a carrier can be added without touching code.
const CARRIERS_JSON: &str = include_str!("../data/carriers.json");

#[derive(Debug, Default, Deserialize)]
struct CarrierFile {
    countries: BTreeMap<String, CountryNetworks>,
}

#[derive(Debug, Deserialize)]
struct CountryNetworks {
    calling_code: u32,
    timezone_offset: i32,
    carriers: Vec<CarrierEntry>,
}

#[derive(Debug, Deserialize)]
struct CarrierEntry {
    mcc_mnc: String,
    name: String,
}

impl CarrierEntry {
    fn to_carrier(&self, country: &str) -> Carrier {
        Carrier {
            mcc_mnc: self.mcc_mnc.clone(),
            name: self.name.clone(),
            country: country.to_owned(),
        }
    }
}

// The file is compiled in and checked by the unit tests below, so an unreadable file
// cannot reach a release; the empty fallback only keeps a bad edit from panicking.
static CARRIERS: LazyLock<CarrierFile> =
    LazyLock::new(|| serde_json::from_str(CARRIERS_JSON).unwrap_or_default());

fn carriers_of(country: &str) -> &'static [CarrierEntry] {
    CARRIERS
        .countries
        .get(country)
        .map_or(&[], |c| c.carriers.as_slice())
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

    /// Mobile country codes per country, from the ITU-T E.212 list, written here
    /// independently of the data file so a typo in either shows.
    const E212: &[(&str, &[&str])] = &[
        ("AE", &["424", "430", "431"]),
        ("AR", &["722"]),
        ("AT", &["232"]),
        ("AU", &["505"]),
        ("AZ", &["400"]),
        ("BE", &["206"]),
        ("BR", &["724"]),
        ("BY", &["257"]),
        ("CA", &["302"]),
        ("CH", &["228"]),
        ("CL", &["730"]),
        ("CN", &["460", "461"]),
        ("CO", &["732"]),
        ("CZ", &["230"]),
        ("DE", &["262"]),
        ("DK", &["238"]),
        ("EG", &["602"]),
        ("ES", &["214"]),
        ("FI", &["244"]),
        ("FR", &["208"]),
        ("GB", &["234", "235"]),
        ("GE", &["282"]),
        ("GR", &["202"]),
        ("HK", &["454"]),
        ("HU", &["216"]),
        ("ID", &["510"]),
        ("IE", &["272"]),
        ("IL", &["425"]),
        ("IN", &["404", "405", "406"]),
        ("IT", &["222"]),
        ("JP", &["440", "441"]),
        ("KR", &["450"]),
        ("KZ", &["401"]),
        ("MX", &["334"]),
        ("MY", &["502"]),
        ("NG", &["621"]),
        ("NL", &["204"]),
        ("NO", &["242"]),
        ("NZ", &["530"]),
        ("PE", &["716"]),
        ("PH", &["515"]),
        ("PK", &["410"]),
        ("PL", &["260"]),
        ("PT", &["268"]),
        ("RO", &["226"]),
        ("RU", &["250"]),
        ("SA", &["420"]),
        ("SE", &["240"]),
        ("SG", &["525"]),
        ("TH", &["520"]),
        ("TR", &["286"]),
        ("TW", &["466"]),
        ("UA", &["255"]),
        ("US", &["310", "311", "312", "313", "314", "315", "316"]),
        ("UZ", &["434"]),
        ("VN", &["452"]),
        ("ZA", &["655"]),
    ];

    #[test]
    fn every_country_of_the_data_has_real_carriers_of_its_own() {
        let file: CarrierFile = serde_json::from_str(CARRIERS_JSON).unwrap();
        assert!(!file.countries.is_empty());
        assert_eq!(carrier_countries().count(), file.countries.len());
        for (country, data) in &file.countries {
            let mccs = E212
                .iter()
                .find(|(c, _)| c == country)
                .map(|(_, m)| *m)
                .unwrap_or_else(|| panic!("{country}: add its MCCs to E212"));
            assert!(
                (1..=4).contains(&data.carriers.len()),
                "{country}: 1–4 carriers"
            );
            for c in carriers(country) {
                assert!(
                    (5..=6).contains(&c.mcc_mnc.len())
                        && c.mcc_mnc.chars().all(|d| d.is_ascii_digit()),
                    "{country}: {c:?}"
                );
                assert!(mccs.contains(&c.mcc()), "{country}: {c:?} is not {mccs:?}");
                assert!(!c.name.trim().is_empty(), "{country}: {c:?}");
            }
            assert!((1..=999).contains(&data.calling_code), "{country}");
            assert!(
                data.timezone_offset.abs() <= 14 * 3600 && data.timezone_offset % 900 == 0,
                "{country}"
            );
        }
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
