//! When one account may publish: its status, cooldown, daily limit (with warm-up), the gap
//! between its own posts and its group's posting hours; checked when a post is planned and
//! again when each publish is about to run.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::hours::ActiveHours;
use super::rules::PacingRules;
use crate::enums::AccountStatus;
use crate::ids::AccountId;

/// What the planner needs to know about one account.
#[derive(Debug, Clone)]
pub struct AccountPacing {
    pub id: AccountId,
    pub status: AccountStatus,
    pub cooldown_until: Option<DateTime<Utc>>,
    /// The account's age on Instagram, in days (from `registered_at`, else its time in icf).
    pub age_days: i64,
    pub posts_limit_per_day: u32,
    /// Times of its publishes in the last 24 h and of publishes already planned for it,
    /// in any order.
    pub busy: Vec<DateTime<Utc>>,
    /// Its group's posting window, if any, in its local time ...
    pub active_hours: Option<ActiveHours>,
    /// ... which is this many seconds east of UTC (its emulated phone's time zone).
    pub utc_offset: i32,
}

/// Why an account gets no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    Banned,
    LoginRequired,
    ProxyError,
    /// Its limit is 0: nothing may be posted.
    NoQuota,
}

/// Why a slot is not earlier than now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    None,
    Cooldown,
    SameAccountGap,
    DailyLimit,
    Spacing,
    /// Outside its group's posting window.
    ActiveHours,
}

/// The earliest moment at or after `from` at which `account` may publish, and what it waits
/// for. `None` when it may not publish at all.
pub fn earliest_for(
    rules: &PacingRules,
    account: &AccountPacing,
    from: DateTime<Utc>,
) -> Result<(DateTime<Utc>, Wait), Exclusion> {
    match account.status {
        AccountStatus::Banned => return Err(Exclusion::Banned),
        AccountStatus::LoginRequired => return Err(Exclusion::LoginRequired),
        AccountStatus::ProxyError => return Err(Exclusion::ProxyError),
        AccountStatus::Active | AccountStatus::Cooldown => {}
    }
    let limit = rules.daily_limit(account.age_days, account.posts_limit_per_day);
    if limit == 0 {
        return Err(Exclusion::NoQuota);
    }
    let mut at = from;
    let mut wait = Wait::None;
    if let Some(until) = account.cooldown_until
        && until > at
    {
        at = until;
        wait = Wait::Cooldown;
    }
    let mut busy = account.busy.clone();
    busy.sort();
    // Moving `at` later can only satisfy more rules, so a few passes reach a fixed point.
    loop {
        let mut moved = false;
        if let Some(hours) = account.active_hours {
            let open = hours.next_open(at, account.utc_offset);
            if open > at {
                at = open;
                wait = Wait::ActiveHours;
                moved = true;
            }
        }
        // At least `min_gap` from every other publish of this account, before or after.
        for &t in &busy {
            if (t - at).abs() < rules.min_gap_same_account {
                at = t + rules.min_gap_same_account;
                wait = Wait::SameAccountGap;
                moved = true;
            }
        }
        // At most `limit` publishes in any window of 24 h containing `at`: count those in
        // (at - window, at]; if full, move past the oldest of them.
        let in_window: Vec<DateTime<Utc>> = busy
            .iter()
            .copied()
            .filter(|&t| t > at - rules.window && t <= at + rules.window)
            .collect();
        let before: Vec<_> = in_window.iter().filter(|&&t| t <= at).copied().collect();
        if before.len() as u32 >= limit {
            let oldest_needed = before[before.len() - limit as usize];
            let candidate = oldest_needed + rules.window;
            if candidate > at {
                at = candidate;
                wait = Wait::DailyLimit;
                moved = true;
            }
        }
        // Publishes already planned after `at` must not make any window overfull either.
        let after: Vec<_> = in_window.iter().filter(|&&t| t > at).copied().collect();
        if !after.is_empty() {
            let window_end = at + rules.window;
            let count = before.iter().filter(|&&t| t > at - rules.window).count()
                + after.iter().filter(|&&t| t < window_end).count();
            if count as u32 >= limit
                && let Some(&last) = after.last()
            {
                at = last.max(at) + rules.min_gap_same_account;
                wait = Wait::DailyLimit;
                moved = true;
            }
        }
        if !moved {
            return Ok((at, wait));
        }
    }
}

/// Checked again when an execution is about to run: `Ok` to go, or the time to move it to
/// (the rules may have changed since planning: another post, a manual publish, a cooldown).
pub fn check_before_publish(
    rules: &PacingRules,
    account: &AccountPacing,
    now: DateTime<Utc>,
) -> Result<(), Deferral> {
    match earliest_for(rules, account, now) {
        Ok((at, _)) if at <= now => Ok(()),
        Ok((at, wait)) => Err(Deferral::Until(at, wait)),
        Err(why) => Err(Deferral::Never(why)),
    }
}

/// After a post: when the account has used its whole daily limit, the moment its rolling
/// window frees a place (the account cools down until then, 24 h at most).
pub fn limit_reached_until(
    rules: &PacingRules,
    age_days: i64,
    posts_limit_per_day: u32,
    posted: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let limit = rules.daily_limit(age_days, posts_limit_per_day) as usize;
    let mut recent: Vec<DateTime<Utc>> = posted
        .iter()
        .copied()
        .filter(|&t| t > now - rules.window && t <= now)
        .collect();
    if limit == 0 || recent.len() < limit {
        return None;
    }
    recent.sort();
    // The place the next post needs frees when the oldest post that fills the window leaves it.
    Some(recent[recent.len() - limit] + rules.window)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    Until(DateTime<Utc>, Wait),
    Never(Exclusion),
}
