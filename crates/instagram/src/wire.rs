//! Body encodings of the private API (fact sheet §3.5) shared by the client and simulator.

use serde::Serialize;
use serde_json::Value;

/// Python's `json.dumps` escapes everything outside ASCII (`ensure_ascii=True`), surrogate
/// pairs included; Instagram's signature input is that text, so emoji must match.
pub fn ascii_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Compact JSON with ASCII escaping (instagrapi `utils.dumps`).
pub fn compact_json(v: &Value) -> String {
    ascii_escape(&v.to_string())
}

struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// Python's default `json.dumps` layout (`", "` and `": "`), used for the photo rupload
/// params header.
pub fn py_json(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    if v.serialize(&mut ser).is_err() {
        return compact_json(v);
    }
    ascii_escape(&String::from_utf8(out).unwrap_or_default())
}

/// `signed_body=SIGNATURE.<url-encoded compact JSON>`.
pub fn signed_body(data: &Value) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("signed_body", &format!("SIGNATURE.{}", compact_json(data)))
        .finish()
}

/// The JSON inside a signed body (the simulator's side).
pub fn parse_signed(body: &[u8]) -> Option<Value> {
    let (_, v) = form_urlencoded::parse(body).find(|(k, _)| k == "signed_body")?;
    let json = v.strip_prefix("SIGNATURE.")?;
    serde_json::from_str(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signed_bodies_escape_non_ascii_like_python_and_round_trip() {
        let data = json!({"caption": "Привет 👋", "n": 1});
        let body = signed_body(&data);
        assert!(body.starts_with("signed_body=SIGNATURE.%7B"));
        let decoded: String = form_urlencoded::parse(body.as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert!(decoded.contains(r"\u041f\u0440\u0438\u0432\u0435\u0442 \ud83d\udc4b"));
        assert_eq!(parse_signed(body.as_bytes()).unwrap(), data);
    }

    #[test]
    fn python_layout_has_spaces_after_separators() {
        assert_eq!(
            py_json(&json!({"a": "1", "b": [1, 2]})),
            r#"{"a": "1", "b": [1, 2]}"#
        );
    }
}
