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

/// A float as Python's `str()`/`repr()` writes it: the shortest digits that read back, `.0`
/// on a whole number (`10.0`, not Rust's `10`), and the exponent form Python switches to
/// below 1e-4 and from 1e16 (`1e-05`, `1.5e+16`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` gives the same shortest digits as Python's repr, as `d.ddde<exp>`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if x == 0.0 || (-4..16).contains(&exp) {
        let s = x.to_string();
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
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
    fn floats_are_written_as_python_writes_them() {
        for (x, py) in [
            (40.7128, "40.7128"),
            (-74.006, "-74.006"),
            (10.0, "10.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (14.0 / 3.0, "4.666666666666667"),
            (2.0, "2.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1828141302.4534807, "1828141302.4534807"),
        ] {
            assert_eq!(py_float(x), py, "{x}");
        }
    }

    #[test]
    fn python_layout_has_spaces_after_separators() {
        assert_eq!(
            py_json(&json!({"a": "1", "b": [1, 2]})),
            r#"{"a": "1", "b": [1, 2]}"#
        );
    }
}
