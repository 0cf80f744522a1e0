//! Google Cloud Translation Basic (v2): `POST /language/translate/v2?key=…`, `format=text`.

use futures_util::future::BoxFuture;
use icf_core::language::Language;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{Http, Verdict, chunks, clip};
use super::kind::ProviderKind;
use super::translator::{Batch, Translator};
use crate::error::TranslateError;

pub const DEFAULT_URL: &str = "https://translation.googleapis.com";
/// At most 128 segments per request; Basic refuses bodies over 100 K bytes.
pub const MAX_SEGMENTS: usize = 128;
pub const MAX_BODY_BYTES: usize = 100_000;

/// Google's code for an icf language.
pub fn code(lang: Language) -> String {
    match lang.code() {
        "zh-Hans" => "zh-CN".into(),
        "zh-Hant" => "zh-TW".into(),
        "pt-PT" => "pt-PT".into(),
        "nb" => "no".into(),
        _ => lang.base().to_owned(),
    }
}

pub struct Google {
    http: Http,
    key: SecretString,
    base_url: String,
}

#[derive(Serialize)]
struct Request<'a> {
    q: &'a [String],
    target: &'a str,
    source: &'a str,
    format: &'static str,
}

#[derive(Deserialize)]
struct Response {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    translations: Vec<Translated>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Translated {
    translated_text: String,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    error: Option<ErrorInner>,
}

#[derive(Deserialize, Default)]
struct ErrorInner {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<Reason>,
    #[serde(default)]
    details: Vec<Reason>,
}

#[derive(Deserialize, Default)]
struct Reason {
    #[serde(default)]
    reason: String,
}

impl Google {
    pub(crate) fn new(http: Http, key: SecretString, base_url: Option<String>) -> Google {
        Google {
            http,
            key,
            base_url: base_url
                .unwrap_or_else(|| DEFAULT_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
        }
    }

    fn judge(kind: ProviderKind, expected: usize, status: u16, body: &str) -> Verdict<Vec<String>> {
        if status == 200 {
            return match serde_json::from_str::<Response>(body) {
                Ok(r) if r.data.translations.len() == expected => Verdict::Done(
                    r.data
                        .translations
                        .into_iter()
                        .map(|t| t.translated_text)
                        .collect(),
                ),
                Ok(r) => Verdict::Fail(TranslateError::InvalidResponse {
                    provider: kind,
                    message: format!(
                        "{} translations for {expected} texts",
                        r.data.translations.len()
                    ),
                }),
                Err(e) => Verdict::Fail(TranslateError::InvalidResponse {
                    provider: kind,
                    message: e.to_string(),
                }),
            };
        }
        let err = serde_json::from_str::<ErrorBody>(body)
            .unwrap_or_default()
            .error
            .unwrap_or_default();
        let reasons: Vec<&str> = err
            .errors
            .iter()
            .chain(&err.details)
            .map(|r| r.reason.as_str())
            .collect();
        let has = |r: &str| reasons.iter().any(|x| x.eq_ignore_ascii_case(r));
        match status {
            400 if has("API_KEY_INVALID") || has("keyInvalid") => {
                Verdict::Fail(TranslateError::BadKey { provider: kind })
            }
            403 if has("dailyLimitExceeded") || has("quotaExceeded") => {
                Verdict::Fail(TranslateError::QuotaExceeded { provider: kind })
            }
            // Per-minute quotas refill within a minute: worth waiting for.
            403 if has("rateLimitExceeded") || has("userRateLimitExceeded") => {
                Verdict::Retry("rate limit exceeded (403)".into())
            }
            401 | 403 => Verdict::Fail(TranslateError::BadKey { provider: kind }),
            429 => Verdict::Retry("too many requests (429)".into()),
            s if s >= 500 => Verdict::Retry(format!("server error {s}")),
            _ => Verdict::Fail(TranslateError::Rejected {
                provider: kind,
                status,
                message: if err.message.is_empty() {
                    format!("HTTP {status}")
                } else {
                    clip(&err.message)
                },
            }),
        }
    }
}

impl Translator for Google {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Google
    }

    fn supports_markup(&self, _target: Language) -> bool {
        // Whether the Cloud API honours "notranslate" markup is not documented: send prose
        // fragments only.
        false
    }

    fn translate<'a>(
        &'a self,
        batch: Batch<'a>,
    ) -> BoxFuture<'a, Result<Vec<String>, TranslateError>> {
        Box::pin(async move {
            let kind = self.kind();
            let (source, target) = (code(batch.source), code(batch.target));
            let url = reqwest::Url::parse_with_params(
                &format!("{}/language/translate/v2", self.base_url),
                &[("key", self.key.expose_secret())],
            )
            .map_err(|_| TranslateError::Rejected {
                provider: kind,
                status: 0,
                message: "GOOGLE_TRANSLATE_API_URL is not a valid URL".into(),
            })?;
            let mut out = Vec::with_capacity(batch.texts.len());
            for range in chunks(batch.texts, MAX_SEGMENTS, MAX_BODY_BYTES - 1024) {
                let texts = &batch.texts[range];
                let body = Request {
                    q: texts,
                    target: &target,
                    source: &source,
                    format: "text",
                };
                let translated = self
                    .http
                    .send(
                        |client| client.post(url.clone()).json(&body),
                        |status, body| Self::judge(kind, texts.len(), status, body),
                    )
                    .await?;
                out.extend(translated);
            }
            Ok(out)
        })
    }
}
