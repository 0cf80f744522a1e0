//! Posts: the list, the composer, the post page (translations, plan, publish, live
//! executions) and the calendar.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use icf_core::enums::{ExecutionStatus, PostStatus, TranslationOrigin};
use icf_core::ids::PostId;
use icf_core::post::Post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::i18n::Lang;
use super::session::Ui;
use super::view::{Ctx, Pager, error_page, field_errors, iso, query, time};
use crate::error::ApiError;
use crate::extract::IdPath;
use crate::routes::{post_translations, publish};
use crate::state::AppState;

const PER_PAGE: i64 = 25;

fn parse_id(raw: &str) -> Option<PostId> {
    raw.parse().ok()
}

/// One post in the list.
struct Row {
    id: String,
    caption: String,
    language: String,
    media_type: String,
    status: String,
    created: String,
    created_iso: String,
    scheduled_iso: String,
    done: i64,
    total: i64,
}

impl Row {
    fn percent(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            self.done * 100 / self.total
        }
    }
}

fn short(text: &str, n: usize) -> String {
    let mut s: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        s.push('…');
    }
    s
}

#[derive(Template, WebTemplate)]
#[template(path = "posts.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Row>,
    status: String,
    statuses: Vec<(&'static str, String)>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    page: Option<i64>,
}

pub async fn list(State(state): State<AppState>, ui: Ui, Query(q): Query<ListQuery>) -> Response {
    let l = ui.l;
    let status_raw = q.status.unwrap_or_default();
    let status = match status_raw.as_str() {
        "" => None,
        s => match s.parse::<PostStatus>() {
            Ok(s) => Some(s),
            Err(e) => return error_page(l, ApiError::validation("status", e.to_string())),
        },
    };
    let page = q.page.unwrap_or(1).max(1);
    let (posts, total) = match icf_store::posts::list(
        &state.app.db,
        status,
        PER_PAGE,
        (page - 1) * PER_PAGE,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return error_page(l, e.into()),
    };
    let mut rows = Vec::with_capacity(posts.len());
    for p in posts {
        let counts = match icf_store::executions::status_counts(&state.app.db, p.id).await {
            Ok(c) => c,
            Err(e) => return error_page(l, e.into()),
        };
        let get = |s| counts.get(&s).copied().unwrap_or(0);
        rows.push(Row {
            id: p.id.to_string(),
            caption: short(&p.caption_original, 90),
            language: p.original_language.clone(),
            media_type: l.word(p.media_type.as_str()),
            status: p.status.as_str().to_owned(),
            created: time(&p.created_at),
            created_iso: iso(&p.created_at),
            scheduled_iso: p.scheduled_at.as_ref().map(iso).unwrap_or_default(),
            done: get(ExecutionStatus::Success),
            total: counts.values().sum::<i64>() - get(ExecutionStatus::Cancelled),
        });
    }
    let statuses = PostStatus::ALL
        .iter()
        .map(|s| (s.as_str(), l.word(s.as_str())))
        .collect();
    let base = query(&[("status", &status_raw)]);
    ListPage {
        ctx: ui.ctx("posts"),
        rows,
        status: status_raw,
        statuses,
        pager: Pager::new(page, PER_PAGE, total, base),
    }
    .into_response()
}

struct GroupChoice {
    id: String,
    name: String,
    accounts: i64,
    languages: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "composer.html")]
struct ComposerPage {
    ctx: Ctx,
    groups: Vec<GroupChoice>,
    languages: Vec<(&'static str, &'static str)>,
    default_language: &'static str,
}

fn language_list(groups: &[icf_core::account::Group]) -> String {
    let mut all: HashMap<&str, i64> = HashMap::new();
    for g in groups {
        for (lang, n) in &g.languages {
            *all.entry(lang.as_str()).or_default() += n;
        }
    }
    let mut v: Vec<_> = all.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn composer(State(state): State<AppState>, ui: Ui) -> Response {
    let groups = match icf_store::groups::list(&state.app.db).await {
        Ok(g) => g,
        Err(e) => return error_page(ui.l, e.into()),
    };
    let groups = groups
        .iter()
        .map(|g| GroupChoice {
            id: g.id.to_string(),
            name: g.name.clone(),
            accounts: g.accounts_count,
            languages: language_list(std::slice::from_ref(g)),
        })
        .collect();
    let languages = icf_core::language::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect();
    ComposerPage {
        default_language: if ui.l == Lang::Ru { "ru" } else { "en" },
        ctx: ui.ctx("posts"),
        groups,
        languages,
    }
    .into_response()
}

/// One language of the post, as a card of the translations grid.
pub(crate) struct LangCard {
    post: String,
    lang: String,
    text: String,
    origin: String,
    source: bool,
    stale: bool,
    warnings: Vec<String>,
    error: Option<String>,
    saved: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "translation_card.html")]
struct CardFragment {
    l: Lang,
    c: LangCard,
}

#[derive(Template, WebTemplate)]
#[template(path = "translations.html")]
struct TranslationsFragment {
    l: Lang,
    cards: Vec<LangCard>,
    note: String,
}

struct ExecRow {
    username: String,
    account_id: String,
    language: String,
    status: String,
    attempts: i32,
    problem: String,
    planned: String,
    posted: String,
    link: String,
}

struct Totals {
    total: usize,
    queued: usize,
    posting: usize,
    success: usize,
    failed: usize,
    cancelled: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "executions.html")]
struct ExecutionsFragment {
    l: Lang,
    post: String,
    rows: Vec<ExecRow>,
    t: Totals,
    /// The post's status, sent along (out of band) when the fragment refreshes alone.
    status: Option<String>,
}

async fn executions_fragment(
    state: &AppState,
    l: Lang,
    id: PostId,
) -> Result<ExecutionsFragment, ApiError> {
    let items = icf_store::executions::list(&state.app.db, id).await?;
    let mut t = Totals {
        total: items.len(),
        queued: 0,
        posting: 0,
        success: 0,
        failed: 0,
        cancelled: 0,
    };
    let rows = items
        .into_iter()
        .map(|e| {
            match e.status {
                ExecutionStatus::Queued => t.queued += 1,
                ExecutionStatus::Posting => t.posting += 1,
                ExecutionStatus::Success => t.success += 1,
                ExecutionStatus::Failed => t.failed += 1,
                ExecutionStatus::Cancelled => t.cancelled += 1,
            }
            let problem = match (&e.error_class, &e.error_message) {
                (Some(class), Some(msg)) => format!("{} ({msg})", l.word(class)),
                (Some(class), None) => l.word(class),
                (None, Some(msg)) => msg.clone(),
                (None, None) => String::new(),
            };
            ExecRow {
                username: e.username,
                account_id: e.account_id.to_string(),
                language: e.language,
                status: e.status.as_str().to_owned(),
                attempts: e.attempts,
                problem,
                planned: e.planned_at.as_ref().map(iso).unwrap_or_default(),
                posted: e.posted_at.as_ref().map(iso).unwrap_or_default(),
                link: e
                    .instagram_code
                    .map(|c| format!("https://www.instagram.com/p/{c}/"))
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(ExecutionsFragment {
        l,
        post: id.to_string(),
        rows,
        t,
        status: None,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "post.html")]
struct PostPage {
    ctx: Ctx,
    id: String,
    caption: String,
    language: String,
    media_type: String,
    media_count: usize,
    status: String,
    groups: Vec<String>,
    created_iso: String,
    scheduled_iso: String,
    editable: bool,
    translations: TranslationsFragment,
    executions: ExecutionsFragment,
    default_at: String,
}

fn card_from_stored(post: &Post, t: icf_core::post::PostTranslation) -> LangCard {
    LangCard {
        post: post.id.to_string(),
        source: t.language == post.original_language,
        lang: t.language,
        text: t.text,
        origin: t.origin.as_str().to_owned(),
        stale: t.stale,
        warnings: Vec::new(),
        error: None,
        saved: false,
    }
}

pub async fn page(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let result = async {
        let post = icf_store::posts::get(&state.app.db, id)
            .await
            .map_err(ApiError::missing("post"))?;
        let all_groups = icf_store::groups::list(&state.app.db).await?;
        let groups = post
            .target_groups
            .iter()
            .filter_map(|g| all_groups.iter().find(|x| x.id == *g))
            .map(|g| format!("{} ({})", g.name, g.accounts_count))
            .collect();
        let stored = icf_store::post_translations::list(&state.app.db, id).await?;
        let mut cards: Vec<LangCard> = stored
            .into_iter()
            .map(|t| card_from_stored(&post, t))
            .collect();
        if !cards.iter().any(|c| c.source) {
            cards.insert(
                0,
                LangCard {
                    post: id.to_string(),
                    lang: post.original_language.clone(),
                    text: post.caption_original.clone(),
                    origin: TranslationOrigin::Source.as_str().to_owned(),
                    source: true,
                    stale: false,
                    warnings: Vec::new(),
                    error: None,
                    saved: false,
                },
            );
        }
        cards.sort_by_key(|c| !c.source);
        let executions = executions_fragment(&state, l, id).await?;
        Ok::<_, ApiError>(PostPage {
            id: id.to_string(),
            caption: post.caption_original.clone(),
            language: post.original_language.clone(),
            media_type: l.word(post.media_type.as_str()),
            media_count: post.media.len(),
            status: post.status.as_str().to_owned(),
            groups,
            created_iso: iso(&post.created_at),
            scheduled_iso: post.scheduled_at.as_ref().map(iso).unwrap_or_default(),
            editable: matches!(post.status, PostStatus::Draft | PostStatus::Pending),
            translations: TranslationsFragment {
                l,
                cards,
                note: String::new(),
            },
            executions,
            default_at: (Utc::now() + Duration::hours(1))
                .format("%Y-%m-%dT%H:00")
                .to_string(),
            ctx: ui.ctx("posts"),
        })
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => error_page(l, e),
    }
}

pub async fn executions(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    let status = icf_store::posts::get(&state.app.db, id)
        .await
        .map(|p| p.status.as_str().to_owned())
        .ok();
    match executions_fragment(&state, ui.l, id).await {
        Ok(f) => ExecutionsFragment { status, ..f }.into_response(),
        Err(e) => field_errors(&["exec"], e),
    }
}

pub async fn translate(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let result = async {
        let Json(preview) = post_translations::translate(
            State(state.clone()),
            ui.user.clone(),
            IdPath(id),
            axum::body::Bytes::new(),
        )
        .await?;
        let post = icf_store::posts::get(&state.app.db, id)
            .await
            .map_err(ApiError::missing("post"))?;
        let mut cards: Vec<LangCard> = preview
            .items
            .into_iter()
            .map(|item| LangCard {
                post: id.to_string(),
                source: item.language == post.original_language,
                lang: item.language,
                text: item.text.unwrap_or_default(),
                origin: item
                    .origin
                    .map(|o| o.as_str().to_owned())
                    .unwrap_or_default(),
                stale: item.stale,
                warnings: item.warnings,
                error: item.error,
                saved: false,
            })
            .collect();
        cards.sort_by_key(|c| !c.source);
        Ok::<_, ApiError>(TranslationsFragment {
            l,
            cards,
            note: String::new(),
        })
    }
    .await;
    match result {
        Ok(f) => f.into_response(),
        Err(e) => field_errors(&["translate"], e),
    }
}

#[derive(Deserialize)]
pub struct TextForm {
    text: String,
}

pub async fn edit_translation(
    State(state): State<AppState>,
    ui: Ui,
    Path((raw, lang)): Path<(String, String)>,
    axum::Form(form): axum::Form<TextForm>,
) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    // The source language's card edits the caption itself.
    let is_source = icf_store::posts::get(&state.app.db, id)
        .await
        .is_ok_and(|p| p.original_language == lang);
    if is_source {
        let result = match super::accounts::body(json!({ "caption": form.text })) {
            Ok(req) => crate::routes::posts::update(
                State(state),
                ui.user.clone(),
                IdPath(id),
                crate::extract::ApiJson(req),
            )
            .await
            .map(|Json(p)| p.caption_original),
            Err(e) => Err(e),
        };
        let (text, error, saved) = match result {
            Ok(t) => (t, None, true),
            Err(e) => (form.text, Some(e.to_string()), false),
        };
        let c = LangCard {
            post: raw,
            lang,
            text,
            origin: TranslationOrigin::Source.as_str().to_owned(),
            source: true,
            stale: false,
            warnings: Vec::new(),
            error,
            saved,
        };
        return CardFragment { l, c }.into_response();
    }
    let req = match super::accounts::body(json!({ "text": form.text })) {
        Ok(r) => r,
        Err(e) => return field_errors(&["translate"], e),
    };
    let result = post_translations::edit(
        State(state),
        ui.user.clone(),
        Path((raw.clone(), lang.clone())),
        crate::extract::ApiJson(req),
    )
    .await;
    let c = match result {
        Ok(Json(t)) => LangCard {
            post: raw,
            lang: t.language,
            text: t.text,
            origin: t.origin.as_str().to_owned(),
            source: false,
            stale: t.stale,
            warnings: Vec::new(),
            error: None,
            saved: true,
        },
        Err(e) => LangCard {
            post: raw,
            lang,
            text: form.text,
            origin: TranslationOrigin::Edited.as_str().to_owned(),
            source: false,
            stale: false,
            warnings: Vec::new(),
            error: Some(e.to_string()),
            saved: false,
        },
    };
    CardFragment { l, c }.into_response()
}

#[derive(Deserialize)]
pub struct WhenForm {
    when: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in the reader's time zone.
    at: Option<String>,
    /// Minutes to add to local time to get UTC (JavaScript's `getTimezoneOffset`).
    tz: Option<i64>,
}

impl WhenForm {
    /// `None` for now; the UTC time otherwise.
    fn start(&self) -> Result<Option<DateTime<Utc>>, ApiError> {
        if self.when.as_deref() != Some("at") {
            return Ok(None);
        }
        let raw = self.at.as_deref().unwrap_or_default();
        let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .map_err(|_| ApiError::validation("at", "pick a date and a time"))?;
        let offset = self.tz.unwrap_or(0);
        if offset.abs() > 24 * 60 {
            return Err(ApiError::validation(
                "at",
                "the time zone offset is not valid",
            ));
        }
        Ok(Some(
            Utc.from_utc_datetime(&local) + Duration::minutes(offset),
        ))
    }
}

struct PlanView {
    count: usize,
    last: String,
    excluded: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plan.html")]
struct PlanFragment {
    l: Lang,
    p: PlanView,
}

fn plan_view(l: Lang, plan: &Value) -> PlanView {
    let excluded = plan["excluded"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["username"].as_str().unwrap_or_default().to_owned(),
                        l.word(x["reason"].as_str().unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    PlanView {
        count: plan["items"].as_array().map_or(0, Vec::len),
        last: plan["last_eta"].as_str().unwrap_or_default().to_owned(),
        excluded,
    }
}

pub async fn plan(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
    Query(form): Query<WhenForm>,
) -> Response {
    const FIELDS: &[&str] = &["at", "form"];
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let start = match form.start() {
        Ok(s) => s,
        Err(e) => return field_errors(FIELDS, e),
    };
    match publish::plan_at(&state, id, start).await {
        Ok(p) => {
            let v = serde_json::to_value(&p).unwrap_or(Value::Null);
            let mut r = PlanFragment {
                l,
                p: plan_view(l, &v),
            }
            .into_response();
            // Clear old messages next to the fields.
            r.headers_mut()
                .insert("hx-trigger", HeaderValue::from_static("plan-ok"));
            r
        }
        Err(e) => field_errors(FIELDS, e),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<WhenForm>,
) -> Response {
    const FIELDS: &[&str] = &["at", "form"];
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    let when = match form.start() {
        Ok(Some(t)) => t.to_rfc3339(),
        Ok(None) => "now".to_owned(),
        Err(e) => return field_errors(FIELDS, e),
    };
    let body = json!({ "when": when }).to_string();
    match publish::publish(State(state), ui.user.clone(), IdPath(id), body.into()).await {
        Ok(_) => {
            let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/posts/{id}")) {
                r.headers_mut().insert("hx-redirect", v);
            }
            r
        }
        Err(e) => field_errors(FIELDS, e),
    }
}

pub async fn retry(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    if let Err(e) = publish::retry_failed(State(state.clone()), ui.user.clone(), IdPath(id)).await {
        return field_errors(&["exec"], e);
    }
    match executions_fragment(&state, l, id).await {
        Ok(f) => f.into_response(),
        Err(e) => field_errors(&["exec"], e),
    }
}

pub async fn cancel(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    if let Err(e) = publish::cancel(State(state.clone()), ui.user.clone(), IdPath(id)).await {
        return field_errors(&["exec"], e);
    }
    match executions_fragment(&state, l, id).await {
        Ok(f) => f.into_response(),
        Err(e) => field_errors(&["exec"], e),
    }
}

struct Day {
    date: NaiveDate,
    label: u32,
    other: bool,
    today: bool,
    posts: Vec<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    week: bool,
    title: String,
    prev: String,
    next: String,
    days: Vec<Day>,
}

#[derive(Deserialize)]
pub struct CalendarQuery {
    view: Option<String>,
    date: Option<String>,
}

/// Posts by the day they are scheduled for (or went out, or were written).
pub async fn calendar(
    State(state): State<AppState>,
    ui: Ui,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let l = ui.l;
    let week = q.view.as_deref() == Some("week");
    let today = Utc::now().date_naive();
    let anchor = q
        .date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today);
    let (first, last, prev, next, title) = if week {
        let start = anchor - Duration::days(anchor.weekday().num_days_from_monday().into());
        (
            start,
            start + Duration::days(6),
            start - Duration::days(7),
            start + Duration::days(7),
            format!("{} — {}", start, start + Duration::days(6)),
        )
    } else {
        let month_start = anchor.with_day(1).unwrap_or(anchor);
        let next_month = (month_start + Duration::days(32))
            .with_day(1)
            .unwrap_or(month_start);
        let prev_month = (month_start - Duration::days(1))
            .with_day(1)
            .unwrap_or(month_start);
        let start =
            month_start - Duration::days(month_start.weekday().num_days_from_monday().into());
        let month_end = next_month - Duration::days(1);
        let end =
            month_end + Duration::days((6 - month_end.weekday().num_days_from_monday()).into());
        (
            start,
            end,
            prev_month,
            next_month,
            month_start.format("%Y-%m").to_string(),
        )
    };
    // A page shows at most this many posts of the newest; enough for a month of work.
    let posts = match icf_store::posts::list(&state.app.db, None, 500, 0).await {
        Ok((p, _)) => p,
        Err(e) => return error_page(l, e.into()),
    };
    let mut days: Vec<Day> = Vec::new();
    let mut d = first;
    while d <= last {
        days.push(Day {
            date: d,
            label: d.day(),
            other: !week && d.month() != anchor.month(),
            today: d == today,
            posts: Vec::new(),
        });
        d += Duration::days(1);
    }
    for p in posts {
        let when = p.scheduled_at.or(p.posted_at).unwrap_or(p.created_at);
        let date = when.date_naive();
        if let Some(day) = days.iter_mut().find(|x| x.date == date) {
            day.posts.push((
                p.id.to_string(),
                format!(
                    "{} {}",
                    when.format("%H:%M"),
                    short(&p.caption_original, 40)
                ),
                p.status.as_str().to_owned(),
            ));
        }
    }
    let view = if week { "week" } else { "month" };
    CalendarPage {
        ctx: ui.ctx("calendar"),
        week,
        title,
        prev: format!("?view={view}&date={prev}"),
        next: format!("?view={view}&date={next}"),
        days,
    }
    .into_response()
}

/// Deletes the post (queued work is cancelled first, as the API does).
pub async fn delete(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    match crate::routes::posts::delete(State(state), ui.user.clone(), IdPath(id)).await {
        Ok(_) => super::view::redirect("/posts"),
        Err(e) => field_errors(&["delete"], e),
    }
}
