//! The calendar: posts by the day they are scheduled for (or went out, or were
//! written), a month or a week at a time.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::view::short;
use crate::state::AppState;
use crate::ui::session::Ui;
use crate::ui::view::{Ctx, error_page};

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
    let posts = match icf_app::posts::read::list(&state.app, None, 500, 0).await {
        Ok(p) => p.items,
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
