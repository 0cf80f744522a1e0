//! The texts every planned language will publish (caption, first comment, alt texts),
//! settled before anything is queued: an execution carries its final texts, so nothing is
//! translated while publishing.

use std::collections::HashMap;

use icf_core::enums::TranslationOrigin;
use icf_core::post::{Post, PostTexts};

use crate::translations::refresh::refresh;
use crate::{App, AppError, AppResult};

/// The texts of each of `languages` (sorted, without repeats): the source texts, the
/// stored translations, and for any language still without them a translation made now.
/// Refused (422 naming the language, nothing queued) when a language has no caption (or no
/// first comment or alt texts where the post has them) or a text breaks Instagram's
/// caption rules.
pub(crate) async fn final_captions(
    app: &App,
    post: &Post,
    languages: &[String],
) -> AppResult<HashMap<String, PostTexts>> {
    let complete = |t: &PostTexts| {
        (post.options.first_comment.is_none() || t.first_comment.is_some())
            && t.alt_text.len() == post.options.alt_text.len()
    };
    let stored = |list: Vec<icf_core::post::PostTranslation>| {
        list.into_iter()
            .filter(|t| t.origin != TranslationOrigin::Source)
            .map(|t| {
                let texts = PostTexts {
                    caption: t.text,
                    first_comment: t.first_comment,
                    alt_text: t.alt_text,
                };
                (t.language, texts)
            })
            .filter(|(_, texts)| complete(texts))
    };
    let translations = icf_store::post_translations::list(&app.db, post.id).await?;
    let mut captions = HashMap::new();
    captions.insert(post.original_language.clone(), PostTexts::source(post));
    captions.extend(stored(translations));
    let missing: Vec<&String> = languages
        .iter()
        .filter(|l| !captions.contains_key(*l))
        .collect();
    if !missing.is_empty() {
        refresh(app, post, &[], false).await?;
        let translations = icf_store::post_translations::list(&app.db, post.id).await?;
        for (language, texts) in stored(translations) {
            captions.entry(language).or_insert(texts);
        }
        let still: Vec<&str> = missing
            .iter()
            .filter(|l| !captions.contains_key(**l))
            .map(|l| l.as_str())
            .collect();
        if !still.is_empty() {
            let list = still.join(", ");
            return Err(AppError::validation(
                "translations",
                format!(
                    "no caption (or no first comment or alt texts) for {list}: translate the post or write them with PUT /api/posts/{{id}}/translations/{{lang}}"
                ),
            ));
        }
    }
    check_rules(app, post, languages, &captions)?;
    Ok(captions)
}

/// Every language's final caption keeps Instagram's rules, machine translations and
/// captions saved under older rules included: one that does not stops the whole post.
fn check_rules(
    app: &App,
    post: &Post,
    languages: &[String],
    captions: &HashMap<String, PostTexts>,
) -> AppResult<()> {
    for language in languages {
        let Some(texts) = captions.get(language) else {
            continue;
        };
        if let Some(comment) = &texts.first_comment
            && let Err(problem) = app.caption_rules.check(comment)
        {
            let field = if *language == post.original_language {
                "first_comment".to_owned()
            } else {
                format!("translations.{language}.first_comment")
            };
            return Err(AppError::validation(
                field,
                format!("the {language} first comment {problem}: correct it and publish again"),
            ));
        }
        let caption = &texts.caption;
        if let Err(problem) = app.caption_rules.check(caption) {
            let (field, fix) = if *language == post.original_language {
                ("caption".to_owned(), "PUT /api/posts/{id}".to_owned())
            } else {
                (
                    format!("translations.{language}.text"),
                    format!("PUT /api/posts/{{id}}/translations/{language}"),
                )
            };
            return Err(AppError::validation(
                field,
                format!(
                    "the {language} caption {problem}: correct it with {fix} and publish again"
                ),
            ));
        }
    }
    Ok(())
}
