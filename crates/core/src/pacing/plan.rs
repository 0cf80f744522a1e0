//! A post's plan: each account a time that breaks no rule, spaced from the previous one.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;

use super::account::{AccountPacing, Exclusion, Wait, earliest_for};
use super::rules::{PacingRules, random_spacing};
use crate::ids::AccountId;

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
