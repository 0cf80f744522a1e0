//! The post page's review steps (issue `[workflow]`): an editor submits the post with the
//! schedule form, an admin approves or rejects it with a comment. The use cases are
//! `icf_app::posts::review`; the page shows the history.

use axum::extract::{Path, State};
use axum::response::Response;
use icf_core::enums::PostStatus;
use icf_core::review::PostReview;
use serde::Deserialize;

use super::publish::{FIELDS, WhenForm, back_to_post};
use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::{Ui, UiAdmin};
use crate::ui::view::{error_page, field_errors, iso};

/// Where a rejection's or an approval's message lands.
const REVIEW_FIELDS: &[&str] = &["comment", "review"];

/// The review part of a post's page.
pub(super) struct ReviewView {
    /// Approvals are on and this is an editor: the schedule form submits for review.
    pub submit_instead: bool,
    /// An admin looking at a post waiting for review: approve and reject are offered.
    pub can_decide: bool,
    pub history: Vec<Step>,
}

/// One line of the history.
pub(super) struct Step {
    pub decision: &'static str,
    pub label: String,
    pub username: String,
    pub at_iso: String,
    pub requested_iso: String,
    pub comment: String,
}

pub(super) fn review_view(
    state: &AppState,
    ui: &Ui,
    status: PostStatus,
    history: Vec<PostReview>,
) -> ReviewView {
    let l: Lang = ui.l;
    ReviewView {
        submit_instead: state.app.approval.required && !ui.user.is_admin(),
        can_decide: ui.user.is_admin() && status == PostStatus::InReview,
        history: history
            .into_iter()
            .map(|r| Step {
                decision: r.decision.as_str(),
                label: l.word(r.decision.as_str()),
                username: r.username,
                at_iso: iso(&r.created_at),
                requested_iso: r.requested_at.as_ref().map(iso).unwrap_or_default(),
                comment: r.comment.unwrap_or_default(),
            })
            .collect(),
    }
}

pub async fn submit(
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
    match icf_app::posts::review::submit(&state.app, &ui.user.actor(), id, options).await {
        Ok(_) => back_to_post(id),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    match icf_app::posts::review::approve(&state.app, &ui.user.actor(), id).await {
        Ok(_) => back_to_post(id),
        Err(e) => field_errors(REVIEW_FIELDS, e.into()),
    }
}

#[derive(Deserialize)]
pub struct RejectForm {
    comment: Option<String>,
}

pub async fn reject(
    State(state): State<AppState>,
    UiAdmin(ui): UiAdmin,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<RejectForm>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    let actor = ui.user.actor();
    match icf_app::posts::review::reject(&state.app, &actor, id, form.comment.as_deref()).await {
        Ok(_) => back_to_post(id),
        Err(e) => field_errors(REVIEW_FIELDS, e.into()),
    }
}
