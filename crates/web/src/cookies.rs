//! The cookies the web UI signs in with, read by the API's auth too (a page's scripts
//! call the API with the same cookie).

use axum::http::{HeaderMap, header};

pub const SESSION_COOKIE: &str = "icf_session";

/// A cookie's value by name; an empty one counts as absent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The UI's token from the request's cookies.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(str::to_owned)
}
