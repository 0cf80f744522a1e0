//! Rules about operators: what a valid username, e-mail and password look like, and how
//! sign-in attempts are throttled.

use std::collections::HashMap;
use std::net::IpAddr;

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

/// How sign-in attempts are limited. See [`LoginThrottle`].
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failed sign-ins an address may make before it has to wait.
    pub address_free: u32,
    /// The wait after the first failure beyond `address_free`; it doubles with each further
    /// failure …
    pub address_delay: Duration,
    /// … up to this.
    pub address_max_delay: Duration,
    /// An address's failures are forgotten this long after its last one.
    pub address_forget: Duration,
    /// Failed sign-ins an account may take, from addresses it is not known at, per window.
    pub account_budget: u32,
    /// How many of those one address can use up (so one address never exhausts it).
    pub account_per_address: u32,
    /// The account's window, from its first counted failure.
    pub account_window: Duration,
    /// An address the account signed in from stays known (exempt from the account's
    /// budget, not from its own delay) this long.
    pub known_for: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            address_free: 5,
            address_delay: Duration::seconds(30),
            address_max_delay: Duration::minutes(15),
            address_forget: Duration::hours(1),
            account_budget: 10,
            account_per_address: 3,
            account_window: Duration::minutes(15),
            known_for: Duration::days(30),
        }
    }
}

/// Limits guessing at sign-in, per client address and per account, without letting a
/// guesser lock the real operator out.
///
/// - **Per address**: `address_free` failures (any usernames), then every further attempt
///   waits 30 s, doubling per failure up to 15 min. Failures are forgotten an hour after the
///   last one; a success does not reset them (only the one attempt is refunded).
/// - **Per account**: `account_budget` failures per 15-minute window from all addresses
///   together, but one address counts for at most `account_per_address` of them, so a single
///   address can never exhaust it: a botnet of several addresses is needed. When it is
///   exhausted, addresses not known for the account wait until the window ends; an address
///   the account signed in from within `known_for` is exempt.
/// - **Atomic**: [`reserve`](Self::reserve) checks and counts the attempt as a failure in one
///   step (the caller holds the lock), before the password is verified; a success refunds
///   it. So N concurrent wrong passwords check at most the budget, whatever N.
///
/// State is in memory, per process.
#[derive(Debug)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    addresses: HashMap<IpAddr, AddressFailures>,
    accounts: HashMap<String, AccountFailures>,
    /// Per account: the addresses it signed in from, and when last.
    known: HashMap<String, HashMap<IpAddr, DateTime<Utc>>>,
}

#[derive(Debug, Clone, Copy)]
struct AddressFailures {
    count: u32,
    last_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct AccountFailures {
    since: DateTime<Utc>,
    total: u32,
    by_address: HashMap<IpAddr, u32>,
}

/// One sign-in attempt, reserved (and counted as a failure) before the password is checked.
/// Give it back with [`LoginThrottle::failed`] or [`LoginThrottle::succeeded`].
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address: IpAddr,
}

/// Bound on the maps: past this many entries, the expired ones are dropped.
const MAX_ENTRIES: usize = 10_000;

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            addresses: HashMap::new(),
            accounts: HashMap::new(),
            known: HashMap::new(),
        }
    }

    fn address_wait(&self, failures: u32) -> Duration {
        let p = &self.policy;
        if failures < p.address_free {
            return Duration::zero();
        }
        let doublings = (failures - p.address_free).min(20);
        (p.address_delay * 2i32.pow(doublings)).min(p.address_max_delay)
    }

    fn is_known(&self, account: &str, address: IpAddr, now: DateTime<Utc>) -> bool {
        self.known
            .get(account)
            .and_then(|m| m.get(&address))
            .is_some_and(|at| now < *at + self.policy.known_for)
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        let p = self.policy;
        if self.addresses.len() > MAX_ENTRIES {
            self.addresses
                .retain(|_, f| now < f.last_at + p.address_forget);
        }
        if self.accounts.len() > MAX_ENTRIES {
            self.accounts
                .retain(|_, f| now < f.since + p.account_window);
        }
        if self.known.len() > MAX_ENTRIES {
            self.known.retain(|_, m| {
                m.retain(|_, at| now < *at + p.known_for);
                !m.is_empty()
            });
        }
    }

    /// Reserves an attempt for `account` from `address`, counting it as a failure, or
    /// `Err(until)` if it may not be tried before `until`.
    pub fn reserve(
        &mut self,
        account: &str,
        address: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Attempt, DateTime<Utc>> {
        self.prune(now);
        let p = self.policy;

        if let Some(f) = self.addresses.get(&address).copied() {
            if now >= f.last_at + p.address_forget {
                self.addresses.remove(&address);
            } else {
                let until = f.last_at + self.address_wait(f.count);
                if now < until {
                    return Err(until);
                }
            }
        }

        let known = self.is_known(account, address, now);
        if let Some(f) = self.accounts.get(account)
            && now >= f.since + p.account_window
        {
            self.accounts.remove(account);
        }
        if let Some(f) = self.accounts.get(account)
            && f.total >= p.account_budget
            && !known
        {
            return Err(f.since + p.account_window);
        }

        let a = self.addresses.entry(address).or_insert(AddressFailures {
            count: 0,
            last_at: now,
        });
        a.count += 1;
        a.last_at = now;

        let f = self
            .accounts
            .entry(account.to_owned())
            .or_insert_with(|| AccountFailures {
                since: now,
                total: 0,
                by_address: HashMap::new(),
            });
        let mine = f.by_address.entry(address).or_insert(0);
        if *mine < p.account_per_address {
            *mine += 1;
            f.total += 1;
        }
        Ok(Attempt {
            account: account.to_owned(),
            address,
        })
    }

    /// The password was wrong (or the user unknown or disabled): the attempt stays counted.
    pub fn failed(&mut self, attempt: Attempt) {
        drop(attempt);
    }

    /// The password was right: the attempt is refunded, the address's failures no longer
    /// count against the account, and the address becomes known for the account.
    pub fn succeeded(&mut self, attempt: Attempt, now: DateTime<Utc>) {
        if let Some(a) = self.addresses.get_mut(&attempt.address) {
            a.count = a.count.saturating_sub(1);
        }
        if let Some(f) = self.accounts.get_mut(&attempt.account)
            && let Some(mine) = f.by_address.remove(&attempt.address)
        {
            f.total = f.total.saturating_sub(mine);
            if f.total == 0 {
                self.accounts.remove(&attempt.account);
            }
        }
        self.known
            .entry(attempt.account)
            .or_default()
            .insert(attempt.address, now);
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

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([203, 0, 113, last])
    }

    #[test]
    fn an_address_waits_after_its_free_failures_and_the_wait_doubles() {
        let mut th = LoginThrottle::new(ThrottlePolicy::default());
        for i in 0..5 {
            let a = th.reserve(&format!("user{i}"), ip(1), t(0)).unwrap();
            th.failed(a);
        }
        assert_eq!(th.reserve("alice", ip(1), t(1)).unwrap_err(), t(30));
        let a = th.reserve("alice", ip(1), t(30)).unwrap();
        th.failed(a);
        assert_eq!(th.reserve("alice", ip(1), t(31)).unwrap_err(), t(90));
        // The wait is capped at 15 minutes.
        let mut at = t(90);
        for _ in 0..10 {
            let until = match th.reserve("alice", ip(1), at) {
                Ok(a) => {
                    th.failed(a);
                    continue;
                }
                Err(until) => until,
            };
            assert!(until - at <= Duration::minutes(15));
            at = until;
        }
        // Another address is not affected.
        assert!(th.reserve("alice", ip(2), t(100)).is_ok());
    }

    #[test]
    fn reservations_count_before_the_outcome_is_known() {
        let mut th = LoginThrottle::new(ThrottlePolicy::default());
        let held: Vec<_> = (0..5)
            .map(|_| th.reserve("alice", ip(1), t(0)).unwrap())
            .collect();
        assert!(th.reserve("alice", ip(1), t(0)).is_err(), "sixth in flight");
        for a in held {
            th.failed(a);
        }
    }

    #[test]
    fn one_address_cannot_exhaust_the_account_but_several_can() {
        let mut th = LoginThrottle::new(ThrottlePolicy::default());
        // One address, hammering for an hour: it is slowed, the account is not locked.
        let mut at = t(0);
        for _ in 0..40 {
            match th.reserve("admin", ip(1), at) {
                Ok(a) => th.failed(a),
                Err(until) => at = until,
            }
        }
        let a = th
            .reserve("admin", ip(9), at)
            .expect("another address signs in");
        th.succeeded(a, at);

        // Four addresses with three failures each exhaust the account's budget of ten …
        let mut th = LoginThrottle::new(ThrottlePolicy::default());
        let ok = th.reserve("admin", ip(9), t(0)).unwrap();
        th.succeeded(ok, t(0));
        for addr in 1..=4 {
            for _ in 0..3 {
                if let Ok(a) = th.reserve("admin", ip(addr), t(1)) {
                    th.failed(a);
                }
            }
        }
        let until = th.reserve("admin", ip(8), t(2)).unwrap_err();
        assert_eq!(until, t(1) + Duration::minutes(15));
        // … but not for an address the admin signed in from before,
        assert!(th.reserve("admin", ip(9), t(2)).is_ok());
        // and not for other accounts.
        assert!(th.reserve("bob", ip(8), t(2)).is_ok());
        // After the window, unknown addresses may try again.
        assert!(th.reserve("admin", ip(8), t(15 * 60 + 1)).is_ok());
    }

    #[test]
    fn success_refunds_the_attempt_and_forgives_the_address() {
        let mut th = LoginThrottle::new(ThrottlePolicy::default());
        for _ in 0..4 {
            let a = th.reserve("alice", ip(1), t(0)).unwrap();
            th.failed(a);
        }
        let a = th.reserve("alice", ip(1), t(1)).unwrap();
        th.succeeded(a, t(1));
        // Four failures stay on the address: one more is free, then it waits.
        let a = th.reserve("alice", ip(1), t(2)).unwrap();
        th.failed(a);
        assert!(th.reserve("alice", ip(1), t(3)).is_err());
        // Failures are forgotten an hour after the last.
        assert!(th.reserve("alice", ip(1), t(2 + 3600)).is_ok());
    }
}
