//! Importing posts from a spreadsheet (issue `[workflow]`): the page with a template to
//! download, a dry run's report, and the import, through the same use case as
//! `POST /api/posts/bulk`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use icf_app::posts::bulk::{BulkReport, BulkUpload};

use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::Ui;
use crate::ui::view::{Ctx, field_errors};

const FIELDS: &[&str] = &["csv", "media", "form"];

#[derive(Template, WebTemplate)]
#[template(path = "posts_import.html")]
struct ImportPage {
    ctx: Ctx,
    columns: String,
}

pub async fn page(ui: Ui) -> Response {
    ImportPage {
        columns: icf_app::posts::bulk::rows::COLUMNS.join(", "),
        ctx: ui.ctx("posts"),
    }
    .into_response()
}

/// A spreadsheet to start from: every column, and rows showing a photo scheduled
/// tomorrow, a carousel going out now with its options, and a reel kept as a draft.
pub async fn template(_: Ui) -> Response {
    let at = (Utc::now() + Duration::days(1))
        .format("%Y-%m-%dT09:30:00+00:00")
        .to_string();
    let csv = format!(
        "media,media_type,caption,original_language,groups,when,first_comment,alt_text,location_name,location_lat,location_lng,collaborators,disable_comments,media_variants\n\
         photo1.jpg,,\"New course! #python\",en,IT,{at},Link in bio,A laptop on a desk,,,,,,\n\
         photo2.jpg;photo3.jpg,,\"Two photos, one post\",en,IT;News,now,,first photo;second photo,Cafe X,40.71,-74.0,,,\n\
         clip.mp4,reel,Behind the scenes,en,IT,,,,,,,,false,light\n"
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"icf-posts.csv\""),
            ),
        ],
        csv,
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "posts_import_result.html")]
struct ImportResult {
    l: Lang,
    r: BulkReport,
}

/// The form: the spreadsheet, a ZIP of its files, and whether to only check.
pub async fn import(State(state): State<AppState>, ui: Ui, mut form: Multipart) -> Response {
    let mut upload = BulkUpload::new(&state.app);
    let mut dry_run = false;
    // The check box comes first in the form, then the files; read them in one pass.
    let read = async {
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => return Err(ApiError::bad_request(None, e.body_text())),
            };
            match field.name().unwrap_or_default() {
                "dry_run" => dry_run = true,
                "csv" => {
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| ApiError::validation("csv", e.body_text()))?;
                    upload.set_csv(bytes.to_vec())?;
                }
                // An empty file input still sends a part, without a name or bytes.
                "media" if field.file_name().is_some_and(|n| !n.is_empty()) => {
                    upload.add_zip(Box::pin(field)).await?;
                }
                _ => {}
            }
        }
    }
    .await;
    if let Err(e) = read {
        upload.discard().await;
        return field_errors(FIELDS, e);
    }
    match upload.run(&ui.user.actor(), dry_run).await {
        Ok(r) => ImportResult { l: ui.l, r }.into_response(),
        Err(e) => field_errors(FIELDS, e.into()),
    }
}
