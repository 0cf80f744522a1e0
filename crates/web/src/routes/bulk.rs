//! `POST /api/posts/bulk`: many posts from a spreadsheet (issue `[workflow]`). The use case
//! is `icf_app::posts::bulk`; this reads the multipart body, streaming the files to disk.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icf_app::posts::bulk::{BulkReport, BulkUpload, MAX_CSV_BYTES};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkParams {
    /// Check everything and create nothing.
    dry_run: Option<bool>,
}

/// The multipart body (for the API docs).
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct BulkUploadForm {
    /// The spreadsheet as CSV (UTF-8, a header row): columns `media` (file names, `;` between
    /// a carousel's), `original_language`, and any of `media_type`, `caption`, `groups`
    /// (names, `;`-separated), `when` (`now`, empty for a draft, or a time with its offset),
    /// `first_comment`, `pin_first_comment`, `alt_text` (`;`-separated, one per file),
    /// `location_name`/`location_lat`/`location_lng` (or `location` as JSON), `usertags`
    /// (`anna 0.5 0.5 0; bob 0.2 0.8 1` or JSON), `collaborators` (`;`-separated),
    /// `disable_comments`, `hide_like_counts`, `share_to_feed`, `cover_offset_ms`,
    /// `media_variants`, `fit`.
    #[schema(format = Binary)]
    csv: String,
    /// A ZIP of the files the rows name (by path inside it, or by file name).
    #[schema(format = Binary)]
    media: Option<String>,
    /// Or the files one by one, each under its own file name.
    #[schema(format = Binary)]
    files: Option<Vec<String>>,
}

/// A refused import (for the API docs): the usual error, and, when the spreadsheet could be
/// read, the report's fields beside it (`errors` by row and column).
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct BulkRefusal {
    error: crate::error::ErrorDetail,
    dry_run: Option<bool>,
    rows: Option<usize>,
    created: Option<usize>,
    errors: Option<Vec<icf_app::posts::bulk::rows::RowError>>,
    posts: Option<Vec<icf_app::posts::bulk::BulkPost>>,
}

/// The report, under the error shape when the import was refused.
#[derive(Serialize)]
struct Refused<'a> {
    error: RefusedError,
    #[serde(flatten)]
    report: &'a BulkReport,
}

#[derive(Serialize)]
struct RefusedError {
    code: &'static str,
    message: String,
    field: &'static str,
}

/// Checks every row (files present and convertible, groups named, times ahead, every
/// language's captions within Instagram's rules after translation), then creates all the
/// posts and publishes, schedules or submits those with a `when` — or, on any problem,
/// none (422 with every problem by row and column). `?dry_run=true` only checks.
#[utoipa::path(post, path = "/api/posts/bulk", tag = "posts", security(("bearer" = [])), params(BulkParams),
    request_body(content = BulkUploadForm, content_type = "multipart/form-data"), responses(
    (status = 200, description = "Dry run: everything would import", body = BulkReport),
    (status = 201, description = "Every post created", body = BulkReport),
    (status = 413, body = crate::error::ErrorBody),
    (status = 422, description = "Problems by row and column (`errors`), or a request that is not an import; nothing created", body = BulkRefusal)))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<BulkParams>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            None,
            format!("the body must be multipart/form-data with a boundary: {e}"),
        )
    })?;
    let mut upload = BulkUpload::new(&state.app);
    if let Err(e) = read(multipart, &mut upload).await {
        upload.discard().await;
        return Err(e);
    }
    let dry_run = p.dry_run.unwrap_or(false);
    let report = upload.run(&user.actor(), dry_run).await?;
    Ok(respond(&report))
}

/// 200 (dry run), 201 (created) or 422 with the problems.
pub(crate) fn respond(report: &BulkReport) -> Response {
    if report.errors.is_empty() {
        let status = if report.dry_run {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        return (status, Json(report)).into_response();
    }
    let rows: std::collections::BTreeSet<usize> = report.errors.iter().map(|e| e.row).collect();
    let body = Refused {
        error: RefusedError {
            code: "validation_failed",
            message: format!(
                "{} problem(s) in {} row(s): nothing was imported",
                report.errors.len(),
                rows.len()
            ),
            field: "csv",
        },
        report,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Reads the parts: `csv` in memory (bounded), `media` and each `files` part to disk.
pub(crate) async fn read(mut multipart: Multipart, upload: &mut BulkUpload<'_>) -> ApiResult<()> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(None, format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csv" => {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    ApiError::bad_request(Some("csv"), format!("cannot read the spreadsheet: {e}"))
                })? {
                    if buf.len() + chunk.len() > MAX_CSV_BYTES {
                        return Err(ApiError::validation("csv", "at most 10 MB"));
                    }
                    buf.extend_from_slice(&chunk);
                }
                upload.set_csv(buf)?;
            }
            "media" => upload.add_zip(Box::pin(field)).await?,
            "files" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                upload.add_file(&file_name, Box::pin(field)).await?;
            }
            other => {
                return Err(ApiError::validation(
                    other,
                    "unknown part: send csv, and media (a ZIP) or files",
                ));
            }
        }
    }
    Ok(())
}
