//! Rules about operators: what a valid username, e-mail and password look like, and when
//! repeated failed sign-ins are throttled.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::enums::Role;
use crate::ids::UserId;

/// An operator of icf, as shown to other operators: never with a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub is_active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why an operator's field was refused. `field` is the JSON field the message is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// An operator's login name: 3–64 characters of letters, digits, `.`, `_`, `-`.
/// Compared case-insensitively, so it is stored lowercased.
pub fn parse_username(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    let len = name.chars().count();
    if !(3..=64).contains(&len) {
        return Err(FieldError::new(
            "username",
            "must be 3 to 64 characters long",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(FieldError::new(
            "username",
            "may contain only letters, digits, '.', '_' and '-'",
        ));
    }
    Ok(name.to_lowercase())
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain.
/// Deliverability is not icf's business; this only catches typos.
pub fn parse_email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim();
    let bad = || FieldError::new("email", "must be an e-mail address like name@example.com");
    if email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(email.to_lowercase())
}

/// Operator passwords: at least 8 characters, at most 256 (argon2 input stays bounded).
pub fn check_password(raw: &str) -> Result<(), FieldError> {
    let len = raw.chars().count();
    if len < 8 {
        return Err(FieldError::new(
            "password",
            "must be at least 8 characters long",
        ));
    }
    if len > 256 {
        return Err(FieldError::new(
            "password",
            "must be at most 256 characters long",
        ));
    }
    Ok(())
}

/// Counts failed sign-ins per key (the caller picks the key: username, client address…)
/// and refuses further attempts once `max_failures` fall inside `window`.
///
/// Only failures count, so a person who types the right password is never slowed down,
/// while a guesser gets a handful of tries per window.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    entries: HashMap<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: DateTime<Utc>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: HashMap::new(),
        }
    }

    /// `Some(when)` if `key` may not try again before `when`.
    pub fn blocked_until(&mut self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let entry = *self.entries.get(key)?;
        let until = entry.first_at + self.window;
        if now >= until {
            self.entries.remove(key);
            return None;
        }
        (entry.count >= self.max_failures).then_some(until)
    }

    pub fn record_failure(&mut self, key: &str, now: DateTime<Utc>) {
        // Keep the map bounded under a spray of random usernames: drop expired entries
        // whenever it grows large.
        if self.entries.len() > 10_000 {
            let window = self.window;
            self.entries.retain(|_, f| now < f.first_at + window);
        }
        let window = self.window;
        let entry = self.entries.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            first_at: now,
        });
        if now >= entry.first_at + window {
            *entry = Failures {
                count: 0,
                first_at: now,
            };
        }
        entry.count += 1;
    }

    pub fn record_success(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn usernames_are_trimmed_lowercased_and_checked() {
        assert_eq!(parse_username("  Admin.One ").unwrap(), "admin.one");
        assert_eq!(parse_username("ab").unwrap_err().field, "username");
        assert!(parse_username("a b c").is_err());
        assert!(parse_username("robert'); drop table users;--").is_err());
        assert!(parse_username(&"x".repeat(65)).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(parse_email("Ops@Example.com").unwrap(), "ops@example.com");
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@localhost",
            "a b@x.io",
            "a@b@c.io",
        ] {
            assert!(parse_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"p".repeat(300)).is_err());
    }

    #[test]
    fn throttle_blocks_after_max_failures_until_the_window_ends() {
        let mut th = LoginThrottle::new(3, Duration::minutes(15));
        for i in 0..3 {
            assert_eq!(th.blocked_until("alice", t(i)), None);
            th.record_failure("alice", t(i));
        }
        let until = th
            .blocked_until("alice", t(10))
            .expect("blocked after 3 failures");
        assert_eq!(until, t(0) + Duration::minutes(15));
        // Someone else is not affected.
        assert_eq!(th.blocked_until("bob", t(10)), None);
        // After the window the key may try again.
        assert_eq!(th.blocked_until("alice", t(15 * 60)), None);
    }

    #[test]
    fn success_clears_the_failures() {
        let mut th = LoginThrottle::new(2, Duration::minutes(15));
        th.record_failure("alice", t(0));
        th.record_success("alice");
        th.record_failure("alice", t(1));
        assert_eq!(th.blocked_until("alice", t(2)), None);
    }
}
