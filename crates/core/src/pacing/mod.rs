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
//!
//! By concern: `rules` (the settings and the warm-up), `hours` (a group's daily posting
//! window), `account` (when one account may publish, checked again before it does) and
//! `plan` (a post's accounts spread over time).

mod account;
mod hours;
mod plan;
mod rules;
#[cfg(test)]
mod tests;

pub use account::{
    AccountPacing, Deferral, Exclusion, Wait, check_before_publish, earliest_for,
    limit_reached_until,
};
pub use hours::ActiveHours;
pub use plan::{Plan, Slot, order_seed, plan};
pub use rules::{PacingRules, SpacingScope, random_comment_delay, random_spacing};
