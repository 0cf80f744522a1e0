//! The post page's translations grid: one card per language, machine translations on
//! request, and a person's edit of a card (the source language's card edits the caption).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::posts::edit::UpdatePost;
use icf_app::translations::refresh::TranslatePost;
use icf_core::enums::TranslationOrigin;
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::{Post, PostTranslation};
use serde::Deserialize;

use super::view::parse_id;
use crate::error::ApiError;
use crate::extract::refuse_nul;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::Ui;
use crate::ui::view::{error_page, field_errors};

/// One language of the post, as a card of the translations grid.
pub(super) struct LangCard {
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
pub(super) struct TranslationsFragment {
    l: Lang,
    cards: Vec<LangCard>,
    note: String,
}

/// The cards of the stored captions, the source first; a post never translated still
/// shows its source caption.
pub(super) fn stored_cards(
    l: Lang,
    post: &Post,
    stored: Vec<PostTranslation>,
) -> TranslationsFragment {
    let mut cards: Vec<LangCard> = stored
        .into_iter()
        .map(|t| LangCard {
            post: post.id.to_string(),
            source: t.language == post.original_language,
            lang: t.language,
            text: t.text,
            origin: t.origin.as_str().to_owned(),
            stale: t.stale,
            warnings: Vec::new(),
            error: None,
            saved: false,
        })
        .collect();
    if !cards.iter().any(|c| c.source) {
        cards.insert(
            0,
            LangCard {
                post: post.id.to_string(),
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
    TranslationsFragment {
        l,
        cards,
        note: String::new(),
    }
}

/// Translates the post into its audience's languages and shows every card.
pub async fn translate(State(state): State<AppState>, ui: Ui, Path(raw): Path<String>) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let preview = match icf_app::translations::refresh::translate_post(
        &state.app,
        id,
        TranslatePost::default(),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return field_errors(&["translate"], e.into()),
    };
    let mut cards: Vec<LangCard> = preview
        .items
        .into_iter()
        .map(|item| LangCard {
            post: id.to_string(),
            source: item.language == preview.source_lang,
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
    TranslationsFragment {
        l,
        cards,
        note: String::new(),
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct TextForm {
    text: String,
}

/// Saves one card: the source language's edits the post's caption, any other stores a
/// person's caption. The card comes back saved, or with the reason next to the text.
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
    let is_source = icf_app::posts::read::get(&state.app, id)
        .await
        .is_ok_and(|p| p.original_language == lang);
    if is_source {
        let c = save_caption(&state, id, raw, lang, form.text).await;
        return CardFragment { l, c }.into_response();
    }
    if let Err(e) = refuse_nul("text", &form.text) {
        return field_errors(&["translate"], e);
    }
    let result = match Language::parse_field(&lang, "lang") {
        Ok(language) => icf_app::translations::edit::edit(&state.app, id, language, &form.text)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let c = match result {
        Ok(t) => LangCard {
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

/// The source language's card: an edit of the post's caption (a pending post is
/// re-planned with it).
async fn save_caption(
    state: &AppState,
    id: PostId,
    raw: String,
    lang: String,
    text: String,
) -> LangCard {
    let result = match refuse_nul("caption", &text) {
        Ok(()) => {
            let edit = UpdatePost {
                caption: Some(text.clone()),
                ..UpdatePost::default()
            };
            icf_app::posts::edit::update(&state.app, id, edit)
                .await
                .map(|p| p.caption_original)
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    let (text, error, saved) = match result {
        Ok(t) => (t, None, true),
        Err(e) => (text, Some(e.to_string()), false),
    };
    LangCard {
        post: raw,
        lang,
        text,
        origin: TranslationOrigin::Source.as_str().to_owned(),
        source: true,
        stale: false,
        warnings: Vec::new(),
        error,
        saved,
    }
}
