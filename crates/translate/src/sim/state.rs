//! What the three simulators share: the fault injection, the captured requests, the
//! billed characters, deepl-mock's sessions, the fake translation, and reading a request's
//! body.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Faults the next requests to the translation endpoint suffer, consumed in this order:
/// slow, 429, 5xx. Counters go down by one per request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The next N requests wait `delay_ms` before answering.
    pub slow: u32,
    pub delay_ms: u64,
    /// The next N requests get 429 Too Many Requests.
    pub fail_429: u32,
    /// The next N requests get a 5xx (`status_5xx`, default 503).
    pub fail_5xx: u32,
    pub status_5xx: Option<u16>,
    /// Every request is refused as over quota (DeepL 456, Google 403 dailyLimitExceeded).
    pub quota_exhausted: bool,
    /// Characters (code points) the account may translate; `None` = 20,000,000.
    pub character_limit: Option<u64>,
    /// The next N translated texts that carry placeholders lose their first one.
    pub drop_placeholder: u32,
    /// The next N translated texts that carry placeholders get their first one twice.
    pub duplicate_placeholder: u32,
    /// Language codes (e.g. `HI`, `PT-BR`) this account does not offer: left out of the
    /// language lists and refused by `/translate` (DeepL only).
    pub hide_languages: Vec<String>,
}

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (form bodies as an object), or a string when neither.
    pub body: Value,
}

/// What all three simulators share.
#[derive(Debug, Default)]
pub struct SimState {
    pub(super) faults: Mutex<Faults>,
    pub(super) requests: Mutex<Vec<Captured>>,
    pub(super) characters: AtomicU64,
    /// deepl-mock style sessions (`mock-server-session` headers), by session id.
    sessions: Mutex<HashMap<String, Session>>,
    /// DeepL's glossaries (`/v2/glossaries`), in creation order.
    pub(super) glossaries: Mutex<Vec<SimGlossary>>,
}

/// A glossary kept by the DeepL simulator.
#[derive(Debug, Clone)]
pub(crate) struct SimGlossary {
    pub id: String,
    pub name: String,
    /// Lower-case base codes, as DeepL answers them.
    pub source_lang: String,
    pub target_lang: String,
    pub entries: Vec<icf_core::glossary::GlossaryEntry>,
    pub creation_time: String,
}

/// Faults announced by deepl-mock's session headers on a session's first request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Session {
    no_response: u32,
    too_many: u32,
    server_errors: u32,
    status_5xx: Option<u16>,
    pub(crate) last: Option<Captured>,
}

/// The fault to apply to the current request, if any.
pub(crate) enum Injected {
    TooMany,
    ServerError(StatusCode),
    NoResponse,
}

impl Injected {
    /// A 5xx answer: the status asked for when it is one, else 503.
    fn server_error(status: Option<u16>) -> Injected {
        let status = status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(|s| s.is_server_error())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Injected::ServerError(status)
    }
}

fn header_u32(headers: &HeaderMap, name: &str) -> u32 {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

impl SimState {
    pub(super) fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn glossaries(&self) -> std::sync::MutexGuard<'_, Vec<SimGlossary>> {
        self.glossaries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies deepl-mock's session headers: the counts are read on the session's first
    /// request and consumed by later ones; the request is kept as the session's last.
    pub(crate) fn session_fault(
        &self,
        headers: &HeaderMap,
        captured: &Captured,
    ) -> Option<Injected> {
        let id = headers
            .get("mock-server-session")?
            .to_str()
            .ok()?
            .to_owned();
        let mut sessions = self.sessions();
        let session = sessions.entry(id).or_insert_with(|| Session {
            no_response: header_u32(headers, "mock-server-session-no-response-count"),
            too_many: header_u32(headers, "mock-server-session-429-count"),
            server_errors: header_u32(headers, "mock-server-session-5xx-count"),
            status_5xx: headers
                .get("mock-server-session-5xx-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            last: None,
        });
        session.last = Some(captured.clone());
        if session.no_response > 0 {
            session.no_response -= 1;
            return Some(Injected::NoResponse);
        }
        if session.too_many > 0 {
            session.too_many -= 1;
            return Some(Injected::TooMany);
        }
        if session.server_errors > 0 {
            session.server_errors -= 1;
            return Some(Injected::server_error(session.status_5xx));
        }
        None
    }

    pub(crate) fn session_last(&self, id: &str) -> Option<Captured> {
        self.sessions().get(id).and_then(|s| s.last.clone())
    }

    pub(crate) fn capture(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Captured {
        let mut h = BTreeMap::new();
        for (name, value) in headers {
            let mut v = value.to_str().unwrap_or("<binary>").to_owned();
            if name == axum::http::header::AUTHORIZATION {
                // Keep the scheme, never the key.
                v = format!("{} ***", v.split(' ').next().unwrap_or_default());
            }
            h.insert(name.as_str().to_owned(), v);
        }
        let query = uri.query().map(|q| {
            q.split('&')
                .map(|kv| match kv.split_once('=') {
                    Some(("key", _)) => "key=***".to_owned(),
                    _ => kv.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        let mut body = parse_body(headers, body)
            .unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned()));
        if let Some(obj) = body.as_object_mut()
            && obj.contains_key("api_key")
        {
            obj.insert("api_key".into(), Value::String("***".into()));
        }
        let captured = Captured {
            method: method.to_string(),
            path: uri.path().to_owned(),
            query,
            headers: h,
            body,
        };
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(captured.clone());
        captured
    }

    /// Sleeps if a slow answer is due, then returns the error fault due, if any.
    pub(crate) async fn inject(&self) -> Option<Injected> {
        let delay = {
            let mut f = self.faults();
            if f.slow > 0 {
                f.slow -= 1;
                Some(Duration::from_millis(f.delay_ms))
            } else {
                None
            }
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let mut f = self.faults();
        if f.fail_429 > 0 {
            f.fail_429 -= 1;
            return Some(Injected::TooMany);
        }
        if f.fail_5xx > 0 {
            f.fail_5xx -= 1;
            return Some(Injected::server_error(f.status_5xx));
        }
        None
    }

    /// Bills `chars` code points; `false` when the quota does not allow it.
    pub(crate) fn bill(&self, chars: u64) -> bool {
        let f = self.faults();
        if f.quota_exhausted {
            return false;
        }
        let limit = f.character_limit.unwrap_or(20_000_000);
        let used = self.characters.load(Ordering::SeqCst);
        if used + chars > limit {
            return false;
        }
        self.characters.fetch_add(chars, Ordering::SeqCst);
        true
    }

    pub(crate) fn hidden(&self, code: &str) -> bool {
        self.faults()
            .hide_languages
            .iter()
            .any(|h| h.eq_ignore_ascii_case(code))
    }

    pub(crate) fn usage(&self) -> (u64, u64) {
        let limit = self.faults().character_limit.unwrap_or(20_000_000);
        (self.characters.load(Ordering::SeqCst), limit)
    }

    /// The fake translation of one text into `target` (a provider's code).
    pub(crate) fn translate(&self, text: &str, target: &str, markup: bool) -> String {
        let marker = format!("[{}] ", target.to_ascii_uppercase());
        let mut out: String = text
            .split('\n')
            .map(|line| {
                if line.trim().is_empty() {
                    line.to_owned()
                } else {
                    format!("{marker}{line}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        if markup && let Some((start, end)) = first_placeholder(&out) {
            let mut f = self.faults();
            if f.drop_placeholder > 0 {
                f.drop_placeholder -= 1;
                out.replace_range(start..end, "");
            } else if f.duplicate_placeholder > 0 {
                f.duplicate_placeholder -= 1;
                let tag = out[start..end].to_owned();
                out.push_str(&tag);
            }
        }
        out
    }
}

/// Never answers within any sane client timeout (deepl-mock's "no response").
pub(crate) async fn no_response() -> Response {
    tokio::time::sleep(Duration::from_secs(600)).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

/// A JSON body, or a form body as an object whose repeated fields (`text=…&text=…`)
/// become arrays.
pub(crate) fn parse_body(headers: &HeaderMap, body: &[u8]) -> Option<Value> {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return serde_json::from_slice(body).ok();
    }
    let mut map = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        let v = Value::String(v.into_owned());
        match map.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                // `text` is a list even when given once.
                let v = if k == "text" {
                    Value::Array(vec![v])
                } else {
                    v
                };
                map.insert(k.into_owned(), v);
            }
        }
    }
    Some(Value::Object(map))
}

fn first_placeholder(s: &str) -> Option<(usize, usize)> {
    let start = s.find("<x ")?;
    let end = start + s[start..].find("/>")? + 2;
    Some((start, end))
}

/// Every `text` as a list, whether the field is a string or an array of strings.
pub(crate) fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_translation_marks_lines_and_can_break_placeholders() {
        let s = SimState::default();
        assert_eq!(s.translate("Hi\n\nBye", "de", false), "[DE] Hi\n\n[DE] Bye");
        let xml = "A <x id=\"0\"/> b <x id=\"1\"/>";
        assert_eq!(s.translate(xml, "RU", true), format!("[RU] {xml}"));
        s.faults().drop_placeholder = 1;
        assert_eq!(s.translate(xml, "RU", true), "[RU] A  b <x id=\"1\"/>");
        s.faults().duplicate_placeholder = 1;
        assert_eq!(
            s.translate(xml, "RU", true),
            format!("[RU] {xml}<x id=\"0\"/>")
        );
    }
}
