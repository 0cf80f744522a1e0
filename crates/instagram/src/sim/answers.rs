//! The simulator's canned answers: Instagram's error shapes (fact sheet §6.1) as it sends
//! them, and a connection cut mid-answer.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An answer the connection is cut in the middle of: the client sees a broken response,
/// as when a phone loses its network.
pub(super) fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the simulator"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

pub(super) fn json_response(status: StatusCode, v: Value) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

pub(super) fn fail(status: StatusCode, body: Value) -> Response {
    json_response(status, body)
}

pub(super) fn login_required() -> Response {
    fail(
        StatusCode::FORBIDDEN,
        json!({"message":"login_required","error_title":"You've Been Logged Out","error_body":"Please log back in.","logout_reason":8,"status":"fail"}),
    )
}

pub(super) fn suspended() -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"message":"challenge_required","challenge":{"url":"https://www.instagram.com/accounts/suspended/?next=%2F","api_path":"/accounts/suspended/","hide_webview_header":true,"lock":true,"logout":true,"native_flow":false},"status":"fail","error_type":"checkpoint_challenge_required"}),
    )
}

/// Instagram's 500: an HTML page, not JSON.
pub(super) fn server_error_page() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "text/html; charset=utf-8")],
        "<html><body><h1>500 Internal Server Error</h1></body></html>",
    )
        .into_response()
}

pub(super) fn needs_reupload() -> Response {
    fail(
        StatusCode::OK,
        json!({"message":"media_needs_reupload","error_title":"bad image input extra:{}","status":"ok"}),
    )
}

pub(super) fn bad_upload(message: &str) -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"debug_info":{"retriable":false,"type":"ProcessingFailedError","message":message}}),
    )
}
