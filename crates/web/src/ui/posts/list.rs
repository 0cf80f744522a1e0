//! The list of posts, newest first, with each one's progress.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use icf_core::enums::PostStatus;
use serde::Deserialize;

use super::view::short;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::session::Ui;
use crate::ui::view::{Ctx, Pager, error_page, iso, query, time};

const PER_PAGE: i64 = 25;

/// One post in the list.
struct Row {
    id: String,
    caption: String,
    language: String,
    media_type: String,
    /// The first media's picture is shown as the post's thumbnail.
    has_media: bool,
    media_count: usize,
    status: String,
    created: String,
    created_iso: String,
    scheduled_iso: String,
    /// Accounts that published it, of those it was planned for (cancelled ones aside).
    done: usize,
    total: usize,
}

impl Row {
    fn percent(&self) -> usize {
        // A post planned for no account yet is at 0 %.
        (self.done * 100).checked_div(self.total).unwrap_or(0)
    }
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
    let posts =
        match icf_app::posts::read::list(&state.app, status, PER_PAGE, (page - 1) * PER_PAGE).await
        {
            Ok(r) => r,
            Err(e) => return error_page(l, e.into()),
        };
    let mut rows = Vec::with_capacity(posts.items.len());
    for p in posts.items {
        let totals = match icf_app::publishing::executions::totals(&state.app, p.id).await {
            Ok(t) => t,
            Err(e) => return error_page(l, e.into()),
        };
        rows.push(Row {
            id: p.id.to_string(),
            caption: short(&p.caption_original, 90),
            language: p.original_language.clone(),
            media_type: l.word(p.media_type.as_str()),
            has_media: !p.media.is_empty(),
            media_count: p.media.len(),
            status: p.status.as_str().to_owned(),
            created: time(&p.created_at),
            created_iso: iso(&p.created_at),
            scheduled_iso: p.scheduled_at.as_ref().map(iso).unwrap_or_default(),
            done: totals.success,
            total: totals.planned(),
        });
    }
    let statuses = PostStatus::ALL
        .iter()
        .map(|s| (s.as_str(), l.word(s.as_str())))
        .collect();
    let base = query(&[("status", &status_raw)]);
    ListPage {
        // Posts waiting for review are the review queue the nav links to.
        ctx: ui.ctx(if status == Some(PostStatus::InReview) {
            "review"
        } else {
            "posts"
        }),
        rows,
        status: status_raw,
        statuses,
        pager: Pager::new(page, PER_PAGE, posts.total, base),
    }
    .into_response()
}
