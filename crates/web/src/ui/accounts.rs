//! Accounts (admin): the table with filters, bulk actions, the import dialog, and the
//! account page with its Instagram sign-in forms.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use icf_core::account::Account;
use icf_core::device::Device;
use icf_core::enums::AccountStatus;
use icf_core::ids::AccountId;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::i18n::Lang;
use super::session::UiAdmin;
use super::view::{Ctx, Pager, error_page, field_errors, iso, opt_time, query};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::extract::{ApiJson, IdPath};
use crate::query::Params;
use crate::routes::{accounts as api, instagram};
use crate::state::AppState;

/// Builds an API request body from a form, as the JSON API would parse it.
/// A form's fields as the API's request type; the same NUL rule as the API's JSON bodies.
pub(crate) fn body<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    crate::extract::refuse_nul_in_value(&v)?;
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(None, e.to_string()))
}

/// The pairs of a urlencoded form body; repeated names (checkboxes) stay repeated.
pub(crate) fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw).into_owned().collect()
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

struct AccountRow {
    id: String,
    username: String,
    status: String,
    reason: String,
    group: String,
    language: String,
    proxy: String,
    session: bool,
    posts_today: i64,
    limit: i32,
    last_post: String,
}

impl From<Account> for AccountRow {
    fn from(a: Account) -> Self {
        AccountRow {
            id: a.id.to_string(),
            username: a.username,
            status: a.status.as_str().to_owned(),
            reason: a.status_reason.unwrap_or_default(),
            group: a.group_name.unwrap_or_default(),
            language: a.language,
            proxy: a.proxy.unwrap_or_default(),
            session: a.has_session,
            posts_today: a.posts_today,
            limit: a.posts_limit_per_day,
            last_post: a.last_post_at.as_ref().map(iso).unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<AccountRow>,
    groups: Vec<(String, String)>,
    statuses: Vec<(&'static str, String)>,
    languages: Vec<String>,
    f_group: String,
    f_status: String,
    f_language: String,
    f_search: String,
    pager: Pager,
    error: String,
}

pub async fn list(State(state): State<AppState>, UiAdmin(ui): UiAdmin, params: Params) -> Response {
    let l = ui.l;
    let groups = match icf_store::groups::list(&state.app.db).await {
        Ok(g) => g,
        Err(e) => return error_page(l, e.into()),
    };
    let mut languages: Vec<String> = groups
        .iter()
        .flat_map(|g| g.languages.keys().cloned())
        .collect();
    languages.sort();
    languages.dedup();
    let (rows, total, page, per_page, error) =
        match api::list_accounts(&state, ui.user.role, &params, None).await {
            Ok(p) => (
                p.items.into_iter().map(AccountRow::from).collect(),
                p.total,
                p.page,
                p.per_page,
                String::new(),
            ),
            Err(e) => (Vec::new(), 0, 1, 50, e.to_string()),
        };
    let get = |k: &str| params.get(k).unwrap_or_default().to_owned();
    let (f_group, f_status, f_language, f_search) = (
        get("group_id"),
        get("status"),
        get("language"),
        get("search"),
    );
    let base = query(&[
        ("group_id", &f_group),
        ("status", &f_status),
        ("language", &f_language),
        ("search", &f_search),
    ]);
    ListPage {
        ctx: ui.ctx("accounts"),
        rows,
        groups: groups
            .iter()
            .map(|g| (g.id.to_string(), g.name.clone()))
            .collect(),
        statuses: AccountStatus::ALL
            .iter()
            .map(|s| (s.as_str(), l.word(s.as_str())))
            .collect(),
        languages,
        f_group,
        f_status,
        f_language,
        f_search,
        pager: Pager::new(page, per_page, total, base),
        error,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_result.html")]
struct BulkResult {
    l: Lang,
    lines: Vec<(String, bool, String)>,
}

/// One action on many accounts: each goes through the same handler as the API's.
pub async fn bulk(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    raw: axum::body::Bytes,
) -> Response {
    let l = ui.l;
    let pairs = form_pairs(&raw);
    let action = first(&pairs, "action").to_owned();
    let group = first(&pairs, "group_id").to_owned();
    let ids: Vec<AccountId> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    if ids.is_empty() {
        return field_errors(
            &["bulk"],
            ApiError::validation("bulk", l.t("Select at least one account.")),
        );
    }
    let admin = AdminUser(ui.user.clone());
    let mut lines = Vec::with_capacity(ids.len());
    for id in ids {
        let name = icf_store::accounts::get(&state.app.db, id)
            .await
            .map(|a| a.username)
            .unwrap_or_else(|_| id.to_string());
        let outcome: Result<String, ApiError> = match action.as_str() {
            "move" => {
                let group_id = if group.is_empty() {
                    Value::Null
                } else {
                    json!(group)
                };
                match body(json!({ "group_id": group_id })) {
                    Ok(req) => api::update(
                        State(state.clone()),
                        admin.clone(),
                        IdPath(id),
                        ApiJson(req),
                    )
                    .await
                    .map(|Json(a)| a.group_name.unwrap_or_else(|| l.t("No group").to_owned())),
                    Err(e) => Err(e),
                }
            }
            // Queued too: each check waits for its account's publishing, not for the others.
            "check" => instagram::status_job(&state, id, std::time::Duration::ZERO)
                .await
                .map(|a| summary(l, &a.to_value())),
            // Queued for the workers, which log the accounts in side by side.
            "login" => instagram::login_job(&state, id, std::time::Duration::ZERO)
                .await
                .map(|a| summary(l, &a.to_value())),
            "delete" => api::delete(State(state.clone()), admin.clone(), IdPath(id))
                .await
                .map(|_| l.t("Deleted").to_owned()),
            _ => Err(ApiError::validation("action", "pick an action")),
        };
        match outcome {
            Ok(text) => lines.push((name, true, text)),
            Err(e) => lines.push((name, false, e.to_string())),
        }
    }
    let mut r = BulkResult { l, lines }.into_response();
    r.headers_mut().insert(
        "hx-trigger",
        axum::http::HeaderValue::from_static("accounts-changed"),
    );
    r
}

/// A login or status answer in a few words.
fn summary(l: Lang, v: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(o) = v["outcome"].as_str() {
        parts.push(o.replace('_', " "));
    }
    if let Some(s) = v["status"].as_str() {
        parts.push(l.word(s));
    }
    // A login or a check still waiting for its account or a worker.
    if let Some(s) = v["state"].as_str() {
        parts.push(l.word(s));
    }
    if let Some(e) = v["error"].as_str() {
        parts.push(e.to_owned());
    }
    if let Some(valid) = v["session_valid"].as_bool() {
        parts.push(format!("session valid: {valid}"));
    }
    parts.join(" · ")
}

#[derive(Template, WebTemplate)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: Ctx,
}

pub async fn import_page(UiAdmin(ui): UiAdmin) -> Response {
    ImportPage {
        ctx: ui.ctx("accounts"),
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "import_result.html")]
struct ImportResult {
    l: Lang,
    r: crate::import::ImportReport,
}

/// The import form: pasted lines or an uploaded file, then the same import as the API.
pub async fn import(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    mut form: Multipart,
) -> Response {
    const FIELDS: &[&str] = &["lines", "language", "form"];
    let mut lines = String::new();
    let mut file = String::new();
    let mut language = "en".to_owned();
    let mut dry_run = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return field_errors(FIELDS, ApiError::bad_request(None, e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let text = match field.text().await {
            Ok(t) => t,
            Err(e) => return field_errors(FIELDS, ApiError::validation("lines", e.body_text())),
        };
        match name.as_str() {
            "lines" => lines = text,
            "file" => file = text,
            "language" => language = text,
            "dry_run" => dry_run = true,
            _ => {}
        }
    }
    let text = if file.trim().is_empty() { lines } else { file };
    if text.trim().is_empty() {
        return field_errors(
            FIELDS,
            ApiError::validation("lines", ui.l.t("Paste lines or choose a file.")),
        );
    }
    let language = match icf_core::language::Language::parse_field(&language, "language") {
        Ok(l) => l,
        Err(e) => return field_errors(FIELDS, e.into()),
    };
    match crate::import::import_accounts(
        &state.app.db,
        &state.app.cipher,
        &text,
        dry_run,
        &language,
        state.app.pacing.max_daily as i32,
    )
    .await
    {
        Ok(r) => ImportResult { l: ui.l, r }.into_response(),
        Err(e) => field_errors(FIELDS, api::import_error(e)),
    }
}

/// The emulated phone as the account page shows it: what Instagram is told about the
/// hardware, the SIM, the language and the clock.
struct PhoneView {
    /// `Google Pixel 8 Pro`.
    model: String,
    android: String,
    /// Empty when the country has no carrier in the data file.
    carrier: String,
    mcc: String,
    mnc: String,
    country: String,
    locale: String,
    /// `GMT+01:00`, as instagrapi names the offset.
    timezone: String,
}

impl PhoneView {
    fn new(device: &Device) -> PhoneView {
        let maker = device
            .manufacturer
            .split('/')
            .next()
            .unwrap_or(&device.manufacturer);
        let carrier = device.carrier();
        PhoneView {
            model: format!("{maker} {}", device.model),
            android: device.android_release.clone(),
            mcc: carrier
                .as_ref()
                .map(|c| c.mcc().to_owned())
                .unwrap_or_default(),
            mnc: carrier
                .as_ref()
                .map(|c| c.mnc().to_owned())
                .unwrap_or_default(),
            carrier: carrier.map(|c| c.name).unwrap_or_default(),
            country: device.country.clone(),
            locale: device.locale.clone(),
            timezone: icf_instagram::session::timezone_name(device.timezone_offset),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    a: AccountRow,
    device: String,
    /// `None` when the stored device cannot be read.
    phone: Option<PhoneView>,
    challenge: String,
    cooldown: String,
    last_login: String,
    created: String,
    logs: Vec<super::logs::LogRow>,
    executions: Vec<(String, String, String, String)>,
    groups: Vec<(String, String)>,
    group_id: String,
    age_days: i64,
    /// `YYYY-MM-DD`, empty when unknown.
    registered: String,
    warmup_stage: i32,
    allowance: u32,
    max_daily: u32,
}

pub async fn page(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
) -> Response {
    let l = ui.l;
    let Ok(id) = raw.parse::<AccountId>() else {
        return error_page(l, ApiError::NotFound("account"));
    };
    let account = match icf_store::accounts::get(&state.app.db, id).await {
        Ok(a) => api::shown(&state, ui.user.role, a),
        Err(e) => return error_page(l, ApiError::missing("account")(e)),
    };
    let filter = icf_store::activity::LogFilter {
        account_id: Some(id),
        ..Default::default()
    };
    let logs = match icf_store::activity::page(&state.app.db, &filter, None, 30).await {
        Ok((items, _)) => items
            .into_iter()
            .map(|e| super::logs::LogRow::new(l, e))
            .collect(),
        Err(e) => return error_page(l, e.into()),
    };
    let executions = icf_store::executions::recent_for_account(&state.app.db, id, 20)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(post, status, error, at)| {
            (
                post.to_string(),
                status,
                error.unwrap_or_default(),
                iso(&at),
            )
        })
        .collect();
    let groups = icf_store::groups::list(&state.app.db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|g| (g.id.to_string(), g.name))
        .collect();
    // An unreadable device leaves out the phone's lines rather than failing the page: the
    // rest of the page is what a person needs to repair the account.
    let phone = match icf_store::publishing::account_wire(&state.app.db, id).await {
        Ok(wire) => serde_json::from_value::<Device>(wire.device)
            .ok()
            .map(|d| PhoneView::new(&d)),
        Err(e) => return error_page(l, ApiError::missing("account")(e)),
    };
    AccountPage {
        phone,
        groups,
        group_id: account.group_id.map(|g| g.to_string()).unwrap_or_default(),
        device: account.device_id.clone(),
        challenge: account
            .pending_challenge
            .as_ref()
            .map(|c| serde_json::to_string_pretty(c).unwrap_or_default())
            .unwrap_or_default(),
        cooldown: opt_time(&account.cooldown_until),
        last_login: opt_time(&account.last_login_at),
        created: iso(&account.created_at),
        age_days: account.account_age_days,
        registered: account
            .registered_at
            .map(|t| t.date_naive().to_string())
            .unwrap_or_default(),
        warmup_stage: account.warmup_stage,
        allowance: account.posts_allowed_today,
        max_daily: state.app.pacing.max_daily,
        a: AccountRow::from(account),
        logs,
        executions,
        ctx: ui.ctx("accounts"),
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "action_result.html")]
struct ActionResult {
    ok: bool,
    text: String,
}

/// The account page's forms: log in, check, answer a code, import a session.
pub async fn action(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    raw_body: axum::body::Bytes,
) -> Response {
    let l = ui.l;
    let Ok(id) = raw.parse::<AccountId>() else {
        return error_page(l, ApiError::NotFound("account"));
    };
    let pairs = form_pairs(&raw_body);
    let admin = AdminUser(ui.user.clone());
    let outcome: Result<Value, ApiError> = match first(&pairs, "action") {
        "login" => instagram::login_job(&state, id, std::time::Duration::from_secs(20))
            .await
            .map(|a| a.to_value()),
        "check" => instagram::status_job(&state, id, std::time::Duration::from_secs(20))
            .await
            .map(|a| a.to_value()),
        "code" => instagram::code_job(
            &state,
            id,
            first(&pairs, "code"),
            std::time::Duration::from_secs(20),
        )
        .await
        .map(|a| a.to_value()),
        "session" => match serde_json::from_str::<Value>(first(&pairs, "session")) {
            Ok(v) => instagram::import_session(State(state), admin, IdPath(id), ApiJson(v))
                .await
                .map(|Json(r)| serde_json::to_value(r).unwrap_or(Value::Null)),
            Err(e) => Err(ApiError::validation("session", e.to_string())),
        },
        "edit" => {
            let limit: Option<i64> = first(&pairs, "posts_limit_per_day").trim().parse().ok();
            let group = first(&pairs, "group_id");
            let group_id = if group.is_empty() {
                Value::Null
            } else {
                json!(group)
            };
            let mut changes = json!({ "group_id": group_id });
            let language = first(&pairs, "language").trim();
            if !language.is_empty() {
                changes["language"] = json!(language);
            }
            if let Some(n) = limit {
                changes["posts_limit_per_day"] = json!(n);
            }
            let registered = first(&pairs, "registered_at").trim();
            if !registered.is_empty() {
                changes["registered_at"] = json!(registered);
            }
            match body(changes) {
                Ok(req) => api::update(State(state), admin, IdPath(id), ApiJson(req))
                    .await
                    .map(|_| json!({"status": l.t("Saved")})),
                Err(e) => Err(e),
            }
        }
        _ => Err(ApiError::validation("action", "pick an action")),
    };
    match outcome {
        Ok(v) => ActionResult {
            ok: true,
            text: summary(l, &v),
        }
        .into_response(),
        Err(e) => ActionResult {
            ok: false,
            text: e.to_string(),
        }
        .into_response(),
    }
}
