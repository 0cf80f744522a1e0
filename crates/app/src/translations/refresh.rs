//! Filling a post's captions in every language of its audience: the source caption for
//! its own language, a machine translation (cached) for every other one, hand edits kept
//! unless asked otherwise. Publishing and editing a post call it too.

use icf_core::enums::TranslationOrigin;
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::{Post, PostTexts};
use icf_translate::Translation;
use icf_translate::service::{LanguageResult, translate_caption};
use serde::{Deserialize, Serialize};

use super::variants::{VariantsPreview, is_spun, preview, sample_source};
use crate::{App, AppError, AppResult};

/// What to translate a post into, beyond its audience's languages.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TranslatePost {
    /// Languages beyond those of the target groups' accounts.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Replace hand edits with fresh machine translations too.
    #[serde(default)]
    pub overwrite_edits: bool,
}

/// One language of the preview.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewItem {
    pub language: String,
    /// `None` when no caption exists yet for this language (see `error`).
    pub text: Option<String>,
    /// The first comment in this language, when the post has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
    /// The alt texts in this language, one per media item, when the post has them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alt_text: Vec<String>,
    pub origin: Option<TranslationOrigin>,
    pub stale: bool,
    pub from_cache: bool,
    pub provider: Option<String>,
    pub warnings: Vec<String>,
    /// Why there is no text: no provider configured, the provider failed, …
    pub error: Option<String>,
    /// For a caption with alternatives (`{Hello|Hi}`): how many distinct captions this
    /// language's accounts get, with a few of them. `text` is then one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<VariantsPreview>,
}

/// The post's caption in every language it needs, as stored after the refresh.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    pub source_lang: String,
    pub items: Vec<PreviewItem>,
}

/// Translates the post `id` for preview (see [`refresh`]).
pub async fn translate_post(app: &App, id: PostId, req: TranslatePost) -> AppResult<Preview> {
    let post = icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))?;
    refresh(app, &post, &req.languages, req.overwrite_edits).await
}

/// The languages a post needs: its accounts' languages, the source's, and any asked for.
pub(crate) async fn needed_languages(
    app: &App,
    post: &Post,
    extra: &[String],
) -> AppResult<Vec<Language>> {
    let mut codes =
        icf_store::post_translations::languages_of_groups(&app.db, &post.target_groups).await?;
    codes.push(post.original_language.clone());
    let mut langs = Vec::new();
    for (i, raw) in extra.iter().enumerate() {
        let lang = Language::parse(raw)
            .map_err(|e| AppError::validation(format!("languages[{i}]"), e.message))?;
        langs.push(lang);
    }
    // Account languages were validated on the way in; skip any that no longer parse.
    langs.extend(codes.iter().filter_map(|c| Language::parse(c).ok()));
    langs.sort_by_key(|l| l.code());
    langs.dedup_by_key(|l| l.code());
    Ok(langs)
}

/// Fills the post's translations: the source caption for its own language, a machine
/// translation (cached) for every other language, hand edits kept unless
/// `overwrite_edits`. Without a provider each missing language says so.
pub async fn refresh(
    app: &App,
    post: &Post,
    extra: &[String],
    overwrite_edits: bool,
) -> AppResult<Preview> {
    let source = Language::parse_field(&post.original_language, "original_language")?;
    let langs = needed_languages(app, post, extra).await?;
    icf_store::post_translations::put(
        &app.db,
        post.id,
        source.code(),
        &PostTexts::source(post),
        TranslationOrigin::Source,
        None,
        true,
    )
    .await?;
    let existing = icf_store::post_translations::list(&app.db, post.id).await?;
    let is_edit = |code: &str| {
        existing
            .iter()
            .any(|t| t.language == code && t.origin == TranslationOrigin::Edited)
    };
    let targets: Vec<Language> = langs
        .iter()
        .copied()
        .filter(|l| l.code() != source.code() && (overwrite_edits || !is_edit(l.code())))
        .collect();

    let spun = is_spun(post);
    let mut fresh = Vec::new();
    let mut no_provider = None;
    if !targets.is_empty() {
        match app.translation.as_deref() {
            // With alternatives, a language's stored texts are one variant's, as a sample;
            // each account's own variant is translated when it is published.
            Some(t) if !post.caption_original.trim().is_empty() => {
                let sample = if spun {
                    sample_source(post)
                } else {
                    post.clone()
                };
                fresh = translate_texts(app, t, &sample, source, &targets).await;
            }
            Some(_) => {}
            None => no_provider = Some(icf_translate::TranslateError::NotConfigured.to_string()),
        }
    }
    for (r, texts) in &fresh {
        if let Some(texts) = texts {
            icf_store::post_translations::put(
                &app.db,
                post.id,
                r.language.code(),
                texts,
                TranslationOrigin::Machine,
                r.provider,
                overwrite_edits,
            )
            .await?;
        }
    }
    let fresh: Vec<LanguageResult> = fresh.into_iter().map(|(r, _)| r).collect();

    let stored = icf_store::post_translations::list(&app.db, post.id).await?;
    let mut variants = if spun {
        preview(app, post, &langs).await?
    } else {
        Default::default()
    };
    let items =
        langs
            .iter()
            .map(|lang| {
                let code = lang.code();
                let row = stored.iter().find(|t| t.language == code);
                let result = fresh.iter().find(|r| r.language.code() == code);
                PreviewItem {
                    language: code.to_owned(),
                    text: row.map(|t| t.text.clone()),
                    first_comment: row.and_then(|t| t.first_comment.clone()),
                    alt_text: row.map(|t| t.alt_text.clone()).unwrap_or_default(),
                    origin: row.map(|t| t.origin),
                    stale: row.is_some_and(|t| t.stale),
                    from_cache: result.is_some_and(|r| r.from_cache),
                    provider: row.and_then(|t| t.provider.clone()),
                    warnings: result.map(|r| r.warnings.clone()).unwrap_or_default(),
                    error: match (row, result.and_then(|r| r.error.as_ref())) {
                        (_, Some(e)) => Some(e.message.clone()),
                        (None, None) => Some(no_provider.clone().unwrap_or_else(|| {
                            "no caption yet: the source caption is empty".into()
                        })),
                        _ => None,
                    },
                    variants: variants.remove(code),
                }
            })
            .collect();
    Ok(Preview {
        source_lang: source.code().to_owned(),
        items,
    })
}

/// Every text of the post (caption, first comment, alt texts) in each target language, each
/// text through the same cache and the same protection of tags, mentions and links. A
/// language whose first comment or alt text failed fails as a whole (its result says why):
/// an account never publishes a caption in one language and a comment in another.
pub(crate) async fn translate_texts(
    app: &App,
    t: &Translation,
    post: &Post,
    source: Language,
    targets: &[Language],
) -> Vec<(LanguageResult, Option<PostTexts>)> {
    let captions = translate_caption(&app.db, t, &post.caption_original, source, targets).await;
    let comments = match &post.options.first_comment {
        Some(c) => Some(translate_caption(&app.db, t, c, source, targets).await),
        None => None,
    };
    let mut alts = Vec::with_capacity(post.options.alt_text.len());
    for alt in &post.options.alt_text {
        alts.push(if alt.trim().is_empty() {
            None
        } else {
            Some(translate_caption(&app.db, t, alt, source, targets).await)
        });
    }
    let of = |results: &[LanguageResult], lang: Language| {
        results.iter().find(|r| r.language == lang).cloned()
    };
    captions
        .into_iter()
        .map(|mut r| {
            let lang = r.language;
            let mut failed = None;
            let mut take = |results: Option<&[LanguageResult]>| -> Option<String> {
                let got = of(results?, lang)?;
                if got.text.is_none() && failed.is_none() {
                    failed = got.error.clone();
                }
                got.text
            };
            let first_comment = take(comments.as_deref());
            let alt_text: Vec<String> = alts
                .iter()
                .map(|a| take(a.as_deref()).unwrap_or_default())
                .collect();
            if let Some(e) = failed {
                r.error = Some(e);
                r.text = None;
            }
            let texts = r.text.clone().map(|caption| PostTexts {
                caption,
                first_comment,
                alt_text,
            });
            (r, texts)
        })
        .collect()
}
