//! Ban protection as arithmetic (specification §3.2). Pure: the clock and the randomness
//! are passed in, so every rule can be checked with a fake clock and a seeded generator.
//!
//! The rules, each a setting with the specification's default:
//! - at least 30 min between two posts of one account;
//! - a random 2–5 min between consecutive publishes of *the same post* on different
//!   accounts (the spacing scope; see [`SpacingScope`]);
//! - at most the account's daily limit (default 10) in any rolling 24 h, lowered during
//!   warm-up (first 3 days: 2 a day, then stepping up to the full limit);
//! - reaching the limit pauses the account until its window frees (24 h at most).
//!
//! The global cap on concurrent publishes is enforced by the job queue at run time.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::Serialize;

use crate::auth::FieldError;
use crate::enums::AccountStatus;
use crate::ids::AccountId;

/// Which publishes the random 2–5 min spacing separates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpacingScope {
    /// Consecutive accounts of one post are spaced; two posts go out side by side. The
    /// default: identical content appearing on many accounts at the same minute is what the
    /// spacing exists to prevent, and a global queue would make 500 accounts take 29 hours.
    Post,
    /// Every publish in icf is spaced from the previous one, whatever the post.
    Global,
}

/// The rules, with the specification's defaults.
#[derive(Debug, Clone, Serialize)]
pub struct PacingRules {
    pub min_gap_same_account: Duration,
    pub min_spacing: Duration,
    pub max_spacing: Duration,
    pub scope: SpacingScope,
    /// Posts per rolling 24 h during warm-up stages 0, 1, 2; stage 3 uses the account's limit.
    pub warmup_limits: [u32; 3],
    /// Account age (days) at which stages 1, 2 and 3 begin.
    pub warmup_days: [u32; 3],
    pub window: Duration,
    /// `MAX_POSTS_PER_DAY_PER_ACCOUNT`: the daily limit of every new account and the upper
    /// bound of any account's own limit (a limit stored before it was lowered is capped).
    pub max_daily: u32,
}

impl Default for PacingRules {
    fn default() -> Self {
        Self {
            min_gap_same_account: Duration::minutes(30),
            min_spacing: Duration::seconds(120),
            max_spacing: Duration::seconds(300),
            scope: SpacingScope::Post,
            warmup_limits: [2, 4, 7],
            warmup_days: [3, 7, 14],
            window: Duration::hours(24),
            max_daily: 10,
        }
    }
}

impl PacingRules {
    /// Warm-up stage 0–3 from the account's age in days.
    pub fn warmup_stage(&self, age_days: i64) -> u8 {
        let age = age_days.max(0);
        self.warmup_days
            .iter()
            .take_while(|&&d| age >= i64::from(d))
            .count() as u8
    }

    /// Posts allowed per rolling 24 h for an account of this age and configured limit.
    pub fn daily_limit(&self, age_days: i64, account_limit: u32) -> u32 {
        let account_limit = account_limit.min(self.max_daily);
        match self.warmup_stage(age_days) {
            s @ 0..=2 => self.warmup_limits[usize::from(s)].min(account_limit),
            _ => account_limit,
        }
    }
}

/// A daily posting window in the account's own local time (beyond the specification: what
/// operators of large fleets ask for, as real people do not post at 4 a.m.). `from` is
/// inclusive, `until` exclusive, both minutes after midnight; a window with `from > until`
/// runs past midnight (22:00-02:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    from: u16,
    until: u16,
}

const DAY_MINUTES: u16 = 24 * 60;

impl ActiveHours {
    /// `08:00-23:00` (an en dash also separates); `24:00` ends at midnight.
    pub fn parse(raw: &str) -> Result<ActiveHours, FieldError> {
        let err = || {
            FieldError::new(
                "active_hours",
                "expected a daily window like 08:00-23:00 (hours in the accounts' own time zone)",
            )
        };
        let raw = raw.trim();
        let (a, b) = raw
            .split_once('-')
            .or_else(|| raw.split_once('\u{2013}'))
            .ok_or_else(err)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (from, until) = (minutes(a).ok_or_else(err)?, minutes(b).ok_or_else(err)?);
        ActiveHours::from_minutes(i64::from(from), i64::from(until)).ok_or_else(|| {
            FieldError::new(
                "active_hours",
                "the window must not start where it ends (leave it empty to post at any hour)",
            )
        })
    }

    /// From stored minutes after midnight (0-1440); `None` when they are not a window.
    pub fn from_minutes(from: i64, until: i64) -> Option<ActiveHours> {
        let day = i64::from(DAY_MINUTES);
        let ok = |m: i64| (0..=day).contains(&m);
        (ok(from) && ok(until) && from % day != until % day).then(|| ActiveHours {
            from: (from % day) as u16,
            until: until as u16,
        })
    }

    /// Minutes after midnight at which the window opens.
    pub fn from_minute(self) -> u16 {
        self.from
    }

    /// Minutes after midnight at which it closes (1440: midnight).
    pub fn until_minute(self) -> u16 {
        self.until
    }

    /// The earliest moment at or after `at` inside the window, for an account whose clock is
    /// `utc_offset` seconds east of UTC.
    pub fn next_open(self, at: DateTime<Utc>, utc_offset: i32) -> DateTime<Utc> {
        let offset = Duration::seconds(i64::from(utc_offset));
        let local = at + offset;
        let midnight = local
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let minute = (local - midnight).num_minutes();
        let (from, until) = (i64::from(self.from), i64::from(self.until));
        let inside = if from < until {
            (from..until).contains(&minute)
        } else {
            minute >= from || minute < until
        };
        if inside {
            return at;
        }
        // Outside: the window opens today at `from` if that is still ahead, else tomorrow.
        let day = if minute < from {
            midnight
        } else {
            midnight + Duration::days(1)
        };
        day + Duration::minutes(from) - offset
    }
}

impl std::fmt::Display for ActiveHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.from / 60,
            self.from % 60,
            self.until / 60,
            self.until % 60
        )
    }
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub account_id: AccountId,
    pub eta: DateTime<Utc>,
    pub waits_for: Wait,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub slots: Vec<Slot>,
    pub excluded: Vec<(AccountId, Exclusion)>,
}

impl Plan {
    pub fn last_eta(&self) -> Option<DateTime<Utc>> {
        self.slots.iter().map(|s| s.eta).max()
    }
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

/// Assigns each account a time that breaks no rule, as early as the rules allow: accounts
/// are served in the order they become free, each at least a random spacing after the
/// previous slot (the first one, `after_previous`, may be the last slot of another post when
/// the scope is global). Accounts free at the same moment go in the post's own shuffled
/// order (`order_seed`, from the post): not by name or creation, which would have the same
/// accounts publish first and last every time, and the same for every plan of one post, so
/// a preview and the real plan agree.
pub fn plan(
    rules: &PacingRules,
    accounts: &[AccountPacing],
    now: DateTime<Utc>,
    after_previous: Option<DateTime<Utc>>,
    order_seed: u64,
    rng: &mut impl Rng,
) -> Plan {
    let mut plan = Plan::default();
    let mut ready: Vec<(DateTime<Utc>, Wait, usize)> = Vec::with_capacity(accounts.len());
    for (i, a) in accounts.iter().enumerate() {
        match earliest_for(rules, a, now) {
            Ok((at, wait)) => ready.push((at, wait, i)),
            Err(why) => plan.excluded.push((a.id, why)),
        }
    }
    ready.sort_by_key(|&(at, _, i)| (at, shuffle_key(order_seed, accounts[i].id)));
    let mut previous = after_previous;
    for (at, wait, i) in ready {
        let account = &accounts[i];
        let spaced = previous.map(|p| p + random_spacing(rules, rng));
        let (eta, waits_for) = match spaced {
            Some(spaced) if spaced > at => {
                // Later than the account's own earliest time: its rules must hold there too
                // (a post already planned for it may sit just after the spaced moment).
                match earliest_for(rules, account, spaced.max(at)) {
                    Ok((eta, Wait::None | Wait::Cooldown)) => (eta, Wait::Spacing),
                    Ok((eta, own)) => (eta, own),
                    Err(_) => (spaced, Wait::Spacing),
                }
            }
            _ => (at, wait),
        };
        previous = Some(eta);
        plan.slots.push(Slot {
            account_id: account.id,
            eta,
            waits_for,
        });
    }
    plan
}

/// The account's place in a shuffle seeded by `seed` (splitmix64 of the seed and the id):
/// a permutation that is the same for the same seed and unrelated between seeds.
fn shuffle_key(seed: u64, id: AccountId) -> u64 {
    let v = id.as_uuid().as_u128();
    let mut x = seed ^ (v as u64) ^ ((v >> 64) as u64).rotate_left(32);
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The shuffle seed of a post (see [`plan`]).
pub fn order_seed(post: crate::ids::PostId) -> u64 {
    let v = post.as_uuid().as_u128();
    (v as u64) ^ ((v >> 64) as u64)
}

/// A random gap between the minimum and maximum spacing.
pub fn random_spacing(rules: &PacingRules, rng: &mut impl Rng) -> Duration {
    let lo = rules.min_spacing.num_milliseconds();
    let hi = rules.max_spacing.num_milliseconds().max(lo);
    Duration::milliseconds(rng.random_range(lo..=hi))
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

#[cfg(test)]
mod tests {
    use chrono::Timelike;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn account(age_days: i64, busy: Vec<DateTime<Utc>>) -> AccountPacing {
        AccountPacing {
            id: AccountId::new(),
            status: AccountStatus::Active,
            cooldown_until: None,
            age_days,
            posts_limit_per_day: 10,
            busy,
            active_hours: None,
            utc_offset: 0,
        }
    }

    #[test]
    fn warmup_stages_raise_the_limit_step_by_step() {
        let r = PacingRules::default();
        let limits: Vec<u32> = [0, 2, 3, 6, 7, 13, 14, 400]
            .iter()
            .map(|&d| r.daily_limit(d, 10))
            .collect();
        assert_eq!(limits, [2, 2, 4, 4, 7, 7, 10, 10]);
        assert_eq!(r.warmup_stage(0), 0);
        assert_eq!(r.warmup_stage(20), 3);
        assert_eq!(
            r.daily_limit(30, 5),
            5,
            "the account's own lower limit wins"
        );
    }

    #[test]
    fn no_account_limit_goes_past_the_global_maximum() {
        let r = PacingRules {
            max_daily: 6,
            ..PacingRules::default()
        };
        assert_eq!(r.daily_limit(400, 50), 6, "a stored larger limit is capped");
        assert_eq!(r.daily_limit(400, 4), 4);
        assert_eq!(
            r.daily_limit(8, 50),
            6,
            "warm-up stage 2 allows 7, the cap 6"
        );
        let mut a = account(400, vec![]);
        a.posts_limit_per_day = 50;
        for i in 0..6 {
            a.busy
                .push(t0() - Duration::hours(6) + Duration::minutes(31 * i));
        }
        let (at, wait) = earliest_for(&r, &a, t0()).unwrap();
        assert_eq!(wait, Wait::DailyLimit);
        assert_eq!(at, t0() + Duration::hours(18));
    }

    #[test]
    fn a_new_account_posts_at_most_twice_in_its_first_day() {
        let r = PacingRules::default();
        let mut a = account(0, vec![]);
        let mut times = Vec::new();
        for _ in 0..3 {
            let (at, _) = earliest_for(&r, &a, t0()).unwrap();
            times.push(at);
            a.busy.push(at);
        }
        assert_eq!(times[0], t0());
        assert_eq!(times[1], t0() + Duration::minutes(30));
        assert_eq!(
            times[2],
            t0() + Duration::hours(24),
            "third waits for the window"
        );
    }

    #[test]
    fn the_last_post_of_the_day_starts_a_cooldown_until_the_window_frees() {
        let r = PacingRules::default();
        let posted = [t0() - Duration::hours(20), t0() - Duration::hours(2), t0()];
        // A new account (limit 2): full after two posts.
        assert_eq!(
            limit_reached_until(&r, 0, 10, &posted[1..], t0()),
            Some(t0() - Duration::hours(2) + Duration::hours(24))
        );
        assert_eq!(limit_reached_until(&r, 0, 10, &posted[2..], t0()), None);
        // Limit 3 with three posts: the oldest of them frees the place.
        assert_eq!(
            limit_reached_until(&r, 30, 3, &posted, t0()),
            Some(t0() + Duration::hours(4))
        );
        assert_eq!(limit_reached_until(&r, 30, 10, &posted, t0()), None);
    }

    #[test]
    fn thirty_minutes_between_posts_of_one_account() {
        let r = PacingRules::default();
        let a = account(30, vec![t0() - Duration::minutes(10)]);
        let (at, wait) = earliest_for(&r, &a, t0()).unwrap();
        assert_eq!(at, t0() + Duration::minutes(20));
        assert_eq!(wait, Wait::SameAccountGap);
    }

    #[test]
    fn banned_and_logged_out_accounts_get_no_slot_cooldown_waits() {
        let r = PacingRules::default();
        let mut a = account(30, vec![]);
        a.status = AccountStatus::Banned;
        assert_eq!(earliest_for(&r, &a, t0()), Err(Exclusion::Banned));
        a.status = AccountStatus::Cooldown;
        a.cooldown_until = Some(t0() + Duration::hours(3));
        assert_eq!(
            earliest_for(&r, &a, t0()),
            Ok((t0() + Duration::hours(3), Wait::Cooldown))
        );
    }

    #[test]
    fn plans_of_one_post_agree_and_are_neither_sorted_nor_alike_across_posts() {
        let r = PacingRules::default();
        let accounts: Vec<_> = (0..40).map(|_| account(30, vec![])).collect();
        let order = |seed: u64, rng_seed: u64| -> Vec<AccountId> {
            plan(
                &r,
                &accounts,
                t0(),
                None,
                seed,
                &mut StdRng::seed_from_u64(rng_seed),
            )
            .slots
            .iter()
            .map(|s| s.account_id)
            .collect()
        };
        let (a, again) = (order(7, 1), order(7, 2));
        assert_eq!(a, again, "the preview and the real plan of one post agree");
        let mut by_id = a.clone();
        by_id.sort();
        assert_ne!(a, by_id, "not in id (creation) order");
        let given: Vec<AccountId> = accounts.iter().map(|x| x.id).collect();
        assert_ne!(a, given, "not in the order given (language, then name)");
        let b = order(8, 1);
        assert_ne!(a, b, "another post, another order");
        let firsts: std::collections::HashSet<AccountId> =
            (0..20).map(|seed| order(seed, 1)[0]).collect();
        assert!(
            firsts.len() > 5,
            "the first account changes from post to post"
        );
    }

    #[test]
    fn the_scenario_of_20_accounts_is_spaced_2_to_5_minutes() {
        let r = PacingRules::default();
        let accounts: Vec<_> = (0..20).map(|_| account(30, vec![])).collect();
        let plan = plan(&r, &accounts, t0(), None, 1, &mut StdRng::seed_from_u64(9));
        assert_eq!(plan.slots.len(), 20);
        assert_eq!(plan.slots[0].eta, t0());
        for w in plan.slots.windows(2) {
            let gap = w[1].eta - w[0].eta;
            assert!(
                gap >= Duration::minutes(2) && gap <= Duration::minutes(5),
                "{gap}"
            );
        }
        let last = plan.last_eta().unwrap();
        assert!(last <= t0() + Duration::minutes(5 * 19));
    }

    fn arb_account(now: DateTime<Utc>) -> impl Strategy<Value = AccountPacing> {
        (
            0i64..40,
            1u32..=10,
            prop::collection::vec(-(24 * 60i64)..(24 * 60), 0..12),
            prop_oneof![
                6 => Just(AccountStatus::Active),
                1 => Just(AccountStatus::Cooldown),
                1 => Just(AccountStatus::Banned),
                1 => Just(AccountStatus::LoginRequired),
            ],
            0i64..600,
        )
            .prop_map(
                move |(age, limit, minutes, status, cooldown_min)| AccountPacing {
                    id: AccountId::new(),
                    status,
                    cooldown_until: (status == AccountStatus::Cooldown)
                        .then(|| now + Duration::minutes(cooldown_min)),
                    age_days: age,
                    posts_limit_per_day: limit,
                    busy: minutes
                        .into_iter()
                        .map(|m| now + Duration::minutes(m))
                        .collect(),
                    active_hours: None,
                    utc_offset: 0,
                },
            )
    }

    /// An account of a group with a posting window, somewhere on Earth.
    fn arb_windowed(now: DateTime<Utc>) -> impl Strategy<Value = AccountPacing> {
        (arb_account(now), 0i64..96, 1i64..96, -48i32..=56).prop_map(
            |(mut a, from, len, quarter_hours)| {
                // Windows of 15 min to 24 h less 15 min, possibly past midnight.
                a.active_hours = ActiveHours::from_minutes(from * 15, (from + len) * 15 % 1440);
                a.utc_offset = quarter_hours * 900;
                a
            },
        )
    }

    /// Inside the account's window, computed apart from [`ActiveHours::next_open`].
    fn inside_window(a: &AccountPacing, at: DateTime<Utc>) -> bool {
        let Some(h) = a.active_hours else {
            return true;
        };
        let local = at + Duration::seconds(i64::from(a.utc_offset));
        let minute = i64::from(local.time().num_seconds_from_midnight() / 60);
        let (from, until) = (i64::from(h.from_minute()), i64::from(h.until_minute()));
        if from < until {
            from <= minute && minute < until
        } else {
            minute >= from || minute < until
        }
    }

    /// Every rule, checked on the history plus the new slot.
    fn breaks_a_rule(r: &PacingRules, a: &AccountPacing, at: DateTime<Utc>) -> Option<String> {
        if !inside_window(a, at) {
            return Some("outside the group's active hours".into());
        }
        if let Some(until) = a.cooldown_until
            && at < until
        {
            return Some("during cooldown".into());
        }
        for &t in &a.busy {
            if (t - at).abs() < r.min_gap_same_account {
                return Some(format!("{} min from another post", (t - at).num_minutes()));
            }
        }
        let limit = r.daily_limit(a.age_days, a.posts_limit_per_day) as usize;
        let mut all = a.busy.clone();
        all.push(at);
        // Only windows that contain the new slot can have become overfull.
        for &start in &all {
            let end = start + r.window;
            if start <= at && at < end {
                let n = all.iter().filter(|&&t| t >= start && t < end).count();
                let old = a.busy.iter().filter(|&&t| t >= start && t < end).count();
                if n > limit && old < n {
                    return Some(format!("{n} posts in 24 h, limit {limit}"));
                }
            }
        }
        None
    }

    #[test]
    fn active_hours_parse_and_open_in_the_accounts_own_time() {
        let h = ActiveHours::parse(" 08:00-23:00 ").unwrap();
        assert_eq!(h.to_string(), "08:00-23:00");
        assert_eq!(
            ActiveHours::parse("22:30–02:00").unwrap().to_string(),
            "22:30-02:00"
        );
        assert_eq!(
            ActiveHours::parse("08:00-24:00").unwrap().until_minute(),
            1440
        );
        for bad in [
            "",
            "8-23",
            "08:00",
            "25:00-26:00",
            "08:00-08:00",
            "00:00-24:00",
            "08:60-09:00",
            "0800-2300",
        ] {
            assert_eq!(
                ActiveHours::parse(bad).unwrap_err().field,
                "active_hours",
                "{bad}"
            );
        }
        let utc = |h: u32, m: u32| t0().date_naive().and_hms_opt(h, m, 0).unwrap().and_utc();
        assert_eq!(t0(), utc(8, 0), "t0 is 2027-01-15 08:00 UTC");
        let moscow = 3 * 3600;
        // 08:00 UTC is 11:00 in Moscow: open. At 21:00 UTC (midnight there), closed until
        // 08:00 local, 05:00 UTC the next day.
        assert_eq!(h.next_open(utc(8, 0), moscow), utc(8, 0));
        assert_eq!(
            h.next_open(utc(21, 0), moscow),
            utc(5, 0) + Duration::days(1)
        );
        // 04:00 UTC is 07:00 there: opens at 05:00 UTC the same day.
        assert_eq!(h.next_open(utc(4, 0), moscow), utc(5, 0));
        // A window past midnight in New York (UTC-5): 22:30-02:00 local.
        let night = ActiveHours::parse("22:30-02:00").unwrap();
        let ny = -5 * 3600;
        assert_eq!(night.next_open(utc(4, 0), ny), utc(4, 0), "23:00 there");
        assert_eq!(night.next_open(utc(6, 59), ny), utc(6, 59), "01:59 there");
        assert_eq!(
            night.next_open(utc(7, 0), ny),
            utc(3, 30) + Duration::days(1)
        );

        let mut a = account(400, vec![]);
        a.active_hours = Some(h);
        a.utc_offset = moscow;
        assert_eq!(
            earliest_for(&PacingRules::default(), &a, utc(21, 0)),
            Ok((utc(5, 0) + Duration::days(1), Wait::ActiveHours))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn nothing_is_planned_outside_active_hours(
            seed in any::<u64>(),
            fleet in prop::collection::vec(arb_windowed(t0()), 1..200),
        ) {
            let r = PacingRules::default();
            let plan = plan(&r, &fleet, t0(), None, seed, &mut StdRng::seed_from_u64(seed));
            prop_assert_eq!(plan.slots.len() + plan.excluded.len(), fleet.len());
            for slot in &plan.slots {
                let a = fleet.iter().find(|a| a.id == slot.account_id).unwrap();
                if let Some(why) = breaks_a_rule(&r, a, slot.eta) {
                    prop_assert!(false, "slot {} breaks a rule: {}", slot.eta, why);
                }
                // And the run-time check agrees: due then, it goes.
                prop_assert_eq!(check_before_publish(&r, a, slot.eta), Ok(()));
            }
        }

        #[test]
        fn no_plan_breaks_a_rule_and_none_is_longer_than_needed(
            seed in any::<u64>(),
            fleet in prop::collection::vec(arb_account(t0()), 1..500),
        ) {
            let r = PacingRules::default();
            let now = t0();
            let plan = plan(&r, &fleet, now, None, seed, &mut StdRng::seed_from_u64(seed));
            prop_assert_eq!(plan.slots.len() + plan.excluded.len(), fleet.len());
            let mut sorted = plan.slots.clone();
            sorted.sort_by_key(|s| s.eta);
            for w in sorted.windows(2) {
                prop_assert!(w[1].eta - w[0].eta >= r.min_spacing, "spacing");
            }
            for slot in &plan.slots {
                let a = fleet.iter().find(|a| a.id == slot.account_id).unwrap();
                prop_assert!(slot.eta >= now);
                if let Some(why) = breaks_a_rule(&r, a, slot.eta) {
                    prop_assert!(false, "slot {} for an account breaks a rule: {}", slot.eta, why);
                }
                // As early as allowed: one minute earlier would break a rule or the spacing.
                if slot.waits_for != Wait::Spacing && slot.eta > now {
                    let earlier = slot.eta - Duration::minutes(1);
                    prop_assert!(breaks_a_rule(&r, a, earlier).is_some(), "slot could be earlier");
                }
            }
            // The makespan is within the simple bound: everyone's earliest time, then at most
            // the largest spacing per account.
            if let Some(last) = plan.last_eta() {
                let latest_ready = fleet.iter().filter_map(|a| earliest_for(&r, a, now).ok()).map(|(t, _)| t).max().unwrap();
                let n = plan.slots.len() as i32;
                prop_assert!(last <= latest_ready + r.max_spacing * n, "plan too long");
                let lower = now + r.min_spacing * (n - 1);
                prop_assert!(last >= lower, "plan shorter than the spacing allows");
            }
        }
    }
}
