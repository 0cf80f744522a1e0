//! Instagram: which API icf talks to (the real one, or a simulator), as which app, the
//! caption rules it enforces, and how long and how often sessions are trusted.

use std::path::Path;

use icf_core::caption::CaptionRules;
use icf_instagram::AppProfiles;

use super::vars::{ConfigError, Vars, redact_url};

/// The private API's host.
pub const DEFAULT_INSTAGRAM_API_URL: &str = "https://i.instagram.com";

/// The Instagram icf talks to, and the rules it keeps there.
#[derive(Clone)]
pub struct InstagramSettings {
    /// `INSTAGRAM_API_URL` (default `https://i.instagram.com`): the simulator in tests/demos.
    pub api_url: String,
    /// `INSTAGRAM_API_CA`: a PEM file of extra CA certificates to trust for
    /// `INSTAGRAM_API_URL` (the simulator's, from `icf sim instagram --tls`).
    pub api_ca_pem: Option<String>,
    /// `INSTAGRAM_APP_PROFILE`: a JSON file of app profiles replacing the built-in
    /// `crates/instagram/data/app_profiles.json` (read and checked at start).
    pub app_profiles: AppProfiles,
    /// `INSTAGRAM_SESSION_LIFETIME_DAYS` (default 90)
    pub session_lifetime_days: u32,
    /// `ICF_ACCOUNT_CHECK_HOURS` (default 6, 0–168): how often every account's session is
    /// checked by the `check_account_status` job; 0 turns the periodic checks off.
    pub account_check_hours: u32,
    /// Instagram's caption rules, checked for every language's caption on save and on
    /// publish, shown by the UI's counters and kept by the translator:
    /// `ICF_MAX_HASHTAGS` (default 5, Instagram's limit since December 2025; 0 to 30; the
    /// deprecated name `ICF_CAPTION_MAX_HASHTAGS` is still read), `ICF_CAPTION_MAX_MENTIONS`
    /// (default 20) and 2,200 characters.
    pub caption_rules: CaptionRules,
}

impl InstagramSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            caption_rules: caption_rules(vars)?,
            app_profiles: app_profiles(vars)?,
            api_url: api_url(vars)?,
            api_ca_pem: api_ca_pem(vars)?,
            session_lifetime_days: vars.parse(
                "INSTAGRAM_SESSION_LIFETIME_DAYS",
                90u32,
                "a number of days",
            )?,
            account_check_hours: vars.ranged("ICF_ACCOUNT_CHECK_HOURS", 6u32, 0, 168)?,
        })
    }
}

fn caption_rules(vars: &Vars) -> Result<CaptionRules, ConfigError> {
    Ok(CaptionRules {
        max_hashtags: max_hashtags(vars)?,
        max_mentions: vars.ranged(
            "ICF_CAPTION_MAX_MENTIONS",
            CaptionRules::INSTAGRAM.max_mentions,
            0,
            CaptionRules::INSTAGRAM.max_mentions,
        )?,
        ..CaptionRules::INSTAGRAM
    })
}

/// The old name of `ICF_MAX_HASHTAGS`, still read so that existing deployments keep their
/// setting. Deprecated: set `ICF_MAX_HASHTAGS` instead.
const DEPRECATED_MAX_HASHTAGS: &str = "ICF_CAPTION_MAX_HASHTAGS";

/// `ICF_MAX_HASHTAGS`, or the deprecated `ICF_CAPTION_MAX_HASHTAGS` when only that is set;
/// both set to different numbers is a mistake to fix, not to guess.
fn max_hashtags(vars: &Vars) -> Result<usize, ConfigError> {
    let default = CaptionRules::INSTAGRAM.max_hashtags;
    let read = |name: &'static str| -> Result<Option<usize>, ConfigError> {
        if vars.nonblank(name).is_none() {
            return Ok(None);
        }
        vars.ranged(name, default, 0, CaptionRules::MAX_HASHTAGS_SETTING)
            .map(Some)
    };
    match (read("ICF_MAX_HASHTAGS")?, read(DEPRECATED_MAX_HASHTAGS)?) {
        (Some(new), Some(old)) if new != old => Err(ConfigError::new(
            "ICF_MAX_HASHTAGS",
            format!(
                "is {new} but the deprecated {DEPRECATED_MAX_HASHTAGS} is {old}: \
                 remove {DEPRECATED_MAX_HASHTAGS}"
            ),
        )),
        (Some(n), _) | (None, Some(n)) => Ok(n),
        (None, None) => Ok(default),
    }
}

/// The built-in profiles, or the file `INSTAGRAM_APP_PROFILE` names, checked now so a
/// bad file stops icf at start rather than at the first login.
fn app_profiles(vars: &Vars) -> Result<AppProfiles, ConfigError> {
    match vars.text("INSTAGRAM_APP_PROFILE") {
        None => Ok(AppProfiles::built_in()),
        Some(path) => AppProfiles::load(Some(Path::new(&path)))
            .map_err(|e| ConfigError::new("INSTAGRAM_APP_PROFILE", e.to_string())),
    }
}

/// A scheme and a host (with its port), nothing more: the client adds the API's paths
/// itself.
fn api_url(vars: &Vars) -> Result<String, ConfigError> {
    let Some(url) = vars
        .get("INSTAGRAM_API_URL")
        .map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(DEFAULT_INSTAGRAM_API_URL.to_owned());
    };
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.split_once("://").is_some_and(|(_, rest)| {
            !rest.is_empty() && !rest.contains('/') && !rest.contains('@')
        });
    if !ok {
        return Err(ConfigError::new(
            "INSTAGRAM_API_URL",
            format!(
                "expected a base URL like https://i.instagram.com or http://127.0.0.1:9100, got '{}'",
                redact_url(&url)
            ),
        ));
    }
    Ok(url)
}

fn api_ca_pem(vars: &Vars) -> Result<Option<String>, ConfigError> {
    let Some(path) = vars.text("INSTAGRAM_API_CA") else {
        return Ok(None);
    };
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::new("INSTAGRAM_API_CA", format!("cannot read {path}: {e}")))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ConfigError::new(
            "INSTAGRAM_API_CA",
            format!("expected a PEM certificate in {path}"),
        ));
    }
    Ok(Some(pem))
}
