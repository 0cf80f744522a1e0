//! Machine translation of captions: which provider, its keys and URLs, what plain `en` and
//! `pt` mean, and how patiently a provider is retried.

use icf_core::caption::CaptionRules;
use icf_core::language::Language;
use icf_translate::{ProviderConfig, ProviderKind, RetryPolicy, TranslationConfig};
use secrecy::SecretString;

use super::vars::{ConfigError, Vars};

/// The translation providers and how they are called.
#[derive(Clone)]
pub struct TranslationSettings {
    /// `TRANSLATION_PROVIDER` (`deepl`, `google`, `libretranslate` or `none`); when unset,
    /// the first provider with credentials: DeepL, then Google, then LibreTranslate.
    pub provider: Option<ProviderKind>,
    /// `TRANSLATION_FALLBACK_PROVIDER`: used when the first provider's quota is used up.
    pub fallback_provider: Option<ProviderKind>,
    /// `DEEPL_API_KEY`
    pub deepl_api_key: Option<SecretString>,
    /// `DEEPL_API_URL`: overrides the host picked from the key (`:fx` → Free).
    pub deepl_api_url: Option<String>,
    /// `GOOGLE_TRANSLATE_API_KEY`
    pub google_api_key: Option<SecretString>,
    /// `GOOGLE_TRANSLATE_API_URL` (default `https://translation.googleapis.com`).
    pub google_api_url: Option<String>,
    /// `LIBRETRANSLATE_URL`: a LibreTranslate server.
    pub libretranslate_url: Option<String>,
    /// `LIBRETRANSLATE_API_KEY` (optional).
    pub libretranslate_api_key: Option<SecretString>,
    /// `TRANSLATION_ENGLISH_VARIANT` (`en-US` default, or `en-GB`): what plain `en` means.
    pub english_variant: Language,
    /// `TRANSLATION_PORTUGUESE_VARIANT` (`pt-BR` default, or `pt-PT`): what plain `pt` means.
    pub portuguese_variant: Language,
    /// `ICF_TRANSLATION_RETRY_INITIAL_MS` (default 1000): the first backoff delay.
    pub retry_initial_ms: u64,
    /// `ICF_TRANSLATION_MAX_RETRIES` (default 5).
    pub max_retries: u32,
    /// `ICF_TRANSLATION_TIMEOUT_SECS` (default 10): per request attempt.
    pub timeout_secs: u64,
}

impl TranslationSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let deepl_api_key = vars.secret("DEEPL_API_KEY");
        let google_api_key = vars.secret("GOOGLE_TRANSLATE_API_KEY");
        let deepl_api_url = vars.url("DEEPL_API_URL")?;
        let google_api_url = vars.url("GOOGLE_TRANSLATE_API_URL")?;
        let libretranslate_url = vars.url("LIBRETRANSLATE_URL")?;
        let has_credentials = |kind: ProviderKind| match kind {
            ProviderKind::DeepL => deepl_api_key.is_some(),
            ProviderKind::Google => google_api_key.is_some(),
            ProviderKind::LibreTranslate => libretranslate_url.is_some(),
        };
        let provider = chosen_provider(vars, has_credentials)?;
        let fallback_provider = fallback(vars, provider, has_credentials)?;
        Ok(Self {
            provider,
            fallback_provider,
            deepl_api_key,
            deepl_api_url,
            google_api_key,
            google_api_url,
            libretranslate_url,
            english_variant: variant(vars, "TRANSLATION_ENGLISH_VARIANT", &["en-US", "en-GB"])?,
            portuguese_variant: variant(
                vars,
                "TRANSLATION_PORTUGUESE_VARIANT",
                &["pt-BR", "pt-PT"],
            )?,
            timeout_secs: timeout_secs(vars)?,
            libretranslate_api_key: vars.secret("LIBRETRANSLATE_API_KEY"),
            retry_initial_ms: vars.parse(
                "ICF_TRANSLATION_RETRY_INITIAL_MS",
                1000u64,
                "a number of milliseconds",
            )?,
            max_retries: vars.parse(
                "ICF_TRANSLATION_MAX_RETRIES",
                5u32,
                "a whole number of retries",
            )?,
        })
    }

    /// What the translation service is built from; `primary: None` when no provider is
    /// set. `limits` are the caption rules the translator keeps.
    pub fn config(&self, limits: CaptionRules) -> TranslationConfig {
        let provider = |kind: ProviderKind| -> Option<ProviderConfig> {
            Some(match kind {
                ProviderKind::DeepL => ProviderConfig::DeepL {
                    key: self.deepl_api_key.clone()?,
                    base_url: self.deepl_api_url.clone(),
                    english: self.english_variant,
                    portuguese: self.portuguese_variant,
                },
                ProviderKind::Google => ProviderConfig::Google {
                    key: self.google_api_key.clone()?,
                    base_url: self.google_api_url.clone(),
                },
                ProviderKind::LibreTranslate => ProviderConfig::LibreTranslate {
                    url: self.libretranslate_url.clone()?,
                    key: self.libretranslate_api_key.clone(),
                },
            })
        };
        TranslationConfig {
            primary: self.provider.and_then(provider),
            fallback: self.fallback_provider.and_then(provider),
            retry: RetryPolicy {
                initial_delay: std::time::Duration::from_millis(self.retry_initial_ms),
                max_retries: self.max_retries,
                timeout: std::time::Duration::from_secs(self.timeout_secs),
                ..RetryPolicy::default()
            },
            limits,
        }
    }
}

/// `TRANSLATION_PROVIDER`, or the first provider with credentials when it is unset.
fn chosen_provider(
    vars: &Vars,
    has_credentials: impl Fn(ProviderKind) -> bool,
) -> Result<Option<ProviderKind>, ConfigError> {
    Ok(match provider_var(vars, "TRANSLATION_PROVIDER")? {
        Some(Some(kind)) if !has_credentials(kind) => {
            return Err(ConfigError::new(
                "TRANSLATION_PROVIDER",
                format!("is {} but {} is not set", kind.as_str(), needs(kind)),
            ));
        }
        Some(chosen) => chosen,
        None => [
            ProviderKind::DeepL,
            ProviderKind::Google,
            ProviderKind::LibreTranslate,
        ]
        .into_iter()
        .find(|k| has_credentials(*k)),
    })
}

/// `TRANSLATION_FALLBACK_PROVIDER`: another provider than `primary`, with credentials.
fn fallback(
    vars: &Vars,
    primary: Option<ProviderKind>,
    has_credentials: impl Fn(ProviderKind) -> bool,
) -> Result<Option<ProviderKind>, ConfigError> {
    match provider_var(vars, "TRANSLATION_FALLBACK_PROVIDER")?.flatten() {
        Some(kind) if !has_credentials(kind) => Err(ConfigError::new(
            "TRANSLATION_FALLBACK_PROVIDER",
            format!("is {} but {} is not set", kind.as_str(), needs(kind)),
        )),
        Some(kind) if Some(kind) == primary || primary.is_none() => Err(ConfigError::new(
            "TRANSLATION_FALLBACK_PROVIDER",
            "must name a provider other than TRANSLATION_PROVIDER",
        )),
        other => Ok(other),
    }
}

/// The variable a provider cannot work without.
fn needs(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::DeepL => "DEEPL_API_KEY",
        ProviderKind::Google => "GOOGLE_TRANSLATE_API_KEY",
        ProviderKind::LibreTranslate => "LIBRETRANSLATE_URL",
    }
}

fn timeout_secs(vars: &Vars) -> Result<u64, ConfigError> {
    let secs = vars.parse("ICF_TRANSLATION_TIMEOUT_SECS", 10u64, "a number of seconds")?;
    if secs == 0 {
        return Err(ConfigError::new(
            "ICF_TRANSLATION_TIMEOUT_SECS",
            "expected a number of seconds above 0",
        ));
    }
    Ok(secs)
}

/// `Some(None)` for an explicit `none`, `None` when unset.
fn provider_var(
    vars: &Vars,
    name: &'static str,
) -> Result<Option<Option<ProviderKind>>, ConfigError> {
    match vars.text(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("none") => Ok(Some(None)),
        Some(v) => ProviderKind::parse(&v)
            .map(|k| Some(Some(k)))
            .ok_or_else(|| {
                ConfigError::new(
                    name,
                    format!("expected deepl, google, libretranslate or none, got '{v}'"),
                )
            }),
    }
}

/// One of `allowed` (the first when unset).
fn variant(vars: &Vars, name: &'static str, allowed: &[&str]) -> Result<Language, ConfigError> {
    let raw = vars.text(name).unwrap_or_else(|| allowed[0].to_owned());
    match Language::parse(&raw) {
        Ok(l) if allowed.contains(&l.code()) => Ok(l),
        _ => Err(ConfigError::new(
            name,
            format!("expected one of {}, got '{raw}'", allowed.join(", ")),
        )),
    }
}
