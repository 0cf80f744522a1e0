//! A post's page: what it is, its captions in every language, the publish form and the
//! live executions; and deleting it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use icf_core::enums::PostStatus;
use icf_core::post::MediaKind;
use icf_core::post_options::PostOptions;

use super::executions::{ExecutionsFragment, executions_fragment};
use super::review::{ReviewView, review_view};
use super::translations::{TranslationsFragment, stored_cards};
use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::Lang;
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
    /// The schedule form is shown (not while the post waits for an admin).
    schedulable: bool,
    review: ReviewView,
    translations: TranslationsFragment,
    executions: ExecutionsFragment,
    default_at: String,
    media: Vec<Thumb>,
    options: Vec<(&'static str, String)>,
}

/// One picture of the post's media strip.
struct Thumb {
    index: usize,
    label: String,
    alt: String,
}

/// The strip of the post's media: each photo, each video's cover, in the post's order.
fn thumbs(post: &icf_core::post::Post, l: Lang) -> Vec<Thumb> {
    post.media
        .iter()
        .enumerate()
        .map(|(index, m)| Thumb {
            index,
            label: format!(
                "{}. {}",
                index + 1,
                match m.kind {
                    MediaKind::Photo => l.t("photo"),
                    MediaKind::Video => l.t("video · cover"),
                }
            ),
            alt: post
                .options
                .alt_text_of(index)
                .map_or_else(|| format!("{} {}", l.t("Media"), index + 1), str::to_owned),
        })
        .collect()
}

/// The post's options as the page lists them (only those set).
fn option_lines(o: &PostOptions, l: Lang) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(c) = &o.first_comment {
        let pinned = if o.pin_first_comment {
            format!(" ({})", l.t("pinned"))
        } else {
            String::new()
        };
        out.push((l.t("First comment"), format!("{c}{pinned}")));
    }
    if o.has_alt_text() {
        out.push((l.t("Alt text"), o.alt_text.join(" · ")));
    }
    if let Some(p) = &o.location {
        out.push((
            l.t("Location"),
            format!("{} ({}, {})", p.name, p.lat, p.lng),
        ));
    }
    if !o.usertags.is_empty() {
        let tags = o
            .usertags
            .iter()
            .map(|t| {
                format!(
                    "@{} ({} {}, {:.2}/{:.2})",
                    t.username,
                    l.t("item"),
                    t.media_index + 1,
                    t.x,
                    t.y
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push((l.t("Tagged people"), tags));
    }
    if !o.collaborators.is_empty() {
        let c = o
            .collaborators
            .iter()
            .map(|c| format!("@{c}"))
            .collect::<Vec<_>>();
        out.push((l.t("Collaborators"), c.join(", ")));
    }
    if o.disable_comments {
        out.push((l.t("Comments"), l.t("off").to_owned()));
    }
    if o.hide_like_counts {
        out.push((l.t("Like and view counts"), l.t("hidden").to_owned()));
    }
    if !o.share_to_feed {
        out.push((
            l.t("Profile grid"),
            l.t("not shown (reel only in Reels)").to_owned(),
        ));
    }
    if let Some(ms) = o.cover_offset_ms {
        out.push((l.t("Cover"), format!("{} {ms} ms", l.t("the frame at"))));
    }
    if let Some(v) = o.media_variants {
        out.push((l.t("Media copies"), l.word(v.as_str())));
    }
    out
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
        let history = icf_store::reviews::history(&state.app.db, id).await?;
        let editable = matches!(
            post.status,
            PostStatus::Draft | PostStatus::InReview | PostStatus::Rejected | PostStatus::Pending
        );
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
            editable,
            schedulable: editable && post.status != PostStatus::InReview,
            review: review_view(&state, &ui, post.status, history),
            translations,
            executions,
            media: thumbs(&post, l),
            options: option_lines(&post.options, l),
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
