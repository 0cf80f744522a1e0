//! What every handler can reach.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use icf_core::auth::{LoginThrottle, ThrottlePolicy};
use icf_crypto::Cipher;
use icf_media::MediaStore;
use icf_store::Db;
use icf_translate::Translation;

use crate::proxy_check::ProxyCheckSettings;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

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
    /// The most pixels a photo may have (`ICF_MAX_IMAGE_PIXELS`); its decoded buffer may
    /// take 4 bytes per pixel of this, checked from the header before decoding.
    pub max_image_pixels: u64,
    /// How many photo decodes and ffprobe/ffmpeg runs go at once (`ICF_MEDIA_CONCURRENCY`).
    pub media_concurrency: usize,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024 * 1024,
            max_photo_bytes: 30 * 1024 * 1024,
            max_image_pixels: icf_media::photo::DEFAULT_MAX_PIXELS,
            media_concurrency: 2,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    pub media: MediaStore,
    pub uploads: Arc<UploadSettings>,
    /// Permits for the memory-hungry media work: decoding a photo, running ffprobe or
    /// ffmpeg. `uploads.media_concurrency` of them, so that whatever is uploaded at once,
    /// the decodes together stay under a known ceiling (DEPLOY.md).
    pub media_work: Arc<tokio::sync::Semaphore>,
    /// Sign-in attempts per client address and per account (`LoginThrottle`). In memory:
    /// per process, which is enough to make guessing slow.
    pub login_throttle: Arc<Mutex<LoginThrottle>>,
    /// The caption translator; `None` when no provider is configured (captions are then
    /// written by hand in every language).
    pub translation: Option<Arc<Translation>>,
    /// Encrypts and decrypts the secrets at rest (`ENCRYPTION_KEY`).
    pub cipher: Cipher,
    /// Where and how long proxy checks go.
    pub proxy_check: Arc<ProxyCheckSettings>,
    /// `ICF_METRICS_TOKEN`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<Arc<String>>,
    /// The anti-ban rules every publish time obeys.
    pub pacing: Arc<icf_core::pacing::PacingRules>,
    /// Instagram's caption rules (`ICF_MAX_HASHTAGS`…): every language's caption keeps them
    /// on save and on publish, and the UI's counters show them. The translator has the same.
    pub caption_rules: icf_core::caption::CaptionRules,
    /// What icf does with Instagram (login, session checks); `None` in a build that does
    /// not talk to Instagram, where those routes answer 503.
    pub engine: Option<icf_engine::Engine>,
    /// Cancelled when the server begins to shut down. Graceful shutdown waits for every
    /// open connection, so long-lived responses (server-sent events) must select on it
    /// and end, or SIGTERM would wait for them forever.
    pub shutdown: CancellationToken,
    /// `ICF_TRUST_PROXY_HEADERS`: behind a reverse proxy on a private or loopback address,
    /// the client's address is its `X-Real-IP`, so sign-in throttling counts each client
    /// rather than the proxy.
    pub trust_proxy_headers: bool,
    /// `ICF_SECURE_COOKIES`: the UI's cookies are always `Secure` (behind a TLS-terminating
    /// proxy); otherwise only when the request says it came over HTTPS.
    pub secure_cookies: bool,
    /// The live event stream of `/api/events`.
    pub events: crate::routes::events::EventHub,
}

impl AppState {
    pub fn new(
        db: Db,
        auth: AuthSettings,
        media: MediaStore,
        uploads: UploadSettings,
        cipher: Cipher,
    ) -> Self {
        Self {
            db,
            auth: Arc::new(auth),
            media,
            media_work: Arc::new(tokio::sync::Semaphore::new(
                uploads.media_concurrency.max(1),
            )),
            uploads: Arc::new(uploads),
            login_throttle: Arc::new(Mutex::new(LoginThrottle::new(ThrottlePolicy::default()))),
            translation: None,
            cipher,
            proxy_check: Arc::new(ProxyCheckSettings::default()),
            pacing: Arc::new(icf_core::pacing::PacingRules::default()),
            caption_rules: icf_core::caption::CaptionRules::default(),
            metrics_token: None,
            engine: None,
            shutdown: CancellationToken::new(),
            trust_proxy_headers: false,
            secure_cookies: false,
            events: Default::default(),
        }
    }

    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.map(Arc::new);
        self
    }

    pub fn with_pacing(mut self, rules: icf_core::pacing::PacingRules) -> Self {
        self.pacing = Arc::new(rules);
        self
    }

    pub fn with_caption_rules(mut self, rules: icf_core::caption::CaptionRules) -> Self {
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

    pub fn with_proxy_check(mut self, settings: ProxyCheckSettings) -> Self {
        self.proxy_check = Arc::new(settings);
        self
    }

    pub fn with_trusted_proxy_headers(mut self, trust: bool) -> Self {
        self.trust_proxy_headers = trust;
        self
    }

    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// The client's address: the peer's, or the one a trusted reverse proxy forwarded.
    pub fn client_ip(
        &self,
        peer: std::net::IpAddr,
        headers: &axum::http::HeaderMap,
    ) -> std::net::IpAddr {
        let private = match peer {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
            std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
        };
        if !(self.trust_proxy_headers && private) {
            return peer;
        }
        headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(peer)
    }
}
