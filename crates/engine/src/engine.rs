//! The engine itself: what every Instagram action of an account reaches (the database, the
//! secrets' cipher, the media, the settings), and the activity log every action leaves.

use std::sync::Arc;
use std::time::Instant;

use icf_core::activity::NewActivity;
use icf_core::enums::ActivityStatus;
use icf_core::ids::{AccountId, PostId};
use icf_crypto::Cipher;
use icf_instagram::IgError;
use icf_media::MediaStore;
use icf_store::Db;
use serde_json::Value;

use crate::clients::ClientCache;
use crate::error::EngineError;
use crate::media::MediaCache;
use crate::settings::EngineSettings;

/// The engine: cheap to clone, one per process.
#[derive(Clone)]
pub struct Engine {
    pub db: Db,
    pub cipher: Cipher,
    pub media: MediaStore,
    pub settings: Arc<EngineSettings>,
    /// A post's media, read once per process and shared by every account's attempt.
    media_cache: MediaCache,
    /// Accounts' clients kept between their actions.
    pub clients: ClientCache,
    /// The permits for making accounts' own copies of the media (`variants.rs`): at most
    /// `settings.variants.concurrency` at once, which also bounds their memory.
    pub(crate) variant_permits: Arc<tokio::sync::Semaphore>,
    /// The threads photo copies are made on (as many as the permits).
    pub(crate) copy_threads: crate::copy_threads::CopyThreads,
}

impl Engine {
    pub fn new(db: Db, cipher: Cipher, media: MediaStore, settings: EngineSettings) -> Engine {
        Engine {
            db,
            cipher,
            media,
            clients: ClientCache::new(settings.client_cache),
            variant_permits: Arc::new(tokio::sync::Semaphore::new(
                settings.variants.concurrency.max(1),
            )),
            copy_threads: crate::copy_threads::CopyThreads::new(settings.variants.concurrency),
            settings: Arc::new(settings),
            media_cache: MediaCache::default(),
        }
    }

    /// The post's media as Instagram gets it, read from storage once per process.
    pub async fn post_media(&self, post: PostId) -> Result<crate::media::Prepared, EngineError> {
        self.media_cache
            .get_or_build(&self.db, &self.media, post)
            .await
    }

    /// One activity log line for an Instagram action. Failing to log never fails the
    /// action.
    pub async fn log(
        &self,
        account: AccountId,
        action: &str,
        started: Instant,
        details: Value,
        error: Option<&IgError>,
    ) {
        self.write_log(Self::log_line(account, action, started, details, error))
            .await;
    }

    /// The line [`Engine::log`] writes, for a caller that writes it together with other
    /// statements.
    pub fn log_line(
        account: AccountId,
        action: &str,
        started: Instant,
        details: Value,
        error: Option<&IgError>,
    ) -> NewActivity {
        NewActivity {
            account_id: Some(account),
            action: action.to_owned(),
            status: if error.is_some() {
                ActivityStatus::Failed
            } else {
                ActivityStatus::Success
            },
            details,
            error_message: error.map(ToString::to_string),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Writes a line made by [`Engine::log_line`]; failing to log never fails the action.
    pub async fn write_log(&self, entry: NewActivity) {
        if let Err(e) = icf_store::activity::record(&self.db, entry).await {
            tracing::warn!(error = %e, "cannot write an activity log");
        }
    }
}
