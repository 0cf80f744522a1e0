//! One row of a bulk import, checked as far as a publish would check it, and its files
//! prepared: the upload form's rules, the named groups, the time, every file converted,
//! and each language's texts after translation within Instagram's caption rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use icf_core::enums::PostStatus;
use icf_core::ids::{GroupId, PostId};
use icf_core::language::Language;
use icf_core::post::{Post, PostTexts};
use icf_store::posts::NewPost;
use serde_json::json;

use super::bundle::Bundle;
use super::rows::{Row, RowError, list};
use crate::posts::create::{DraftFields, prepare_media};
use crate::posts::media::Cleanup;
use crate::translations::refresh::{needed_languages, translate_texts};
use crate::translations::variants::{is_spun, sample_source};
use crate::{App, AppError};

/// What the `when` cell asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// Empty: a draft, nothing published.
    Draft,
    Now,
    At(DateTime<Utc>),
}

/// A row ready to be written: its draft (files stored) and what to do with it.
pub(super) struct Prepared {
    pub line: usize,
    pub new_post: NewPost,
    pub when: When,
    pub languages: Vec<String>,
    pub cleanup: Cleanup,
}

/// The CSV column a use case's field name stands for.
fn column_of(field: &str) -> String {
    match field {
        f if f.starts_with("media[") || f == "media" || f == "cover" => "media".into(),
        "target_groups" => "groups".into(),
        "scheduled_at" => "when".into(),
        f if f.starts_with("translations.") => {
            // translations.es.text → caption, translations.es.first_comment → first_comment
            match f.rsplit('.').next() {
                Some("first_comment") => "first_comment".into(),
                Some("alt_text") => "alt_text".into(),
                _ => "caption".into(),
            }
        }
        f if f.starts_with("alt_text") => "alt_text".into(),
        f if f.starts_with("usertags") => "usertags".into(),
        f if f.starts_with("location") => "location".into(),
        other => other.to_owned(),
    }
}

fn row_error(line: usize, e: AppError) -> RowError {
    let message = e.to_string();
    match e {
        AppError::Validation { field, message } => RowError::new(line, &column_of(&field), message),
        AppError::PayloadTooLarge { field, .. } | AppError::InsufficientStorage { field, .. } => {
            RowError::new(line, &column_of(&field), message)
        }
        AppError::BadRequest { field, .. } | AppError::Conflict { field, .. } => {
            RowError::new(line, &column_of(field.as_deref().unwrap_or("")), message)
        }
        _ => RowError::new(line, "", message),
    }
}

/// The upload form's fields from the row's cells; the spreadsheet's own columns (`groups`,
/// `when`, the location in three cells, lists separated by `;`) are turned into the form's.
fn form_fields(row: &Row, groups: &HashMap<String, GroupId>) -> Result<DraftFields, RowError> {
    let line = row.line;
    let mut fields = DraftFields::default();
    let mut ids = Vec::new();
    for name in list(row.get("groups")) {
        match groups.get(&name.to_lowercase()) {
            Some(id) => ids.push(*id),
            None => {
                return Err(RowError::new(
                    line,
                    "groups",
                    format!("no group named {name}"),
                ));
            }
        }
    }
    ids.dedup();
    let set = |fields: &mut DraftFields, name: &str, value: String| {
        fields.set(name, value).map_err(|e| row_error(line, e))
    };
    set(&mut fields, "target_groups", json!(ids).to_string())?;
    for (column, value) in row.cells() {
        match column {
            "media" | "groups" | "when" | "location_name" | "location_lat" | "location_lng" => {}
            "alt_text" => {
                for alt in value.split(';') {
                    set(&mut fields, "alt_text", alt.trim().to_owned())?;
                }
            }
            "collaborators" => {
                set(&mut fields, column, json!(list(Some(value))).to_string())?;
            }
            "usertags" if !value.starts_with('[') => {
                set(&mut fields, column, usertags(line, value)?)?;
            }
            _ => set(&mut fields, column, value.to_owned())?,
        }
    }
    if let Some(name) = row.get("location_name") {
        let coord = |c: &str| -> Result<f64, RowError> {
            row.get(c)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| RowError::new(line, c, "a number is needed beside location_name"))
        };
        let place =
            json!({"name": name, "lat": coord("location_lat")?, "lng": coord("location_lng")?});
        set(&mut fields, "location", place.to_string())?;
    }
    Ok(fields)
}

/// `anna 0.5 0.5 0; bob 0.2 0.8` (username, x, y, the carousel item, 0 when left out), as
/// the composer writes tags, into the form's JSON.
fn usertags(line: usize, cell: &str) -> Result<String, RowError> {
    let mut tags = Vec::new();
    for tag in list(Some(cell)) {
        let parts: Vec<&str> = tag.split_whitespace().collect();
        let num = |i: usize| parts.get(i).and_then(|v| v.parse::<f64>().ok());
        match (parts.first(), num(1), num(2)) {
            (Some(user), Some(x), Some(y)) if parts.len() <= 4 => {
                let item = num(3).unwrap_or(0.0);
                tags.push(json!({"username": user, "x": x, "y": y, "media_index": item as i64}));
            }
            _ => {
                return Err(RowError::new(
                    line,
                    "usertags",
                    format!(
                        "\"{tag}\": write a username, then x and y from 0 to 1, then the carousel item"
                    ),
                ));
            }
        }
    }
    Ok(json!(tags).to_string())
}

fn when_of(row: &Row, now: DateTime<Utc>) -> Result<When, RowError> {
    let line = row.line;
    match row.get("when") {
        None => Ok(When::Draft),
        Some(w) if w.eq_ignore_ascii_case("now") => Ok(When::Now),
        Some(w) => {
            let t = DateTime::parse_from_rfc3339(w)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    RowError::new(
                        line,
                        "when",
                        format!("\"{w}\": write now, leave it empty for a draft, or a time with its offset, like 2026-12-01T09:30:00+01:00"),
                    )
                })?;
            if t <= now {
                return Err(RowError::new(line, "when", format!("{w} has passed")));
            }
            Ok(When::At(t))
        }
    }
}

/// Checks the row and prepares its files. Its stored files are in the result's `cleanup`
/// (or removed, on a refusal).
pub(super) async fn check_row(
    app: &App,
    row: Row,
    groups: &HashMap<String, GroupId>,
    bundle: &Bundle,
    now: DateTime<Utc>,
) -> Result<Prepared, RowError> {
    let line = row.line;
    let fields = form_fields(&row, groups)?;
    let when = when_of(&row, now)?;
    let draft = fields.check(app).await.map_err(|e| row_error(line, e))?;
    let names = list(row.get("media"));
    if names.is_empty() {
        return Err(RowError::new(
            line,
            "media",
            "name the photo or video (several, separated by ; for a carousel)",
        ));
    }
    if let Some(missing) = names.iter().find(|n| !bundle.contains(n)) {
        return Err(RowError::new(
            line,
            "media",
            format!("{missing} is not among the files sent"),
        ));
    }
    if names.len() > icf_core::post::MAX_CAROUSEL_ITEMS {
        return Err(RowError::new(
            line,
            "media",
            format!("{} files; a carousel holds at most 10", names.len()),
        ));
    }
    let mut cleanup = Cleanup::default();
    let mut files = Vec::with_capacity(names.len());
    for name in &names {
        match bundle.copy_of(app, name).await {
            Ok(f) => {
                cleanup.staged.push(f.path.clone());
                files.push(f);
            }
            Err(e) => {
                cleanup.run(app).await;
                return Err(RowError::new(line, "media", format!("{name}: {e}")));
            }
        }
    }
    let prepared = prepare_media(app, &draft, files, None, &mut cleanup).await;
    let (media_type, media) = match prepared {
        Ok(m) => m,
        Err(e) => {
            cleanup.run(app).await;
            // The message names the file by its place; the row's names say which.
            return Err(row_error(line, e));
        }
    };
    let new_post = NewPost {
        media,
        media_type,
        caption_original: draft.caption,
        original_language: draft.language,
        target_groups: draft.target_groups,
        scheduled_at: draft.scheduled_at,
        created_by: None,
        options: draft.options,
    };
    match languages(app, &new_post, when).await {
        Ok(languages) => Ok(Prepared {
            line,
            new_post,
            when,
            languages,
            cleanup,
        }),
        Err(e) => {
            cleanup.run(app).await;
            Err(e.at(line))
        }
    }
}

/// A problem found in one language, placed in the row later.
pub(super) struct LanguageProblem {
    column: &'static str,
    message: String,
}

impl LanguageProblem {
    fn at(self, line: usize) -> RowError {
        RowError::new(line, self.column, self.message)
    }
}

impl From<AppError> for LanguageProblem {
    fn from(e: AppError) -> Self {
        LanguageProblem {
            column: "caption",
            message: e.to_string(),
        }
    }
}

/// The languages the post's accounts speak, each with its texts translated (through the
/// cache the real publish will read) and within Instagram's caption rules. A row to be
/// published needs a provider for its other languages; a draft is checked only where one
/// is configured (its translations may be written by hand later).
async fn languages(app: &App, new: &NewPost, when: When) -> Result<Vec<String>, LanguageProblem> {
    let post = Post {
        id: PostId::new(),
        media: new.media.clone(),
        media_type: new.media_type,
        caption_original: new.caption_original.clone(),
        original_language: new.original_language.clone(),
        target_groups: new.target_groups.clone(),
        status: PostStatus::Draft,
        priority: icf_core::enums::JobPriority::Normal,
        scheduled_at: new.scheduled_at,
        created_by: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        posted_at: None,
        options: new.options.clone(),
    };
    let langs = needed_languages(app, &post, &[]).await?;
    let source = Language::parse_field(&post.original_language, "original_language")
        .map_err(AppError::from)?;
    let targets: Vec<Language> = langs
        .iter()
        .copied()
        .filter(|l| l.code() != source.code())
        .collect();
    let codes = langs.iter().map(|l| l.code().to_owned()).collect();
    if targets.is_empty() || post.caption_original.trim().is_empty() {
        return Ok(codes);
    }
    let Some(t) = app.translation.as_deref() else {
        if when == When::Draft {
            return Ok(codes);
        }
        let list: Vec<&str> = targets.iter().map(|l| l.code()).collect();
        return Err(LanguageProblem {
            column: "when",
            message: format!(
                "the accounts also speak {}, and no translation provider is configured: leave when empty and write those captions by hand",
                list.join(", ")
            ),
        });
    };
    let sample = if is_spun(&post) {
        sample_source(&post)
    } else {
        post
    };
    for (result, texts) in translate_texts(app, t, &sample, source, &targets).await {
        let lang = result.language.code();
        let Some(texts) = texts else {
            let why = result.error.map(|e| e.message).unwrap_or_default();
            return Err(LanguageProblem {
                column: "caption",
                message: format!("cannot translate it into {lang}: {why}"),
            });
        };
        check_texts(app, lang, &texts)?;
    }
    Ok(codes)
}

fn check_texts(app: &App, lang: &str, texts: &PostTexts) -> Result<(), LanguageProblem> {
    let problem =
        |column: &'static str, what: &str, p: icf_core::caption::CaptionProblem| LanguageProblem {
            column,
            message: format!("the {lang} {what}, after translation, {p}"),
        };
    app.caption_rules
        .check(&texts.caption)
        .map_err(|p| problem("caption", "caption", p))?;
    if let Some(c) = &texts.first_comment {
        app.caption_rules
            .check(c)
            .map_err(|p| problem("first_comment", "first comment", p))?;
    }
    Ok(())
}
