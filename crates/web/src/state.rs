//! What every handler can reach.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use icf_core::auth::LoginThrottle;
use icf_media::MediaStore;
use icf_store::Db;
use icf_translate::Translation;
use secrecy::SecretString;

/// How tokens are signed and how long they live.
#[derive(Clone)]
pub struct AuthSettings {
    pub secret_key: SecretString,
    pub token_ttl: Duration,
}

/// Limits on uploaded media.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// The largest single file (videos), in bytes.
    pub max_file_bytes: u64,
    /// The largest photo, in bytes (photos are decoded in memory).
    pub max_photo_bytes: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024 * 1024,
            max_photo_bytes: 30 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    pub media: MediaStore,
    pub uploads: Arc<UploadSettings>,
    /// Failed sign-ins per username and per client address. In memory: per process,
    /// which is enough to make guessing slow.
    pub login_throttle: Arc<Mutex<LoginThrottle>>,
    /// The caption translator; `None` when no provider is configured (captions are then
    /// written by hand in every language).
    pub translation: Option<Arc<Translation>>,
}

impl AppState {
    pub fn new(db: Db, auth: AuthSettings, media: MediaStore, uploads: UploadSettings) -> Self {
        Self {
            db,
            auth: Arc::new(auth),
            media,
            uploads: Arc::new(uploads),
            login_throttle: Arc::new(Mutex::new(LoginThrottle::new(5, Duration::minutes(15)))),
            translation: None,
        }
    }

    pub fn with_translation(mut self, translation: Option<Arc<Translation>>) -> Self {
        self.translation = translation;
        self
    }
}
