//! Reading variables: where they come from, how a value is parsed, and the error that names
//! a variable icf cannot use. Every section's parser goes through [`Vars`], so the same
//! value is read the same way (and refused with the same words) whatever the section.

use std::fmt::Display;
use std::str::FromStr;

use secrecy::SecretString;

/// A variable with a value icf cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// The variables icf reads: the environment, or a test's map. A `dyn` lookup, so the
/// section parsers are compiled once, not once per kind of source.
pub(crate) struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value exactly as set.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The value as set, unless it is empty or only spaces (paths keep their spaces).
    pub(crate) fn nonblank(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// The trimmed value, unless that is empty.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A secret: trimmed, never echoed.
    pub(crate) fn secret(&self, name: &str) -> Option<SecretString> {
        self.text(name).map(SecretString::from)
    }

    /// A value parsed with `FromStr`; `default` when unset or blank.
    pub(crate) fn parse<T: FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError>
    where
        T::Err: Display,
    {
        match self.nonblank(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e| {
                ConfigError::new(name, format!("expected {expected}, got '{raw}' ({e})"))
            }),
        }
    }

    /// A whole number that must lie in `min..=max`.
    pub(crate) fn ranged<T>(
        &self,
        name: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
        T::Err: Display,
    {
        let expected = format!("a whole number from {min} to {max}");
        let value = self.parse(name, default, &expected)?;
        if value < min || value > max {
            return Err(ConfigError::new(
                name,
                format!("expected {expected}, got {value}"),
            ));
        }
        Ok(value)
    }

    /// An optional `http://` or `https://` base URL, without its trailing `/`.
    pub(crate) fn url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        if !(raw.starts_with("http://") || raw.starts_with("https://")) {
            return Err(ConfigError::new(
                name,
                format!(
                    "expected a URL starting with http:// or https://, got '{}'",
                    redact_url(&raw)
                ),
            ));
        }
        Ok(Some(raw.trim_end_matches('/').to_owned()))
    }

    /// Comma-separated http(s) URLs.
    pub(crate) fn url_list(&self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let mut urls = Vec::new();
        for raw in self.get(name).unwrap_or_default().split(',') {
            let url = raw.trim();
            if url.is_empty() {
                continue;
            }
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.chars().any(char::is_whitespace)
            {
                return Err(ConfigError::new(
                    name,
                    "expected http:// or https:// URLs, separated by commas",
                ));
            }
            urls.push(url.to_owned());
        }
        Ok(urls)
    }
}
