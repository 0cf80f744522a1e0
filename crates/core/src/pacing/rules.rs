//! The pacing settings, with the specification's defaults, and the warm-up that lowers a
//! new account's daily limit.

use chrono::Duration;
use rand::Rng;
use serde::Serialize;

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
    /// How long a post's first comment waits after its media: a random time in this range,
    /// as a person takes to write it.
    pub comment_delay: (Duration, Duration),
    /// A story counts like a post: in the daily allowance and the gap before the account's
    /// next post. Off: stories stay out of the posting history pacing reads.
    pub stories_count: bool,
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
            comment_delay: (Duration::seconds(5), Duration::seconds(20)),
            stories_count: true,
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

/// A random gap between the minimum and maximum spacing.
/// The wait of a first comment after its media (see [`PacingRules::comment_delay`]).
pub fn random_comment_delay(rules: &PacingRules, rng: &mut impl Rng) -> Duration {
    let lo = rules.comment_delay.0.num_milliseconds();
    let hi = rules.comment_delay.1.num_milliseconds().max(lo);
    Duration::milliseconds(rng.random_range(lo..=hi))
}

pub fn random_spacing(rules: &PacingRules, rng: &mut impl Rng) -> Duration {
    let lo = rules.min_spacing.num_milliseconds();
    let hi = rules.max_spacing.num_milliseconds().max(lo);
    Duration::milliseconds(rng.random_range(lo..=hi))
}
