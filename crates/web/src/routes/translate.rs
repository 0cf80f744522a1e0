//! `POST /api/translate`: a caption into several languages, for the composer and scripts.
//! Editors and admins. The use cases are `icf_app::translations::text`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_app::translations::text::{
    BackgroundJob, TranslateRequest, TranslateResponse, Translated, TranslationJob,
    TranslationStats,
};
use icf_core::ids::JobId;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdPath};
use crate::state::AppState;

/// Translates a caption into several languages, keeping hashtags, mentions, links, emoji and
/// line breaks byte-identical. Cached: asking again costs no provider request.
#[utoipa::path(post, path = "/api/translate", tag = "translation", security(("bearer" = [])), request_body = TranslateRequest,
    responses((status = 200, body = TranslateResponse), (status = 202, description = "Queued as a background job", body = BackgroundJob), (status = 422, body = crate::error::ErrorBody),
    (status = 503, description = "No translation provider is configured", body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn translate(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiJson(req): ApiJson<TranslateRequest>,
) -> ApiResult<Response> {
    Ok(
        match icf_app::translations::text::translate(&state.app, req).await? {
            Translated::Done(answer) => Json(answer).into_response(),
            Translated::Queued(job) => (StatusCode::ACCEPTED, Json(job)).into_response(),
        },
    )
}

/// The state of a background translation, and its result once done.
#[utoipa::path(get, path = "/api/translate/jobs/{id}", tag = "translation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Job id from POST /api/translate")),
    responses((status = 200, body = TranslationJob), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<JobId>,
) -> ApiResult<Json<TranslationJob>> {
    Ok(Json(
        icf_app::translations::text::job(&state.app, id).await?,
    ))
}

/// `GET /api/translate/stats`: what the cache saves.
#[utoipa::path(get, path = "/api/translate/stats", tag = "translation", security(("bearer" = [])),
    responses((status = 200, body = TranslationStats), (status = 401, body = crate::error::ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    _: CurrentUser,
) -> ApiResult<Json<TranslationStats>> {
    Ok(Json(icf_app::translations::text::stats(&state.app).await?))
}
