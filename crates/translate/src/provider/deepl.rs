//! DeepL API v2: `POST /v2/translate` with a JSON body and `DeepL-Auth-Key`.

use std::collections::{HashMap, HashSet};

use futures_util::future::BoxFuture;
use icf_core::language::Language;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::http::{Http, Verdict, chunks, clip};
use super::kind::ProviderKind;
use super::translator::{Batch, GlossaryUpload, Translator};
use crate::error::TranslateError;

pub const PRO_URL: &str = "https://api.deepl.com";
pub const FREE_URL: &str = "https://api-free.deepl.com";
/// DeepL's limits per request.
pub const MAX_TEXTS: usize = 50;
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// Languages with full support, tag handling included.
const CORE: &[&str] = &[
    "AR", "BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "HU", "ID", "IT", "JA", "KO",
    "LT", "LV", "NB", "NL", "PL", "PT", "RO", "RU", "SK", "SL", "SV", "TR", "UK", "ZH",
];
/// Languages DeepL translates as plain text only: no tag handling.
const TEXT_ONLY: &[&str] = &[
    "ACE", "AF", "AN", "AS", "AY", "AZ", "BA", "BE", "BHO", "BN", "BR", "BS", "CA", "CEB", "CKB",
    "CY", "EO", "EU", "FA", "GA", "GL", "GN", "GOM", "GU", "HA", "HE", "HI", "HR", "HT", "HY",
    "IG", "IS", "JV", "KA", "KK", "KMR", "KY", "LA", "LB", "LMO", "LN", "MAI", "MG", "MI", "MK",
    "ML", "MN", "MR", "MS", "MT", "MY", "NE", "OC", "OM", "PA", "PAG", "PAM", "PRS", "PS", "QU",
    "SA", "SCN", "SQ", "SR", "ST", "SU", "SW", "TA", "TE", "TG", "TH", "TK", "TL", "TN", "TS",
    "TT", "UR", "UZ", "VI", "WO", "XH", "YI", "YUE", "ZU",
];

/// The host for a key: Free keys end in `:fx`.
pub fn host_for_key(key: &str) -> &'static str {
    if key.trim().ends_with(":fx") {
        FREE_URL
    } else {
        PRO_URL
    }
}

/// DeepL's `source_lang`: base codes only (EN covers every English).
pub fn source_code(lang: Language) -> Option<String> {
    let base = lang.base().to_ascii_uppercase();
    (CORE.contains(&base.as_str()) || TEXT_ONLY.contains(&base.as_str())).then_some(base)
}

/// DeepL's `target_lang`. Plain `en`/`pt` become the configured variant, as DeepL asks.
pub fn target_code(lang: Language, english: Language, portuguese: Language) -> Option<String> {
    let lang = match lang.code() {
        "en" => english,
        "pt" => portuguese,
        _ => lang,
    };
    match lang.code() {
        "en-GB" | "en-US" | "pt-BR" | "pt-PT" | "es-419" | "zh-Hans" | "zh-Hant" => {
            Some(lang.code().to_ascii_uppercase())
        }
        _ => source_code(lang),
    }
}

/// What `GET /v3/languages?resource=translate_text` says, codes upper-cased.
#[derive(Debug, Default)]
struct LanguageList {
    sources: HashSet<String>,
    targets: HashSet<String>,
    /// Targets with tag handling.
    markup: HashSet<String>,
}

#[derive(Deserialize)]
struct V3Language {
    lang: String,
    #[serde(default)]
    usable_as_source: bool,
    #[serde(default)]
    usable_as_target: bool,
    #[serde(default)]
    features: HashMap<String, serde_json::Value>,
}

pub struct DeepL {
    /// The account's languages, read once; `None` when DeepL did not say (then the
    /// documented tables above decide).
    languages: OnceCell<Option<LanguageList>>,
    http: Http,
    key: SecretString,
    base_url: String,
    english: Language,
    portuguese: Language,
}

#[derive(Serialize)]
struct Request<'a> {
    text: &'a [String],
    target_lang: &'a str,
    source_lang: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
    preserve_formatting: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag_handling: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag_handling_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore_tags: Option<[&'static str; 1]>,
    /// DeepL requires `source_lang` with a glossary; icf always sends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    glossary_id: Option<&'a str>,
}

/// `POST /v2/glossaries`.
#[derive(Serialize)]
struct NewGlossary<'a> {
    name: &'a str,
    source_lang: &'a str,
    target_lang: &'a str,
    entries: String,
    entries_format: &'static str,
}

#[derive(Deserialize)]
struct CreatedGlossary {
    glossary_id: String,
}

#[derive(Deserialize)]
struct Response {
    translations: Vec<Translated>,
}

#[derive(Deserialize)]
struct Translated {
    text: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

impl DeepL {
    pub(crate) fn new(
        http: Http,
        key: SecretString,
        base_url: Option<String>,
        english: Language,
        portuguese: Language,
    ) -> DeepL {
        let base_url = base_url
            .unwrap_or_else(|| host_for_key(key.expose_secret()).to_owned())
            .trim_end_matches('/')
            .to_owned();
        DeepL {
            languages: OnceCell::new(),
            http,
            key,
            base_url,
            english,
            portuguese,
        }
    }

    /// One attempt, no retries: on any failure the documented tables are good enough.
    async fn fetch_languages(&self) -> Option<LanguageList> {
        let url = format!("{}/v3/languages?resource=translate_text", self.base_url);
        let resp = self
            .http
            .client
            .get(&url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("DeepL-Auth-Key {}", self.key.expose_secret()),
            )
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            tracing::warn!(
                status = resp.status().as_u16(),
                "DeepL did not list its languages; using the documented list"
            );
            return None;
        }
        let entries: Vec<V3Language> = resp.json().await.ok()?;
        let mut list = LanguageList::default();
        for e in entries {
            let code = e.lang.to_ascii_uppercase();
            if e.usable_as_source {
                list.sources.insert(code.clone());
            }
            if e.usable_as_target {
                if e.features.contains_key("tag_handling") {
                    list.markup.insert(code.clone());
                }
                list.targets.insert(code);
            }
        }
        Some(list)
    }

    fn list(&self) -> Option<&LanguageList> {
        self.languages.get().and_then(Option::as_ref)
    }

    fn source(&self, lang: Language) -> Option<String> {
        let code = source_code(lang)?;
        match self.list() {
            Some(list) => list.sources.contains(&code).then_some(code),
            None => Some(code),
        }
    }

    fn target(&self, lang: Language) -> Option<String> {
        let code = target_code(lang, self.english, self.portuguese)?;
        match self.list() {
            Some(list) => list.targets.contains(&code).then_some(code),
            None => Some(code),
        }
    }

    fn judge(kind: ProviderKind, expected: usize, status: u16, body: &str) -> Verdict<Vec<String>> {
        let message = || {
            serde_json::from_str::<ErrorBody>(body)
                .ok()
                .and_then(|b| b.message)
                .map(|m| clip(&m))
                .unwrap_or_else(|| format!("HTTP {status}"))
        };
        match status {
            200 => match serde_json::from_str::<Response>(body) {
                Ok(r) if r.translations.len() == expected => {
                    Verdict::Done(r.translations.into_iter().map(|t| t.text).collect())
                }
                Ok(r) => Verdict::Fail(TranslateError::InvalidResponse {
                    provider: kind,
                    message: format!("{} translations for {expected} texts", r.translations.len()),
                }),
                Err(e) => Verdict::Fail(TranslateError::InvalidResponse {
                    provider: kind,
                    message: e.to_string(),
                }),
            },
            401 | 403 => Verdict::Fail(TranslateError::BadKey { provider: kind }),
            456 => Verdict::Fail(TranslateError::QuotaExceeded { provider: kind }),
            429 => Verdict::Retry("too many requests (429)".into()),
            s if s >= 500 => Verdict::Retry(format!("server error {s}")),
            _ => Verdict::Fail(TranslateError::Rejected {
                provider: kind,
                status,
                message: message(),
            }),
        }
    }
}

/// DeepL's glossary codes for a pair (lower-case base languages, `en` → `de`) when DeepL
/// keeps glossaries for both (its core languages) and they are two languages, not two
/// variants of one.
pub fn glossary_pair(source: Language, target: Language) -> Option<(String, String)> {
    let (s, t) = (source.base(), target.base());
    let core = |b: &str| CORE.contains(&b.to_ascii_uppercase().as_str());
    (s != t && core(s) && core(t)).then(|| (s.to_owned(), t.to_owned()))
}

impl DeepL {
    fn auth(&self) -> String {
        format!("DeepL-Auth-Key {}", self.key.expose_secret())
    }

    async fn create_glossary_now(&self, g: GlossaryUpload<'_>) -> Result<String, TranslateError> {
        let kind = self.kind();
        let (source, target) =
            glossary_pair(g.source, g.target).ok_or(TranslateError::Rejected {
                provider: kind,
                status: 0,
                message: format!(
                    "DeepL keeps no glossaries from {} into {}",
                    g.source, g.target
                ),
            })?;
        let body = NewGlossary {
            name: g.name,
            source_lang: &source,
            target_lang: &target,
            entries: icf_core::glossary::to_tsv(g.entries),
            entries_format: "tsv",
        };
        let json = serde_json::to_vec(&body).map_err(|e| TranslateError::Rejected {
            provider: kind,
            status: 0,
            message: e.to_string(),
        })?;
        let (url, auth) = (format!("{}/v2/glossaries", self.base_url), self.auth());
        self.http
            .send(
                |client| {
                    client
                        .post(&url)
                        .header(reqwest::header::AUTHORIZATION, &auth)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(json.clone())
                },
                |status, body| match status {
                    200 | 201 => match serde_json::from_str::<CreatedGlossary>(body) {
                        Ok(c) => Verdict::Done(c.glossary_id),
                        Err(e) => Verdict::Fail(TranslateError::InvalidResponse {
                            provider: kind,
                            message: e.to_string(),
                        }),
                    },
                    _ => Self::judge(kind, 0, status, body).map(|_| String::new()),
                },
            )
            .await
    }

    async fn delete_glossary_now(&self, id: &str) -> Result<(), TranslateError> {
        let kind = self.kind();
        let url = format!("{}/v2/glossaries/{id}", self.base_url);
        let auth = self.auth();
        self.http
            .send(
                |client| {
                    client
                        .delete(&url)
                        .header(reqwest::header::AUTHORIZATION, &auth)
                },
                |status, body| match status {
                    // Gone already is what was asked for.
                    200 | 204 | 404 => Verdict::Done(()),
                    _ => Self::judge(kind, 0, status, body).map(|_| ()),
                },
            )
            .await
    }
}

impl Translator for DeepL {
    fn kind(&self) -> ProviderKind {
        ProviderKind::DeepL
    }

    fn supports_markup(&self, target: Language) -> bool {
        let Some(code) = self.target(target) else {
            return false;
        };
        match self.list() {
            Some(list) => list.markup.contains(&code),
            None => {
                let base = code.split('-').next().unwrap_or(&code);
                CORE.contains(&base)
            }
        }
    }

    fn prepare(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.languages.get_or_init(|| self.fetch_languages()).await;
        })
    }

    fn has_glossaries(&self, source: Language, target: Language) -> bool {
        glossary_pair(source, target).is_some()
    }

    fn create_glossary<'a>(
        &'a self,
        glossary: GlossaryUpload<'a>,
    ) -> BoxFuture<'a, Result<String, TranslateError>> {
        Box::pin(self.create_glossary_now(glossary))
    }

    fn delete_glossary<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), TranslateError>> {
        Box::pin(self.delete_glossary_now(id))
    }

    fn translate<'a>(
        &'a self,
        batch: Batch<'a>,
    ) -> BoxFuture<'a, Result<Vec<String>, TranslateError>> {
        Box::pin(async move {
            let kind = self.kind();
            self.prepare().await;
            let source = self
                .source(batch.source)
                .ok_or(TranslateError::UnsupportedLanguage {
                    provider: kind,
                    language: batch.source.english_name().to_owned(),
                    direction: "from",
                })?;
            let target = self
                .target(batch.target)
                .ok_or(TranslateError::UnsupportedLanguage {
                    provider: kind,
                    language: batch.target.english_name().to_owned(),
                    direction: "into",
                })?;
            let markup = batch.markup && self.supports_markup(batch.target);
            let context_len = batch.context.map_or(0, |c| c.len() * 2);
            let budget = MAX_BODY_BYTES.saturating_sub(context_len + 1024);
            let url = format!("{}/v2/translate", self.base_url);
            let mut out = Vec::with_capacity(batch.texts.len());
            for range in chunks(batch.texts, MAX_TEXTS, budget) {
                let texts = &batch.texts[range];
                let body = Request {
                    text: texts,
                    target_lang: &target,
                    source_lang: &source,
                    context: batch.context,
                    preserve_formatting: true,
                    tag_handling: markup.then_some("xml"),
                    tag_handling_version: markup.then_some("v2"),
                    ignore_tags: markup.then_some(["x"]),
                    glossary_id: batch.glossary_id,
                };
                let json = serde_json::to_vec(&body).map_err(|e| TranslateError::Rejected {
                    provider: kind,
                    status: 0,
                    message: e.to_string(),
                })?;
                if json.len() > MAX_BODY_BYTES {
                    return Err(TranslateError::Rejected {
                        provider: kind,
                        status: 413,
                        message: "the text is longer than DeepL takes in one request (128 KiB)"
                            .into(),
                    });
                }
                let auth = format!("DeepL-Auth-Key {}", self.key.expose_secret());
                let translated = self
                    .http
                    .send(
                        |client| {
                            client
                                .post(&url)
                                .header(reqwest::header::AUTHORIZATION, &auth)
                                .header(reqwest::header::CONTENT_TYPE, "application/json")
                                .body(json.clone())
                        },
                        |status, body| Self::judge(kind, texts.len(), status, body),
                    )
                    .await?;
                out.extend(translated);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(code: &str) -> Language {
        Language::parse(code).unwrap()
    }

    #[test]
    fn free_keys_use_the_free_host() {
        assert_eq!(host_for_key("abc:fx"), FREE_URL);
        assert_eq!(host_for_key("abc"), PRO_URL);
    }

    #[test]
    fn codes_differ_between_source_and_target() {
        let (en, pt) = (l("en-US"), l("pt-BR"));
        assert_eq!(source_code(l("pt-BR")).unwrap(), "PT");
        assert_eq!(source_code(l("zh-Hant")).unwrap(), "ZH");
        assert_eq!(target_code(l("pt"), en, pt).unwrap(), "PT-BR");
        assert_eq!(target_code(l("pt"), en, l("pt-PT")).unwrap(), "PT-PT");
        assert_eq!(target_code(l("en"), l("en-GB"), pt).unwrap(), "EN-GB");
        assert_eq!(target_code(l("zh-Hans"), en, pt).unwrap(), "ZH-HANS");
        assert_eq!(target_code(l("ru"), en, pt).unwrap(), "RU");
        assert_eq!(target_code(l("hi"), en, pt).unwrap(), "HI");
    }
}
