//! The languages icf can write captions in. Accounts carry one of these codes; the
//! translation providers map them to their own codes (DeepL wants `EN-US`, Google `zh-CN`…).
//!
//! Codes are BCP 47 tags as people write them (`en`, `pt-BR`, `zh-Hans`) and are parsed
//! case-insensitively, with `_` accepted for `-`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::FieldError;

/// One language icf supports.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language {
    code: &'static str,
    english: &'static str,
    native: &'static str,
}

const fn lang(code: &'static str, english: &'static str, native: &'static str) -> Language {
    Language {
        code,
        english,
        native,
    }
}

/// Every language icf supports, in code order. A provider may not translate all of them;
/// it says so per language.
pub const ALL: &[Language] = &[
    lang("af", "Afrikaans", "Afrikaans"),
    lang("ar", "Arabic", "العربية"),
    lang("az", "Azerbaijani", "Azərbaycan dili"),
    lang("be", "Belarusian", "Беларуская"),
    lang("bg", "Bulgarian", "Български"),
    lang("bn", "Bengali", "বাংলা"),
    lang("ca", "Catalan", "Català"),
    lang("cs", "Czech", "Čeština"),
    lang("da", "Danish", "Dansk"),
    lang("de", "German", "Deutsch"),
    lang("el", "Greek", "Ελληνικά"),
    lang("en", "English", "English"),
    lang("en-GB", "English (British)", "English (UK)"),
    lang("en-US", "English (American)", "English (US)"),
    lang("es", "Spanish", "Español"),
    lang(
        "es-419",
        "Spanish (Latin America)",
        "Español (Latinoamérica)",
    ),
    lang("et", "Estonian", "Eesti"),
    lang("fa", "Persian", "فارسی"),
    lang("fi", "Finnish", "Suomi"),
    lang("fr", "French", "Français"),
    lang("ga", "Irish", "Gaeilge"),
    lang("he", "Hebrew", "עברית"),
    lang("hi", "Hindi", "हिन्दी"),
    lang("hr", "Croatian", "Hrvatski"),
    lang("hu", "Hungarian", "Magyar"),
    lang("hy", "Armenian", "Հայերեն"),
    lang("id", "Indonesian", "Bahasa Indonesia"),
    lang("is", "Icelandic", "Íslenska"),
    lang("it", "Italian", "Italiano"),
    lang("ja", "Japanese", "日本語"),
    lang("ka", "Georgian", "ქართული"),
    lang("kk", "Kazakh", "Қазақ тілі"),
    lang("ko", "Korean", "한국어"),
    lang("lt", "Lithuanian", "Lietuvių"),
    lang("lv", "Latvian", "Latviešu"),
    lang("mk", "Macedonian", "Македонски"),
    lang("ms", "Malay", "Bahasa Melayu"),
    lang("nb", "Norwegian (Bokmål)", "Norsk bokmål"),
    lang("nl", "Dutch", "Nederlands"),
    lang("pl", "Polish", "Polski"),
    lang("pt", "Portuguese", "Português"),
    lang("pt-BR", "Portuguese (Brazilian)", "Português (Brasil)"),
    lang("pt-PT", "Portuguese (European)", "Português (Portugal)"),
    lang("ro", "Romanian", "Română"),
    lang("ru", "Russian", "Русский"),
    lang("sk", "Slovak", "Slovenčina"),
    lang("sl", "Slovenian", "Slovenščina"),
    lang("sq", "Albanian", "Shqip"),
    lang("sr", "Serbian", "Српски"),
    lang("sv", "Swedish", "Svenska"),
    lang("sw", "Swahili", "Kiswahili"),
    lang("ta", "Tamil", "தமிழ்"),
    lang("th", "Thai", "ไทย"),
    lang("tl", "Tagalog (Filipino)", "Filipino"),
    lang("tr", "Turkish", "Türkçe"),
    lang("uk", "Ukrainian", "Українська"),
    lang("ur", "Urdu", "اردو"),
    lang("uz", "Uzbek", "Oʻzbekcha"),
    lang("vi", "Vietnamese", "Tiếng Việt"),
    lang("zh-Hans", "Chinese (simplified)", "简体中文"),
    lang("zh-Hant", "Chinese (traditional)", "繁體中文"),
];

impl Language {
    /// Parses a code such as `ru`, `PT-br` or `zh_hans`. Plain `zh` means simplified
    /// Chinese (as it does for DeepL). The error names the field `language`; callers
    /// with another field name rename it.
    pub fn parse(raw: &str) -> Result<Language, FieldError> {
        let wanted = raw.trim().replace('_', "-");
        if wanted.eq_ignore_ascii_case("zh") {
            return Ok(Self::find("zh-Hans"));
        }
        ALL.iter()
            .copied()
            .find(|l| l.code.eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| {
                FieldError::new(
                    "language",
                    format!(
                        "'{}' is not a language icf supports (use a code like en, ru, es, pt-BR, zh-Hans)",
                        raw.chars().take(20).collect::<String>()
                    ),
                )
            })
    }

    /// Like [`Language::parse`], with the error naming `field`.
    pub fn parse_field(raw: &str, field: &'static str) -> Result<Language, FieldError> {
        Self::parse(raw).map_err(|e| FieldError::new(field, e.message))
    }

    fn find(code: &str) -> Language {
        ALL.iter()
            .copied()
            .find(|l| l.code == code)
            .unwrap_or(ALL[0])
    }

    /// The canonical code, e.g. `pt-BR`.
    pub const fn code(self) -> &'static str {
        self.code
    }

    pub const fn english_name(self) -> &'static str {
        self.english
    }

    pub const fn native_name(self) -> &'static str {
        self.native
    }

    /// The language without its regional variant: `pt-BR` → `pt`, `zh-Hant` → `zh`.
    pub fn base(self) -> &'static str {
        self.code.split('-').next().unwrap_or(self.code)
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Language({})", self.code)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl std::str::FromStr for Language {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        Language::parse(s)
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Language::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_case_insensitively_to_the_canonical_form() {
        assert_eq!(Language::parse("pt-br").unwrap().code(), "pt-BR");
        assert_eq!(Language::parse(" ZH_hant ").unwrap().code(), "zh-Hant");
        assert_eq!(Language::parse("zh").unwrap().code(), "zh-Hans");
        assert_eq!(Language::parse("RU").unwrap().english_name(), "Russian");
        assert_eq!(Language::parse("uk").unwrap().native_name(), "Українська");
    }

    #[test]
    fn unknown_codes_are_refused_naming_the_field() {
        for bad in ["", "xx", "english", "pt-XX", "ru-RU"] {
            let err = Language::parse(bad).unwrap_err();
            assert_eq!(err.field, "language", "{bad}");
        }
        assert_eq!(
            Language::parse_field("klingon", "target_langs")
                .unwrap_err()
                .field,
            "target_langs"
        );
    }

    #[test]
    fn the_list_is_sorted_unique_and_round_trips() {
        for pair in ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code(), "{:?}", pair);
        }
        for l in ALL {
            assert_eq!(Language::parse(l.code()).unwrap(), *l);
            let json = serde_json::to_string(l).unwrap();
            assert_eq!(serde_json::from_str::<Language>(&json).unwrap(), *l);
        }
        assert_eq!(Language::parse("pt-BR").unwrap().base(), "pt");
    }
}
