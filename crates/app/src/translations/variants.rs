//! Captions with alternatives (`{Hello|Hi|Hey} friends`, issue `[originality]`): each
//! account gets its own variant of the caption and of the first comment, the same one every
//! time (the seed is the post and the account). Translation works on the variants the
//! accounts really get: each distinct variant is translated once per language, through the
//! cache, with its tags, mentions and links protected as everywhere.
//!
//! A language a person edited publishes the edit, itself read for alternatives with the
//! account's seed (so an edit may vary too); the source language publishes the source's
//! variants.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures_util::StreamExt;
use icf_core::enums::TranslationOrigin;
use icf_core::ids::{AccountId, PostId};
use icf_core::language::Language;
use icf_core::post::{Post, PostTexts};
use icf_core::spintax::{Spintax, has_spintax};
use icf_translate::Translation;
use icf_translate::service::translate_caption;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// How many variants of a language the preview shows.
const SAMPLES: usize = 3;

/// The seed of an account's variant of one of the post's texts (`part`: `caption`,
/// `first_comment`).
pub(crate) fn seed(post: PostId, account: AccountId, part: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"icf caption variant 1\0");
    h.update(post.to_string().as_bytes());
    h.update(b"\0");
    h.update(account.to_string().as_bytes());
    h.update(b"\0");
    h.update(part.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Whether the post's caption or first comment has alternatives.
pub(crate) fn is_spun(post: &Post) -> bool {
    has_spintax(&post.caption_original)
        || post
            .options
            .first_comment
            .as_deref()
            .is_some_and(has_spintax)
}

/// A text read for alternatives, resolved for one account (a text that cannot be read is
/// taken as written: saving refuses such texts, so only an old one can be that).
fn resolve(text: &str, post: PostId, account: AccountId, part: &str) -> String {
    match Spintax::parse(text) {
        Ok(s) => s.resolve(seed(post, account, part)),
        Err(_) => text.to_owned(),
    }
}

/// The source texts an account gets: its variant of the caption and of the first comment.
fn source_texts(post: &Post, account: AccountId) -> PostTexts {
    PostTexts {
        caption: resolve(&post.caption_original, post.id, account, "caption"),
        first_comment: post
            .options
            .first_comment
            .as_deref()
            .map(|c| resolve(c, post.id, account, "first_comment")),
        alt_text: post.options.alt_text.clone(),
    }
}

/// The source texts a language's stored row is made from: one variant, as a sample.
pub(crate) fn sample_source(post: &Post) -> Post {
    let mut sample = post.clone();
    sample.caption_original = Spintax::parse(&post.caption_original)
        .map(|s| s.resolve(0))
        .unwrap_or_else(|_| post.caption_original.clone());
    sample.options.first_comment = post.options.first_comment.as_deref().map(|c| {
        Spintax::parse(c)
            .map(|s| s.resolve(0))
            .unwrap_or_else(|_| c.to_owned())
    });
    sample
}

/// Distinct source texts and the languages each is wanted in.
type Wanted = BTreeMap<String, BTreeSet<&'static str>>;

/// How many distinct texts are translated at once (each into its languages, a few at a
/// time): a post with many variants is not translated one request after another, and the
/// provider's rate limit is not tripped either.
const TEXTS_AT_ONCE: usize = 3;

/// Each distinct text translated once into the languages wanted of it (through the
/// cache): `(text, language) → translation or why not`.
async fn translate_distinct(
    app: &App,
    t: &Arc<Translation>,
    source: Language,
    wanted: &Wanted,
) -> HashMap<(String, &'static str), Result<String, String>> {
    // Owned parts: each translation is a future of its own, run a few at a time.
    let jobs: Vec<_> = wanted
        .iter()
        .map(|(text, langs)| {
            let (db, t, text) = (app.db.clone(), t.clone(), text.clone());
            let targets: Vec<Language> = langs
                .iter()
                .filter_map(|l| Language::parse(l).ok())
                .collect();
            async move {
                let results = translate_caption(&db, &t, &text, source, &targets).await;
                (text, results)
            }
        })
        .collect();
    let done: Vec<_> = futures_util::stream::iter(jobs)
        .buffer_unordered(TEXTS_AT_ONCE)
        .collect()
        .await;
    let mut out = HashMap::new();
    for (text, results) in done {
        for r in results {
            let got = match (r.text, r.error) {
                (Some(text), _) => Ok(text),
                (None, Some(e)) => Err(e.message),
                (None, None) => Err("the provider returned nothing".to_owned()),
            };
            out.insert((text.clone(), r.language.code()), got);
        }
    }
    out
}

/// How many variants a language's accounts get, with a few of them (translated).
#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantsPreview {
    /// Distinct captions the language's accounts get.
    pub count: usize,
    /// Up to three of them, in the language.
    pub samples: Vec<String>,
}

/// For the translations panel: per language of `langs`, the distinct caption variants its
/// accounts get (a language no account speaks: the source's first variants), translated.
pub(crate) async fn preview(
    app: &App,
    post: &Post,
    langs: &[Language],
) -> AppResult<HashMap<&'static str, VariantsPreview>> {
    let accounts =
        icf_store::post_translations::accounts_of_groups(&app.db, &post.target_groups).await?;
    let edited = edited_rows(app, post.id).await?;
    let mut per_lang: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for lang in langs {
        let code = lang.code();
        let template = edited
            .get(code)
            .map(|t| t.caption.as_str())
            .unwrap_or(&post.caption_original);
        let mine: BTreeSet<String> = accounts
            .iter()
            .filter(|(_, l)| l == code)
            .map(|(a, _)| resolve(template, post.id, *a, "caption"))
            .collect();
        let mine = if mine.is_empty() {
            match Spintax::parse(template) {
                Ok(s) => s.variants(SAMPLES).into_iter().collect(),
                Err(_) => BTreeSet::from([template.to_owned()]),
            }
        } else {
            mine
        };
        per_lang.insert(code, mine);
    }
    let source = Language::parse_field(&post.original_language, "original_language")?;
    let mut wanted = Wanted::new();
    for (code, texts) in &per_lang {
        if *code != source.code() && !edited.contains_key(code) {
            for text in texts.iter().take(SAMPLES) {
                wanted.entry(text.clone()).or_default().insert(code);
            }
        }
    }
    let translated = match (&app.translation, wanted.is_empty()) {
        (Some(t), false) => translate_distinct(app, t, source, &wanted).await,
        _ => HashMap::new(),
    };
    Ok(per_lang
        .into_iter()
        .map(|(code, texts)| {
            let samples = texts
                .iter()
                .take(SAMPLES)
                .filter_map(|text| match translated.get(&(text.clone(), code)) {
                    Some(Ok(t)) => Some(t.clone()),
                    Some(Err(_)) => None,
                    None => Some(text.clone()),
                })
                .collect();
            (
                code,
                VariantsPreview {
                    count: texts.len(),
                    samples,
                },
            )
        })
        .collect())
}

/// The languages a person edited, with their texts.
async fn edited_rows(app: &App, post: PostId) -> AppResult<HashMap<&'static str, PostTexts>> {
    Ok(icf_store::post_translations::list(&app.db, post)
        .await?
        .into_iter()
        .filter(|t| t.origin == TranslationOrigin::Edited)
        .filter_map(|t| {
            let code = Language::parse(&t.language).ok()?.code();
            Some((
                code,
                PostTexts {
                    caption: t.text,
                    first_comment: t.first_comment,
                    alt_text: t.alt_text,
                },
            ))
        })
        .collect())
}

/// Each planned account's final texts for a post with alternatives: its own variant, in its
/// language. `languages` holds every planned language's settled texts (for the alt texts,
/// which have no alternatives). Refused (422 naming the language) when a variant cannot be
/// translated or breaks Instagram's caption rules; nothing is queued then.
pub(crate) async fn account_texts(
    app: &App,
    post: &Post,
    accounts: &[(AccountId, String)],
    languages: &HashMap<String, PostTexts>,
) -> AppResult<Vec<PostTexts>> {
    let source = Language::parse_field(&post.original_language, "original_language")?;
    let edited = edited_rows(app, post.id).await?;
    // Each account's texts before translation, and what must be translated.
    let mut planned = Vec::with_capacity(accounts.len());
    let mut wanted = Wanted::new();
    for (account, lang) in accounts {
        let code = Language::parse(lang)
            .map(|l| l.code())
            .unwrap_or(source.code());
        let texts = match edited.get(code) {
            Some(e) if code != source.code() => PostTexts {
                caption: resolve(&e.caption, post.id, *account, "caption"),
                first_comment: e
                    .first_comment
                    .as_deref()
                    .map(|c| resolve(c, post.id, *account, "first_comment")),
                alt_text: e.alt_text.clone(),
            },
            _ => {
                let own = source_texts(post, *account);
                if code != source.code() {
                    wanted.entry(own.caption.clone()).or_default().insert(code);
                    if let Some(c) = &own.first_comment {
                        wanted.entry(c.clone()).or_default().insert(code);
                    }
                }
                own
            }
        };
        let machine = code != source.code() && !edited.contains_key(code);
        planned.push((code, machine, texts));
    }
    let translated = match &app.translation {
        Some(t) if !wanted.is_empty() => translate_distinct(app, t, source, &wanted).await,
        _ => HashMap::new(),
    };
    let take = |text: &str, code: &'static str| -> AppResult<String> {
        match translated.get(&(text.to_owned(), code)) {
            Some(Ok(t)) => Ok(t.clone()),
            Some(Err(e)) => Err(untranslated(code, e)),
            None => Err(untranslated(code, "no translation provider is configured")),
        }
    };
    let mut out = Vec::with_capacity(planned.len());
    for (code, machine, mut texts) in planned {
        if machine {
            texts.caption = take(&texts.caption, code)?;
            if let Some(c) = &texts.first_comment {
                texts.first_comment = Some(take(c, code)?);
            }
            texts.alt_text = languages
                .get(code)
                .map(|t| t.alt_text.clone())
                .unwrap_or_default();
        }
        check(app, post, code, &texts)?;
        out.push(texts);
    }
    Ok(out)
}

fn untranslated(code: &str, why: &str) -> AppError {
    AppError::validation(
        format!("translations.{code}"),
        format!(
            "a variant of the caption cannot be translated into {code} ({why}): translate \
             the post again or write the {code} text with PUT /api/posts/{{id}}/translations/{code}"
        ),
    )
}

/// An account's final texts keep Instagram's caption rules.
fn check(app: &App, post: &Post, code: &str, texts: &PostTexts) -> AppResult<()> {
    let field = |what: &str| {
        if code == post.original_language {
            what.to_owned()
        } else {
            format!("translations.{code}.{what}")
        }
    };
    if let Err(problem) = app.caption_rules.check(&texts.caption) {
        return Err(AppError::validation(
            field("text"),
            format!("the {code} caption {problem}: correct it and publish again"),
        ));
    }
    if let Some(c) = &texts.first_comment
        && let Err(problem) = app.caption_rules.check(c)
    {
        return Err(AppError::validation(
            field("first_comment"),
            format!("the {code} first comment {problem}: correct it and publish again"),
        ));
    }
    Ok(())
}
