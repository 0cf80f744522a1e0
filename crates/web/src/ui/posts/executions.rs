//! The post page's live view of its executions (refreshed as they change), and the
//! buttons under it: retry the failed accounts, cancel the queued ones.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_core::execution::ExecutionTotals;
use icf_core::ids::PostId;

use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::Ui;
use crate::ui::view::{error_page, field_errors, iso};

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
    /// The first comment's step (empty when the post has none), and why it failed.
    comment: String,
    comment_error: String,
    /// The account's own copy: how far from the original (bits of the perceptual hash,
    /// the least over the post's items) and how similar (SSIM, the least); empty when it
    /// got the original file.
    copy: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "executions.html")]
pub(super) struct ExecutionsFragment {
    l: Lang,
    post: String,
    rows: Vec<ExecRow>,
    t: ExecutionTotals,
    /// The closest two accounts' copies, in bits; `None` without two copies.
    closest: Option<u32>,
    /// The post's status, sent along (out of band) when the fragment refreshes alone.
    status: Option<String>,
}

/// The executions of the post as they are now.
pub(super) async fn executions_fragment(
    state: &AppState,
    l: Lang,
    id: PostId,
) -> Result<ExecutionsFragment, ApiError> {
    let executions = icf_app::publishing::executions::current(&state.app, id).await?;
    let rows = executions
        .items
        .into_iter()
        .map(|e| {
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
                comment: e.comment_status.unwrap_or_default(),
                comment_error: e.comment_error.unwrap_or_default(),
                copy: copy_summary(l, &e.variants),
            }
        })
        .collect();
    Ok(ExecutionsFragment {
        l,
        post: id.to_string(),
        rows,
        t: executions.totals,
        closest: executions.closest_pair,
        status: None,
    })
}

/// "9 bits from the original · SSIM 0.985" (the least over the post's items).
fn copy_summary(l: Lang, records: &[icf_core::variants::MediaVariantRecord]) -> String {
    let Some(distance) = records.iter().map(|r| r.distance).min() else {
        return String::new();
    };
    let ssim = records.iter().map(|r| r.ssim).fold(f64::INFINITY, f64::min);
    format!(
        "{distance} {} · SSIM {ssim:.3}",
        l.t("bits from the original")
    )
}

/// The fragment alone, with the post's status (the live view's refresh).
pub async fn executions(
    State(state): State<AppState>,
    ui: Ui,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    let status = icf_app::posts::read::get(&state.app, id)
        .await
        .map(|p| p.status.as_str().to_owned())
        .ok();
    match executions_fragment(&state, ui.l, id).await {
        Ok(f) => ExecutionsFragment { status, ..f }.into_response(),
        Err(e) => field_errors(&["exec"], e),
    }
}

pub async fn retry(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    if let Err(e) = icf_app::publishing::retry::retry_failed(&state.app, id).await {
        return field_errors(&["exec"], e.into());
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
    if let Err(e) = icf_app::publishing::cancel::cancel(&state.app, id).await {
        return field_errors(&["exec"], e.into());
    }
    match executions_fragment(&state, l, id).await {
        Ok(f) => f.into_response(),
        Err(e) => field_errors(&["exec"], e),
    }
}
