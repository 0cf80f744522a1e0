//! What every page shares: the layout's context, error pages, formatting helpers.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::i18n::Lang;
use crate::error::ApiError;

/// The layout's context: who is signed in, in which language, which tab is open.
pub struct Ctx {
    pub l: Lang,
    pub username: String,
    pub admin: bool,
    pub nav: &'static str,
    pub path: String,
    /// Instagram's caption rules, for the caption counters (app.js reads them from `<body>`).
    pub caption: icf_core::caption::CaptionRules,
    /// Where posts need approval: how many wait for review (the nav's badge).
    pub review_waiting: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Lang,
    title: &'static str,
    message: String,
}

/// A full error page with the error's status.
pub fn error_page(l: Lang, e: ApiError) -> Response {
    let status = e.status();
    let title = match status {
        StatusCode::FORBIDDEN => l.t("You may not open this page"),
        StatusCode::NOT_FOUND => l.t("Page not found"),
        _ => l.t("Something went wrong"),
    };
    let message = match &e {
        ApiError::Forbidden => l.t("This screen is for administrators.").to_owned(),
        ApiError::Internal(_) => String::new(),
        other => other.to_string(),
    };
    if let ApiError::Internal(cause) = &e {
        tracing::error!(%cause, "page failed");
    }
    let mut r = ErrorPage { l, title, message }.into_response();
    *r.status_mut() = status;
    r
}

#[derive(Template, WebTemplate)]
#[template(path = "field_errors.html")]
struct FieldErrors {
    fields: &'static [&'static str],
    field: String,
    message: String,
}

/// An htmx answer to a failed form: the message lands next to its field (out-of-band
/// swaps into `#err-<field>`), every other field's message is cleared. The last of
/// `fields` takes the errors about no listed field.
pub fn field_errors(fields: &'static [&'static str], e: ApiError) -> Response {
    let status = e.status();
    let field = e
        .field()
        .filter(|f| fields.contains(f))
        .or_else(|| fields.last().copied())
        .unwrap_or("form")
        .to_owned();
    if let ApiError::Internal(cause) = &e {
        tracing::error!(%cause, "form failed");
    }
    let message = e.to_string();
    let mut r = FieldErrors {
        fields,
        field,
        message,
    }
    .into_response();
    // htmx ignores error statuses by default; the page's config swaps 422s too.
    *r.status_mut() = if status.is_server_error() {
        status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    r
}

/// A time for a page: UTC in the markup, turned into the reader's time zone by app.js.
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn opt_time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_default()
}

pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Page links: `(page, per_page, total)` → the pages that exist.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// The query string without `page`, ending in `&` when not empty.
    pub base: String,
}

impl Pager {
    pub fn new(page: i64, per_page: i64, total: i64, base: String) -> Self {
        Pager {
            page,
            pages: ((total + per_page - 1) / per_page).max(1),
            total,
            base,
        }
    }
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }
    pub fn prev(&self) -> i64 {
        self.page - 1
    }
    pub fn next(&self) -> i64 {
        self.page + 1
    }
}

/// A query string from the pairs that have a value.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let mut out = s.finish();
    if !out.is_empty() {
        out.push('&');
    }
    out
}

/// An htmx form that worked: the page reloads to show the change.
pub fn refresh() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert("hx-refresh", axum::http::HeaderValue::from_static("true"));
    r
}

/// An htmx form that worked and leads to another page.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(to) {
        r.headers_mut().insert("hx-redirect", v);
    }
    r
}
