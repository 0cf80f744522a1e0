use super::session::Ui;
use super::view::error_page;
use crate::error::ApiError;
use axum::response::Response;
pub async fn list(ui: Ui) -> Response {
    error_page(ui.l, ApiError::NotFound("page"))
}
