//! A post's media as pictures for its previews (the post page's strip, the list's
//! thumbnails): a photo itself, a video's or reel's cover.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::view::parse_id;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::session::Ui;
use crate::ui::view::error_page;

pub async fn media(
    State(state): State<AppState>,
    ui: Ui,
    Path((raw, index)): Path<(String, String)>,
) -> Response {
    let (Some(id), Ok(index)) = (parse_id(&raw), index.parse::<usize>()) else {
        return error_page(ui.l, ApiError::NotFound("media"));
    };
    match icf_app::posts::read::preview(&state.app, id, index).await {
        Ok(jpeg) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                // A post's stored files never change under the same key; a new cover
                // frame gets a new one, and the page asks again.
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            jpeg,
        )
            .into_response(),
        Err(e) => error_page(ui.l, e.into()),
    }
}
