//! Alerts: where they go (webhooks, a Telegram chat) and what is worth one.

use secrecy::SecretString;

use super::vars::{ConfigError, Vars};

/// Where alerts go and which events raise one.
#[derive(Clone)]
pub struct AlertSettings {
    /// `ICF_ALERT_WEBHOOK_URLS`: comma-separated URLs that receive alerts as JSON.
    pub webhook_urls: Vec<String>,
    /// `ICF_TELEGRAM_BOT_TOKEN` and `ICF_TELEGRAM_CHAT_ID`: a Telegram chat for alerts.
    pub telegram_bot_token: Option<SecretString>,
    pub telegram_chat_id: Option<String>,
    /// `ICF_TELEGRAM_API_URL` (default `https://api.telegram.org`).
    pub telegram_api_url: String,
    /// `ICF_ALERT_GROUP_SECS` (default 300, 1–86400): alerts of one kind within this window
    /// go out as one message.
    pub group_secs: u64,
    /// `ICF_ALERT_FAILED_PERCENT` (default 20, 0–100): a post whose failed accounts exceed
    /// this share is reported.
    pub failed_percent: u32,
    /// `ICF_ALERT_POST_COMPLETED` (default false): also report every completed post.
    pub post_completed: bool,
}

impl AlertSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            webhook_urls: vars.url_list("ICF_ALERT_WEBHOOK_URLS")?,
            telegram_bot_token: vars.secret("ICF_TELEGRAM_BOT_TOKEN"),
            telegram_chat_id: vars.text("ICF_TELEGRAM_CHAT_ID"),
            telegram_api_url: telegram_api_url(vars)?,
            group_secs: vars.ranged("ICF_ALERT_GROUP_SECS", 300u64, 1, 86400)?,
            failed_percent: vars.ranged("ICF_ALERT_FAILED_PERCENT", 20u32, 0, 100)?,
            post_completed: vars.parse("ICF_ALERT_POST_COMPLETED", false, "true or false")?,
        })
    }
}

/// One URL, checked as the webhook list is.
fn telegram_api_url(vars: &Vars) -> Result<String, ConfigError> {
    match vars.url_list("ICF_TELEGRAM_API_URL")?.as_slice() {
        [] => Ok("https://api.telegram.org".to_owned()),
        [one] => Ok(one.clone()),
        _ => Err(ConfigError::new(
            "ICF_TELEGRAM_API_URL",
            "expected one http:// or https:// URL",
        )),
    }
}
