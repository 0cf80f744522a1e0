//! The one error type of translation.

use crate::provider::kind::ProviderKind;

/// Why a text could not be translated. Messages are for the user: they never contain a
/// key, and say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    #[error(
        "no translation provider is configured (set DEEPL_API_KEY, GOOGLE_TRANSLATE_API_KEY or \
         LIBRETRANSLATE_URL); write the caption of each language by hand"
    )]
    NotConfigured,
    #[error("{provider} cannot translate {direction} {language}")]
    UnsupportedLanguage {
        provider: ProviderKind,
        language: String,
        /// `from` or `into`.
        direction: &'static str,
    },
    #[error(
        "{provider}: the translation quota is used up; translations resume when it renews (or configure TRANSLATION_FALLBACK_PROVIDER)"
    )]
    QuotaExceeded { provider: ProviderKind },
    #[error("{provider} refused the API key; check it in the settings")]
    BadKey { provider: ProviderKind },
    #[error("{provider} refused the request ({status}): {message}")]
    Rejected {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider} is unavailable: {message}")]
    Unavailable {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider} sent an answer icf cannot read: {message}")]
    InvalidResponse {
        provider: ProviderKind,
        message: String,
    },
    #[error("the translation could not keep the caption intact ({0}); write this language by hand")]
    Corrupted(String),
    #[error("the translated caption breaks a limit: {0}")]
    OverLimit(String),
    #[error("the translation cache failed: {0}")]
    Cache(String),
}

impl TranslateError {
    /// A short machine-readable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            TranslateError::NotConfigured => "translation_not_configured",
            TranslateError::UnsupportedLanguage { .. } => "unsupported_language",
            TranslateError::QuotaExceeded { .. } => "quota_exceeded",
            TranslateError::BadKey { .. } => "bad_api_key",
            TranslateError::Rejected { .. } => "rejected",
            TranslateError::Unavailable { .. } => "provider_unavailable",
            TranslateError::InvalidResponse { .. } => "invalid_response",
            TranslateError::Corrupted(_) => "caption_corrupted",
            TranslateError::OverLimit(_) => "over_limit",
            TranslateError::Cache(_) => "cache_failed",
        }
    }
}
