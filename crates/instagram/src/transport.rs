//! One HTTP client per account, which can only reach Instagram through that account's proxy
//! (fact sheet §3.2, §7 "one stable proxy per account"). Production traffic is HTTP/2 with
//! ALPN offering only `h2` and TLS 1.3 only, as instagrapi 3.x's curl transport does; a
//! plain `http://` API base (the simulator) uses HTTP/1.1.
//!
//! The TLS configuration (root store, protocol versions, ALPN) is built once per process and
//! per distinct extra CA, and shared by every account's clients (issue 20): loading and
//! parsing the system's root certificates for each client cost more CPU than the rest of
//! building it. Each client still gets its own TLS session cache, so no session ticket one
//! account got is ever offered on another account's connections.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio_rustls::rustls;

use crate::error::IgError;

/// The kind of proxy, from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// HTTP proxy: `CONNECT` tunnels for https, absolute-form requests for http.
    Http,
    /// SOCKS5 with DNS resolved by the proxy (`socks5h`), so lookups do not leak.
    Socks5,
}

/// An account's proxy as the transport dials it. Its credentials never appear in `Debug` or
/// errors. (The stored, validated form of a proxy is `icf_core::proxy::ProxySpec`; the
/// engine turns one into this.)
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyEndpoint {
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for ProxyEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyEndpoint")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auth", &self.username.as_ref().map(|_| "[set]"))
            .finish()
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl ProxyEndpoint {
    pub fn new(
        scheme: ProxyScheme,
        host: impl Into<String>,
        port: u16,
        auth: Option<(String, String)>,
    ) -> ProxyEndpoint {
        let (username, password) = match auth {
            Some((u, p)) => (Some(u), Some(p)),
            None => (None, None),
        };
        ProxyEndpoint {
            scheme,
            host: host.into(),
            port,
            username,
            password,
        }
    }

    /// `http://user:pass@host:port`, `socks5://…` or `socks5h://…`; a bare `host:port` is
    /// HTTP, as in instagrapi.
    pub fn parse(url: &str) -> Result<ProxyEndpoint, IgError> {
        let url = url.trim();
        let full = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let parsed = reqwest::Url::parse(&full)
            .map_err(|_| IgError::Proxy("the proxy is not a valid URL".into()))?;
        let scheme = match parsed.scheme() {
            "http" => ProxyScheme::Http,
            "socks5" | "socks5h" => ProxyScheme::Socks5,
            other => {
                return Err(IgError::Proxy(format!(
                    "unsupported proxy scheme '{other}' (use http, socks5 or socks5h)"
                )));
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| IgError::Proxy("the proxy URL has no host".into()))?
            .to_owned();
        let port = parsed
            .port()
            .ok_or_else(|| IgError::Proxy("the proxy URL has no port".into()))?;
        let decode = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let username = Some(parsed.username())
            .filter(|u| !u.is_empty())
            .map(decode);
        let password = parsed.password().map(decode);
        Ok(ProxyEndpoint {
            scheme,
            host,
            port,
            username,
            password,
        })
    }

    fn url(&self) -> String {
        let scheme = match self.scheme {
            ProxyScheme::Http => "http",
            ProxyScheme::Socks5 => "socks5h",
        };
        let auth = match (&self.username, &self.password) {
            (Some(u), p) => format!("{}:{}@", enc(u), enc(p.as_deref().unwrap_or_default())),
            _ => String::new(),
        };
        format!("{scheme}://{auth}{}:{}", self.host, self.port)
    }
}

/// Timeouts of the per-account client.
#[derive(Debug, Clone, Copy)]
pub struct TransportOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(20),
            timeout: Duration::from_secs(120),
        }
    }
}

/// The TLS configurations shared by every account's clients that trust the same extra CA.
struct SharedTls {
    /// TLS 1.3 only, ALPN `h2` only: the API client over https.
    h2_tls13: rustls::ClientConfig,
    /// TLS 1.2 and 1.3, ALPN `http/1.1`: the web client, and the API client on a plain
    /// `http://` base (the simulator). What reqwest builds for `http1_only()`.
    http1: rustls::ClientConfig,
}

/// Distinct extra CAs come from configuration: one per process in production, one per
/// simulator in tests. The bound only keeps a test process that starts many simulators from
/// growing it without end; dropping an entry costs one more root store load, nothing else.
const SHARED_TLS_MAX: usize = 16;

/// The shared TLS configurations for `extra_ca_pem` (`None` and an empty PEM are the same:
/// the system's roots alone), built on first use. The system's roots are read then, as
/// reqwest's `rustls` feature reads them (rustls-platform-verifier: the native store on
/// Linux), and are not read again while the process lives.
fn shared_tls(extra_ca_pem: Option<&str>) -> Result<Arc<SharedTls>, IgError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<SharedTls>>>> = OnceLock::new();
    let key = extra_ca_pem.unwrap_or_default();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(shared) = cache.get(key) {
        return Ok(shared.clone());
    }
    // Built under the lock, so concurrent first clients load the roots once, not each.
    let shared = Arc::new(build_shared_tls(key)?);
    if cache.len() >= SHARED_TLS_MAX {
        cache.clear();
    }
    cache.insert(key.to_owned(), shared.clone());
    Ok(shared)
}

/// What reqwest 0.13's `rustls` backend builds for a client (its `TlsBackend::Rustls`
/// branch): the runtime's default crypto provider or aws-lc-rs, rustls-platform-verifier
/// with the extra roots merged in, no client certificate, SNI on, no key log.
fn build_shared_tls(extra_ca_pem: &str) -> Result<SharedTls, IgError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};

    let not_pem = || IgError::Protocol("the extra CA certificate is not PEM".into());
    let cannot =
        |e: &dyn fmt::Display| IgError::Proxy(format!("cannot build the HTTP client: {e}"));
    let extra = CertificateDer::pem_slice_iter(extra_ca_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| not_pem())?;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
    }
    .map_err(|e| cannot(&e))?;
    let verifier = Arc::new(verifier);
    let config = |versions: &[&'static rustls::SupportedProtocolVersion], alpn: &[u8]| {
        let mut c = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| cannot(&e))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        c.alpn_protocols = vec![alpn.to_vec()];
        Ok::<_, IgError>(c)
    };
    Ok(SharedTls {
        h2_tls13: config(&[&rustls::version::TLS13], b"h2")?,
        http1: config(rustls::ALL_VERSIONS, b"http/1.1")?,
    })
}

/// A client's copy of a shared configuration: the verifier (with its root store) and the
/// crypto provider are shared; the TLS session cache is the client's own, as it was when
/// each client built its configuration.
fn client_tls(shared: &rustls::ClientConfig) -> rustls::ClientConfig {
    let mut c = shared.clone();
    // Room for the tickets of 4 servers (8 each): an account talks to a few Instagram
    // hosts. rustls's default (256 tickets, 32 servers) allocates its table up front: 9.6
    // instead of 6.4 KB per client (example `client_build_cost`).
    c.resumption = rustls::client::Resumption::in_memory_sessions(32);
    c
}

/// A copy of the shared HTTP/1.1 configuration (the system's roots and `extra_ca_pem`), for
/// icf's other clients that go out through an account's proxy (the proxy check): building
/// one with reqwest's defaults reads and parses every system root certificate again.
pub fn shared_http1_tls(extra_ca_pem: Option<&str>) -> Result<rustls::ClientConfig, IgError> {
    Ok(client_tls(&shared_tls(extra_ca_pem)?.http1))
}

/// How long an account's connection stays open unused. The requests of one action (a
/// login, an upload and its configure) follow each other within seconds; the account's
/// next action is at least its posting gap away, so a connection kept longer would only
/// hold memory in the worker and a slot in the proxy.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// Builds the account's client. `plain_http` is for an `http://` API base (the simulator):
/// HTTP/1.1 then, since there is no TLS to negotiate h2 on.
pub fn build_client(
    proxy: &ProxyEndpoint,
    plain_http: bool,
    opts: TransportOptions,
    extra_ca_pem: Option<&str>,
) -> Result<reqwest::Client, IgError> {
    let proxy = reqwest::Proxy::all(proxy.url())
        .map_err(|_| IgError::Proxy("the proxy URL is not usable".into()))?;
    let mut b = reqwest::Client::builder()
        // An explicit proxy replaces the environment's; there is no direct fallback.
        .proxy(proxy)
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(POOL_IDLE);
    let tls = shared_tls(extra_ca_pem)?;
    if plain_http {
        // Plain-HTTP forwarding proxies (tinyproxy) close the client side after each
        // answer; a pooled connection would race that close and lose a request.
        b = b
            .http1_only()
            .pool_max_idle_per_host(0)
            .tls_backend_preconfigured(client_tls(&tls.http1));
    } else {
        // TLS 1.3 only and ALPN `h2` only are in the shared configuration: reqwest applies
        // neither `tls_version_min` nor its ALPN choice to a preconfigured one.
        b = b
            .http2_prior_knowledge()
            .tls_backend_preconfigured(client_tls(&tls.h2_tls13));
    }
    b.build()
        .map_err(|e| IgError::Proxy(format!("cannot build the HTTP client: {e}")))
}

/// The account's web-session client (instagrapi's `Client.public`): HTTP/1.1, through the
/// same proxy, never direct.
pub fn build_web_client(
    proxy: &ProxyEndpoint,
    opts: TransportOptions,
    extra_ca_pem: Option<&str>,
) -> Result<reqwest::Client, IgError> {
    let p = reqwest::Proxy::all(proxy.url())
        .map_err(|_| IgError::Proxy("the proxy URL is not usable".into()))?;
    let b = reqwest::Client::builder()
        .proxy(p)
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .http1_only()
        .pool_max_idle_per_host(0)
        .tls_backend_preconfigured(client_tls(&shared_tls(extra_ca_pem)?.http1));
    b.build()
        .map_err(|e| IgError::Proxy(format!("cannot build the HTTP client: {e}")))
}

/// Maps a transport failure; connect failures are the proxy's since every byte goes
/// through it.
pub(crate) fn map_reqwest(e: reqwest::Error, sent: bool) -> IgError {
    let e = e.without_url();
    if e.is_connect() {
        return IgError::Proxy(format!(
            "cannot connect through the proxy: {}",
            source_chain(&e)
        ));
    }
    IgError::Network {
        message: if e.is_timeout() {
            "timed out".into()
        } else {
            source_chain(&e)
        },
        maybe_sent: sent || e.is_body() || e.is_decode() || e.is_timeout(),
    }
}

fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_and_hide_credentials() {
        let p = ProxyEndpoint::parse("http://bob:s%40cret@10.0.0.1:3128").unwrap();
        assert_eq!(p.scheme, ProxyScheme::Http);
        assert_eq!(p.password.as_deref(), Some("s@cret"));
        assert!(!format!("{p:?}").contains("cret"));
        assert_eq!(p.url(), "http://bob:s%40cret@10.0.0.1:3128");
        let s = ProxyEndpoint::parse("socks5://u:p@h:1080").unwrap();
        assert_eq!(s.url(), "socks5h://u:p@h:1080");
        assert_eq!(
            ProxyEndpoint::parse("h:8080").unwrap().scheme,
            ProxyScheme::Http
        );
    }

    #[test]
    fn the_tls_configuration_is_built_once_per_extra_ca() {
        let a = shared_tls(None).unwrap();
        assert!(Arc::ptr_eq(&a, &shared_tls(None).unwrap()));
        assert!(
            Arc::ptr_eq(&a, &shared_tls(Some("")).unwrap()),
            "no PEM, no extra CA"
        );
        assert_eq!(a.h2_tls13.alpn_protocols, vec![b"h2".to_vec()]);
        assert_eq!(a.http1.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let bad = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        let e = shared_tls(Some(bad)).err().unwrap();
        assert!(matches!(e, IgError::Protocol(_)), "{e}");
    }

    #[test]
    fn unusable_proxies_are_proxy_errors() {
        for bad in ["ftp://h:21", "http://h", "", "socks4://h:1"] {
            let e = ProxyEndpoint::parse(bad).unwrap_err();
            assert_eq!(e.class(), crate::ErrorClass::Proxy, "{bad}");
        }
    }
}
