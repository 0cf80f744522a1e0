//! Checking a proxy for real: one request through it (HTTP proxy or SOCKS5, with its
//! credentials) to the check URL, timed. A plain async function, so a periodic job can
//! call it as well as the API.

use std::time::{Duration, Instant};

use chrono::Utc;
use icf_core::account::Proxy;
use icf_core::ids::ProxyId;
use icf_core::proxy::{ProxyCredentials, ProxySpec};
use icf_crypto::Cipher;
use icf_store::proxies::CheckOutcome;
use icf_store::{Db, StoreError};
use secrecy::ExposeSecret;

/// Where a check goes and how long it may take.
#[derive(Debug, Clone)]
pub struct ProxyCheckSettings {
    pub url: String,
    pub timeout: Duration,
    /// The extra CA certificates icf trusts for Instagram (`INSTAGRAM_API_CA`): the check
    /// fetches from the Instagram icf talks to, so it trusts the same.
    pub extra_ca_pem: Option<String>,
}

impl Default for ProxyCheckSettings {
    fn default() -> Self {
        Self {
            url: "https://www.instagram.com/robots.txt".into(),
            timeout: Duration::from_secs(10),
            extra_ca_pem: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the proxy's stored credentials cannot be decrypted: {0}")]
    Crypto(#[from] icf_crypto::CryptoError),
}

/// Checks a stored proxy and records the outcome (status, latency, success rate, error).
pub async fn check_proxy(
    db: &Db,
    cipher: &Cipher,
    settings: &ProxyCheckSettings,
    id: ProxyId,
) -> Result<Proxy, CheckError> {
    let stored = icf_store::proxies::get(db, id).await?;
    let credentials = match &stored.credentials_enc {
        Some(token) => {
            let plain = cipher.decrypt(token)?;
            ProxyCredentials::from_plain(plain.expose_secret())
        }
        None => None,
    };
    let spec = ProxySpec {
        proxy_type: stored.proxy.proxy_type,
        host: stored.proxy.host.clone(),
        port: stored.proxy.port,
        credentials,
    };
    icf_store::proxies::mark_checking(db, id).await?;
    let outcome = probe(&spec, settings).await;
    Ok(icf_store::proxies::record_check(db, id, &outcome).await?)
}

/// One timed request through `spec` to the check URL. Never fails: a failure is an
/// outcome with the reason in plain words.
pub async fn probe(spec: &ProxySpec, settings: &ProxyCheckSettings) -> CheckOutcome {
    let at = Utc::now();
    let failed = |error: String| CheckOutcome {
        ok: false,
        latency_ms: None,
        error: Some(error),
        at,
    };
    // Reach the proxy first: the HTTP client's SOCKS errors do not say why a connection
    // failed, and "connection refused" vs "timeout" is what an operator needs to know.
    let host = spec.host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(
        settings.timeout,
        tokio::net::TcpStream::connect((host, spec.port)),
    )
    .await
    {
        Err(_) => return failed("timeout".into()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return failed("connection refused".into());
        }
        Ok(Err(e)) => return failed(format!("cannot connect to the proxy: {e}")),
        Ok(Ok(_)) => {}
    }
    let proxy = match reqwest::Proxy::all(spec.to_url()) {
        Ok(p) => p,
        Err(_) => return failed("the proxy address is not usable".into()),
    };
    // The process's shared TLS configuration: a client built with reqwest's defaults reads
    // and parses the system's root certificates each time (a fifth of a login's CPU when
    // every account's proxy was checked before its first login), and did not trust
    // `INSTAGRAM_API_CA`, so every check of an Instagram behind that CA failed.
    let tls = match icf_instagram::transport::shared_http1_tls(settings.extra_ca_pem.as_deref()) {
        Ok(t) => t,
        Err(e) => return failed(format!("cannot build an HTTP client: {e}")),
    };
    // Setting a proxy turns off the environment's HTTP(S)_PROXY for this client.
    let client = match reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .proxy(proxy)
        .connect_timeout(settings.timeout)
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot build an HTTP client: {e}")),
    };
    let started = Instant::now();
    let result = client.get(&settings.url).send().await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match result {
        Ok(resp) => {
            let status = resp.status();
            // 407 is the standard answer; tinyproxy answers a wrong password with 401.
            // The check URL needs no login, so either means the proxy refused us.
            if status == reqwest::StatusCode::PROXY_AUTHENTICATION_REQUIRED
                || status == reqwest::StatusCode::UNAUTHORIZED
            {
                failed("authentication failed".into())
            } else if status.is_server_error() {
                // Proxies answer 5xx themselves when they cannot reach the target.
                failed(format!(
                    "the proxy could not reach the check URL (HTTP {})",
                    status.as_u16()
                ))
            } else {
                CheckOutcome {
                    ok: true,
                    latency_ms: Some(latency_ms),
                    error: None,
                    at,
                }
            }
        }
        Err(e) => failed(describe(&e, spec)),
    }
}

/// A reqwest error in plain words, without any credential.
fn describe(err: &reqwest::Error, spec: &ProxySpec) -> String {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        chain.push_str(&e.to_string().to_lowercase());
        chain.push(' ');
        source = e.source();
    }
    if err.is_timeout() || chain.contains("timed out") || chain.contains("deadline") {
        return "timeout".into();
    }
    if chain.contains("refused") {
        return "connection refused".into();
    }
    if chain.contains("auth") || chain.contains("407") || chain.contains("credentials") {
        return "authentication failed".into();
    }
    let mut text = format!("proxy error: {}", chain.trim());
    if let Some(c) = &spec.credentials {
        for secret in [&c.password, &c.username] {
            if !secret.is_empty() {
                text = text.replace(secret.as_str(), "***");
            }
        }
    }
    text.chars().take(300).collect()
}
