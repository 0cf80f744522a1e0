//! Instagram accounts, groups and proxies as operators see them (never with secrets), and
//! the rules their fields follow.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::FieldError;
use crate::enums::{AccountStatus, ProxyStatus, ProxyType};
use crate::ids::{AccountId, GroupId, ProxyId};

/// An account as the API shows it: status and counters, the proxy masked, no password,
/// no session, no TOTP secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub group_id: Option<GroupId>,
    pub group_name: Option<String>,
    pub language: String,
    pub proxy_id: Option<ProxyId>,
    /// `socks5://host:port`, no credentials.
    pub proxy: Option<String>,
    pub posts_limit_per_day: i32,
    pub posts_today: i64,
    pub failed_attempts: i32,
    pub warmup_stage: i32,
    /// Days since the account was registered on Instagram, or since it came to icf.
    pub account_age_days: i64,
    pub device_id: String,
    pub has_session: bool,
    pub has_totp: bool,
    /// What Instagram asks a person for, if anything.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub pending_challenge: Option<serde_json::Value>,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub last_post_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A group with live counts of its accounts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub accounts_count: i64,
    /// Accounts per language code.
    pub languages: std::collections::BTreeMap<String, i64>,
    /// Accounts per status.
    pub statuses: std::collections::BTreeMap<String, i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A proxy of the pool, masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proxy {
    pub id: ProxyId,
    /// `http://host:port`, no credentials.
    pub url: String,
    pub proxy_type: ProxyType,
    pub host: String,
    pub port: u16,
    pub has_credentials: bool,
    pub country: Option<String>,
    pub status: ProxyStatus,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub success_rate: f64,
    pub checks_total: i64,
    pub checks_ok: i64,
    pub assigned_account_id: Option<AccountId>,
    pub assigned_account: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Instagram's username rules: 1–30 characters of ASCII letters, digits, `.` and `_`, not
/// starting or ending with `.`, no `..`. Instagram ignores case, so it is lowercased.
pub fn parse_instagram_username(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim().trim_start_matches('@');
    let err = |m: &str| FieldError::new("username", m);
    if name.is_empty() || name.len() > 30 {
        return Err(err("must be 1 to 30 characters long"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    {
        return Err(err("may contain only letters, digits, '.' and '_'"));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(err(
            "must not start or end with '.' or contain two dots in a row",
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// An Instagram password as given: kept exactly (no trimming), bounded.
pub fn check_account_password(raw: &str) -> Result<(), FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new("password", "must not be empty"));
    }
    if raw.chars().count() > 128 {
        return Err(FieldError::new(
            "password",
            "must be at most 128 characters long",
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// The daily post limit of one account (the schema allows 0–100).
pub fn check_posts_limit(limit: i64) -> Result<i32, FieldError> {
    if (0..=100).contains(&limit) {
        Ok(limit as i32)
    } else {
        Err(FieldError::new(
            "posts_limit_per_day",
            "must be a whole number from 0 to 100",
        ))
    }
}

/// Group names: 1–100 characters, trimmed; unique regardless of case.
pub fn parse_group_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters long"));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// The key that makes group names unique case-insensitively.
pub fn group_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn check_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > 2000 {
        return Err(FieldError::new(
            "description",
            "must be at most 2000 characters long",
        ));
    }
    Ok(raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instagram_usernames_follow_instagram_rules() {
        assert_eq!(
            parse_instagram_username(" @Fixture_Acc.000 ").unwrap(),
            "fixture_acc.000"
        );
        for bad in ["", ".abc", "abc.", "a..b", "a-b", "я", &"a".repeat(31)] {
            assert_eq!(
                parse_instagram_username(bad).unwrap_err().field,
                "username",
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_and_names() {
        assert!(check_posts_limit(101).is_err());
        assert_eq!(check_posts_limit(5).unwrap(), 5);
        assert_eq!(group_name_key(" Finance "), "finance");
        assert!(parse_group_name("  ").is_err());
        assert!(check_account_password("").is_err());
        assert!(check_account_password("p:a@s s").is_ok());
    }
}
