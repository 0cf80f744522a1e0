//! The client's settings that are not per account.

use std::time::Duration;

use serde_json::Value;

use crate::transport::TransportOptions;

/// Instagram's API host; the CAA login then goes to `b.i.instagram.com`.
pub(crate) const DEFAULT_API_BASE: &str = "https://i.instagram.com";

/// Client settings that are not per account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://i.instagram.com`, or the simulator (`INSTAGRAM_API_URL`).
    pub api_base: String,
    /// Sleep before each non-login request (instagrapi `request_timeout`, 1 s).
    pub pace: Duration,
    /// Sleep before each configure attempt (3 s in instagrapi).
    pub configure_interval: Duration,
    /// Extra sleep after "Transcode not finished yet." (10 s in instagrapi).
    pub transcode_wait: Duration,
    /// Configure attempts before giving up on transcoding (50 in instagrapi).
    pub max_configure_attempts: u32,
    pub transport: TransportOptions,
    /// Extra trusted CA certificates (PEM) for the API host: the TLS simulator's.
    pub extra_ca_pem: Option<String>,
    /// Host of the CAA login calls: `https://b.i.instagram.com`, or `api_base` when that
    /// is overridden (the simulator serves both).
    pub caa_api_base: Option<String>,
    /// Try the CAA login before the legacy one, as instagrapi 3.x does (default true).
    pub caa_login: bool,
    /// `si_device_param_network_info` sent by the CAA login; `None` sends instagrapi's
    /// constant (a T-Mobile US SIM). Set it per account to match the proxy's country.
    pub caa_network_info: Option<Value>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_base: DEFAULT_API_BASE.into(),
            pace: Duration::from_secs(1),
            configure_interval: Duration::from_secs(3),
            transcode_wait: Duration::from_secs(10),
            max_configure_attempts: 50,
            transport: TransportOptions::default(),
            extra_ca_pem: None,
            caa_api_base: None,
            caa_login: true,
            caa_network_info: None,
        }
    }
}

impl ClientConfig {
    /// Defaults with the API base overridden (e.g. from `INSTAGRAM_API_URL`).
    pub fn with_api_base(base: impl Into<String>) -> ClientConfig {
        ClientConfig {
            api_base: base.into().trim_end_matches('/').to_owned(),
            ..ClientConfig::default()
        }
    }
}
