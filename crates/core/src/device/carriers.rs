//! The SIM carriers, calling codes and time zones of the countries icf knows, from
//! `data/carriers.json`: a phone reports the carrier and clock of the country its proxy is
//! in.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

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
const CARRIERS_JSON: &str = include_str!("../../data/carriers.json");

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

/// One of the country's carriers, drawn with `rng` (a new device).
pub(super) fn random_carrier(country: &str, rng: &mut impl Rng) -> Option<Carrier> {
    carriers_of(country)
        .choose(rng)
        .map(|c| c.to_carrier(country))
}

/// One of the country's carriers picked by `seed`, the same for the same seed.
pub(super) fn carrier_by_seed(country: &str, seed: u64) -> Option<Carrier> {
    let carriers = carriers_of(country);
    if carriers.is_empty() {
        return None;
    }
    let index = usize::try_from(seed % carriers.len() as u64).unwrap_or(0);
    carriers.get(index).map(|c| c.to_carrier(country))
}

/// The international calling code of `country` (`49`); `None` for a country the data file
/// does not know.
pub(super) fn calling_code(country: &str) -> Option<u32> {
    CARRIERS.countries.get(country).map(|c| c.calling_code)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
