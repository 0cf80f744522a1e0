//! The route table. Collection paths answer with and without the trailing slash.

mod auth;
mod health;
mod queue;
mod users;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;

/// Registers `path` and `path/` for the same handlers.
pub(crate) fn both_slashes(
    router: Router<AppState>,
    path: &str,
    handlers: MethodRouter<AppState>,
) -> Router<AppState> {
    router
        .route(path, handlers.clone())
        .route(&format!("{path}/"), handlers)
}

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/me", get(auth::me));
    let router = both_slashes(router, "/api/users", get(users::list).post(users::create));
    let router = both_slashes(router, "/api/queue", get(queue::overview));
    router.route(
        "/api/users/{id}",
        get(users::get_one).put(users::update).delete(users::delete),
    )
}
