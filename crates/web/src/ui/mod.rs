//! The admin web UI: server-rendered pages (askama) with htmx for the parts that change
//! in place. Handlers stay thin: they parse the form and call the same functions the JSON
//! API calls, then render. Signed in by the same JWT, carried in an HttpOnly cookie.

mod accounts;
mod assets;
mod dashboard;
mod glossaries;
mod groups;
pub mod i18n;
mod logs;
mod posts;
mod proxies;
pub mod session;
mod snippets;
mod users;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;

pub use view::error_page;

/// Every page and form target of the UI with its handlers. Public so tests can walk every
/// page (the role and sign-in matrix covers a new page without being told about it).
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            "/login",
            get(session::login_page).post(session::login_submit),
        ),
        ("/logout", post(session::logout)),
        ("/language", post(session::set_language)),
        ("/", get(dashboard::page)),
        ("/static/{file}", get(assets::serve)),
        ("/posts", get(posts::list)),
        ("/posts/new", get(posts::composer)),
        (
            "/posts/import",
            get(posts::import_page)
                .post(posts::import)
                .layer(DefaultBodyLimit::disable()),
        ),
        ("/posts/import/template.csv", get(posts::import_template)),
        ("/calendar", get(posts::calendar)),
        ("/posts/{id}", get(posts::page)),
        ("/posts/{id}/executions", get(posts::executions)),
        ("/posts/{id}/media/{index}", get(posts::media)),
        ("/posts/{id}/translate", post(posts::translate)),
        (
            "/posts/{id}/translations/{lang}",
            post(posts::edit_translation),
        ),
        ("/posts/{id}/plan", get(posts::plan)),
        ("/posts/{id}/publish", post(posts::publish)),
        ("/posts/{id}/submit", post(posts::submit)),
        ("/posts/{id}/approve", post(posts::approve)),
        ("/posts/{id}/reject", post(posts::reject)),
        ("/posts/{id}/retry", post(posts::retry)),
        ("/posts/{id}/cancel", post(posts::cancel)),
        ("/accounts", get(accounts::list)),
        ("/accounts/bulk", post(accounts::bulk)),
        (
            "/accounts/import",
            get(accounts::import_page)
                .post(accounts::import)
                .layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        ),
        ("/accounts/{id}", get(accounts::page)),
        ("/accounts/{id}/action", post(accounts::action)),
        ("/groups", get(groups::list).post(groups::create)),
        ("/groups/{id}", get(groups::page).post(groups::update)),
        ("/groups/{id}/delete", post(groups::delete)),
        ("/posts/{id}/delete", post(posts::delete)),
        ("/proxies", get(proxies::list)),
        ("/proxies/import", post(proxies::import)),
        ("/proxies/{id}/check", post(proxies::check)),
        ("/logs", get(logs::list)),
        ("/snippets", get(snippets::list).post(snippets::create)),
        ("/snippets/{id}", post(snippets::update)),
        ("/snippets/{id}/delete", post(snippets::delete)),
        ("/glossaries", get(glossaries::list)),
        ("/glossaries/create", post(glossaries::create)),
        (
            "/glossaries/import",
            post(glossaries::import).layer(DefaultBodyLimit::max(4 * 1024 * 1024)),
        ),
        ("/glossaries/{id}", get(glossaries::page)),
        ("/glossaries/{id}/update", post(glossaries::update)),
        ("/glossaries/{id}/delete", post(glossaries::delete)),
        ("/users", get(users::list).post(users::create)),
        ("/users/{id}", post(users::update)),
    ]
}

/// The paths of [`routes`], as registered (`/posts/{id}`…).
pub fn paths() -> Vec<&'static str> {
    routes().into_iter().map(|(path, _)| path).collect()
}

pub fn router() -> Router<AppState> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handlers)| {
            router.route(path, handlers)
        })
}

/// Unknown paths answer in the same JSON shape as everything else; a browser asking for a
/// page outside `/api/` gets the web UI's 404 page.
pub async fn not_found_fallback(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_page = !uri.path().starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if wants_page {
        let l = i18n::Lang::from_headers(&headers);
        return error_page(l, crate::error::ApiError::NotFound("page"));
    }
    crate::error::ApiError::NotFound("route").into_response()
}
