//! Instagram accounts, groups and proxies as operators see them (never with secrets), and
//! the rules their fields follow.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::auth::FieldError;
use crate::enums::{AccountStatus, ProxyStatus, ProxyType};
use crate::ids::{AccountId, GroupId, ProxyId};
use crate::text::{Lines, check_free_text};

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
    /// `socks5://host:port`, no credentials. Admins only: `null` for editors.
    pub proxy: Option<String>,
    pub posts_limit_per_day: i32,
    pub posts_today: i64,
    pub failed_attempts: i32,
    /// 0–3, from the account's age: stages 0–2 post less than the daily limit.
    pub warmup_stage: i32,
    /// Posts allowed in any 24 h now: the daily limit, lowered during warm-up and capped by
    /// `MAX_POSTS_PER_DAY_PER_ACCOUNT`.
    pub posts_allowed_today: u32,
    /// Days since the account was registered on Instagram (`registered_at`), or, when that
    /// is unknown, since it came to icf: an account of unknown age warms up as a new one.
    pub account_age_days: i64,
    pub device_id: String,
    pub has_session: bool,
    pub has_totp: bool,
    /// What Instagram asks a person for, if anything. Editors see only what the person
    /// must do and where the code went, not Instagram's API path and identifiers.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub pending_challenge: Option<serde_json::Value>,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub last_post_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What of a pending challenge (or a login's outcome details) an editor may see: what the
/// person must do (`kind`, `asks`, the `message`, which two-factor methods are on) and
/// where the code went (`contact`, `obfuscated_phone_number`). Instagram's internals — the
/// challenge's API path and step, the two-factor identifier — are admin-only.
pub fn challenge_for_editor(value: &serde_json::Value) -> serde_json::Value {
    const SHOWN: &[&str] = &[
        "kind",
        "outcome",
        "message",
        "asks",
        "contact",
        "totp_on",
        "sms_on",
        "obfuscated_phone_number",
    ];
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .filter_map(|(k, v)| match k.as_str() {
                    "details" => Some((k.clone(), challenge_for_editor(v))),
                    k2 if SHOWN.contains(&k2) && !v.is_object() && !v.is_array() => {
                        Some((k.clone(), v.clone()))
                    }
                    _ => None,
                })
                .collect(),
        ),
        serde_json::Value::Null => serde_json::Value::Null,
        // A bare value says nothing a person needs; drop it.
        _ => serde_json::Value::Object(Default::default()),
    }
}

impl Account {
    /// The account as an editor sees it: no proxy address (for a proxy authorised by IP,
    /// host and port are the credential) and only the human side of a pending challenge.
    pub fn for_editor(mut self) -> Self {
        self.proxy = None;
        self.pending_challenge = self.pending_challenge.as_ref().map(challenge_for_editor);
        self
    }

    /// Sets the warm-up stage and today's allowance from the account's age under `rules`.
    pub fn apply_pacing(&mut self, rules: &crate::pacing::PacingRules) {
        self.warmup_stage = i32::from(rules.warmup_stage(self.account_age_days));
        self.posts_allowed_today = rules.daily_limit(
            self.account_age_days,
            u32::try_from(self.posts_limit_per_day).unwrap_or(0),
        );
    }
}

/// A group with live counts of its accounts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    /// The daily posting window in each account's own time zone (`08:00-23:00`); `null`:
    /// any hour.
    pub active_hours: Option<String>,
    /// Each account's own copy of a post's media (`off`, `light`, `strong`), unless the
    /// post says otherwise.
    pub media_variants: crate::enums::MediaVariants,
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

/// The daily post limit of one account: 0 (never posts) up to `max`, the
/// `MAX_POSTS_PER_DAY_PER_ACCOUNT` setting (itself at most 100, as the schema allows).
pub fn check_posts_limit(limit: i64, max: u32) -> Result<i32, FieldError> {
    if (0..=i64::from(max)).contains(&limit) {
        Ok(limit as i32)
    } else {
        Err(FieldError::new(
            "posts_limit_per_day",
            format!(
                "must be a whole number from 0 to {max} (MAX_POSTS_PER_DAY_PER_ACCOUNT, the \
                 limit of every account)"
            ),
        ))
    }
}

/// The day Instagram opened: no account is older.
pub const INSTAGRAM_LAUNCH: NaiveDate = match NaiveDate::from_ymd_opt(2010, 10, 6) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// `YYYY-MM-DD` in shape (digits and two dashes), valid or not: a date someone meant.
pub fn looks_like_date(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The day an account was registered on Instagram, as given: a date (`2019-04-01`) or an
/// RFC 3339 time (its UTC day). Not before Instagram existed, not after `today`. It sets
/// the account's warm-up: an account of unknown age is treated as new.
pub fn parse_registered_on(
    raw: &str,
    field: &'static str,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let raw = raw.trim();
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|t| t.with_timezone(&Utc).date_naive())
        })
        .ok_or_else(|| {
            FieldError::new(
                field,
                "must be a date like 2019-04-01 (or an RFC 3339 time)",
            )
        })?;
    check_registered(day, field, today)
}

/// The registration day of an account `days` old on `today`.
pub fn registered_from_age(
    days: i64,
    field: &'static str,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let max = (today - INSTAGRAM_LAUNCH).num_days();
    if !(0..=max).contains(&days) {
        return Err(FieldError::new(
            field,
            format!(
                "must be a whole number of days from 0 to {max} (Instagram opened on {INSTAGRAM_LAUNCH})"
            ),
        ));
    }
    check_registered(today - chrono::Duration::days(days), field, today)
}

fn check_registered(
    day: NaiveDate,
    field: &'static str,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    if day > today {
        return Err(FieldError::new(field, "must not be in the future"));
    }
    if day < INSTAGRAM_LAUNCH {
        return Err(FieldError::new(
            field,
            format!("must not be before {INSTAGRAM_LAUNCH}, when Instagram opened"),
        ));
    }
    Ok(day)
}

/// The stored form of a registration day: its first moment, UTC.
pub fn registered_at(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Group names: 1–100 characters, trimmed, one line of free text (no control characters,
/// text-direction overrides or zero-width characters: [`check_free_text`]); unique
/// regardless of case.
pub fn parse_group_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters long"));
    }
    check_free_text("name", name, Lines::One)?;
    Ok(name.to_owned())
}

/// The key that makes group names unique case-insensitively.
pub fn group_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A group's description: at most 2000 characters of free text over any number of lines.
pub fn check_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > 2000 {
        return Err(FieldError::new(
            "description",
            "must be at most 2000 characters long",
        ));
    }
    check_free_text("description", raw, Lines::Many)?;
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
    fn registration_days_are_dates_between_instagrams_launch_and_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            parse_registered_on("2019-04-01", "r", today),
            Ok(day(2019, 4, 1))
        );
        assert_eq!(
            parse_registered_on(" 2019-04-01T23:30:00-02:00 ", "r", today),
            Ok(day(2019, 4, 2)),
            "an RFC 3339 time counts by its UTC day"
        );
        for bad in ["2026-12-08", "2010-10-05", "01/04/2019", "", "2019-02-30"] {
            let e = parse_registered_on(bad, "registered_at", today).unwrap_err();
            assert_eq!(e.field, "registered_at", "{bad}");
        }
        assert_eq!(registered_from_age(0, "a", today), Ok(today));
        assert_eq!(registered_from_age(365, "a", today), Ok(day(2025, 12, 7)));
        assert!(registered_from_age(-1, "age_days", today).is_err());
        let max = (today - INSTAGRAM_LAUNCH).num_days();
        assert_eq!(registered_from_age(max, "a", today), Ok(INSTAGRAM_LAUNCH));
        assert!(registered_from_age(max + 1, "a", today).is_err());
        assert!(looks_like_date("2019-13-45") && !looks_like_date("host:1080"));
    }

    #[test]
    fn limits_and_names() {
        assert!(check_posts_limit(101, 100).is_err());
        assert!(check_posts_limit(11, 10).is_err());
        assert_eq!(check_posts_limit(10, 10).unwrap(), 10);
        assert_eq!(check_posts_limit(5, 10).unwrap(), 5);
        assert_eq!(group_name_key(" Finance "), "finance");
        assert!(parse_group_name("  ").is_err());
        for bad in [
            "evil\u{202E}gpj",
            "zero\u{200B}",
            "\u{1b}[2Jclear",
            "tab\there",
        ] {
            assert_eq!(parse_group_name(bad).unwrap_err().field, "name", "{bad:?}");
        }
        assert_eq!(parse_group_name(" Финансы 🚀 ").unwrap(), "Финансы 🚀");
        assert_eq!(
            check_description("x\u{2067}y").unwrap_err().field,
            "description"
        );
        assert_eq!(check_description(" two\nlines ").unwrap(), "two\nlines");
        assert!(check_account_password("").is_err());
        assert!(check_account_password("p:a@s s").is_ok());
    }
}

#[cfg(test)]
mod editor_view_tests {
    use super::challenge_for_editor;
    use serde_json::json;

    #[test]
    fn editors_see_what_to_do_not_instagrams_internals() {
        let pending = json!({"kind": "challenge", "details": {
            "api_path": "/challenge/1/abc/", "asks": "email_code", "step_name": "verify_email",
            "contact": "j***@example.com"}});
        assert_eq!(
            challenge_for_editor(&pending),
            json!({"kind": "challenge", "details": {"asks": "email_code", "contact": "j***@example.com"}})
        );
        let two_factor = json!({"kind": "two_factor", "details": {"username": "shop",
            "two_factor_identifier": "secret-id", "totp_on": true, "sms_on": false,
            "obfuscated_phone_number": "•••12"}});
        assert_eq!(
            challenge_for_editor(&two_factor),
            json!({"kind": "two_factor", "details": {"totp_on": true, "sms_on": false,
                "obfuscated_phone_number": "•••12"}})
        );
    }
}
