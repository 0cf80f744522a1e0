//! Which translation service. A file of its own so that `error` can name the provider
//! without depending on the clients, which return `error`'s type.

use std::fmt;

/// Which service translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    DeepL,
    Google,
    LibreTranslate,
}

impl ProviderKind {
    /// The name in configuration and API answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderKind::DeepL => "deepl",
            ProviderKind::Google => "google",
            ProviderKind::LibreTranslate => "libretranslate",
        }
    }

    pub fn parse(raw: &str) -> Option<ProviderKind> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "deepl" => Some(ProviderKind::DeepL),
            "google" => Some(ProviderKind::Google),
            "libretranslate" | "libre" => Some(ProviderKind::LibreTranslate),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderKind::DeepL => "DeepL",
            ProviderKind::Google => "Google Translate",
            ProviderKind::LibreTranslate => "LibreTranslate",
        })
    }
}
