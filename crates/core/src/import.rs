//! Parsing of bulk-import files: one result per line, so a bad line is reported with its
//! number and reason instead of stopping the import.

use crate::account::{check_account_password, parse_group_name, parse_instagram_username};
use crate::auth::FieldError;
use crate::enums::ProxyType;
use crate::language::Language;
use crate::proxy::{ProxySpec, parse_country};

/// One account line: `username:password[:language[:group[:proxy_url]]]`, or a CSV row.
/// `Debug` never prints the password.
#[derive(Clone, PartialEq)]
pub struct AccountLine {
    pub username: String,
    pub password: String,
    /// A supported language code, canonical (`pt-BR`).
    pub language: Option<String>,
    pub group: Option<String>,
    pub proxy: Option<ProxySpec>,
}

impl std::fmt::Debug for AccountLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLine")
            .field("username", &self.username)
            .field("password", &"***")
            .field("language", &self.language)
            .field("group", &self.group)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// One proxy line: a proxy address and an optional country.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyLine {
    pub proxy: ProxySpec,
    pub country: Option<String>,
}

/// A line's number (1-based, as an editor shows it) and what it held.
pub type Parsed<T> = (usize, Result<T, FieldError>);

/// Files above this many lines are refused as a whole.
pub const MAX_LINES: usize = 100_000;

fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The CSV header's column names, when the first content line is one.
fn csv_header(text: &str, marker: &[&str]) -> Option<(usize, Vec<String>)> {
    let (n, first) = content_lines(text).next()?;
    let cols: Vec<String> = first
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    (cols.len() > 1 && cols.iter().any(|c| marker.contains(&c.as_str()))).then_some((n, cols))
}

/// CSV rows after the header line, with their line numbers.
fn csv_rows(text: &str, header_line: usize) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map(|p| p.line() as usize).unwrap_or(0);
                if line <= header_line || r.iter().all(str::is_empty) {
                    continue;
                }
                out.push((line, Ok(r.iter().map(str::to_owned).collect())));
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                out.push((line, Err("not a valid CSV row".to_owned())));
            }
        }
    }
    out
}

fn optional(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

fn account_from_parts(
    username: &str,
    password: &str,
    language: Option<&str>,
    group: Option<&str>,
    proxy: Option<&str>,
) -> Result<AccountLine, FieldError> {
    let username = parse_instagram_username(username)?;
    check_account_password(password)?;
    Ok(AccountLine {
        username,
        password: password.to_owned(),
        language: optional(language)
            .map(|l| Language::parse(l).map(|l| l.code().to_owned()))
            .transpose()?,
        group: optional(group).map(parse_group_name).transpose()?,
        proxy: optional(proxy)
            .map(|p| ProxySpec::parse_with(p, ProxyType::Http, "proxy_url"))
            .transpose()?,
    })
}

/// Parses an accounts file: colon lines, or a CSV whose header names `username` and
/// `password` (and optionally `language`, `group`, `proxy_url`/`proxy`).
pub fn parse_accounts(text: &str) -> Vec<Parsed<AccountLine>> {
    if let Some((header_line, cols)) = csv_header(text, &["username"]) {
        let idx = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
        let (u, p) = (idx(&["username"]), idx(&["password"]));
        let (l, g, x) = (
            idx(&["language", "lang"]),
            idx(&["group", "group_name"]),
            idx(&["proxy_url", "proxy"]),
        );
        return csv_rows(text, header_line)
            .into_iter()
            .map(|(line, row)| {
                let result = row.map_err(|m| FieldError::new("line", m)).and_then(|r| {
                    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(String::as_str);
                    account_from_parts(
                        get(u).unwrap_or(""),
                        get(p).unwrap_or(""),
                        get(l),
                        get(g),
                        get(x),
                    )
                });
                (line, result)
            })
            .collect();
    }
    content_lines(text)
        .map(|(line, l)| {
            let mut parts = l.splitn(5, ':');
            let username = parts.next().unwrap_or("");
            let result = match parts.next() {
                None => Err(FieldError::new(
                    "line",
                    "expected username:password[:language[:group[:proxy_url]]]",
                )),
                Some(password) => {
                    account_from_parts(username, password, parts.next(), parts.next(), parts.next())
                }
            };
            (line, result)
        })
        .collect()
}

/// Parses a proxies file: `scheme://user:pass@host:port` or `host:port:user:pass`, each
/// optionally followed by a country (`… DE`, `…,DE`, `…;DE`), or a CSV with a `url`
/// (or `proxy`) column and an optional `country` column.
pub fn parse_proxies(text: &str, default_type: ProxyType) -> Vec<Parsed<ProxyLine>> {
    let make = |url: &str, country: Option<&str>| -> Result<ProxyLine, FieldError> {
        Ok(ProxyLine {
            proxy: ProxySpec::parse_with(url, default_type, "url")?,
            country: optional(country).map(parse_country).transpose()?,
        })
    };
    if let Some((header_line, cols)) = csv_header(text, &["url", "proxy", "proxy_url"]) {
        let u = cols
            .iter()
            .position(|c| matches!(c.as_str(), "url" | "proxy" | "proxy_url"));
        let c = cols.iter().position(|c| c == "country");
        return csv_rows(text, header_line)
            .into_iter()
            .map(|(line, row)| {
                let result = row.map_err(|m| FieldError::new("line", m)).and_then(|r| {
                    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(String::as_str);
                    make(get(u).unwrap_or(""), get(c))
                });
                (line, result)
            })
            .collect();
    }
    content_lines(text)
        .map(|(line, l)| {
            let (url, country) = match l.rsplit_once([' ', '\t', ',', ';']) {
                Some((u, c)) => (u.trim(), Some(c)),
                None => (l, None),
            };
            (line, make(url, country))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_lines_with_optional_parts() {
        let text = "# comment\n\nalice:pw1\nbob:pw2:pt-br:Finance:socks5://u:p@h:1080\nbad line\ncarol:pw:xx\n";
        let parsed = parse_accounts(text);
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].0, 3);
        let bob = parsed[1].1.as_ref().unwrap();
        assert_eq!(bob.language.as_deref(), Some("pt-BR"));
        assert_eq!(bob.group.as_deref(), Some("Finance"));
        assert_eq!(bob.proxy.as_ref().unwrap().port, 1080);
        assert_eq!(parsed[2].0, 5);
        assert_eq!(parsed[2].1.as_ref().unwrap_err().field, "line");
        assert_eq!(parsed[3].1.as_ref().unwrap_err().field, "language");
        assert!(
            !format!("{bob:?}").contains("pw2"),
            "Debug hides the password"
        );
    }

    #[test]
    fn csv_with_a_header() {
        let text = "username,password,language,group\nalice,\"pw,with,commas\",en,IT\nbob,,ru,\n";
        let parsed = parse_accounts(text);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, 2);
        assert_eq!(parsed[0].1.as_ref().unwrap().password, "pw,with,commas");
        assert_eq!(parsed[1].0, 3);
        assert_eq!(parsed[1].1.as_ref().unwrap_err().field, "password");
    }

    #[test]
    fn proxy_lines_with_countries() {
        let text = "http://u:p@127.0.0.1:20000\n127.0.0.1:20035:suser35:spass35 DE\nsocks5://h:1,us\nnope\n";
        let parsed = parse_proxies(text, ProxyType::Http);
        assert_eq!(parsed.len(), 4);
        assert!(parsed[0].1.as_ref().unwrap().country.is_none());
        assert_eq!(parsed[1].1.as_ref().unwrap().country.as_deref(), Some("DE"));
        assert_eq!(parsed[2].1.as_ref().unwrap().country.as_deref(), Some("US"));
        assert!(parsed[3].1.is_err());
    }
}
