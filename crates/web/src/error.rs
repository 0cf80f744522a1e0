//! The one error type of the HTTP boundary and its JSON shape:
//! `{"error":{"code":"…","message":"…","field":"…"}}`.

use std::any::Any;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icf_core::auth::FieldError;
use icf_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is not what the endpoint takes (malformed JSON, bad id…).
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// Well-formed, but a value breaks a rule.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("your role may not do this")]
    Forbidden,
    /// Forbidden, with what to do instead.
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// Too large; `field` names the upload (`media`, `media[2]`).
    #[error("{message}")]
    PayloadTooLarge { field: String, message: String },
    /// The server has no room for what was sent (a full media disk): 507, nothing kept.
    #[error("{message}")]
    InsufficientStorage { field: String, message: String },
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// Anything unexpected. The cause is logged; the client sees a generic message.
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// Every error response: `{"error":{"code","message","field"}}`. (For the API docs; the
/// response itself is built from [`ApiError`].)
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "email: must be an e-mail address like name@example.com", "field": "email"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: bad_request, validation_failed, unauthorized, forbidden,
    /// not_found, conflict, payload_too_large, too_many_requests, unavailable, internal.
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field the error is about, when there is one.
    pub field: Option<String>,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(field: Option<&str>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::Refused(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InsufficientStorage { .. } => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden | ApiError::Refused(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::InsufficientStorage { .. } => "insufficient_storage",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub(crate) fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { field, .. } | ApiError::Conflict { field, .. } => {
                field.as_deref()
            }
            ApiError::Validation { field, .. }
            | ApiError::PayloadTooLarge { field, .. }
            | ApiError::InsufficientStorage { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let status = self.status();
        let body = Body {
            error: Inner {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        match &self {
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

// A rule the domain or the store refused reads the same as from a use case: one mapping,
// `AppError`'s, then the HTTP one below.
impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        icf_app::AppError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        icf_app::AppError::from(e).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A panicking handler still answers with the JSON error shape, without the panic text.
pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The use cases' errors over HTTP: the one place their statuses are chosen.
impl From<icf_app::AppError> for ApiError {
    fn from(e: icf_app::AppError) -> Self {
        use icf_app::AppError as E;
        match e {
            E::BadRequest { field, message } => ApiError::BadRequest { field, message },
            E::Validation { field, message } => ApiError::Validation { field, message },
            E::Forbidden => ApiError::Forbidden,
            E::Refused(message) => ApiError::Refused(message),
            E::NotFound(what) => ApiError::NotFound(what),
            E::Conflict { field, message } => ApiError::Conflict { field, message },
            E::PayloadTooLarge { field, message } => ApiError::PayloadTooLarge { field, message },
            E::InsufficientStorage { field, message } => {
                ApiError::InsufficientStorage { field, message }
            }
            E::Unavailable(message) => ApiError::Unavailable(message),
            E::Internal(cause) => ApiError::Internal(cause),
        }
    }
}
