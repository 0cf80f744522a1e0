//! icf's HTTP surface. Handlers stay thin: parse the request, call a use case of
//! `icf-app` (or the store, for plain reads), map the result. Every error leaves through
//! [`error::ApiError`].

pub mod auth;
mod cookies;
pub mod error;
pub mod extract;
mod filters;
pub mod live;
pub mod openapi;
mod query;
pub mod routes;
pub mod security;
pub mod state;
pub mod ui;

pub use icf_app::UploadSettings;
pub use state::{AppState, AuthSettings};

use axum::Router;
use axum::http::{HeaderName, header};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router with its middleware.
pub fn app(state: AppState) -> Router {
    let middleware = ServiceBuilder::new()
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // The web UI signs in with a cookie; cross-site writes are refused (API clients
        // without Sec-Fetch-Site/Origin pass, as their bearer token is not ambient).
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(CatchPanicLayer::custom(error::panic_response));

    use utoipa::OpenApi;
    routes::router()
        .merge(ui::router())
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/docs")
                .url("/openapi.json", openapi::ApiDoc::openapi())
                // No badge from validator.swagger.io: the CSP allows icf's own images only.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .fallback(ui::not_found_fallback)
        .with_state(state)
        .layer(middleware)
        // Outermost, so errors, CSRF refusals and panics get the headers too.
        .layer(axum::middleware::map_response(security::add_headers))
}
