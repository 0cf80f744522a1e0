//! The simulator's recording mode: every Instagram request it receives, in order, as one JSON
//! object (a JSON line in a file), so that what a client sends can be compared request by
//! request with what the reference client (instagrapi) sends. See
//! `crates/instagram/tests/golden/README.md` for how traces are recorded and compared.
//!
//! An entry keeps everything a difference could hide in: the original host (from `:authority`
//! or `Host`, which the proxy mode preserves), the query and the headers in the order they
//! arrived, form fields in order, and every form value or body that is JSON decoded with its
//! key order (the `signed_body` envelope and the Bloks `params` included), nested JSON strings
//! decoded too. Binary bodies are reduced to their length and SHA-256.

use std::io::Write;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, Uri, Version};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Where recorded requests go: kept in memory for [`Recorder::take`], and written to a file
/// as JSON lines when one is given.
#[derive(Default)]
pub(crate) struct Recorder {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    on: bool,
    entries: Vec<Value>,
    file: Option<std::fs::File>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts recording; with a file, every entry is also appended to it as a JSON line.
    pub(crate) fn start(&self, file: Option<std::fs::File>) {
        let mut g = self.lock();
        g.on = true;
        if file.is_some() {
            g.file = file;
        }
    }

    /// The entries recorded since the last call (recording goes on).
    pub(crate) fn take(&self) -> Vec<Value> {
        std::mem::take(&mut self.lock().entries)
    }

    pub(crate) fn record(
        &self,
        version: Version,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) {
        let mut g = self.lock();
        if !g.on {
            return;
        }
        let entry = entry(version, method, uri, headers, body);
        if let Some(f) = g.file.as_mut() {
            // A trace that cannot be written is a broken recording: say so loudly, once per
            // request, rather than leave a file that silently lacks requests.
            if let Err(e) = writeln!(f, "{entry}").and_then(|_| f.flush()) {
                tracing::error!(error = %e, "cannot write the simulator's trace");
            }
        }
        g.entries.push(entry);
    }
}

/// One request as a JSON object; keys in a fixed order.
pub fn entry(
    version: Version,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Value {
    let host = uri
        .authority()
        .map(|a| a.host().to_owned())
        .or_else(|| {
            headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(|h| h.split(':').next().unwrap_or(h).to_owned())
        })
        .unwrap_or_default();
    let query: Vec<Value> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| json!([k, v]))
        .collect();
    let header_list: Vec<Value> = headers
        .iter()
        .map(|(k, v)| json!([k.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();
    let mut e = Map::new();
    e.insert("method".into(), json!(method.as_str()));
    e.insert("host".into(), json!(host));
    e.insert("path".into(), json!(uri.path()));
    e.insert("query".into(), Value::Array(query));
    e.insert(
        "http".into(),
        json!(if version == Version::HTTP_2 {
            "2"
        } else {
            "1.1"
        }),
    );
    e.insert("headers".into(), Value::Array(header_list));
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut styles = Map::new();
    for (k, v) in headers {
        if let Some((text, j)) = v.to_str().ok().and_then(|t| json_of(t).map(|j| (t, j))) {
            let at = format!("header:{}", k.as_str());
            note_style(&mut styles, &at, text);
            decode_at(&at, j, &mut styles);
        }
    }
    let finish = |mut e: Map<String, Value>, styles: Map<String, Value>| {
        e.insert("styles".into(), Value::Object(styles));
        Value::Object(e)
    };
    if body.is_empty() {
        return finish(e, styles);
    }
    if let Some((text, v)) = std::str::from_utf8(body)
        .ok()
        .filter(|s| s.trim_start().starts_with(['{', '[']))
        .and_then(|s| serde_json::from_str::<Value>(s).ok().map(|v| (s, v)))
    {
        note_style(&mut styles, "body", text);
        e.insert("json".into(), decode_at("body", v, &mut styles));
    } else if content_type.starts_with("multipart/") {
        e.insert("multipart".into(), json!(multipart_names(body)));
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        && std::str::from_utf8(body).is_ok()
    {
        let mut fields = Vec::new();
        let mut decoded = Map::new();
        for (k, v) in form_urlencoded::parse(body) {
            fields.push(json!([k, v]));
            let raw = if k == "signed_body" {
                v.split_once('.').map(|(_, j)| j).unwrap_or(&v).to_owned()
            } else {
                v.clone().into_owned()
            };
            if let Some(j) = json_of(&raw) {
                note_style(&mut styles, &k, &raw);
                decoded.insert(k.clone().into_owned(), decode_at(&k, j, &mut styles));
            }
        }
        e.insert("form".into(), Value::Array(fields));
        e.insert("decoded".into(), Value::Object(decoded));
    } else {
        e.insert(
            "body".into(),
            json!({"bytes": body.len(), "sha256": hex(&Sha256::digest(body))}),
        );
    }
    finish(e, styles)
}

/// How a JSON text was written: `spaced` as Python's `json.dumps` (`", "`, `": "`),
/// `compact` as `separators=(",", ":")`, `mixed`; nothing when it has no separator.
pub fn json_style(text: &str) -> Option<&'static str> {
    let (mut in_str, mut esc, mut spaced, mut compact) = (false, false, false, false);
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b',' | b':' if b.get(i + 1) == Some(&b' ') => spaced = true,
            b',' | b':' => compact = true,
            _ => {}
        }
    }
    match (spaced, compact) {
        (false, false) => None,
        (true, false) => Some("spaced"),
        (false, true) => Some("compact"),
        (true, true) => Some("mixed"),
    }
}

/// Records, for the place `path`, that a JSON text stood there and how it was written.
fn note_style(styles: &mut Map<String, Value>, path: &str, text: &str) {
    styles.insert(path.to_owned(), json!(json_style(text).unwrap_or("plain")));
}

/// [`deep_decode`] that notes where each nested JSON string stood and how it was written.
fn decode_at(path: &str, v: Value, styles: &mut Map<String, Value>) -> Value {
    match v {
        Value::String(s) => match json_of(&s) {
            Some(inner) => {
                note_style(styles, path, &s);
                decode_at(path, inner, styles)
            }
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(
            a.into_iter()
                .enumerate()
                .map(|(i, v)| decode_at(&format!("{path}[{i}]"), v, styles))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let at = format!("{path}.{k}");
                    (k, decode_at(&at, v, styles))
                })
                .collect(),
        ),
        other => other,
    }
}

/// A string that holds a JSON object or array.
fn json_of(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Decodes JSON objects and arrays nested as strings (Bloks `params` inside `params`,
/// `bk_client_context`, …), keeping key order.
pub fn deep_decode(v: Value) -> Value {
    match v {
        Value::String(s) => match json_of(&s) {
            Some(inner) => deep_decode(inner),
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(deep_decode).collect()),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, deep_decode(v))).collect())
        }
        other => other,
    }
}

/// The `name` of every part of a multipart body, in order.
fn multipart_names(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    text.split("Content-Disposition:")
        .skip(1)
        .filter_map(|part| {
            let line = part.lines().next()?;
            let start = line.find("name=\"")? + 6;
            let end = line[start..].find('"')?;
            Some(line[start..start + end].to_owned())
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_form_is_decoded_with_its_key_order() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "Instagram x".parse().unwrap());
        h.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8"
                .parse()
                .unwrap(),
        );
        let body =
            "signed_body=SIGNATURE.%7B%22z%22%3A1%2C%22a%22%3A%22%7B%5C%22y%5C%22%3A2%7D%22%7D";
        let uri: Uri = "https://i.instagram.com/api/v1/x/?b=1&a=2".parse().unwrap();
        let e = entry(Version::HTTP_2, &Method::POST, &uri, &h, body.as_bytes());
        assert_eq!(e["host"], "i.instagram.com");
        assert_eq!(e["query"], json!([["b", "1"], ["a", "2"]]));
        assert_eq!(e["headers"][0], json!(["user-agent", "Instagram x"]));
        let d = &e["decoded"]["signed_body"];
        assert_eq!(d.to_string(), r#"{"z":1,"a":{"y":2}}"#);
        // Where JSON stood as a string, and how it was written, is kept.
        assert_eq!(e["styles"]["signed_body"], "compact");
        assert_eq!(e["styles"]["signed_body.a"], "compact");
    }

    #[test]
    fn python_spacing_is_told_from_compact_json() {
        assert_eq!(json_style(r#"{"a": 1, "b": [1, 2]}"#), Some("spaced"));
        assert_eq!(json_style(r#"{"a":1,"b":"x, y: z"}"#), Some("compact"));
        assert_eq!(json_style(r#"{"a": 1,"b":2}"#), Some("mixed"));
        assert_eq!(json_style("{}"), None);
    }

    #[test]
    fn binary_bodies_are_reduced_to_size_and_hash() {
        let uri: Uri = "/rupload_igphoto/x".parse().unwrap();
        let e = entry(
            Version::HTTP_11,
            &Method::POST,
            &uri,
            &HeaderMap::new(),
            &[0xff, 0xd8, 0xff],
        );
        assert_eq!(e["body"]["bytes"], 3);
        assert_eq!(e["http"], "1.1");
    }

    #[test]
    fn multipart_part_names_are_listed() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\nxx\r\n--b\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhi\r\n--b--";
        assert_eq!(multipart_names(body), vec!["photo", "caption"]);
    }
}
