//! The caption every planned language will publish, settled before anything is queued:
//! an execution carries its final caption, so nothing is translated while publishing.

use std::collections::HashMap;

use icf_core::enums::TranslationOrigin;
use icf_core::post::Post;

use crate::translations::refresh::refresh;
use crate::{App, AppError, AppResult};

/// The caption of each of `languages` (sorted, without repeats): the source caption, the
/// stored translations, and for any language still without one a translation made now.
/// Refused (422 naming the language, nothing queued) when a language has no caption or a
/// caption breaks Instagram's caption rules.
pub(crate) async fn final_captions(
    app: &App,
    post: &Post,
    languages: &[String],
) -> AppResult<HashMap<String, String>> {
    let translations = icf_store::post_translations::list(&app.db, post.id).await?;
    let mut captions = HashMap::new();
    captions.insert(
        post.original_language.clone(),
        post.caption_original.clone(),
    );
    for t in translations
        .iter()
        .filter(|t| t.origin != TranslationOrigin::Source)
    {
        captions.insert(t.language.clone(), t.text.clone());
    }
    let missing: Vec<&String> = languages
        .iter()
        .filter(|l| !captions.contains_key(*l))
        .collect();
    if !missing.is_empty() {
        let preview = refresh(app, post, &[], false).await?;
        for item in preview.items {
            if let Some(text) = item.text {
                captions.entry(item.language).or_insert(text);
            }
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
                    "no caption for {list}: translate the post or write them with PUT /api/posts/{{id}}/translations/{{lang}}"
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
    captions: &HashMap<String, String>,
) -> AppResult<()> {
    for language in languages {
        let Some(caption) = captions.get(language) else {
            continue;
        };
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
