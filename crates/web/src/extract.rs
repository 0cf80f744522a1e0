//! Extractors whose rejections speak the API's JSON error shape and name the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body. Malformed JSON → 400; a missing or mistyped field → 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(None, format!("cannot read the body: {e}")))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body that may be left out: an empty (or blank) body is `T::default()`.
pub fn optional_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(bytes)
    }
}

/// Parses a JSON body: not JSON → 400; a missing or mistyped field → 422 naming it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|_| ApiError::bad_request(None, "the body must be one JSON value"))?;
            refuse_nul_in_json(bytes)?;
            Ok(value)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            // serde_json reports some type errors (an enum given a number) as syntax
            // errors; only a body that is not JSON at all is a bad request.
            let not_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err();
            if not_json && (inner.is_syntax() || inner.is_eof() || inner.is_io()) {
                return Err(ApiError::bad_request(
                    None,
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            let message = inner.to_string();
            let field = missing_field(&message)
                .map(|f| join_path(&path, f))
                .unwrap_or_else(|| if path == "." { "body".into() } else { path });
            // serde appends " at line L column C"; the field name says more.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            Err(ApiError::validation(field, message))
        }
    }
}

/// Why NUL is refused: PostgreSQL cannot store it in text (the insert fails), and no
/// name, caption or address has a use for it; SQLite would keep it, so both engines refuse.
const NUL_MESSAGE: &str = "must not contain NUL characters (\\u0000)";

/// A JSON string can only hold NUL as the escape `\u0000`; the value is walked only when
/// the escape is there, to name the field.
fn refuse_nul_in_json(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(None, format!("the body is not valid JSON: {e}")))?;
    refuse_nul_in_value(&value)
}

fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let inner = join_path(if path.is_empty() { "." } else { &path }, k);
            if k.contains('\0') {
                Some(inner)
            } else {
                nul_path(v, inner)
            }
        }),
        _ => None,
    }
}

/// Refuses a NUL anywhere in a JSON value, naming the field.
pub fn refuse_nul_in_value(value: &serde_json::Value) -> Result<(), ApiError> {
    match nul_path(value, String::new()) {
        Some(path) => Err(ApiError::validation(
            if path.is_empty() { "body".into() } else { path },
            NUL_MESSAGE,
        )),
        None => Ok(()),
    }
}

/// Refuses a NUL in a text value from a query string or a form, naming its field.
pub fn refuse_nul(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::validation(field, NUL_MESSAGE));
    }
    Ok(())
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// A typed id from the path (`/api/users/{id}`). Not a UUID → 400 naming `id`.
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: std::str::FromStr> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::bad_request(Some("id"), "missing id in the path"))?;
        raw.parse()
            .map(IdPath)
            .map_err(|_| ApiError::bad_request(Some("id"), "id must be a UUID"))
    }
}

/// Query string. A value of the wrong type → 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            refuse_nul(&k, &v)?;
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::bad_request(
                    (field != ".").then_some(field.as_str()),
                    format!("bad query string: {}", e.inner()),
                )
            })
    }
}

/// An import file: the request body itself (`text/plain`, `text/csv`) or the `file`
/// field of a multipart form.
pub struct ImportBody(pub String);

impl<S: Send + Sync> FromRequest<S> for ImportBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let bytes = if is_multipart {
            let mut form = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?;
            let mut found = None;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?
            {
                if field.name() == Some("file") {
                    found = Some(
                        field
                            .bytes()
                            .await
                            .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?,
                    );
                    break;
                }
            }
            found
                .ok_or_else(|| ApiError::validation("file", "the form has no field named 'file'"))?
        } else {
            Bytes::from_request(req, state).await.map_err(|e| {
                ApiError::bad_request(Some("file"), format!("cannot read the body: {e}"))
            })?
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::validation("file", "the file must be UTF-8 text"))?;
        if text.trim().is_empty() {
            return Err(ApiError::validation("file", "the file is empty"));
        }
        Ok(ImportBody(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_field_is_found_in_serde_message() {
        assert_eq!(
            missing_field("missing field `password` at line 1 column 20"),
            Some("password")
        );
        assert_eq!(missing_field("invalid type: integer"), None);
        assert_eq!(join_path(".", "password"), "password");
        assert_eq!(join_path("user", "password"), "user.password");
    }

    #[test]
    fn nul_in_json_is_refused_by_field() {
        let err = refuse_nul_in_json(br#"{"a":{"b":["x","y\u0000z"]}}"#).unwrap_err();
        assert_eq!(err.field(), Some("a.b[1]"));
        // An escaped backslash before "u0000" is no NUL.
        assert!(refuse_nul_in_json(br#"{"a":"\\u0000"}"#).is_ok());
        assert!(refuse_nul_in_json(br#"{"a":"plain"}"#).is_ok());
    }
}
