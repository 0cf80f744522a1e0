//! LibreTranslate: `POST /translate` with `q` as a list; languages from `GET /languages`,
//! because each server translates only the models it has installed.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use icf_core::language::Language;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::http::{Http, Verdict, chunks, clip};
use super::kind::ProviderKind;
use super::translator::{Batch, Translator};
use crate::error::TranslateError;

const MAX_TEXTS: usize = 50;

pub struct LibreTranslate {
    http: Http,
    url: String,
    key: Option<SecretString>,
    /// Source code → target codes, read once from the server.
    languages: OnceCell<HashMap<String, Vec<String>>>,
}

#[derive(Serialize)]
struct Request<'a> {
    q: &'a [String],
    source: &'a str,
    target: &'a str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    translated_text: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

#[derive(Deserialize)]
struct LanguageEntry {
    code: String,
    #[serde(default)]
    targets: Vec<String>,
}

impl LibreTranslate {
    pub(crate) fn new(http: Http, url: String, key: Option<SecretString>) -> LibreTranslate {
        LibreTranslate {
            http,
            url: url.trim_end_matches('/').to_owned(),
            key,
            languages: OnceCell::new(),
        }
    }

    async fn languages(&self) -> Result<&HashMap<String, Vec<String>>, TranslateError> {
        let kind = self.kind();
        self.languages
            .get_or_try_init(|| async {
                let url = format!("{}/languages", self.url);
                self.http
                    .send(
                        |client| client.get(&url),
                        |status, body| match status {
                            200 => match serde_json::from_str::<Vec<LanguageEntry>>(body) {
                                Ok(list) => Verdict::Done(
                                    list.into_iter().map(|l| (l.code, l.targets)).collect(),
                                ),
                                Err(e) => Verdict::Fail(TranslateError::InvalidResponse {
                                    provider: kind,
                                    message: e.to_string(),
                                }),
                            },
                            s => Self::judge_error(kind, s, body),
                        },
                    )
                    .await
            })
            .await
    }

    fn judge_error<T>(kind: ProviderKind, status: u16, body: &str) -> Verdict<T> {
        let message = serde_json::from_str::<ErrorBody>(body)
            .ok()
            .and_then(|b| b.error)
            .map(|m| clip(&m))
            .unwrap_or_else(|| format!("HTTP {status}"));
        match status {
            401 | 403 => Verdict::Fail(TranslateError::BadKey { provider: kind }),
            429 => Verdict::Retry(format!("too many requests (429): {message}")),
            s if s >= 500 => Verdict::Retry(format!("server error {s}")),
            _ => Verdict::Fail(TranslateError::Rejected {
                provider: kind,
                status,
                message,
            }),
        }
    }
}

/// The server's code for `lang`: the exact code if it has one, else the base language.
fn pick<'a>(lang: Language, codes: impl Iterator<Item = &'a String> + Clone) -> Option<String> {
    let exact = codes
        .clone()
        .find(|c| c.eq_ignore_ascii_case(lang.code()))
        .cloned();
    exact.or_else(|| {
        codes
            .into_iter()
            .find(|c| c.eq_ignore_ascii_case(lang.base()))
            .cloned()
    })
}

impl Translator for LibreTranslate {
    fn kind(&self) -> ProviderKind {
        ProviderKind::LibreTranslate
    }

    fn supports_markup(&self, _target: Language) -> bool {
        false
    }

    fn translate<'a>(
        &'a self,
        batch: Batch<'a>,
    ) -> BoxFuture<'a, Result<Vec<String>, TranslateError>> {
        Box::pin(async move {
            let kind = self.kind();
            let languages = self.languages().await?;
            let source = pick(batch.source, languages.keys()).ok_or(
                TranslateError::UnsupportedLanguage {
                    provider: kind,
                    language: batch.source.english_name().to_owned(),
                    direction: "from",
                },
            )?;
            let target = languages
                .get(&source)
                .and_then(|targets| pick(batch.target, targets.iter()))
                .ok_or(TranslateError::UnsupportedLanguage {
                    provider: kind,
                    language: batch.target.english_name().to_owned(),
                    direction: "into",
                })?;
            let url = format!("{}/translate", self.url);
            let mut out = Vec::with_capacity(batch.texts.len());
            for range in chunks(batch.texts, MAX_TEXTS, usize::MAX) {
                let texts = &batch.texts[range];
                let body = Request {
                    q: texts,
                    source: &source,
                    target: &target,
                    format: "text",
                    api_key: self.key.as_ref().map(|k| k.expose_secret()),
                };
                let translated = self
                    .http
                    .send(
                        |client| client.post(&url).json(&body),
                        |status, body| match status {
                            200 => match serde_json::from_str::<Response>(body) {
                                Ok(r) if r.translated_text.len() == texts.len() => {
                                    Verdict::Done(r.translated_text)
                                }
                                Ok(_) => Verdict::Fail(TranslateError::InvalidResponse {
                                    provider: kind,
                                    message: "the number of translations differs".into(),
                                }),
                                Err(e) => Verdict::Fail(TranslateError::InvalidResponse {
                                    provider: kind,
                                    message: e.to_string(),
                                }),
                            },
                            s => Self::judge_error(kind, s, body),
                        },
                    )
                    .await?;
                out.extend(translated);
            }
            Ok(out)
        })
    }
}
