//! icf's use cases, one module each: what the REST API (`icf-web`'s routes), the web UI
//! (`icf-web`'s pages) and the CLI (`icf`) ask icf to do. A use case takes an [`App`] and
//! typed input and returns a typed result or an [`AppError`]; it knows nothing of HTTP,
//! forms or terminals, so the three surfaces stay thin and cannot drift apart.

pub mod account_session;
pub mod accounts;
pub mod error;
pub mod glossaries;
pub mod groups;
pub mod import;
mod input;
pub mod key_rotation;
pub mod posts;
pub mod proxies;
pub mod publishing;
pub mod snippets;
pub mod translations;
pub mod users;

use std::sync::Arc;

use icf_core::caption::CaptionRules;
use icf_core::enums::{MediaVariants, Role};
use icf_core::ids::UserId;
use icf_core::pacing::PacingRules;
use icf_core::review::ApprovalPolicy;
use icf_crypto::Cipher;
use icf_engine::proxy_check::ProxyCheckSettings;
use icf_media::MediaStore;
use icf_store::Db;
use icf_translate::Translation;

pub use error::{AppError, AppResult};

/// Limits on uploaded media.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// The largest single file (videos), in bytes.
    pub max_file_bytes: u64,
    /// The largest photo, in bytes (photos are decoded in memory).
    pub max_photo_bytes: u64,
    /// The most pixels a photo may have (`ICF_MAX_IMAGE_PIXELS`); its decoded buffer may
    /// take 4 bytes per pixel of this, checked from the header before decoding.
    pub max_image_pixels: u64,
    /// How many photo decodes and ffprobe/ffmpeg runs go at once (`ICF_MEDIA_CONCURRENCY`).
    pub media_concurrency: usize,
    /// What a new group (made by hand or by an import) sends its accounts unless the post
    /// says otherwise (`ICF_MEDIA_VARIANTS_DEFAULT`, `light`).
    pub new_group_variants: MediaVariants,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024 * 1024,
            max_photo_bytes: 30 * 1024 * 1024,
            max_image_pixels: icf_media::photo::DEFAULT_MAX_PIXELS,
            media_concurrency: 2,
            new_group_variants: MediaVariants::Light,
        }
    }
}

/// Everything a use case may reach: the database, the secrets' cipher, media storage and
/// the services and rules configured for this process. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    /// Encrypts and decrypts the secrets at rest (`ENCRYPTION_KEY`).
    pub cipher: Cipher,
    pub media: MediaStore,
    pub uploads: Arc<UploadSettings>,
    /// Permits for the memory-hungry media work: decoding a photo, running ffprobe or
    /// ffmpeg. `uploads.media_concurrency` of them, so that whatever is uploaded at once,
    /// the decodes together stay under a known ceiling (DEPLOY.md).
    pub media_work: Arc<tokio::sync::Semaphore>,
    /// The caption translator; `None` when no provider is configured (captions are then
    /// written by hand in every language).
    pub translation: Option<Arc<Translation>>,
    /// Where and how long proxy checks go.
    pub proxy_check: Arc<ProxyCheckSettings>,
    /// The anti-ban rules every publish time obeys.
    pub pacing: Arc<PacingRules>,
    /// Instagram's caption rules (`ICF_MAX_HASHTAGS`…): every language's caption keeps them
    /// on save and on publish, and the UI's counters show them. The translator has the same.
    pub caption_rules: CaptionRules,
    /// What icf does with Instagram (login, session checks); `None` in a build that does
    /// not talk to Instagram, where those use cases answer `Unavailable`.
    pub engine: Option<icf_engine::Engine>,
    /// Whether editors' posts wait for an admin's approval (`ICF_REQUIRE_APPROVAL`).
    pub approval: ApprovalPolicy,
}

/// The signed-in person a use case acts for, where who asks changes what happens
/// (approvals) or is recorded (a review's history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub role: Role,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl App {
    pub fn new(db: Db, cipher: Cipher, media: MediaStore, uploads: UploadSettings) -> Self {
        Self {
            db,
            cipher,
            media,
            media_work: Arc::new(tokio::sync::Semaphore::new(
                uploads.media_concurrency.max(1),
            )),
            uploads: Arc::new(uploads),
            translation: None,
            proxy_check: Arc::new(ProxyCheckSettings::default()),
            pacing: Arc::new(PacingRules::default()),
            caption_rules: CaptionRules::default(),
            engine: None,
            approval: ApprovalPolicy::default(),
        }
    }

    pub fn with_pacing(mut self, rules: PacingRules) -> Self {
        self.pacing = Arc::new(rules);
        self
    }

    pub fn with_caption_rules(mut self, rules: CaptionRules) -> Self {
        self.caption_rules = rules;
        self
    }

    pub fn with_translation(mut self, translation: Option<Arc<Translation>>) -> Self {
        self.translation = translation;
        self
    }

    pub fn with_engine(mut self, engine: icf_engine::Engine) -> Self {
        self.engine = Some(engine);
        self
    }

    pub fn with_approval(mut self, approval: ApprovalPolicy) -> Self {
        self.approval = approval;
        self
    }

    pub fn with_proxy_check(mut self, settings: ProxyCheckSettings) -> Self {
        self.proxy_check = Arc::new(settings);
        self
    }
}
