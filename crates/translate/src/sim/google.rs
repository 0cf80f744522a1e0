//! Google Cloud Translation Basic v2 as the real service answers (fact sheet §3.1): the
//! `key` query parameter, `data.translations[]`, ≤ 128 segments, 100 K-byte bodies, HTML
//! escaping unless `format=text`, and Google's JSON error format.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::state::{Injected, SimState, no_response, string_list};

const LANGUAGES: &[&str] = &[
    "af", "ar", "az", "be", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi",
    "fr", "ga", "he", "iw", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "ko", "lt",
    "lv", "mk", "ms", "nl", "no", "pl", "pt", "pt-PT", "ro", "ru", "sk", "sl", "sq", "sr", "sv",
    "sw", "ta", "th", "tl", "tr", "uk", "ur", "uz", "vi", "zh", "zh-CN", "zh-TW",
];

pub(super) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/language/translate/v2", post(translate))
        .route("/language/translate/v2/languages", get(languages))
}

fn error(status: StatusCode, message: &str, reason: &str, grpc: &str) -> Response {
    (
        status,
        Json(json!({ "error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{ "message": message, "domain": "global", "reason": reason }],
            "status": grpc,
        }})),
    )
        .into_response()
}

fn bad_key() -> Response {
    let mut r = error(
        StatusCode::BAD_REQUEST,
        "API key not valid. Please pass a valid API key.",
        "badRequest",
        "INVALID_ARGUMENT",
    );
    *r.body_mut() = axum::body::Body::from(
        json!({ "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "errors": [{ "message": "API key not valid. Please pass a valid API key.",
                         "domain": "global", "reason": "badRequest" }],
            "status": "INVALID_ARGUMENT",
            "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                          "reason": "API_KEY_INVALID", "domain": "googleapis.com" }],
        }})
        .to_string(),
    );
    r
}

fn query_key(uri: &Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "key").then(|| v.to_owned())
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn translate(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.capture(&method, &uri, &headers, &body);
    match query_key(&uri).as_deref() {
        None | Some("") => {
            return error(
                StatusCode::FORBIDDEN,
                "The request is missing a valid API key.",
                "forbidden",
                "PERMISSION_DENIED",
            );
        }
        Some("invalid") => return bad_key(),
        Some(_) => {}
    }
    match state.inject().await {
        Some(Injected::TooMany) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "rateLimitExceeded",
                "RESOURCE_EXHAUSTED",
            );
        }
        Some(Injected::ServerError(s)) => {
            return error(
                s,
                "The service is currently unavailable.",
                "backendError",
                "UNAVAILABLE",
            );
        }
        Some(Injected::NoResponse) => return no_response().await,
        None => {}
    }
    if body.len() > 100_000 {
        return error(
            StatusCode::BAD_REQUEST,
            "Request payload size exceeds the limit: 100000 bytes.",
            "invalid",
            "INVALID_ARGUMENT",
        );
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid JSON payload received.",
            "parseError",
            "INVALID_ARGUMENT",
        );
    };
    let Some(q) = string_list(req.get("q")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Required Text",
            "required",
            "INVALID_ARGUMENT",
        );
    };
    if q.len() > 128 {
        return error(
            StatusCode::BAD_REQUEST,
            "Too many text segments",
            "invalid",
            "INVALID_ARGUMENT",
        );
    }
    let Some(target) = req.get("target").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Required Target language",
            "required",
            "INVALID_ARGUMENT",
        );
    };
    let source = req.get("source").and_then(Value::as_str);
    if !LANGUAGES.contains(&target) || source.is_some_and(|s| !LANGUAGES.contains(&s)) {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid Value",
            "invalid",
            "INVALID_ARGUMENT",
        );
    }
    let chars: u64 = q.iter().map(|t| t.chars().count() as u64).sum();
    if !state.bill(chars) {
        return error(
            StatusCode::FORBIDDEN,
            "Daily Limit Exceeded",
            "dailyLimitExceeded",
            "PERMISSION_DENIED",
        );
    }
    let html = req.get("format").and_then(Value::as_str) != Some("text");
    let translations: Vec<Value> = q
        .iter()
        .map(|t| {
            let mut out = state.translate(t, target, false);
            if html {
                out = html_escape(&out);
            }
            let mut v = json!({ "translatedText": out });
            if source.is_none() {
                v["detectedSourceLanguage"] = json!("en");
            }
            v
        })
        .collect();
    Json(json!({ "data": { "translations": translations } })).into_response()
}

async fn languages(uri: Uri) -> Response {
    if query_key(&uri).is_none() {
        return error(
            StatusCode::FORBIDDEN,
            "The request is missing a valid API key.",
            "forbidden",
            "PERMISSION_DENIED",
        );
    }
    let list: Vec<Value> = LANGUAGES.iter().map(|l| json!({ "language": l })).collect();
    Json(json!({ "data": { "languages": list } })).into_response()
}
