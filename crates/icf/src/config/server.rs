//! The HTTP server: where it listens, what it trusts of a reverse proxy, and its limits on
//! slow clients and open connections.

use std::net::SocketAddr;

use super::vars::{ConfigError, Vars};

/// The HTTP listener and its protections.
#[derive(Clone)]
pub struct ServerSettings {
    /// `ICF_LISTEN` (default `127.0.0.1:8000`).
    pub listen: SocketAddr,
    /// `ICF_TRUST_PROXY_HEADERS` (default false): icf runs behind a reverse proxy (nginx)
    /// on a private or loopback address; the client's address is its `X-Real-IP`.
    pub trust_proxy_headers: bool,
    /// `ICF_SECURE_COOKIES` (default false): mark the UI's cookies `Secure` always, for
    /// icf behind a TLS-terminating proxy. Without it they are `Secure` when the request
    /// says it came over HTTPS (`X-Forwarded-Proto: https` or an `https://` Origin).
    pub secure_cookies: bool,
    /// `ICF_HTTP_HEADER_TIMEOUT_SECS` (default 30, 1–600): a client must send a request's
    /// whole head (request line and headers) within this time, and an idle keep-alive
    /// connection is closed after it (waiting for the next request counts as reading its
    /// head). Slow clients cannot hold connections open.
    pub header_timeout_secs: u64,
    /// `ICF_HTTP_BODY_TIMEOUT_SECS` (default 60, 1–3600): the longest wait for the next
    /// piece of a request body. It is per piece, not for the whole body, so a large upload
    /// on a slow but moving link is never cut.
    pub body_timeout_secs: u64,
    /// `ICF_HTTP_MAX_CONNECTIONS` (default 1024, 1–1000000): open HTTP connections at most;
    /// beyond it new connections wait in the listen queue. Keep it well below the
    /// process's file limit (`ulimit -n`), which database and Instagram connections share.
    pub max_connections: usize,
}

impl ServerSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            listen: vars.parse(
                "ICF_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8000)),
                "an address like 127.0.0.1:8000",
            )?,
            trust_proxy_headers: vars.parse("ICF_TRUST_PROXY_HEADERS", false, "true or false")?,
            header_timeout_secs: vars.ranged("ICF_HTTP_HEADER_TIMEOUT_SECS", 30u64, 1, 600)?,
            body_timeout_secs: vars.ranged("ICF_HTTP_BODY_TIMEOUT_SECS", 60u64, 1, 3600)?,
            max_connections: vars.ranged("ICF_HTTP_MAX_CONNECTIONS", 1024usize, 1, 1_000_000)?,
            secure_cookies: vars.parse("ICF_SECURE_COOKIES", false, "true or false")?,
        })
    }
}
