//! A post's caption in every language of its audience: machine translations to preview,
//! hand edits that machines never overwrite, and review flags when the source changes.

use axum::Json;
use axum::extract::{Path, State};
use icf_core::enums::TranslationOrigin;
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::{Post, PostTranslation, check_caption};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::state::AppState;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslatePost {
    /// Languages beyond those of the target groups' accounts.
    #[serde(default)]
    languages: Vec<String>,
    /// Replace hand edits with fresh machine translations too.
    #[serde(default)]
    overwrite_edits: bool,
}

/// One language of the preview.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewItem {
    pub(crate) language: String,
    /// `None` when no caption exists yet for this language (see `error`).
    pub(crate) text: Option<String>,
    pub(crate) origin: Option<TranslationOrigin>,
    pub(crate) stale: bool,
    from_cache: bool,
    provider: Option<String>,
    pub(crate) warnings: Vec<String>,
    /// Why there is no text: no provider configured, the provider failed, …
    pub(crate) error: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Preview {
    source_lang: String,
    pub(crate) items: Vec<PreviewItem>,
}

/// The languages a post needs: its accounts' languages, the source's, and any asked for.
async fn needed_languages(
    state: &AppState,
    post: &Post,
    extra: &[String],
) -> ApiResult<Vec<Language>> {
    let mut codes =
        icf_store::post_translations::languages_of_groups(&state.app.db, &post.target_groups)
            .await?;
    codes.push(post.original_language.clone());
    let mut langs = Vec::new();
    for (i, raw) in extra.iter().enumerate() {
        let lang = Language::parse(raw)
            .map_err(|e| ApiError::validation(format!("languages[{i}]"), e.message))?;
        langs.push(lang);
    }
    // Account languages were validated on the way in; skip any that no longer parse.
    langs.extend(codes.iter().filter_map(|c| Language::parse(c).ok()));
    langs.sort_by_key(|l| l.code());
    langs.dedup_by_key(|l| l.code());
    Ok(langs)
}

/// Fills the post's translations: the source caption for its own language, a machine
/// translation (cached) for every other language, hand edits kept unless asked otherwise.
pub async fn refresh(
    state: &AppState,
    post: &Post,
    extra: &[String],
    overwrite_edits: bool,
) -> ApiResult<Preview> {
    let source = Language::parse_field(&post.original_language, "original_language")?;
    let langs = needed_languages(state, post, extra).await?;
    icf_store::post_translations::put(
        &state.app.db,
        post.id,
        source.code(),
        &post.caption_original,
        TranslationOrigin::Source,
        None,
        true,
    )
    .await?;
    let existing = icf_store::post_translations::list(&state.app.db, post.id).await?;
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

    let mut fresh = Vec::new();
    let mut no_provider = None;
    if !targets.is_empty() {
        match state.app.translation.as_deref() {
            Some(t) if !post.caption_original.trim().is_empty() => {
                fresh = icf_translate::service::translate_caption(
                    &state.app.db,
                    t,
                    &post.caption_original,
                    source,
                    &targets,
                )
                .await;
            }
            Some(_) => {}
            None => no_provider = Some(icf_translate::TranslateError::NotConfigured.to_string()),
        }
    }
    for r in &fresh {
        if let Some(text) = &r.text {
            icf_store::post_translations::put(
                &state.app.db,
                post.id,
                r.language.code(),
                text,
                TranslationOrigin::Machine,
                r.provider,
                overwrite_edits,
            )
            .await?;
        }
    }

    let stored = icf_store::post_translations::list(&state.app.db, post.id).await?;
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
                }
            })
            .collect();
    Ok(Preview {
        source_lang: source.code().to_owned(),
        items,
    })
}

/// Translates the caption into the language of every account in the post's groups, for
/// preview. Hand edits are kept (`origin: edited`) unless `overwrite_edits`. Without a
/// translation provider each missing language says so, and is written by hand.
#[utoipa::path(post, path = "/api/posts/{id}/translate", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")), request_body(content = TranslatePost, description = "Optional"),
    responses((status = 200, body = Preview), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn translate(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Preview>> {
    // The body is optional: an empty POST translates into the accounts' languages.
    let req: TranslatePost = if body.iter().all(u8::is_ascii_whitespace) {
        TranslatePost::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    Ok(Json(
        refresh(&state, &post, &req.languages, req.overwrite_edits).await?,
    ))
}

#[utoipa::path(get, path = "/api/posts/{id}/translations", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)")),
    responses((status = 200, body = Vec<PostTranslation>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<PostId>,
) -> ApiResult<Json<Vec<PostTranslation>>> {
    icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    Ok(Json(
        icf_store::post_translations::list(&state.app.db, id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditTranslation {
    text: String,
}

/// Stores a person's caption for one language. Machine translations never replace it.
#[utoipa::path(put, path = "/api/posts/{id}/translations/{lang}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)"), ("lang" = String, Path, description = "Language code, e.g. es")),
    request_body = EditTranslation,
    responses((status = 200, body = PostTranslation), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    _: CurrentUser,
    Path((id, lang)): Path<(String, String)>,
    ApiJson(req): ApiJson<EditTranslation>,
) -> ApiResult<Json<PostTranslation>> {
    let id: PostId = id
        .parse()
        .map_err(|_| ApiError::bad_request(Some("id"), "id must be a UUID"))?;
    let lang = Language::parse_field(&lang, "lang")?;
    let post = icf_store::posts::get(&state.app.db, id)
        .await
        .map_err(ApiError::missing("post"))?;
    if lang.code() == post.original_language {
        return Err(ApiError::validation(
            "lang",
            "this is the post's source language: edit the caption itself (PUT /api/posts/{id})",
        ));
    }
    if req.text.trim().is_empty() {
        return Err(ApiError::validation("text", "must not be empty"));
    }
    check_caption("text", lang.code(), &req.text, &state.app.caption_rules)?;
    icf_store::post_translations::put(
        &state.app.db,
        id,
        lang.code(),
        &req.text,
        TranslationOrigin::Edited,
        None,
        true,
    )
    .await?;
    let stored = icf_store::post_translations::list(&state.app.db, id).await?;
    stored
        .into_iter()
        .find(|t| t.language == lang.code())
        .map(Json)
        .ok_or_else(|| ApiError::internal("translation vanished after writing"))
}
