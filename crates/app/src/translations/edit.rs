//! A post's stored captions, and a person's caption for one language, which machine
//! translations never overwrite.

use icf_core::enums::TranslationOrigin;
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::{PostTexts, PostTranslation, check_caption};
use icf_core::post_options::MAX_ALT_TEXT_CHARS;

use crate::{App, AppError, AppResult};

/// Every stored caption of the post (404 when the post does not exist).
pub async fn list(app: &App, id: PostId) -> AppResult<Vec<PostTranslation>> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    Ok(icf_store::post_translations::list(&app.db, id).await?)
}

/// A person's texts for one language; a field left out keeps what is stored for it.
#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EditTexts {
    /// The caption.
    pub text: Option<String>,
    /// The first comment (only when the post has one).
    pub first_comment: Option<String>,
    /// The alt texts, one per media item in order (only when the post has them).
    pub alt_text: Option<Vec<String>>,
}

/// Stores a person's texts for `lang`, checked against Instagram's caption rules (the
/// first comment too). The source language is refused: its texts are the post's own.
pub async fn edit(
    app: &App,
    id: PostId,
    lang: Language,
    req: EditTexts,
) -> AppResult<PostTranslation> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    if lang.code() == post.original_language {
        return Err(AppError::validation(
            "lang",
            "this is the post's source language: edit the caption itself (PUT /api/posts/{id})",
        ));
    }
    let stored = icf_store::post_translations::list(&app.db, id).await?;
    let current = stored.iter().find(|t| t.language == lang.code());
    let text = match (req.text, current) {
        (Some(t), _) => t,
        (None, Some(c)) => c.text.clone(),
        (None, None) => return Err(AppError::validation("text", "required")),
    };
    if text.trim().is_empty() {
        return Err(AppError::validation("text", "must not be empty"));
    }
    check_caption("text", lang.code(), &text, &app.caption_rules)?;
    let first_comment = match (req.first_comment, &post.options.first_comment) {
        (Some(_), None) => {
            return Err(AppError::validation(
                "first_comment",
                "the post has no first comment: add one to the post first",
            ));
        }
        (Some(c), Some(_)) if c.trim().is_empty() => {
            return Err(AppError::validation("first_comment", "must not be empty"));
        }
        (Some(c), Some(_)) => Some(c.trim().to_owned()),
        (None, Some(_)) => current.and_then(|c| c.first_comment.clone()),
        (None, None) => None,
    };
    if let Some(c) = &first_comment {
        check_caption("first_comment", lang.code(), c, &app.caption_rules).map_err(|e| {
            AppError::validation(
                "first_comment",
                e.message.replacen("caption", "first comment", 1),
            )
        })?;
    }
    let alt_text = match req.alt_text {
        Some(alts) => {
            if alts.len() != post.options.alt_text.len() {
                return Err(AppError::validation(
                    "alt_text",
                    format!(
                        "the post has {} alt texts (one per media item); {} were sent",
                        post.options.alt_text.len(),
                        alts.len()
                    ),
                ));
            }
            let alts: Vec<String> = alts.iter().map(|a| a.trim().to_owned()).collect();
            if let Some(n) = alts.iter().map(|a| a.chars().count()).max()
                && n > MAX_ALT_TEXT_CHARS
            {
                return Err(AppError::validation(
                    "alt_text",
                    format!(
                        "an alt text has {n} characters; Instagram allows at most {MAX_ALT_TEXT_CHARS}"
                    ),
                ));
            }
            alts
        }
        None => current.map(|c| c.alt_text.clone()).unwrap_or_default(),
    };
    let texts = PostTexts {
        caption: text,
        first_comment,
        alt_text,
    };
    icf_store::post_translations::put(
        &app.db,
        id,
        lang.code(),
        &texts,
        TranslationOrigin::Edited,
        None,
        true,
    )
    .await?;
    let stored = icf_store::post_translations::list(&app.db, id).await?;
    stored
        .into_iter()
        .find(|t| t.language == lang.code())
        .ok_or_else(|| AppError::internal("translation vanished after writing"))
}
