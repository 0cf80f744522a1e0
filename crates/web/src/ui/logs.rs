//! Logs (admin): Instagram actions with filters, paging and expandable details.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use icf_core::activity::ActivityLog;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::UiAdmin;
use super::view::{Ctx, error_page, iso, query};
use crate::state::AppState;

pub struct LogRow {
    pub at: String,
    pub account_id: String,
    pub account: String,
    pub action: String,
    pub status: String,
    /// The status for people ("published" would be wrong for a login).
    pub label: String,
    pub error: String,
    pub details: String,
    pub duration_ms: i64,
}

impl LogRow {
    pub fn new(l: Lang, e: ActivityLog) -> Self {
        let label = match e.status {
            icf_core::enums::ActivityStatus::Success => l.word("ok"),
            other => l.word(other.as_str()),
        };
        LogRow {
            at: iso(&e.created_at),
            account_id: e.account_id.map(|a| a.to_string()).unwrap_or_default(),
            account: e.account_username.unwrap_or_default(),
            action: e.action,
            status: e.status.as_str().to_owned(),
            label,
            error: e.error_message.unwrap_or_default(),
            details: serde_json::to_string_pretty(&e.details).unwrap_or_default(),
            duration_ms: e.duration_ms,
        }
    }
}

const PER_PAGE: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "logs.html")]
struct LogsPage {
    ctx: Ctx,
    rows: Vec<LogRow>,
    f_action: String,
    f_status: String,
    f_from: String,
    f_to: String,
    f_account: String,
    next: String,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    status: String,
    /// `YYYY-MM-DD`, UTC.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    cursor: String,
}

pub async fn list(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Query(q): Query<LogQuery>,
) -> Response {
    let l = ui.l;
    let mut error = String::new();
    let mut filter = icf_store::activity::LogFilter::default();
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    filter.action = text(&q.action);
    match text(&q.status).map(|s| s.parse()) {
        Some(Ok(s)) => filter.status = Some(s),
        Some(Err(e)) => error = format!("status: {e}"),
        None => {}
    }
    match text(&q.account_id).map(|s| s.parse()) {
        Some(Ok(a)) => filter.account_id = Some(a),
        Some(Err(_)) => error = "account_id: not an id".into(),
        None => {}
    }
    let day = |v: &str, end: bool| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| {
                let t = if end {
                    d.and_hms_opt(23, 59, 59)
                } else {
                    d.and_hms_opt(0, 0, 0)
                };
                t.unwrap_or_default().and_utc()
            })
    };
    filter.from = day(&q.from, false);
    filter.to = day(&q.to, true);
    let cursor = text(&q.cursor).and_then(|c| icf_store::activity::Cursor::decode(&c));
    let (rows, next) =
        match icf_store::activity::page(&state.app.db, &filter, cursor, PER_PAGE).await {
            Ok((items, next)) => (
                items.into_iter().map(|e| LogRow::new(l, e)).collect(),
                next.map(|c| c.encode()).unwrap_or_default(),
            ),
            Err(e) => return error_page(l, e.into()),
        };
    let next = if next.is_empty() {
        String::new()
    } else {
        format!(
            "?{}cursor={}",
            query(&[
                ("action", &q.action),
                ("status", &q.status),
                ("from", &q.from),
                ("to", &q.to),
                ("account_id", &q.account_id),
            ]),
            next
        )
    };
    LogsPage {
        ctx: ui.ctx("logs"),
        rows,
        f_action: q.action,
        f_status: q.status,
        f_from: q.from,
        f_to: q.to,
        f_account: q.account_id,
        next,
        error,
    }
    .into_response()
}
