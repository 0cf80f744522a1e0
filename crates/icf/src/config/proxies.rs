//! The accounts' proxies: what a check fetches through a proxy, how long it may take, and
//! how often proxies are checked.

use super::instagram::DEFAULT_INSTAGRAM_API_URL;
use super::vars::{ConfigError, Vars};

/// Instagram's own host: a proxy that reaches it is what icf needs.
pub const DEFAULT_PROXY_CHECK_URL: &str = "https://www.instagram.com/robots.txt";

/// How and how often the accounts' proxies are checked.
#[derive(Clone)]
pub struct ProxySettings {
    /// `ICF_PROXY_CHECK_URL`: what a proxy check fetches through the proxy. Default:
    /// Instagram's robots.txt, or `robots.txt` on `INSTAGRAM_API_URL` when that is set
    /// (a proxy is healthy when it reaches the Instagram icf talks to).
    pub check_url: String,
    /// `ICF_PROXY_CHECK_TIMEOUT_SECS` (default 10): a check slower than this fails.
    pub check_timeout_secs: u64,
    /// `ICF_PROXY_CHECK_MINUTES` (default 30, 0–1440): how often every proxy is checked by
    /// the `check_proxy` job (failing accounts over to the reserve); 0 turns it off.
    pub check_minutes: u32,
    /// `ICF_PROXY_RECHECK_MINUTES` (default 10, 0–1440): before an account acts, its proxy
    /// is checked again when its last check is older than this.
    pub recheck_minutes: u32,
}

impl ProxySettings {
    /// `instagram_api_url`: the Instagram icf talks to, whose `robots.txt` is checked by
    /// default when it is not Instagram's own.
    pub(crate) fn from_vars(vars: &Vars, instagram_api_url: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            check_url: check_url(vars, instagram_api_url)?,
            check_timeout_secs: check_timeout_secs(vars)?,
            check_minutes: vars.ranged("ICF_PROXY_CHECK_MINUTES", 30u32, 0, 1440)?,
            recheck_minutes: vars.ranged("ICF_PROXY_RECHECK_MINUTES", 10u32, 0, 1440)?,
        })
    }
}

fn check_url(vars: &Vars, instagram_api_url: &str) -> Result<String, ConfigError> {
    let set = vars.text("ICF_PROXY_CHECK_URL");
    let url = set
        .clone()
        .unwrap_or_else(|| DEFAULT_PROXY_CHECK_URL.to_owned());
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.chars().any(char::is_whitespace)
    {
        return Err(ConfigError::new(
            "ICF_PROXY_CHECK_URL",
            "expected an http:// or https:// URL",
        ));
    }
    Ok(match set {
        Some(_) => url,
        None if instagram_api_url != DEFAULT_INSTAGRAM_API_URL => {
            format!("{instagram_api_url}/robots.txt")
        }
        None => url,
    })
}

fn check_timeout_secs(vars: &Vars) -> Result<u64, ConfigError> {
    let secs = vars.parse(
        "ICF_PROXY_CHECK_TIMEOUT_SECS",
        10u64,
        "a number of seconds from 1 to 120",
    )?;
    if !(1..=120).contains(&secs) {
        return Err(ConfigError::new(
            "ICF_PROXY_CHECK_TIMEOUT_SECS",
            "expected a number of seconds from 1 to 120",
        ));
    }
    Ok(secs)
}
