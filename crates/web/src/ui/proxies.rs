//! Proxies (admin): health, success rate, the account each serves, import, check now.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::proxies;
use icf_core::account::Proxy;
use icf_core::enums::ProxyType;
use icf_core::ids::ProxyId;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::UiAdmin;
use super::view::{Ctx, Pager, error_page, field_errors, iso, percent, query};
use crate::error::ApiError;
use crate::filters::proxy_query;
use crate::query::Params;
use crate::state::AppState;

pub(crate) struct ProxyRow {
    id: String,
    url: String,
    status: String,
    rate: String,
    checks: i64,
    latency: String,
    last_check: String,
    error: String,
    account_id: String,
    account: String,
}

impl From<Proxy> for ProxyRow {
    fn from(p: Proxy) -> Self {
        ProxyRow {
            id: p.id.to_string(),
            url: p.url,
            status: p.status.as_str().to_owned(),
            rate: if p.checks_total == 0 {
                "—".into()
            } else {
                percent(Some(p.success_rate))
            },
            checks: p.checks_total,
            latency: p
                .last_latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
            last_check: p.last_check_at.as_ref().map(iso).unwrap_or_default(),
            error: p.last_error.unwrap_or_default(),
            account_id: p
                .assigned_account_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
            account: p.assigned_account.unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "proxies.html")]
struct ProxiesPage {
    ctx: Ctx,
    rows: Vec<ProxyRow>,
    pager: Pager,
}

pub async fn list(State(state): State<AppState>, UiAdmin(ui): UiAdmin, params: Params) -> Response {
    let l = ui.l;
    let listed = match proxy_query(&params) {
        Ok((filter, page)) => proxies::list(&state.app, &filter, page.per_page, page.offset())
            .await
            .map(|(items, total)| (items, total, page))
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match listed {
        Ok((items, total, page)) => ProxiesPage {
            ctx: ui.ctx("proxies"),
            pager: Pager::new(page.page, page.per_page, total, query(&[])),
            rows: items.into_iter().map(ProxyRow::from).collect(),
        }
        .into_response(),
        Err(e) => error_page(l, e),
    }
}

#[derive(Deserialize)]
pub struct ImportForm {
    lines: String,
    #[serde(default)]
    proxy_type: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "import_result.html")]
struct ImportResult {
    l: Lang,
    r: icf_app::import::ImportReport,
}

pub async fn import(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    axum::Form(form): axum::Form<ImportForm>,
) -> Response {
    const FIELDS: &[&str] = &["lines", "language", "form"];
    if form.lines.trim().is_empty() {
        return field_errors(
            FIELDS,
            ApiError::validation("lines", ui.l.t("Paste lines or choose a file.")),
        );
    }
    let kind = form.proxy_type.parse().unwrap_or(ProxyType::Http);
    // The same use case as the API's import: accounts waiting for a proxy get one now.
    match proxies::import(&state.app, &form.lines, false, kind).await {
        Ok(r) => ImportResult { l: ui.l, r }.into_response(),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "proxy_row.html")]
struct RowFragment {
    l: Lang,
    p: ProxyRow,
}

pub async fn check(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
) -> Response {
    let Ok(id) = raw.parse::<ProxyId>() else {
        return error_page(ui.l, ApiError::NotFound("proxy"));
    };
    match proxies::check(&state.app, id).await {
        Ok(p) => RowFragment {
            l: ui.l,
            p: ProxyRow::from(p),
        }
        .into_response(),
        Err(e) => field_errors(&["proxies"], e.into()),
    }
}
