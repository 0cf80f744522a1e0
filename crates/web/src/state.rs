//! What every handler can reach.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use icf_app::App;
use icf_core::auth::{LoginThrottle, ThrottlePolicy};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::live::EventHub;

/// How tokens are signed and how long they live.
#[derive(Clone)]
pub struct AuthSettings {
    pub secret_key: SecretString,
    pub token_ttl: Duration,
}

/// What the HTTP surface holds besides the use cases' [`App`]: how it signs people in,
/// its own throttles and switches, and the live event fan-out.
#[derive(Clone)]
pub struct AppState {
    /// The use cases' context (database, cipher, media, translation, engine, rules).
    pub app: App,
    pub auth: Arc<AuthSettings>,
    /// Sign-in attempts per client address and per account (`LoginThrottle`). In memory:
    /// per process, which is enough to make guessing slow.
    pub login_throttle: Arc<Mutex<LoginThrottle>>,
    /// `ICF_METRICS_TOKEN`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<Arc<String>>,
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
    pub events: EventHub,
}

impl AppState {
    pub fn new(app: App, auth: AuthSettings) -> Self {
        Self {
            app,
            auth: Arc::new(auth),
            login_throttle: Arc::new(Mutex::new(LoginThrottle::new(ThrottlePolicy::default()))),
            metrics_token: None,
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
