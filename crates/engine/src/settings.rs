//! The engine's settings that are not per account.

use icf_core::pacing::PacingRules;
use icf_instagram::{AppProfiles, ClientConfig};

use crate::alerts::AlertSettings;
use crate::clients::ClientCacheSettings;
use crate::proxy_check::ProxyCheckSettings;

/// Instagram settings that are not per account.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub client: ClientConfig,
    pub app_profiles: AppProfiles,
    pub pacing: PacingRules,
    /// Divides publish retry delays (demos and tests; 1 in production).
    pub speed: u32,
    /// Where and how long proxy checks go.
    pub proxy_check: ProxyCheckSettings,
    /// An account's proxy is checked again before it acts when its last check is older.
    pub proxy_recheck: std::time::Duration,
    /// How long Instagram's slow-down answers pause an account.
    pub cooldowns: Cooldowns,
    /// After this many failed actions in a row the account pauses for
    /// [`Cooldowns::failed_attempts`]; 0 never.
    pub max_failed_attempts: u32,
    /// Where what needs a person is reported.
    pub alerts: AlertSettings,
    /// How many accounts' clients a process keeps between their actions.
    pub client_cache: ClientCacheSettings,
    /// How many accounts' own copies of the media a worker makes at once.
    pub variants: VariantSettings,
}

/// How many copies of the media (`media_variants`) a worker makes at once.
#[derive(Debug, Clone, Copy)]
pub struct VariantSettings {
    pub concurrency: usize,
}

impl Default for VariantSettings {
    fn default() -> Self {
        Self { concurrency: 1 }
    }
}

/// Cooldown lengths icf chooses (Instagram does not say how long to wait).
#[derive(Debug, Clone)]
pub struct Cooldowns {
    /// "Please wait a few minutes before you try again."
    pub please_wait: chrono::Duration,
    /// `feedback_required`: an action block.
    pub feedback: chrono::Duration,
    /// After `max_failed_attempts` failures in a row.
    pub failed_attempts: chrono::Duration,
}

impl Default for Cooldowns {
    fn default() -> Self {
        Self {
            please_wait: icf_instagram::error::PLEASE_WAIT_COOLDOWN,
            feedback: icf_instagram::error::FEEDBACK_COOLDOWN,
            failed_attempts: chrono::Duration::hours(1),
        }
    }
}
