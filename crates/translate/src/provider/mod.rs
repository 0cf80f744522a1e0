//! The [`Translator`] trait, the three provider clients and what they share: the HTTP
//! client, the retry policy of DeepL's official clients, and error classification.

pub mod deepl;
pub mod google;
mod http;
pub(crate) mod kind;
pub mod libre;
mod translator;

use std::fmt;
use std::sync::Arc;

use icf_core::language::Language;
use secrecy::SecretString;

use crate::error::TranslateError;

pub use http::RetryPolicy;
pub use kind::ProviderKind;
pub use translator::{Batch, GlossaryUpload, Translator};

use http::Http;

/// How to reach and authenticate with a provider.
#[derive(Clone)]
pub enum ProviderConfig {
    DeepL {
        key: SecretString,
        /// Overrides the host picked from the key (`:fx` → Free).
        base_url: Option<String>,
        /// What plain `en` and `pt` mean as targets (DeepL wants a variant).
        english: Language,
        portuguese: Language,
    },
    Google {
        key: SecretString,
        base_url: Option<String>,
    },
    LibreTranslate {
        url: String,
        key: Option<SecretString>,
    },
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderConfig::DeepL { base_url, .. } => f
                .debug_struct("DeepL")
                .field("base_url", base_url)
                .finish_non_exhaustive(),
            ProviderConfig::Google { base_url, .. } => f
                .debug_struct("Google")
                .field("base_url", base_url)
                .finish_non_exhaustive(),
            ProviderConfig::LibreTranslate { url, .. } => f
                .debug_struct("LibreTranslate")
                .field("url", url)
                .finish_non_exhaustive(),
        }
    }
}

impl ProviderConfig {
    pub fn kind(&self) -> ProviderKind {
        match self {
            ProviderConfig::DeepL { .. } => ProviderKind::DeepL,
            ProviderConfig::Google { .. } => ProviderKind::Google,
            ProviderConfig::LibreTranslate { .. } => ProviderKind::LibreTranslate,
        }
    }

    /// The client for this configuration.
    pub fn build(&self, retry: RetryPolicy) -> Result<Arc<dyn Translator>, TranslateError> {
        let http = Http::new(self.kind(), retry)?;
        Ok(match self.clone() {
            ProviderConfig::DeepL {
                key,
                base_url,
                english,
                portuguese,
            } => Arc::new(deepl::DeepL::new(http, key, base_url, english, portuguese)),
            ProviderConfig::Google { key, base_url } => {
                Arc::new(google::Google::new(http, key, base_url))
            }
            ProviderConfig::LibreTranslate { url, key } => {
                Arc::new(libre::LibreTranslate::new(http, url, key))
            }
        })
    }
}
