//! Accounts (admin): the table with filters, bulk actions, the import dialog, and the
//! account page with its Instagram sign-in forms.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::account_session::{JobAnswer, LoginResult, SessionStatus, check, login, transfer};
use icf_app::accounts::bulk::{BulkAction, BulkOutcome, bulk as run_bulk};
use icf_app::accounts::{self, AccountState, UpdateAccount};
use icf_core::account::Account;
use icf_core::enums::AccountStatus;
use icf_core::ids::{AccountId, GroupId};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::i18n::Lang;
use super::session::UiAdmin;
use super::view::{Ctx, Pager, error_page, field_errors, iso, opt_time, query};
use crate::error::ApiError;
use crate::filters::account_query;
use crate::query::Params;
use crate::state::AppState;

/// How long the account page's forms wait for a login or a check before showing
/// "queued" (the page can be reloaded for the outcome).
const PAGE_WAIT: Duration = Duration::from_secs(20);

/// One form field as the API's JSON would read it (an id, a role…): a value it cannot
/// read is refused with the same message.
pub(crate) fn form_value<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    serde_json::from_value(Value::String(raw.to_owned()))
        .map_err(|e| ApiError::bad_request(None, e.to_string()))
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
    let groups = match icf_app::groups::list(&state.app).await {
        Ok(g) => g,
        Err(e) => return error_page(l, e.into()),
    };
    let mut languages: Vec<String> = groups
        .iter()
        .flat_map(|g| g.languages.keys().cloned())
        .collect();
    languages.sort();
    languages.dedup();
    let (rows, total, page, per_page, error) = match list_rows(&state, &ui, &params).await {
        Ok((rows, total, page)) => (rows, total, page.page, page.per_page, String::new()),
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

/// The table's rows for the filters and page the query string asks for.
async fn list_rows(
    state: &AppState,
    ui: &super::session::Ui,
    params: &Params,
) -> Result<(Vec<AccountRow>, i64, crate::query::Page), ApiError> {
    let (query, page) = account_query(params, None)?;
    let (items, total) = accounts::list(&state.app, ui.user.role, &query).await?;
    Ok((
        items.into_iter().map(AccountRow::from).collect(),
        total,
        page,
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_result.html")]
struct BulkResult {
    l: Lang,
    lines: Vec<(String, bool, String)>,
}

/// One action on many accounts: each goes through the same use case as the API's.
pub async fn bulk(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    raw: axum::body::Bytes,
) -> Response {
    let l = ui.l;
    let pairs = form_pairs(&raw);
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
    let lines = match bulk_action(first(&pairs, "action"), first(&pairs, "group_id")) {
        Ok(action) => run_bulk(&state.app, &ids, action)
            .await
            .into_iter()
            .map(|line| match line.outcome {
                Ok(outcome) => (line.account, true, bulk_summary(l, outcome)),
                Err(e) => (line.account, false, ApiError::from(e).to_string()),
            })
            .collect(),
        // Each account's line says what was wrong with the request.
        Err(e) => {
            let mut lines = Vec::with_capacity(ids.len());
            for &id in &ids {
                lines.push((accounts::label(&state.app, id).await, false, e.to_string()));
            }
            lines
        }
    };
    let mut r = BulkResult { l, lines }.into_response();
    r.headers_mut().insert(
        "hx-trigger",
        axum::http::HeaderValue::from_static("accounts-changed"),
    );
    r
}

/// The bulk form's action; `group` is the target of a move (empty: out of any group).
fn bulk_action(action: &str, group: &str) -> Result<BulkAction, ApiError> {
    match action {
        "move" if group.is_empty() => Ok(BulkAction::Move(None)),
        "move" => form_value::<GroupId>(group).map(|g| BulkAction::Move(Some(g))),
        "check" => Ok(BulkAction::Check),
        "login" => Ok(BulkAction::Login),
        "delete" => Ok(BulkAction::Delete),
        _ => Err(ApiError::validation("action", "pick an action")),
    }
}

/// One account's bulk outcome in a few words.
fn bulk_summary(l: Lang, outcome: BulkOutcome) -> String {
    match outcome {
        BulkOutcome::Moved(group) => group.unwrap_or_else(|| l.t("No group").to_owned()),
        BulkOutcome::Checked(answer) => check_summary(l, &answer),
        BulkOutcome::LoggingIn(answer) => login_summary(l, &answer),
        BulkOutcome::Deleted => l.t("Deleted").to_owned(),
    }
}

/// A login's answer in a few words: the outcome, the account's status, the error; or
/// where the job stands while it waits for its account or a worker.
fn login_summary(l: Lang, answer: &JobAnswer<LoginResult>) -> String {
    match answer {
        JobAnswer::Done(r) => words(&[
            Some(r.outcome.replace('_', " ")),
            Some(l.word(r.account.status.as_str())),
            r.error.clone(),
        ]),
        JobAnswer::Pending { state, .. } => l.word(state.as_str()),
    }
}

/// A session check's answer in a few words, as [`login_summary`].
fn check_summary(l: Lang, answer: &JobAnswer<SessionStatus>) -> String {
    match answer {
        JobAnswer::Done(r) => words(&[Some(l.word(r.account.status.as_str())), r.error.clone()]),
        JobAnswer::Pending { state, .. } => l.word(state.as_str()),
    }
}

fn words(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
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
    r: icf_app::import::ImportReport,
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
    match icf_app::import::import_accounts(
        &state.app.db,
        &state.app.cipher,
        &text,
        dry_run,
        &icf_app::import::ImportDefaults {
            language,
            posts_limit_per_day: state.app.pacing.max_daily as i32,
            new_groups: state.app.uploads.new_group_variants,
        },
    )
    .await
    {
        Ok(r) => ImportResult { l: ui.l, r }.into_response(),
        Err(e) => field_errors(FIELDS, icf_app::AppError::from(e).into()),
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
    fn new(phone: &accounts::Phone) -> PhoneView {
        let device = &phone.device;
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
            timezone: phone.timezone.clone(),
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
    let account = match accounts::get(&state.app, ui.user.role, id).await {
        Ok(a) => a,
        Err(e) => return error_page(l, e.into()),
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
    let phone = match accounts::phone(&state.app, id).await {
        Ok(phone) => phone.as_ref().map(PhoneView::new),
        Err(e) => return error_page(l, e.into()),
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

/// The account page's forms: log in, check, answer a code, import a session, edit.
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
    let app = &state.app;
    let outcome: Result<String, ApiError> = match first(&pairs, "action") {
        "login" => login::login(app, id, PAGE_WAIT)
            .await
            .map(|a| login_summary(l, &a))
            .map_err(ApiError::from),
        "check" => check::check(app, ui.user.role, id, PAGE_WAIT)
            .await
            .map(|a| check_summary(l, &a))
            .map_err(ApiError::from),
        "code" => login::answer_code(app, id, first(&pairs, "code"), PAGE_WAIT)
            .await
            .map(|a| login_summary(l, &a))
            .map_err(ApiError::from),
        "session" => match serde_json::from_str::<Value>(first(&pairs, "session")) {
            Ok(v) => transfer::import(app, id, &ui.user.username, &v)
                .await
                .map(|a: AccountState| l.word(a.status.as_str()))
                .map_err(ApiError::from),
            Err(e) => Err(ApiError::validation("session", e.to_string())),
        },
        "edit" => match edit_form(&pairs) {
            Ok(change) => accounts::update(app, id, change)
                .await
                .map(|_| l.word(l.t("Saved")))
                .map_err(ApiError::from),
            Err(e) => Err(e),
        },
        _ => Err(ApiError::validation("action", "pick an action")),
    };
    match outcome {
        Ok(text) => ActionResult { ok: true, text }.into_response(),
        Err(e) => ActionResult {
            ok: false,
            text: e.to_string(),
        }
        .into_response(),
    }
}

/// The account page's settings form as a change: group (empty: none), language, daily
/// limit and registration date (empty: unchanged).
fn edit_form(pairs: &[(String, String)]) -> Result<UpdateAccount, ApiError> {
    let group = first(pairs, "group_id");
    let group_id = if group.is_empty() {
        None
    } else {
        Some(form_value::<GroupId>(group)?)
    };
    let language = first(pairs, "language").trim();
    let registered = first(pairs, "registered_at").trim();
    crate::extract::refuse_nul("language", language)?;
    crate::extract::refuse_nul("registered_at", registered)?;
    Ok(UpdateAccount {
        group_id: Some(group_id),
        language: (!language.is_empty()).then(|| language.to_owned()),
        posts_limit_per_day: first(pairs, "posts_limit_per_day").trim().parse().ok(),
        registered_at: (!registered.is_empty()).then(|| Some(registered.to_owned())),
        ..UpdateAccount::default()
    })
}
