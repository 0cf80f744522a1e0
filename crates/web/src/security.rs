//! Security headers on every answer: API, UI, `/docs`, static files, errors and panics.
//!
//! icf sets them itself so it is safe without the nginx site in `deploy/` (which only
//! repeats the same values for its own error pages).

use axum::http::{HeaderName, HeaderValue, Uri, header};
use axum::response::Response;

/// Only icf's own scripts, styles and connections; no inline script or style (the UI keeps
/// them in `/static`, Swagger UI in its own files); no framing by any page. Images and
/// videos may be `blob:` (the composer's previews of files not yet uploaded) or `data:`
/// (the empty favicon, Swagger UI's icons).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Swagger UI (`/docs`) sets inline styles from its bundle; only there are they allowed.
/// Scripts stay icf's own files.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The other headers and their values, as sent.
pub const HEADERS: [(HeaderName, &str); 3] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Adds the security headers a response does not already have.
pub async fn add_headers(uri: Uri, mut response: Response) -> Response {
    let docs = uri.path() == "/docs" || uri.path().starts_with("/docs/");
    let csp = if docs {
        DOCS_CONTENT_SECURITY_POLICY
    } else {
        CONTENT_SECURITY_POLICY
    };
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
    for (name, value) in HEADERS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
