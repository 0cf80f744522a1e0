//! The languages icf publishes in. Minimal version: the translation work keeps a richer
//! file with the same API (`Language::parse`, `code`, `ALL`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::FieldError;

/// A language code icf supports, such as `en`, `pt-BR` or `zh-Hans`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(&'static str);

const CODES: &[&str] = &[
    "en", "ru", "es", "pt-BR", "pt-PT", "de", "fr", "it", "uk", "pl", "tr", "nl", "ja", "ko",
    "zh-Hans", "zh-Hant", "ar", "id", "hi", "kk", "cs", "sv",
];

impl Language {
    pub const ALL: &'static [Language] = &[
        Language("en"),
        Language("ru"),
        Language("es"),
        Language("pt-BR"),
        Language("pt-PT"),
        Language("de"),
        Language("fr"),
        Language("it"),
        Language("uk"),
        Language("pl"),
        Language("tr"),
        Language("nl"),
        Language("ja"),
        Language("ko"),
        Language("zh-Hans"),
        Language("zh-Hant"),
        Language("ar"),
        Language("id"),
        Language("hi"),
        Language("kk"),
        Language("cs"),
        Language("sv"),
    ];

    /// Accepts a supported code in any letter case (`PT-br`, `zh_hans`).
    pub fn parse(raw: &str) -> Result<Language, FieldError> {
        let wanted = raw.trim().replace('_', "-");
        CODES
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&wanted))
            .map(|c| Language(c))
            .ok_or_else(|| {
                FieldError::new(
                    "language",
                    format!(
                        "'{}' is not a supported language; use one of: {}",
                        raw.chars().take(16).collect::<String>(),
                        CODES.join(", ")
                    ),
                )
            })
    }

    pub fn code(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
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
    fn codes_are_canonicalised_and_unknown_ones_refused() {
        assert_eq!(Language::parse("PT-br").unwrap().code(), "pt-BR");
        assert_eq!(Language::parse("zh_hans").unwrap().code(), "zh-Hans");
        assert_eq!(Language::parse("xx").unwrap_err().field, "language");
        assert_eq!(Language::ALL.len(), CODES.len());
    }
}
