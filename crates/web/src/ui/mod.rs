//! The admin web UI: server-rendered pages (askama) with htmx for the parts that change
//! in place. Handlers stay thin: they parse the form and call the same functions the JSON
//! API calls, then render. Signed in by the same JWT, carried in an HttpOnly cookie.

mod accounts;
mod assets;
mod dashboard;
mod groups;
pub mod i18n;
mod logs;
mod posts;
mod proxies;
pub mod session;
mod users;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

pub use view::error_page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/login",
            get(session::login_page).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route("/language", post(session::set_language))
        .route("/", get(dashboard::page))
        .route("/static/{file}", get(assets::serve))
        .route("/posts", get(posts::list))
        .route("/posts/new", get(posts::composer))
        .route("/calendar", get(posts::calendar))
        .route("/posts/{id}", get(posts::page))
        .route("/posts/{id}/executions", get(posts::executions))
        .route("/posts/{id}/translate", post(posts::translate))
        .route(
            "/posts/{id}/translations/{lang}",
            post(posts::edit_translation),
        )
        .route("/posts/{id}/plan", get(posts::plan))
        .route("/posts/{id}/publish", post(posts::publish))
        .route("/posts/{id}/retry", post(posts::retry))
        .route("/posts/{id}/cancel", post(posts::cancel))
        .route("/accounts", get(accounts::list))
        .route("/accounts/bulk", post(accounts::bulk))
        .route(
            "/accounts/import",
            get(accounts::import_page)
                .post(accounts::import)
                .layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .route("/accounts/{id}", get(accounts::page))
        .route("/accounts/{id}/action", post(accounts::action))
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{id}", get(groups::page).post(groups::update))
        .route("/groups/{id}/delete", post(groups::delete))
        .route("/posts/{id}/delete", post(posts::delete))
        .route("/proxies", get(proxies::list))
        .route("/proxies/import", post(proxies::import))
        .route("/proxies/{id}/check", post(proxies::check))
        .route("/logs", get(logs::list))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", post(users::update))
}
