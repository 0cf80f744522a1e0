use super::session::UiAdmin;
use super::view::error_page;
use crate::error::ApiError;
use axum::response::Response;
pub async fn list(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn bulk(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn import_page(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn import(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn page(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
pub async fn action(ui: UiAdmin) -> Response {
    error_page(ui.0.l, ApiError::NotFound("page"))
}
