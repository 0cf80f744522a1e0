//! A post's caption in every language of its audience over the API: the machine
//! translations to preview, the stored captions, and a person's edit. The use cases are
//! `icf_app::translations`.

use axum::Json;
use axum::extract::{Path, State};
use icf_app::translations::edit::EditTexts;
use icf_app::translations::refresh::{Preview, TranslatePost};
use icf_core::ids::PostId;
use icf_core::language::Language;
use icf_core::post::PostTranslation;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::state::AppState;

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
    Ok(Json(
        icf_app::translations::refresh::translate_post(&state.app, id, req).await?,
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
    Ok(Json(
        icf_app::translations::edit::list(&state.app, id).await?,
    ))
}

/// Stores a person's texts for one language — the caption, and the first comment and alt
/// texts beside it when the post has them; a field left out keeps what is stored. Machine
/// translations never replace them.
#[utoipa::path(put, path = "/api/posts/{id}/translations/{lang}", tag = "posts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id (UUID)"), ("lang" = String, Path, description = "Language code, e.g. es")),
    request_body = EditTexts,
    responses((status = 200, body = PostTranslation), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    _: CurrentUser,
    Path((id, lang)): Path<(String, String)>,
    ApiJson(req): ApiJson<EditTexts>,
) -> ApiResult<Json<PostTranslation>> {
    let id: PostId = id
        .parse()
        .map_err(|_| ApiError::bad_request(Some("id"), "id must be a UUID"))?;
    let lang = Language::parse_field(&lang, "lang")?;
    Ok(Json(
        icf_app::translations::edit::edit(&state.app, id, lang, req).await?,
    ))
}
