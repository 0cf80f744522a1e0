//! The anti-ban pacing: how often an account may publish, how far apart the accounts of a
//! post go out, and how long Instagram's warnings pause an account.

use icf_core::pacing::SpacingScope;

use super::vars::{ConfigError, Vars};

/// The anti-ban limits, spacing and cooldowns.
#[derive(Clone)]
pub struct PacingSettings {
    /// `MAX_POSTS_PER_DAY_PER_ACCOUNT` (default 10)
    pub max_posts_per_day_per_account: u32,
    /// `MIN_DELAY_BETWEEN_POSTS_SEC` (default 120)
    pub min_delay_between_posts_sec: u64,
    /// `MAX_DELAY_BETWEEN_POSTS_SEC` (default 300)
    pub max_delay_between_posts_sec: u64,
    /// `ICF_SPACING_SCOPE` (`post`, the default, or `global`): which publishes the random
    /// delay separates — the accounts of one post, or every publish in icf.
    pub spacing_scope: SpacingScope,
    /// `ICF_PACING_SPEED` (default 1, at most 3600): divides every anti-ban wait (the
    /// same-account gap, the spacing between accounts), Instagram request pacing and
    /// publish retry delays. For demos and tests only; production keeps 1.
    pub speed: u32,
    /// `ICF_COOLDOWN_PLEASE_WAIT_MINUTES` (default 15, 1–1440): how long Instagram's
    /// "please wait a few minutes" pauses an account.
    pub cooldown_please_wait_minutes: u32,
    /// `ICF_COOLDOWN_FEEDBACK_HOURS` (default 24, 1–168): how long an action block
    /// (`feedback_required`) pauses an account.
    pub cooldown_feedback_hours: u32,
    /// `ICF_MAX_FAILED_ATTEMPTS` (default 5, 0–100): this many failed actions in a row
    /// pause the account for `ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES`; 0 never.
    pub max_failed_attempts: u32,
    /// `ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES` (default 60, 1–10080).
    pub failed_attempts_cooldown_minutes: u32,
    /// `FIRST_COMMENT_DELAY_MIN_SEC` / `FIRST_COMMENT_DELAY_MAX_SEC` (default 5 and 20, at
    /// most 3600): how long a post's first comment waits after its media, at random.
    pub first_comment_delay_sec: (u64, u64),
    /// `ICF_STORIES_COUNT` (default true): a story counts like a post toward an account's
    /// daily allowance and the gap before its next post.
    pub stories_count: bool,
}

impl PacingSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let (min_delay, max_delay) = delays(vars)?;
        Ok(Self {
            max_posts_per_day_per_account: vars.ranged(
                "MAX_POSTS_PER_DAY_PER_ACCOUNT",
                10u32,
                1,
                100,
            )?,
            min_delay_between_posts_sec: min_delay,
            max_delay_between_posts_sec: max_delay,
            spacing_scope: spacing_scope(vars)?,
            speed: vars.ranged("ICF_PACING_SPEED", 1u32, 1, 3600)?,
            cooldown_please_wait_minutes: vars.ranged(
                "ICF_COOLDOWN_PLEASE_WAIT_MINUTES",
                15u32,
                1,
                1440,
            )?,
            cooldown_feedback_hours: vars.ranged("ICF_COOLDOWN_FEEDBACK_HOURS", 24u32, 1, 168)?,
            max_failed_attempts: vars.ranged("ICF_MAX_FAILED_ATTEMPTS", 5u32, 0, 100)?,
            failed_attempts_cooldown_minutes: vars.ranged(
                "ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES",
                60u32,
                1,
                10080,
            )?,
            first_comment_delay_sec: comment_delays(vars)?,
            stories_count: vars.parse("ICF_STORIES_COUNT", true, "true or false")?,
        })
    }
}

/// The wait of a first comment, in seconds: a range, so its ends must be in order.
fn comment_delays(vars: &Vars) -> Result<(u64, u64), ConfigError> {
    let min = vars.ranged("FIRST_COMMENT_DELAY_MIN_SEC", 5u64, 0, 3600)?;
    let max = vars.ranged("FIRST_COMMENT_DELAY_MAX_SEC", 20u64, 0, 3600)?;
    if min > max {
        return Err(ConfigError::new(
            "FIRST_COMMENT_DELAY_MAX_SEC",
            format!("expected at least FIRST_COMMENT_DELAY_MIN_SEC ({min}), got {max}"),
        ));
    }
    Ok((min, max))
}

/// The spacing between accounts, in seconds: a range, so its ends must be in order.
fn delays(vars: &Vars) -> Result<(u64, u64), ConfigError> {
    let min = vars.parse("MIN_DELAY_BETWEEN_POSTS_SEC", 120u64, "a number of seconds")?;
    let max = vars.parse("MAX_DELAY_BETWEEN_POSTS_SEC", 300u64, "a number of seconds")?;
    if min > max {
        return Err(ConfigError::new(
            "MAX_DELAY_BETWEEN_POSTS_SEC",
            format!("expected at least MIN_DELAY_BETWEEN_POSTS_SEC ({min}), got {max}"),
        ));
    }
    Ok((min, max))
}

fn spacing_scope(vars: &Vars) -> Result<SpacingScope, ConfigError> {
    match vars
        .get("ICF_SPACING_SCOPE")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("post") => Ok(SpacingScope::Post),
        Some("global") => Ok(SpacingScope::Global),
        Some(_) => Err(ConfigError::new(
            "ICF_SPACING_SCOPE",
            "expected post or global",
        )),
    }
}
