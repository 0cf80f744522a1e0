//! The route table. Collection paths answer with and without the trailing slash.

pub(crate) mod accounts;
pub(crate) mod auth;
pub(crate) mod bulk;
pub mod events;
pub(crate) mod glossaries;
pub(crate) mod groups;
pub(crate) mod health;
pub(crate) mod instagram;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod post_translations;
pub(crate) mod posts;
pub(crate) mod proxies;
pub(crate) mod publish;
pub(crate) mod queue;
pub(crate) mod reviews;
pub(crate) mod snippets;
pub(crate) mod stats;
pub(crate) mod translate;
pub(crate) mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};

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
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/events", get(events::events));
    let router = both_slashes(router, "/api/users", get(users::list).post(users::create));
    let router = both_slashes(router, "/api/translate", post(translate::translate))
        .route("/api/translate/stats", get(translate::stats))
        .route("/api/translate/jobs/{id}", get(translate::job));
    let router = both_slashes(router, "/api/queue", get(queue::overview))
        .route("/metrics", get(metrics::metrics))
        .route("/api/stats/overview", get(stats::overview))
        .route("/api/stats/accounts", get(stats::accounts))
        .route("/api/stats/posts", get(stats::posts));
    let router = router.route(
        "/api/users/{id}",
        get(users::get_one).put(users::update).delete(users::delete),
    );
    // Uploads stream to disk; the per-file limit is enforced while streaming.
    let router = both_slashes(
        router,
        "/api/posts",
        get(posts::list)
            .post(posts::create)
            .layer(DefaultBodyLimit::disable()),
    );
    let router = router.route(
        "/api/posts/bulk",
        post(bulk::import).layer(DefaultBodyLimit::disable()),
    );
    let router = both_slashes(router, "/api/logs", get(logs::list));
    let router = both_slashes(
        router,
        "/api/snippets",
        get(snippets::list).post(snippets::create),
    )
    .route(
        "/api/snippets/{id}",
        get(snippets::get_one)
            .put(snippets::update)
            .delete(snippets::delete),
    );
    let router = router
        .route(
            "/api/posts/{id}",
            get(posts::get_one).put(posts::update).delete(posts::delete),
        )
        .route(
            "/api/posts/{id}/translate",
            post(post_translations::translate),
        )
        .route("/api/posts/{id}/translations", get(post_translations::list))
        .route("/api/posts/{id}/plan", get(publish::preview))
        .route("/api/posts/{id}/publish", post(publish::publish))
        .route("/api/posts/{id}/executions", get(publish::executions))
        .route("/api/posts/{id}/cancel", post(publish::cancel))
        .route("/api/posts/{id}/retry-failed", post(publish::retry_failed))
        .route("/api/posts/{id}/submit", post(reviews::submit))
        .route("/api/posts/{id}/approve", post(reviews::approve))
        .route("/api/posts/{id}/reject", post(reviews::reject))
        .route("/api/posts/{id}/review", get(reviews::history))
        .route(
            "/api/posts/{id}/translations/{lang}",
            put(post_translations::edit),
        );
    glossary_routes(accounts_routes(router))
}

fn glossary_routes(router: Router<AppState>) -> Router<AppState> {
    let router = both_slashes(
        router,
        "/api/glossaries",
        get(glossaries::list).post(glossaries::create),
    );
    let router = both_slashes(
        router,
        "/api/glossaries/import",
        post(glossaries::import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
    );
    router.route(
        "/api/glossaries/{id}",
        get(glossaries::get_one)
            .put(glossaries::update)
            .delete(glossaries::delete),
    )
}

/// Import files are larger than the default 2 MB body limit allows.
const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

fn accounts_routes(router: Router<AppState>) -> Router<AppState> {
    let router = both_slashes(
        router,
        "/api/accounts",
        get(accounts::list).post(accounts::create),
    );
    let router = both_slashes(
        router,
        "/api/accounts/import",
        post(accounts::import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
    );
    let router = router
        .route(
            "/api/accounts/{id}",
            get(accounts::get_one)
                .put(accounts::update)
                .delete(accounts::delete),
        )
        .route(
            "/api/accounts/{id}/login",
            post(instagram::login).get(instagram::last_login),
        )
        .route("/api/accounts/{id}/challenge", post(instagram::challenge))
        .route("/api/accounts/{id}/history", get(accounts::history))
        .route("/api/accounts/{id}/totp", put(accounts::set_totp))
        .route("/api/accounts/{id}/status", get(instagram::status))
        .route(
            "/api/accounts/{id}/status/check",
            post(instagram::check_status).get(instagram::last_check),
        )
        .route(
            "/api/accounts/{id}/session",
            get(instagram::export_session).put(instagram::import_session),
        );
    let router = both_slashes(
        router,
        "/api/groups",
        get(groups::list).post(groups::create),
    );
    let router = router
        .route(
            "/api/groups/{id}",
            get(groups::get_one)
                .put(groups::update)
                .delete(groups::delete),
        )
        .route("/api/groups/{id}/accounts", get(groups::accounts));
    let router = both_slashes(
        router,
        "/api/proxies",
        get(proxies::list).post(proxies::create),
    );
    let router = both_slashes(
        router,
        "/api/proxies/import",
        post(proxies::import).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
    );
    router
        .route(
            "/api/proxies/{id}",
            get(proxies::get_one)
                .put(proxies::update)
                .delete(proxies::delete),
        )
        .route("/api/proxies/{id}/check", post(proxies::check))
}
