//! Proxies of the pool: how an address is written, parsed and shown without its password.

use std::fmt;

use crate::auth::FieldError;
use crate::enums::ProxyType;

/// A proxy's login. `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProxyCredentials {{ username: {:?}, password: *** }}",
            self.username
        )
    }
}

impl ProxyCredentials {
    /// The stored form, `user:pass` (the user name never contains ':').
    pub fn to_plain(&self) -> String {
        format!("{}:{}", self.username, self.password)
    }

    pub fn from_plain(plain: &str) -> Option<ProxyCredentials> {
        let (username, password) = plain.split_once(':')?;
        Some(ProxyCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// A parsed proxy address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec {
    pub proxy_type: ProxyType,
    pub host: String,
    pub port: u16,
    pub credentials: Option<ProxyCredentials>,
}

/// Room for the longest valid proxy: `socks5h://`, both credentials at their limit fully
/// percent-encoded (3 × 128 each), a 253-character host and a port.
const MAX_URL: usize = 1100;
const MAX_CREDENTIAL: usize = 128;

impl ProxySpec {
    /// Parses `http://user:pass@host:port`, `socks5://user:pass@host:port` (also
    /// `socks5h://`), `host:port:user:pass` and `host:port` (the last two are HTTP unless
    /// `default_type` says otherwise). Errors name `field`.
    pub fn parse_with(
        raw: &str,
        default_type: ProxyType,
        field: &'static str,
    ) -> Result<ProxySpec, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if raw.len() > MAX_URL {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_URL} characters long"),
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FieldError::new(field, "must not contain spaces"));
        }
        // Only a real scheme makes a URL: a colon-form password may itself contain "://".
        let url = raw.split_once("://").filter(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        let (proxy_type, rest) = match url {
            Some((scheme, rest)) => {
                let t = match scheme.to_ascii_lowercase().as_str() {
                    "http" => ProxyType::Http,
                    "socks5" | "socks5h" => ProxyType::Socks5,
                    _ => {
                        return Err(FieldError::new(
                            field,
                            "the scheme must be http:// or socks5://",
                        ));
                    }
                };
                (t, rest.trim_end_matches('/'))
            }
            None => return Self::parse_colon_form(raw, default_type, field),
        };
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = split_host_port(hostport, field)?;
        let credentials = userinfo
            .map(|u| {
                let (user, pass) = u.split_once(':').ok_or_else(|| {
                    FieldError::new(field, "credentials must be written user:password@")
                })?;
                credentials(&percent_decode(user), &percent_decode(pass), field)
            })
            .transpose()?;
        Ok(ProxySpec {
            proxy_type,
            host,
            port,
            credentials,
        })
    }

    pub fn parse(raw: &str) -> Result<ProxySpec, FieldError> {
        Self::parse_with(raw, ProxyType::Http, "url")
    }

    fn parse_colon_form(
        raw: &str,
        proxy_type: ProxyType,
        field: &'static str,
    ) -> Result<ProxySpec, FieldError> {
        let parts: Vec<&str> = raw.splitn(4, ':').collect();
        let (hostport, creds) = match parts.as_slice() {
            [h, p] => (format!("{h}:{p}"), None),
            [h, p, u, pw] => (format!("{h}:{p}"), Some(credentials(u, pw, field)?)),
            _ => {
                return Err(FieldError::new(
                    field,
                    "expected scheme://user:pass@host:port or host:port:user:pass",
                ));
            }
        };
        let (host, port) = split_host_port(&hostport, field)?;
        Ok(ProxySpec {
            proxy_type,
            host,
            port,
            credentials: creds,
        })
    }

    /// `socks5://host:port`: what the API shows, never the credentials.
    pub fn masked(&self) -> String {
        masked(self.proxy_type, &self.host, self.port)
    }

    /// The full URL a client needs, credentials percent-encoded. Secret: never log it.
    pub fn to_url(&self) -> String {
        let scheme = match self.proxy_type {
            ProxyType::Http => "http",
            // socks5h: the proxy resolves names, so DNS does not leak around it
            ProxyType::Socks5 => "socks5h",
        };
        match &self.credentials {
            Some(c) => format!(
                "{scheme}://{}:{}@{}:{}",
                percent_encode(&c.username),
                percent_encode(&c.password),
                self.host,
                self.port
            ),
            None => format!("{scheme}://{}:{}", self.host, self.port),
        }
    }
}

pub fn masked(proxy_type: ProxyType, host: &str, port: u16) -> String {
    format!("{}://{host}:{port}", proxy_type.as_str())
}

fn credentials(
    user: &str,
    pass: &str,
    field: &'static str,
) -> Result<ProxyCredentials, FieldError> {
    if user.is_empty() || pass.is_empty() {
        return Err(FieldError::new(
            field,
            "user name and password must not be empty",
        ));
    }
    if user.len() > MAX_CREDENTIAL || pass.len() > MAX_CREDENTIAL {
        return Err(FieldError::new(
            field,
            format!("user name and password must be at most {MAX_CREDENTIAL} bytes"),
        ));
    }
    if user.contains(':') {
        return Err(FieldError::new(field, "the user name must not contain ':'"));
    }
    Ok(ProxyCredentials {
        username: user.to_owned(),
        password: pass.to_owned(),
    })
}

fn split_host_port(hostport: &str, field: &'static str) -> Result<(String, u16), FieldError> {
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| FieldError::new(field, "a port is required (host:port)"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| FieldError::new(field, "the port must be a number from 1 to 65535"))?;
    let host = host.to_ascii_lowercase();
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() > 2;
    let valid = bracketed
        && host[1..host.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        || !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !host.starts_with(['.', '-']);
    if !valid {
        return Err(FieldError::new(
            field,
            "the host must be a name or an IP address",
        ));
    }
    Ok((host, port))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A two-letter country code (ISO 3166-1 alpha-2), upper-cased.
pub fn parse_country(raw: &str) -> Result<String, FieldError> {
    let c = raw.trim();
    if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err(FieldError::new(
            "country",
            "must be a two-letter country code such as US or DE",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms_parse() {
        let p = ProxySpec::parse("http://puser0:ppass0@127.0.0.1:20000").unwrap();
        assert_eq!(p.proxy_type, ProxyType::Http);
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 20000));
        assert_eq!(p.credentials.as_ref().unwrap().password, "ppass0");
        assert_eq!(p.masked(), "http://127.0.0.1:20000");

        let s = ProxySpec::parse("SOCKS5://user:p@ss@10.0.0.1:1080").unwrap();
        assert_eq!(s.proxy_type, ProxyType::Socks5);
        assert_eq!(s.credentials.as_ref().unwrap().password, "p@ss");
        assert_eq!(s.masked(), "socks5://10.0.0.1:1080");
        assert_eq!(s.to_url(), "socks5h://user:p%40ss@10.0.0.1:1080");

        let c = ProxySpec::parse_with("127.0.0.1:20035:suser35:spass35", ProxyType::Socks5, "url")
            .unwrap();
        assert_eq!(c.proxy_type, ProxyType::Socks5);
        assert_eq!(c.credentials.unwrap().username, "suser35");
        assert!(
            ProxySpec::parse("proxy.example.com:8080")
                .unwrap()
                .credentials
                .is_none()
        );
        let enc = ProxySpec::parse("http://u%40x:p%2Fw@h:1").unwrap();
        assert_eq!(enc.credentials.unwrap().password, "p/w");
    }

    #[test]
    fn bad_addresses_are_refused_with_the_field() {
        for bad in [
            "",
            "ftp://h:1",
            "http://h",
            "http://h:0",
            "http://h:70000",
            "http://:pass@h:1",
            "h:1:u",
            "http://bad host:1",
            "http://h$:1",
        ] {
            let err = ProxySpec::parse(bad).unwrap_err();
            assert_eq!(err.field, "url", "{bad}");
        }
        assert!(
            !format!("{:?}", ProxySpec::parse("http://u:topsecret@h:1").unwrap())
                .contains("topsecret")
        );
    }

    #[test]
    fn countries_are_two_letters() {
        assert_eq!(parse_country(" de ").unwrap(), "DE");
        assert!(parse_country("Germany").is_err());
    }

    mod props {
        use proptest::prelude::*;

        use super::*;

        fn arb_type() -> impl Strategy<Value = ProxyType> {
            prop_oneof![Just(ProxyType::Http), Just(ProxyType::Socks5)]
        }

        /// Host names, IPv4 and bracketed IPv6 addresses, lower-case as parsing keeps them.
        fn arb_host() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z0-9][a-z0-9-]{0,20}(\\.[a-z0-9][a-z0-9-]{0,20}){0,3}",
                (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
                    .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
                any::<[u16; 8]>().prop_map(|g| format!(
                    "[{}]",
                    g.iter()
                        .map(|x| format!("{x:x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                )),
            ]
        }

        /// Any characters at all, within the byte limit: to_url percent-encodes them.
        fn arb_secret(colon: bool) -> impl Strategy<Value = String> {
            proptest::collection::vec(any::<char>(), 1..48)
                .prop_map(|cs| cs.into_iter().collect::<String>())
                .prop_filter("within the byte limit", |s| s.len() <= MAX_CREDENTIAL)
                .prop_filter("user names have no ':'", move |s| colon || !s.contains(':'))
        }

        fn arb_spec() -> impl Strategy<Value = ProxySpec> {
            (
                arb_type(),
                arb_host(),
                1..=u16::MAX,
                proptest::option::of((arb_secret(false), arb_secret(true))),
            )
                .prop_map(|(proxy_type, host, port, creds)| ProxySpec {
                    proxy_type,
                    host,
                    port,
                    credentials: creds
                        .map(|(username, password)| ProxyCredentials { username, password }),
                })
        }

        /// What the colon form can carry: no spaces or control characters.
        fn plain(colon: bool) -> impl Strategy<Value = String> {
            let re = if colon {
                "[!-~]{1,40}"
            } else {
                "[!-9;-~]{1,40}"
            };
            re.prop_map(|s: String| s)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn parsing_never_panics_and_errors_name_the_field(raw in any::<String>()) {
                if let Err(e) = ProxySpec::parse_with(&raw, ProxyType::Http, "proxy_url") {
                    prop_assert_eq!(e.field, "proxy_url");
                }
            }

            #[test]
            fn url_like_input_never_panics(raw in "([a-zA-Z0-9]{0,6}://)?[a-z0-9:@%/.\\[\\]-]{0,60}") {
                let _ = ProxySpec::parse(&raw);
            }

            #[test]
            fn a_url_parses_back_to_the_same_proxy(spec in arb_spec()) {
                let url = spec.to_url();
                let back = ProxySpec::parse(&url);
                prop_assert_eq!(back.as_ref().ok(), Some(&spec), "{:?}", back.as_ref().err());
                // The masked form shows where, never who.
                // (A password of a few characters can occur in the host or port by chance.)
                if let Some(c) = spec.credentials.as_ref().filter(|c| c.password.len() >= 8) {
                    prop_assert!(!spec.masked().contains(&percent_encode(&c.password)));
                }
            }

            #[test]
            fn the_colon_form_parses_back_to_the_same_proxy(
                proxy_type in arb_type(),
                host in "[a-z0-9][a-z0-9-]{0,20}(\\.[a-z0-9][a-z0-9-]{0,20}){0,3}",
                port in 1..=u16::MAX,
                user in plain(false),
                pass in plain(true),
            ) {
                let raw = format!("{host}:{port}:{user}:{pass}");
                let back = ProxySpec::parse_with(&raw, proxy_type, "url");
                let want = ProxySpec {
                    proxy_type,
                    host,
                    port,
                    credentials: Some(ProxyCredentials { username: user, password: pass }),
                };
                prop_assert_eq!(back.as_ref().ok(), Some(&want), "{}: {:?}", raw, back.as_ref().err());
            }

            #[test]
            fn errors_never_carry_the_password(
                user in "[a-z]{1,10}",
                pass in "[A-Za-z0-9]{12,30}",
                bad_host in "[a-z0-9$ _]{0,8}",
                bad_port in "[0-9a-z]{0,7}",
                scheme in prop_oneof![Just(""), Just("http://"), Just("socks5://"), Just("ftp://")],
            ) {
                for raw in [
                    format!("{scheme}{user}:{pass}@{bad_host}:{bad_port}"),
                    format!("{bad_host}:{bad_port}:{user}:{pass}"),
                ] {
                    if let Err(e) = ProxySpec::parse(&raw) {
                        prop_assert!(!e.message.contains(&pass), "{}", e.message);
                    }
                }
            }

            #[test]
            fn countries_are_two_upper_case_letters_or_an_error(raw in any::<String>()) {
                match parse_country(&raw) {
                    Ok(c) => {
                        prop_assert_eq!(c.len(), 2);
                        prop_assert!(c.chars().all(|ch| ch.is_ascii_uppercase()));
                        prop_assert_eq!(c, raw.trim().to_ascii_uppercase());
                    }
                    Err(e) => prop_assert_eq!(e.field, "country"),
                }
            }

            #[test]
            fn every_two_letter_code_is_a_country(c in "[a-zA-Z]{2}", pad in " {0,2}") {
                prop_assert_eq!(parse_country(&format!("{pad}{c}{pad}")).ok(), Some(c.to_ascii_uppercase()));
            }
        }
    }
}
