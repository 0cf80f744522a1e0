//! The post page's publish form: the plan for the time picked (previewed as the reader
//! chooses), and the publish itself.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use icf_app::publishing::plan::PlanResponse;
use icf_app::publishing::publish::PublishOptions;
use icf_core::enums::JobPriority;
use serde::Deserialize;

use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::Ui;
use crate::ui::view::{error_page, field_errors};

/// The fields a message about the form lands next to.
pub(super) const FIELDS: &[&str] = &["at", "form"];

#[derive(Deserialize)]
pub struct WhenForm {
    when: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in the reader's time zone.
    at: Option<String>,
    /// Minutes to add to local time to get UTC (JavaScript's `getTimezoneOffset`).
    tz: Option<i64>,
}

impl WhenForm {
    /// What the form asks for: its time, at normal priority.
    pub(super) fn options(&self) -> Result<PublishOptions, ApiError> {
        Ok(PublishOptions {
            start: self.start()?,
            priority: JobPriority::Normal,
        })
    }

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
    /// The last account's time, as the API writes it (app.js shows it in local time).
    last: String,
    /// Who is left out, and why in the reader's language.
    excluded: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plan.html")]
struct PlanFragment {
    l: Lang,
    p: PlanView,
}

fn plan_view(l: Lang, plan: PlanResponse) -> PlanView {
    PlanView {
        count: plan.items.len(),
        last: plan
            .last_eta
            .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            .unwrap_or_default(),
        excluded: plan
            .excluded
            .into_iter()
            .map(|x| (x.username, l.word(&x.reason)))
            .collect(),
    }
}

pub async fn plan(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
    Query(form): Query<WhenForm>,
) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let start = match form.start() {
        Ok(s) => s,
        Err(e) => return field_errors(FIELDS, e),
    };
    match icf_app::publishing::plan::plan_at(&state.app, id, start).await {
        Ok(p) => {
            let mut r = PlanFragment {
                l,
                p: plan_view(l, p),
            }
            .into_response();
            // Clear old messages next to the fields.
            r.headers_mut()
                .insert("hx-trigger", HeaderValue::from_static("plan-ok"));
            r
        }
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<WhenForm>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    let options = match form.options() {
        Ok(o) => o,
        Err(e) => return field_errors(FIELDS, e),
    };
    match icf_app::publishing::publish::publish_as(&state.app, &ui.user.actor(), id, options).await
    {
        Ok(_) => back_to_post(id),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

/// An htmx answer that reloads the post's page.
pub(super) fn back_to_post(id: icf_core::ids::PostId) -> Response {
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/posts/{id}")) {
        r.headers_mut().insert("hx-redirect", v);
    }
    r
}
