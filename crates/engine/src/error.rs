//! What the engine fails with, and the machine names of Instagram's error classes.

use icf_instagram::{ErrorClass, IgError};
use icf_store::StoreError;

/// Everything the engine can fail with, other than Instagram's own answers.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored secret cannot be decrypted (was ENCRYPTION_KEY changed?)")]
    Crypto(#[from] icf_crypto::CryptoError),
    #[error("the post's media cannot be read: {0}")]
    Media(String),
    #[error("the account's stored device is unreadable: {0}")]
    Device(String),
    #[error(transparent)]
    Instagram(#[from] IgError),
}

impl EngineError {
    /// Instagram's class of the failure, if it came from Instagram (or the proxy).
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            EngineError::Instagram(e) => Some(e.class()),
            _ => None,
        }
    }
}

/// The machine name of an error class, as `post_executions.error_class` stores it.
pub fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Retryable => "retryable",
        ErrorClass::Cooldown { .. } => "cooldown",
        ErrorClass::Relogin => "relogin",
        ErrorClass::Challenge => "challenge",
        ErrorClass::Banned => "banned",
        ErrorClass::Proxy => "proxy",
        ErrorClass::BadMedia => "bad_media",
        ErrorClass::Credentials => "credentials",
        ErrorClass::Outdated => "outdated",
        ErrorClass::Failed => "failed",
    }
}
