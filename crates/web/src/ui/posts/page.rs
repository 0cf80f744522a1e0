//! A post's page: what it is, its captions in every language, the publish form and the
//! live executions; and deleting it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use icf_core::enums::PostStatus;

use super::executions::{ExecutionsFragment, executions_fragment};
use super::translations::{TranslationsFragment, stored_cards};
use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::session::Ui;
use crate::ui::view::{Ctx, error_page, field_errors, iso, redirect};

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

pub async fn page(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let result = async {
        let post = icf_app::posts::read::get(&state.app, id).await?;
        let all_groups = icf_store::groups::list(&state.app.db).await?;
        let groups = post
            .target_groups
            .iter()
            .filter_map(|g| all_groups.iter().find(|x| x.id == *g))
            .map(|g| format!("{} ({})", g.name, g.accounts_count))
            .collect();
        let stored = icf_app::translations::edit::list(&state.app, id).await?;
        let translations = stored_cards(l, &post, stored);
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
            translations,
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

/// Deletes the post (queued work is cancelled first, as the API does).
pub async fn delete(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id(&raw) else {
        return error_page(ui.l, ApiError::NotFound("post"));
    };
    match icf_app::posts::delete::delete(&state.app, id).await {
        Ok(_) => redirect("/posts"),
        Err(e) => field_errors(&["delete"], e.into()),
    }
}
