//! The post page's translations grid: one card per language, machine translations on
//! request, and a person's edit of a card (the source language's card edits the caption).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use icf_app::posts::edit::UpdatePost;
use icf_app::translations::edit::EditTexts;
use icf_app::translations::refresh::TranslatePost;
use icf_app::translations::variants::VariantsPreview;
use icf_core::enums::TranslationOrigin;
use icf_core::language::Language;
use icf_core::post::{Post, PostTranslation};

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
    /// The first comment in this language, when the post has one (empty: none yet).
    first_comment: Option<String>,
    /// The alt texts in this language, one per media item, when the post has them.
    alt_text: Vec<String>,
    /// A caption with alternatives: how many this language's accounts get, and samples.
    variants: Option<VariantsPreview>,
}

impl LangCard {
    /// The card's extra texts shaped like the post's: a field for the first comment when the
    /// post has one, one per media item for alt texts when it has them.
    fn shaped(mut self, post: &Post, first_comment: Option<String>, alt: Vec<String>) -> Self {
        self.first_comment = post
            .options
            .first_comment
            .as_ref()
            .map(|_| first_comment.unwrap_or_default());
        let n = post.options.alt_text.len();
        self.alt_text = (0..n)
            .map(|i| alt.get(i).cloned().unwrap_or_default())
            .collect();
        self
    }
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
        .map(|t| {
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
                first_comment: None,
                alt_text: Vec::new(),
                variants: None,
            }
            .shaped(post, t.first_comment, t.alt_text)
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
                first_comment: None,
                alt_text: Vec::new(),
                variants: None,
            }
            .shaped(
                post,
                post.options.first_comment.clone(),
                post.options.alt_text.clone(),
            ),
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
    let post = match icf_app::posts::read::get(&state.app, id).await {
        Ok(p) => p,
        Err(e) => return field_errors(&["translate"], e.into()),
    };
    let mut cards: Vec<LangCard> = preview
        .items
        .into_iter()
        .map(|item| {
            LangCard {
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
                first_comment: None,
                alt_text: Vec::new(),
                variants: item.variants,
            }
            .shaped(&post, item.first_comment, item.alt_text)
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

/// A card's form: `text`, and `first_comment` and `alt_text_0`, `alt_text_1`… when the post
/// has them (read as pairs: the alt texts are numbered fields).
pub struct TextForm {
    text: String,
    first_comment: Option<String>,
    alt_text: Option<Vec<String>>,
}

impl TextForm {
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut text = String::new();
        let mut first_comment = None;
        let mut alts: Vec<(usize, String)> = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "text" => text = v,
                "first_comment" => first_comment = Some(v),
                other => {
                    if let Some(i) = other
                        .strip_prefix("alt_text_")
                        .and_then(|i| i.parse::<usize>().ok())
                    {
                        alts.push((i, v));
                    }
                }
            }
        }
        alts.sort_by_key(|(i, _)| *i);
        let alt_text = (!alts.is_empty()).then(|| alts.into_iter().map(|(_, v)| v).collect());
        TextForm {
            text,
            first_comment,
            alt_text,
        }
    }

    fn check_nul(&self) -> Result<(), ApiError> {
        refuse_nul("text", &self.text)?;
        if let Some(c) = &self.first_comment {
            refuse_nul("first_comment", c)?;
        }
        for a in self.alt_text.iter().flatten() {
            refuse_nul("alt_text", a)?;
        }
        Ok(())
    }
}

/// Saves one card: the source language's edits the post's texts, any other stores a
/// person's texts. The card comes back saved, or with the reason next to the text.
pub async fn edit_translation(
    State(state): State<AppState>,
    ui: Ui,
    Path((raw, lang)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let l = ui.l;
    let Some(id) = parse_id(&raw) else {
        return error_page(l, ApiError::NotFound("post"));
    };
    let form = TextForm::read(pairs);
    if let Err(e) = form.check_nul() {
        return field_errors(&["translate"], e);
    }
    let post = match icf_app::posts::read::get(&state.app, id).await {
        Ok(p) => p,
        Err(e) => return error_page(l, e.into()),
    };
    if post.original_language == lang {
        let c = save_source(&state, &ui.user.actor(), &post, raw, lang, form).await;
        return CardFragment { l, c }.into_response();
    }
    let edit = EditTexts {
        text: Some(form.text.clone()),
        first_comment: form.first_comment.clone(),
        alt_text: form.alt_text.clone(),
    };
    let result = match Language::parse_field(&lang, "lang") {
        Ok(language) => icf_app::translations::edit::edit(&state.app, id, language, edit)
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
            first_comment: None,
            alt_text: Vec::new(),
            variants: None,
        }
        .shaped(&post, t.first_comment, t.alt_text),
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
            first_comment: None,
            alt_text: Vec::new(),
            variants: None,
        }
        .shaped(&post, form.first_comment, form.alt_text.unwrap_or_default()),
    };
    CardFragment { l, c }.into_response()
}

/// The source language's card: an edit of the post's own texts (a pending post is
/// re-planned with them).
async fn save_source(
    state: &AppState,
    actor: &icf_app::Actor,
    post: &Post,
    raw: String,
    lang: String,
    form: TextForm,
) -> LangCard {
    let edit = UpdatePost {
        caption: Some(form.text.clone()),
        first_comment: form.first_comment.clone().map(Some),
        alt_text: form.alt_text.clone(),
        ..UpdatePost::default()
    };
    let result = icf_app::posts::edit::update(&state.app, actor, post.id, edit)
        .await
        .map_err(ApiError::from);
    let card = |text: String, error, saved| LangCard {
        post: raw,
        lang,
        text,
        origin: TranslationOrigin::Source.as_str().to_owned(),
        source: true,
        stale: false,
        warnings: Vec::new(),
        error,
        saved,
        first_comment: None,
        alt_text: Vec::new(),
        variants: None,
    };
    match result {
        Ok(p) => card(p.caption_original.clone(), None, true).shaped(
            &p,
            p.options.first_comment.clone(),
            p.options.alt_text.clone(),
        ),
        Err(e) => card(form.text, Some(e.to_string()), false).shaped(
            post,
            form.first_comment,
            form.alt_text.unwrap_or_default(),
        ),
    }
}
