//! LibreTranslate as the real server answers (fact sheet §4.1): `POST /translate` with `q`
//! a string or a list, `GET /languages` with each source's targets, `{"error": …}` bodies.
//! Like a real server it only has some language models installed.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::state::{Injected, SimState, no_response, parse_body, string_list};

/// The models this simulated server has: no Georgian, Armenian, Icelandic…
const LANGUAGES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("hi", "Hindi"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("ru", "Russian"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("zh-Hans", "Chinese"),
    ("zh-Hant", "Chinese (traditional)"),
];

pub(super) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/translate", post(translate))
        .route("/languages", get(languages))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn known(code: &str) -> bool {
    LANGUAGES.iter().any(|(c, _)| *c == code)
}

async fn translate(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.capture(&method, &uri, &headers, &body);
    let Some(req) = parse_body(&headers, &body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: missing q parameter",
        );
    };
    if req.get("api_key").and_then(Value::as_str) == Some("invalid") {
        return error(StatusCode::FORBIDDEN, "Invalid API key");
    }
    match state.inject().await {
        Some(Injected::TooMany) => {
            return error(StatusCode::TOO_MANY_REQUESTS, "Slowdown: 30 per 1 minute");
        }
        Some(Injected::ServerError(s)) => return error(s, "Cannot translate text"),
        Some(Injected::NoResponse) => return no_response().await,
        None => {}
    }
    let Some(q) = string_list(req.get("q")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: missing q parameter",
        );
    };
    let Some(source) = req.get("source").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: missing source parameter",
        );
    };
    let Some(target) = req.get("target").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: missing target parameter",
        );
    };
    if source != "auto" && !known(source) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("{source} is not supported"),
        );
    }
    if !known(target) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("{target} is not supported"),
        );
    }
    if !state.bill(q.iter().map(|t| t.chars().count() as u64).sum()) {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "Slowdown: character limit reached",
        );
    }
    let out: Vec<String> = q
        .iter()
        .map(|t| state.translate(t, target, false))
        .collect();
    let mut body = match req.get("q") {
        Some(Value::String(_)) => json!({ "translatedText": out[0] }),
        _ => json!({ "translatedText": out }),
    };
    if source == "auto" {
        body["detectedLanguage"] = json!({ "confidence": 90, "language": "en" });
    }
    Json(body).into_response()
}

async fn languages() -> Json<Vec<Value>> {
    let codes: Vec<&str> = LANGUAGES.iter().map(|(c, _)| *c).collect();
    Json(
        LANGUAGES
            .iter()
            .map(|(code, name)| {
                let targets: Vec<&str> = codes.iter().copied().filter(|c| c != code).collect();
                json!({ "code": code, "name": name, "targets": targets })
            })
            .collect(),
    )
}
