//! What every handler can reach.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use icf_core::auth::LoginThrottle;
use icf_crypto::Cipher;
use icf_store::Db;

use crate::proxy_check::ProxyCheckSettings;
use secrecy::SecretString;

/// How tokens are signed and how long they live.
#[derive(Clone)]
pub struct AuthSettings {
    pub secret_key: SecretString,
    pub token_ttl: Duration,
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    /// Failed sign-ins per username and per client address. In memory: per process,
    /// which is enough to make guessing slow.
    pub login_throttle: Arc<Mutex<LoginThrottle>>,
    /// Encrypts and decrypts the secrets at rest (`ENCRYPTION_KEY`).
    pub cipher: Cipher,
    /// Where and how long proxy checks go.
    pub proxy_check: Arc<ProxyCheckSettings>,
}

impl AppState {
    pub fn new(db: Db, auth: AuthSettings, cipher: Cipher) -> Self {
        Self {
            db,
            auth: Arc::new(auth),
            login_throttle: Arc::new(Mutex::new(LoginThrottle::new(5, Duration::minutes(15)))),
            cipher,
            proxy_check: Arc::new(ProxyCheckSettings::default()),
        }
    }

    pub fn with_proxy_check(mut self, settings: ProxyCheckSettings) -> Self {
        self.proxy_check = Arc::new(settings);
        self
    }
}
