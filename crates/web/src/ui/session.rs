//! Signing in and out of the web UI, and who is looking at a page.
//!
//! The token is the API's JWT (same users, roles and revocation), kept in an HttpOnly,
//! SameSite=Strict cookie. Cross-site form posts are refused by the CSRF layer.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::i18n::Lang;
use super::view::{Ctx, error_page};
use crate::auth::{CurrentUser, user_for_token};
use crate::cookies::{SESSION_COOKIE, cookie, cookie_token};
use crate::error::ApiError;
use crate::state::AppState;

const LANG_COOKIE: &str = "icf_lang";

/// The language of a page: the user's choice, else the language cookie (set on the
/// sign-in page), else the browser's.
fn guest_lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_else(|| Lang::from_headers(headers))
}

/// Secure cookies when configured (`ICF_SECURE_COOKIES`) or when the page is served over
/// HTTPS (directly or behind a proxy).
fn secure_cookie(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies || is_https(headers)
}

fn is_https(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("https://"));
    forwarded || origin
}

fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// A signed-in operator looking at a page. Without a valid cookie the browser is sent
/// to the sign-in page (htmx requests get `HX-Redirect`).
pub struct Ui {
    pub user: CurrentUser,
    pub l: Lang,
    /// The page's path and query, for the language switcher's way back.
    pub path: String,
    /// Instagram's caption rules as configured, for the caption counters.
    pub caption: icf_core::caption::CaptionRules,
    /// Where posts need approval: how many wait for review.
    pub review_waiting: Option<i64>,
}

impl Ui {
    pub fn ctx(&self, nav: &'static str) -> Ctx {
        Ctx {
            l: self.l,
            username: self.user.username.clone(),
            admin: self.user.is_admin(),
            nav,
            path: self.path.clone(),
            caption: self.caption,
            review_waiting: self.review_waiting,
        }
    }
}

fn to_login(parts: &Parts) -> Response {
    if parts.headers.contains_key("hx-request") {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut()
            .insert("hx-redirect", HeaderValue::from_static("/login"));
        return r;
    }
    Redirect::to("/login").into_response()
}

impl FromRequestParts<AppState> for Ui {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = cookie_token(&parts.headers).ok_or_else(|| to_login(parts))?;
        let user = match user_for_token(state, &token).await {
            Ok(u) => u,
            Err(ApiError::Unauthorized(_)) => return Err(to_login(parts)),
            Err(e) => return Err(error_page(guest_lang(&parts.headers), e)),
        };
        let chosen = icf_store::users::ui_language(&state.app.db, user.id)
            .await
            .ok()
            .flatten()
            .and_then(|c| Lang::from_code(&c));
        let l = chosen.unwrap_or_else(|| guest_lang(&parts.headers));
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        // One count per page, only where approvals are on; a failed count hides the badge
        // rather than the page.
        let review_waiting = if state.app.approval.required {
            icf_store::reviews::waiting(&state.app.db).await.ok()
        } else {
            None
        };
        Ok(Ui {
            user,
            l,
            path,
            caption: state.app.caption_rules,
            review_waiting,
        })
    }
}

/// An admin looking at an admin screen; an editor gets the 403 page.
pub struct UiAdmin(pub Ui);

impl FromRequestParts<AppState> for UiAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ui = Ui::from_request_parts(parts, state).await?;
        if !ui.user.is_admin() {
            return Err(error_page(ui.l, ApiError::Forbidden));
        }
        Ok(UiAdmin(ui))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    l: Lang,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let chosen = q.lang.as_deref().and_then(Lang::from_code);
    let l = chosen.unwrap_or_else(|| guest_lang(&headers));
    let mut response = LoginPage {
        l,
        username: String::new(),
        error: None,
    }
    .into_response();
    let secure = secure_cookie(&state, &headers);
    if let Some(c) = chosen.and_then(|l| set_cookie(LANG_COOKIE, l.code(), 31_536_000, secure)) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let l = guest_lang(&headers);
    let client = state.client_ip(peer.ip(), &headers);
    match crate::auth::sign_in(&state, client, &form.username, form.password).await {
        Ok(token) => {
            let mut r = Redirect::to("/").into_response();
            let max_age = state.auth.token_ttl.num_seconds();
            let secure = secure_cookie(&state, &headers);
            if let Some(c) = set_cookie(SESSION_COOKIE, &token, max_age, secure) {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => {
            let status = e.status();
            let message = match e {
                ApiError::Unauthorized(_) => l
                    .t("Wrong username or password, or the user is disabled.")
                    .to_owned(),
                other => other.to_string(),
            };
            let mut r = LoginPage {
                l,
                username: form.username,
                error: Some(message),
            }
            .into_response();
            *r.status_mut() = status;
            r
        }
    }
}

/// Signs out: the cookie's token is revoked server-side (a copy of it no longer works),
/// then the cookie is cleared.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers) {
        match crate::auth::revoke_token(&state, &token).await {
            Ok(user) => tracing::info!(user = %user.username, "signed out"),
            // Already invalid (expired, revoked, forged): nothing to revoke.
            Err(ApiError::Unauthorized(_)) => {}
            Err(e) => return error_page(guest_lang(&headers), e),
        }
    }
    let mut r = Redirect::to("/login").into_response();
    if let Some(c) = set_cookie(SESSION_COOKIE, "", 0, secure_cookie(&state, &headers)) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

#[derive(Deserialize)]
pub struct LangForm {
    language: String,
    /// The page to go back to (a local path).
    back: Option<String>,
}

/// Remembers the user's language and returns to the page they were on.
pub async fn set_language(
    State(state): State<AppState>,
    ui: Ui,
    Form(form): Form<LangForm>,
) -> Response {
    let Some(lang) = Lang::from_code(&form.language) else {
        return error_page(ui.l, ApiError::validation("language", "expected en or ru"));
    };
    if let Err(e) = icf_store::users::set_ui_language(&state.app.db, ui.user.id, lang.code()).await
    {
        return error_page(ui.l, e.into());
    }
    let back = form.back.as_deref().and_then(local_path).unwrap_or("/");
    Redirect::to(back).into_response()
}

/// `to` when it is a path on this site, fit for a `Location` header; else `None`.
///
/// Browsers read `//host` and `/\host` as another site (a backslash counts as a slash),
/// and drop tabs and newlines before deciding, so the path must start with one `/`, hold
/// no backslash and only visible ASCII (the UI's own paths arrive percent-encoded).
pub fn local_path(to: &str) -> Option<&str> {
    let rest = to.strip_prefix('/')?;
    let fits = !rest.starts_with('/') && to.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    fits.then_some(to)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_are_redirect_targets() {
        for ok in [
            "/",
            "/posts?page=2&status=draft",
            "/groups/1#x",
            "/a/http://b",
        ] {
            assert_eq!(local_path(ok), Some(ok));
        }
        for bad in [
            "",
            "posts",
            "//evil.example/x",
            "/\\evil.example/x",
            "\\/evil.example",
            "/\t/evil.example",
            "/\r\nSet-Cookie: a=b",
            "/x\ny",
            "https://evil.example/",
            "javascript:alert(1)",
            "/caf\u{e9}",
            "/a b",
            "/a\\b",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
