//! A post's stored captions, and a person's caption for one language, which machine
//! translations never overwrite.

use icf_core::enums::TranslationOrigin;
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::{PostTranslation, check_caption};

use crate::{App, AppError, AppResult};

/// Every stored caption of the post (404 when the post does not exist).
pub async fn list(app: &App, id: PostId) -> AppResult<Vec<PostTranslation>> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    Ok(icf_store::post_translations::list(&app.db, id).await?)
}

/// Stores a person's caption for `lang`, checked against Instagram's caption rules. The
/// source language is refused: its caption is the post's own.
pub async fn edit(app: &App, id: PostId, lang: Language, text: &str) -> AppResult<PostTranslation> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    if lang.code() == post.original_language {
        return Err(AppError::validation(
            "lang",
            "this is the post's source language: edit the caption itself (PUT /api/posts/{id})",
        ));
    }
    if text.trim().is_empty() {
        return Err(AppError::validation("text", "must not be empty"));
    }
    check_caption("text", lang.code(), text, &app.caption_rules)?;
    icf_store::post_translations::put(
        &app.db,
        id,
        lang.code(),
        text,
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
