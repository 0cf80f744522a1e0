use super::session::UiAdmin;
use super::view::error_page;
use crate::error::ApiError;
use axum::response::Response;
pub async fn list(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn create(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn update(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
