//! The one error type of the use cases. Each boundary maps it once: the REST API to an
//! HTTP status and the JSON error body (`icf_web::error`), the web UI to a page or a form
//! message, the CLI to a readable line.

use icf_core::auth::FieldError;
use icf_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is not what the use case takes (an unknown option, a malformed file…).
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// Well-formed, but a value breaks a rule; `field` names it as the caller sent it.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// The actor's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The actor's role may not do this here, and the message says what to do instead
    /// ("submit it for review").
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request collides with what exists (a taken name, a post already published).
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// Too large; `field` names the upload (`media`, `media[2]`).
    #[error("{message}")]
    PayloadTooLarge { field: String, message: String },
    /// No room for what was sent (a full media disk); nothing was kept.
    #[error("{message}")]
    InsufficientStorage { field: String, message: String },
    /// A service this needs is not configured or not reachable right now.
    #[error("{0}")]
    Unavailable(String),
    /// Anything unexpected. The cause is for the log; callers show a generic message.
    #[error("internal error")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// Maps a store error, reading "not found" as "this `what` does not exist".
    pub fn missing(what: &'static str) -> impl Fn(StoreError) -> AppError {
        move |e| match e {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Conflict { field } => AppError::Conflict {
                message: format!("{field} already exists"),
                field: Some(field),
            },
            StoreError::Constraint(message) => AppError::Conflict {
                field: None,
                message,
            },
            other => AppError::internal(other),
        }
    }
}
