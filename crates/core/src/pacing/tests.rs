//! The pacing rules, with a fake clock, seeded randomness and properties.

use chrono::{DateTime, Duration, Timelike, Utc};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::enums::AccountStatus;
use crate::ids::AccountId;

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
