//! One HTTP client per account, which can only reach Instagram through that account's proxy
//! (fact sheet §3.2, §7 "one stable proxy per account"). Production traffic is HTTP/2 with
//! ALPN offering only `h2` and TLS 1.3 only, as instagrapi 3.x's curl transport does; a
//! plain `http://` API base (the simulator) uses HTTP/1.1.

use std::fmt;
use std::time::Duration;

use crate::error::IgError;

/// The kind of proxy, from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// HTTP proxy: `CONNECT` tunnels for https, absolute-form requests for http.
    Http,
    /// SOCKS5 with DNS resolved by the proxy (`socks5h`), so lookups do not leak.
    Socks5,
}

/// An account's proxy. Its credentials never appear in `Debug` or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySpec {
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for ProxySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySpec")
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

impl ProxySpec {
    pub fn new(
        scheme: ProxyScheme,
        host: impl Into<String>,
        port: u16,
        auth: Option<(String, String)>,
    ) -> ProxySpec {
        let (username, password) = match auth {
            Some((u, p)) => (Some(u), Some(p)),
            None => (None, None),
        };
        ProxySpec {
            scheme,
            host: host.into(),
            port,
            username,
            password,
        }
    }

    /// `http://user:pass@host:port`, `socks5://…` or `socks5h://…`; a bare `host:port` is
    /// HTTP, as in instagrapi.
    pub fn parse(url: &str) -> Result<ProxySpec, IgError> {
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
        Ok(ProxySpec {
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

/// Builds the account's client. `plain_http` is for an `http://` API base (the simulator):
/// HTTP/1.1 then, since there is no TLS to negotiate h2 on.
pub fn build_client(
    proxy: &ProxySpec,
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
        .pool_idle_timeout(Duration::from_secs(90));
    if plain_http {
        // Plain-HTTP forwarding proxies (tinyproxy) close the client side after each
        // answer; a pooled connection would race that close and lose a request.
        b = b.http1_only().pool_max_idle_per_host(0);
    } else {
        b = b
            .http2_prior_knowledge()
            .tls_version_min(reqwest::tls::Version::TLS_1_3);
    }
    if let Some(pem) = extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|_| IgError::Protocol("the extra CA certificate is not PEM".into()))?;
        b = b.tls_certs_merge(certs);
    }
    b.build()
        .map_err(|e| IgError::Proxy(format!("cannot build the HTTP client: {e}")))
}

/// The account's web-session client (instagrapi's `Client.public`): HTTP/1.1, through the
/// same proxy, never direct.
pub fn build_web_client(
    proxy: &ProxySpec,
    cfg: &crate::client::ClientConfig,
) -> Result<reqwest::Client, IgError> {
    let p = reqwest::Proxy::all(proxy.url())
        .map_err(|_| IgError::Proxy("the proxy URL is not usable".into()))?;
    let mut b = reqwest::Client::builder()
        .proxy(p)
        .connect_timeout(cfg.transport.connect_timeout)
        .timeout(cfg.transport.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .http1_only()
        .pool_max_idle_per_host(0);
    if let Some(pem) = cfg.extra_ca_pem.as_deref() {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|_| IgError::Protocol("the extra CA certificate is not PEM".into()))?;
        b = b.tls_certs_merge(certs);
    }
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
        let p = ProxySpec::parse("http://bob:s%40cret@10.0.0.1:3128").unwrap();
        assert_eq!(p.scheme, ProxyScheme::Http);
        assert_eq!(p.password.as_deref(), Some("s@cret"));
        assert!(!format!("{p:?}").contains("cret"));
        assert_eq!(p.url(), "http://bob:s%40cret@10.0.0.1:3128");
        let s = ProxySpec::parse("socks5://u:p@h:1080").unwrap();
        assert_eq!(s.url(), "socks5h://u:p@h:1080");
        assert_eq!(
            ProxySpec::parse("h:8080").unwrap().scheme,
            ProxyScheme::Http
        );
    }

    #[test]
    fn unusable_proxies_are_proxy_errors() {
        for bad in ["ftp://h:21", "http://h", "", "socks4://h:1"] {
            let e = ProxySpec::parse(bad).unwrap_err();
            assert_eq!(e.class(), crate::ErrorClass::Proxy, "{bad}");
        }
    }
}
