//! Parsing of bulk-import files: one result per line, so a bad line is reported with its
//! number and reason instead of stopping the import.

use chrono::NaiveDate;

use crate::account::{
    check_account_password, looks_like_date, parse_group_name, parse_instagram_username,
    parse_registered_on, registered_from_age,
};
use crate::auth::FieldError;
use crate::enums::ProxyType;
use crate::language::Language;
use crate::proxy::{ProxySpec, parse_country};

/// One account line: `username:password[:language[:group[:proxy_url]]][:registered]`, or a
/// CSV row. `Debug` never prints the password.
#[derive(Clone, PartialEq)]
pub struct AccountLine {
    pub username: String,
    pub password: String,
    /// A supported language code, canonical (`pt-BR`).
    pub language: Option<String>,
    pub group: Option<String>,
    pub proxy: Option<ProxySpec>,
    /// When the account was registered on Instagram (its warm-up follows from it).
    pub registered_on: Option<NaiveDate>,
}

impl std::fmt::Debug for AccountLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLine")
            .field("username", &self.username)
            .field("password", &"***")
            .field("language", &self.language)
            .field("group", &self.group)
            .field("proxy", &self.proxy)
            .field("registered_on", &self.registered_on)
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

/// The optional columns of an account line besides username and password.
#[derive(Default)]
struct Optional<'a> {
    language: Option<&'a str>,
    group: Option<&'a str>,
    proxy: Option<&'a str>,
    registered: Option<&'a str>,
    age_days: Option<&'a str>,
}

fn account_from_parts(
    username: &str,
    password: &str,
    o: Optional<'_>,
    today: NaiveDate,
) -> Result<AccountLine, FieldError> {
    let username = parse_instagram_username(username)?;
    check_account_password(password)?;
    let (language, group, proxy) = (o.language, o.group, o.proxy);
    let registered_on = match (optional(o.registered), optional(o.age_days)) {
        (Some(_), Some(_)) => {
            return Err(FieldError::new(
                "registered_at",
                "give registered_at or age_days, not both",
            ));
        }
        (Some(r), None) => Some(parse_registered_on(r, "registered_at", today)?),
        (None, Some(a)) => Some(
            a.parse::<i64>()
                .map_err(|_| FieldError::new("age_days", "must be a whole number of days"))
                .and_then(|d| registered_from_age(d, "age_days", today))?,
        ),
        (None, None) => None,
    };
    Ok(AccountLine {
        registered_on,
        username,
        password: password.to_owned(),
        language: optional(language)
            .map(|l| {
                Language::parse(l)
                    .map(|l| l.code().to_owned())
                    .map_err(|_| {
                        // Never quote the value: in a colon line, a password with ':' spills
                        // its second part into this column.
                        FieldError::new(
                            "language",
                            "not a language icf supports (use a code like en, ru, es, pt-BR); \
                         a password containing ':' must be imported as CSV",
                        )
                    })
            })
            .transpose()?,
        group: optional(group).map(parse_group_name).transpose()?,
        proxy: optional(proxy)
            .map(|p| ProxySpec::parse_with(p, ProxyType::Http, "proxy_url"))
            .transpose()?,
    })
}

/// Parses an accounts file: colon lines, or a CSV whose header names `username` and
/// `password` (and optionally `language`, `group`, `proxy_url`/`proxy`, and the account's
/// age as `registered_at` (a date) or `age_days`). A registration date in the future is
/// refused: `today` is the importer's day.
pub fn parse_accounts(text: &str, today: NaiveDate) -> Vec<Parsed<AccountLine>> {
    if let Some((header_line, cols)) = csv_header(text, &["username"]) {
        let idx = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
        let (u, p) = (idx(&["username"]), idx(&["password"]));
        let (l, g, x) = (
            idx(&["language", "lang"]),
            idx(&["group", "group_name"]),
            idx(&["proxy_url", "proxy"]),
        );
        let (r, a) = (
            idx(&["registered_at", "registered_on", "registered"]),
            idx(&["age_days", "age"]),
        );
        return csv_rows(text, header_line)
            .into_iter()
            .map(|(line, row)| {
                let result = row
                    .map_err(|m| FieldError::new("line", m))
                    .and_then(|cells| {
                        let get =
                            |i: Option<usize>| i.and_then(|i| cells.get(i)).map(String::as_str);
                        account_from_parts(
                            get(u).unwrap_or(""),
                            get(p).unwrap_or(""),
                            Optional {
                                language: get(l),
                                group: get(g),
                                proxy: get(x),
                                registered: get(r),
                                age_days: get(a),
                            },
                            today,
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
                    "expected username:password[:language[:group[:proxy_url]]][:registered]",
                )),
                Some(password) => {
                    let (language, group) = (parts.next(), parts.next());
                    // The proxy address has colons of its own: a registration date is
                    // recognised as the rest's last part (`…:IT::2019-04-01` without a proxy).
                    let (proxy, registered) = match parts.next() {
                        Some(rest) if looks_like_date(rest) => (None, Some(rest)),
                        Some(rest) => match rest.rsplit_once(':') {
                            Some((proxy, date)) if looks_like_date(date) => {
                                (Some(proxy), Some(date))
                            }
                            _ => (Some(rest), None),
                        },
                        None => (None, None),
                    };
                    account_from_parts(
                        username,
                        password,
                        Optional {
                            language,
                            group,
                            proxy,
                            registered,
                            age_days: None,
                        },
                        today,
                    )
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
            // A URL holds no spaces, so a space always starts the country. ',' and ';' may
            // be part of a password in the colon form: they start a country only when a
            // two-letter code follows or the whole line is no proxy.
            let split = match l.rsplit_once([' ', '\t']) {
                Some(s) => Some(s),
                None => l.rsplit_once([',', ';']).filter(|(_, c)| {
                    parse_country(c).is_ok()
                        || ProxySpec::parse_with(l, default_type, "url").is_err()
                }),
            };
            let (url, country) = match split {
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    #[test]
    fn the_registration_day_is_an_optional_last_field_or_a_column() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let text = "a1:pw:en:IT::2019-04-01\n\
                    a2:pw:en:IT:socks5://u:p@h:1080:2018-01-31\n\
                    a3:pw:en:IT:2017-06-30\n\
                    a4:pw:en:IT:h:1080\n\
                    a5:pw:en:IT::2030-01-01\n\
                    a6:pw:en:IT::2019-02-30\n";
        let p = parse_accounts(text, today());
        let ok = |i: usize| p[i].1.as_ref().unwrap();
        assert_eq!(ok(0).registered_on, day(2019, 4, 1));
        assert_eq!(ok(0).proxy, None);
        assert_eq!(ok(1).registered_on, day(2018, 1, 31));
        assert_eq!(ok(1).proxy.as_ref().unwrap().port, 1080);
        assert_eq!(ok(2).registered_on, day(2017, 6, 30));
        assert_eq!(ok(3).registered_on, None, "a port is not a date");
        assert_eq!(ok(3).proxy.as_ref().unwrap().port, 1080);
        for i in [4, 5] {
            assert_eq!(p[i].1.as_ref().unwrap_err().field, "registered_at");
        }
        let csv = "username,password,registered_at,age_days\nb1,pw,2019-04-01,\nb2,pw,,365\n\
                   b3,pw,,\nb4,pw,2019-04-01,365\nb5,pw,,old\n";
        let p = parse_accounts(csv, today());
        assert_eq!(p[0].1.as_ref().unwrap().registered_on, day(2019, 4, 1));
        assert_eq!(p[1].1.as_ref().unwrap().registered_on, day(2025, 12, 7));
        assert_eq!(p[2].1.as_ref().unwrap().registered_on, None, "unknown age");
        assert_eq!(p[3].1.as_ref().unwrap_err().field, "registered_at");
        assert_eq!(p[4].1.as_ref().unwrap_err().field, "age_days");
    }

    #[test]
    fn colon_lines_with_optional_parts() {
        let text = "# comment\n\nalice:pw1\nbob:pw2:pt-br:Finance:socks5://u:p@h:1080\nbad line\ncarol:pw:xx\n";
        let parsed = parse_accounts(text, today());
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
        let parsed = parse_accounts(text, today());
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

    mod props {
        use proptest::prelude::*;

        use super::*;
        use crate::language::ALL;
        use crate::proxy::ProxyCredentials;

        /// The content lines of a file, numbered as an editor shows them.
        fn content_line_numbers(text: &str) -> Vec<usize> {
            content_lines(text).map(|(n, _)| n).collect()
        }

        fn arb_username() -> impl Strategy<Value = String> {
            "[a-z0-9_]{1,12}(\\.[a-z0-9_]{1,12}){0,1}"
        }

        /// Passwords as people write them: printable, no ':' (the colon form's separator),
        /// spaces only inside.
        fn arb_password() -> impl Strategy<Value = String> {
            "[!-9;-~\u{a1}-\u{24f}\u{400}-\u{4ff}]([ !-9;-~\u{a1}-\u{24f}]{0,30}[!-9;-~])?"
        }

        fn arb_language() -> impl Strategy<Value = String> {
            (0..ALL.len()).prop_map(|i| ALL[i].code().to_owned())
        }

        fn arb_group() -> impl Strategy<Value = String> {
            "[A-Za-z0-9][A-Za-z0-9 _.-]{0,20}[A-Za-z0-9]"
        }

        fn arb_proxy() -> impl Strategy<Value = ProxySpec> {
            (
                prop_oneof![Just(ProxyType::Http), Just(ProxyType::Socks5)],
                "[a-z][a-z0-9-]{0,10}(\\.[a-z0-9]{1,8}){0,2}",
                1..=u16::MAX,
                proptest::option::of(("[a-z0-9]{1,10}", "[ -~]{1,20}")),
            )
                .prop_map(|(proxy_type, host, port, creds)| ProxySpec {
                    proxy_type,
                    host,
                    port,
                    credentials: creds
                        .map(|(username, password)| ProxyCredentials { username, password }),
                })
        }

        fn arb_account() -> impl Strategy<Value = AccountLine> {
            (
                arb_username(),
                arb_password(),
                proptest::option::of(arb_language()),
                proptest::option::of(arb_group()),
                proptest::option::of(arb_proxy()),
            )
                .prop_map(|(username, password, language, group, proxy)| AccountLine {
                    username,
                    password,
                    // The optional parts are positional: a group needs a language before it.
                    group: language.as_ref().and(group),
                    proxy: language.as_ref().and(proxy),
                    language,
                    registered_on: None,
                })
                .prop_map(|mut a| {
                    if a.group.is_none() {
                        a.proxy = None;
                    }
                    a
                })
        }

        fn colon_line(a: &AccountLine) -> String {
            let mut parts = vec![a.username.clone(), a.password.clone()];
            parts.extend(a.language.clone());
            parts.extend(a.group.clone());
            parts.extend(a.proxy.as_ref().map(ProxySpec::to_url));
            parts.join(":")
        }

        fn csv_file(accounts: &[AccountLine]) -> String {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["username", "password", "language", "group", "proxy_url"])
                .unwrap();
            for a in accounts {
                w.write_record([
                    a.username.as_str(),
                    a.password.as_str(),
                    a.language.as_deref().unwrap_or(""),
                    a.group.as_deref().unwrap_or(""),
                    &a.proxy.as_ref().map(ProxySpec::to_url).unwrap_or_default(),
                ])
                .unwrap();
            }
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        }

        /// Lines a person might write, right or wrong, never a CSV header.
        fn arb_messy_line() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{0,60}",
                "#[ -~]{0,20}",
                " {0,3}",
                any::<String>().prop_map(|s| s.replace(['\n', '\r'], "")),
                (arb_username(), "[ -~]{0,40}").prop_map(|(u, rest)| format!("{u}:{rest}")),
            ]
            .prop_filter("not a CSV header", |l| !l.contains(','))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn account_files_never_panic(text in any::<String>()) {
                let parsed = parse_accounts(&text, today());
                let lines = text.lines().count().max(1);
                for (n, r) in &parsed {
                    prop_assert!(*n <= lines + 1, "line {} of {}", n, lines);
                    if let Err(e) = r {
                        prop_assert!(!e.message.is_empty());
                    }
                }
            }

            #[test]
            fn proxy_files_never_panic(text in any::<String>()) {
                let _ = parse_proxies(&text, ProxyType::Http);
            }

            #[test]
            fn every_account_line_gets_exactly_one_result_with_its_number(
                lines in proptest::collection::vec(arb_messy_line(), 0..30),
                crlf in any::<bool>(),
            ) {
                let text = lines.join(if crlf { "\r\n" } else { "\n" });
                let parsed = parse_accounts(&text, today());
                let numbers: Vec<usize> = parsed.iter().map(|(n, _)| *n).collect();
                prop_assert_eq!(numbers, content_line_numbers(&text));
            }

            #[test]
            fn every_proxy_line_gets_exactly_one_result_with_its_number(
                lines in proptest::collection::vec(arb_messy_line(), 0..30),
            ) {
                let text = lines.join("\n");
                let parsed = parse_proxies(&text, ProxyType::Socks5);
                let numbers: Vec<usize> = parsed.iter().map(|(n, _)| *n).collect();
                prop_assert_eq!(numbers, content_line_numbers(&text));
            }

            #[test]
            fn colon_lines_parse_back_to_the_accounts(
                accounts in proptest::collection::vec(arb_account(), 1..20),
                blank_every in 2usize..5,
            ) {
                let mut text = String::new();
                let mut want = Vec::new();
                let mut line = 0;
                for (i, a) in accounts.iter().enumerate() {
                    if i % blank_every == 0 {
                        text.push_str("# a comment\n\n");
                        line += 2;
                    }
                    text.push_str(&colon_line(a));
                    text.push('\n');
                    line += 1;
                    want.push((line, Ok(a.clone())));
                }
                prop_assert_eq!(parse_accounts(&text, today()), want, "{}", text);
            }

            #[test]
            fn csv_rows_parse_back_to_the_accounts(
                accounts in proptest::collection::vec(arb_account(), 1..20),
            ) {
                let text = csv_file(&accounts);
                let want: Vec<Parsed<AccountLine>> = accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (i + 2, Ok(a.clone())))
                    .collect();
                prop_assert_eq!(parse_accounts(&text, today()), want, "{}", text);
            }

            #[test]
            fn errors_never_carry_the_password(
                username in prop_oneof![arb_username(), "[ -9;-~]{0,40}"],
                secret in "[A-Za-z0-9]{6,12}(:[A-Za-z0-9]{6,12}){0,4}",
                csv in any::<bool>(),
            ) {
                // Passwords with ':' cannot be written in the colon form: whatever the
                // parser makes of them, no part may show up in an error.
                let text = if csv {
                    csv_file(&[AccountLine {
                        username: username.clone(),
                        password: secret.clone(),
                        language: Some(secret.clone()),
                        group: None,
                        proxy: None,
                        registered_on: None,
                    }])
                } else {
                    format!("{username}:{secret}\n")
                };
                for (_, r) in parse_accounts(&text, today()) {
                    if let Err(e) = r {
                        for part in secret.split(':') {
                            prop_assert!(!e.message.contains(part), "{}", e.message);
                        }
                    }
                }
            }

            #[test]
            fn proxy_lines_parse_back_with_their_country(
                proxies in proptest::collection::vec(
                    (arb_proxy(), proptest::option::of("[A-Z]{2}"), prop_oneof![Just(" "), Just(","), Just(";"), Just("\t")]),
                    1..20,
                ),
            ) {
                let text: String = proxies
                    .iter()
                    .map(|(p, c, sep)| match c {
                        Some(c) => format!("{}{sep}{c}\n", p.to_url()),
                        None => format!("{}\n", p.to_url()),
                    })
                    .collect();
                let want: Vec<Parsed<ProxyLine>> = proxies
                    .iter()
                    .enumerate()
                    .map(|(i, (p, c, _))| (i + 1, Ok(ProxyLine { proxy: p.clone(), country: c.clone() })))
                    .collect();
                prop_assert_eq!(parse_proxies(&text, ProxyType::Http), want, "{}", text);
            }

            #[test]
            fn colon_form_proxy_lines_keep_passwords_with_separators(
                host in "[a-z][a-z0-9]{0,10}",
                port in 1..=u16::MAX,
                user in "[a-z0-9]{1,10}",
                pass in "[!-~]{1,20}",
                country in proptest::option::of("[A-Z]{2}"),
            ) {
                // A password may hold ',' or ';'; only a trailing two-letter code is a country.
                prop_assume!(
                    country.is_some()
                        || !(pass.len() >= 3
                            && pass[..pass.len() - 2].ends_with([',', ';'])
                            && pass[pass.len() - 2..].chars().all(|c| c.is_ascii_alphabetic()))
                );
                let line = match &country {
                    Some(c) => format!("{host}:{port}:{user}:{pass} {c}"),
                    None => format!("{host}:{port}:{user}:{pass}"),
                };
                let parsed = parse_proxies(&line, ProxyType::Socks5);
                let want = ProxyLine {
                    proxy: ProxySpec {
                        proxy_type: ProxyType::Socks5,
                        host,
                        port,
                        credentials: Some(ProxyCredentials { username: user, password: pass }),
                    },
                    country,
                };
                prop_assert_eq!(parsed, vec![(1, Ok(want))], "{}", line);
            }

            #[test]
            fn language_codes_parse_in_any_case_and_separator(
                i in 0..ALL.len(),
                upper in any::<bool>(),
                underscore in any::<bool>(),
            ) {
                let lang = ALL[i];
                let mut code = lang.code().to_owned();
                if upper { code = code.to_ascii_uppercase() } else { code = code.to_ascii_lowercase() }
                if underscore { code = code.replace('-', "_") }
                prop_assert_eq!(Language::parse(&format!(" {code} ")).map(|l| l.code()).ok(), Some(lang.code()));
            }

            #[test]
            fn any_language_input_is_a_language_or_a_short_error(raw in any::<String>()) {
                match Language::parse(&raw) {
                    Ok(l) => prop_assert!(ALL.contains(&l)),
                    Err(e) => {
                        prop_assert_eq!(e.field, "language");
                        prop_assert!(e.message.chars().count() < 200);
                    }
                }
            }
        }
    }
}
