//! icf's configuration: one typed struct, read once at start from the environment (and an
//! optional `.env` file). The specification's variable names are kept; the rest are `ICF_*`.
//!
//! The settings come in sections, one file each, each parsed by its own `from_vars`
//! (database, server, auth, telemetry, media, translation, instagram, proxies, pacing,
//! worker, alerts); the variables are read through `vars::Vars`, the same way for all.
//!
//! A bad value stops icf with a message that names the variable and what it expects.
//! Secret values are never echoed in those messages.

use std::path::PathBuf;

use icf_translate::TranslationConfig;

mod alerts;
mod auth;
mod database;
mod instagram;
mod media;
mod pacing;
mod proxies;
mod server;
mod telemetry;
mod translation;
mod vars;
mod worker;

pub use alerts::AlertSettings;
pub use auth::AuthSettings;
pub use database::DatabaseSettings;
pub use instagram::{DEFAULT_INSTAGRAM_API_URL, InstagramSettings};
pub use media::MediaSettings;
pub use pacing::PacingSettings;
pub use proxies::{DEFAULT_PROXY_CHECK_URL, ProxySettings};
pub use server::ServerSettings;
pub use telemetry::{LogFormat, TelemetrySettings};
pub use translation::TranslationSettings;
pub use vars::{ConfigError, redact_url};
pub use worker::WorkerSettings;

use vars::Vars;

/// Every setting of icf. Built by [`Settings::from_env`] or, in tests, [`Settings::from_lookup`].
#[derive(Clone)]
pub struct Settings {
    /// `ICF_DATA_DIR` (default `./data`): the SQLite file, uploads, generated keys.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    pub media: MediaSettings,
    pub translation: TranslationSettings,
    pub instagram: InstagramSettings,
    pub proxies: ProxySettings,
    pub pacing: PacingSettings,
    pub worker: WorkerSettings,
    pub alerts: AlertSettings,
}

impl std::fmt::Debug for Settings {
    // Hand-written so the URL's password and the keys never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database.url))
            .field("data_dir", &self.data_dir)
            .field("listen", &self.server.listen)
            .field(
                "secret_key",
                &self.auth.secret_key.as_ref().map(|_| "[set]"),
            )
            .field(
                "encryption_keys",
                &self.auth.encryption_keys.as_ref().map(|_| "[set]"),
            )
            .field("max_concurrent_tasks", &self.worker.max_concurrent_tasks)
            .field("media_dir", &self.media.dir)
            .field("s3_bucket", &self.media.s3.as_ref().map(|s| &s.bucket))
            .field("translation_provider", &self.translation.provider)
            .field(
                "translation_fallback_provider",
                &self.translation.fallback_provider,
            )
            .field(
                "deepl_api_key",
                &self.translation.deepl_api_key.as_ref().map(|_| "[set]"),
            )
            .field("job_lease_secs", &self.worker.job_lease_secs)
            .field("job_retention_days", &self.worker.job_retention_days)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads `.env` (if present in the working directory; real environment variables win)
    /// and the environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(ConfigError::new(".env", format!("cannot read: {e}")));
        }
        Settings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the settings from any source of variables (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let vars = Vars::new(&lookup);
        let data_dir = vars
            .nonblank("ICF_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database = DatabaseSettings::from_vars(&vars, &data_dir)?;
        let server = ServerSettings::from_vars(&vars)?;
        let auth = AuthSettings::from_vars(&vars)?;
        let pacing = PacingSettings::from_vars(&vars)?;
        let worker = WorkerSettings::from_vars(&vars)?;
        let telemetry = TelemetrySettings::from_vars(&vars)?;
        let media = MediaSettings::from_vars(&vars, &data_dir)?;
        let translation = TranslationSettings::from_vars(&vars)?;
        let instagram = InstagramSettings::from_vars(&vars)?;
        // The default check reaches the Instagram icf talks to, so it follows the API URL.
        let proxies = ProxySettings::from_vars(&vars, &instagram.api_url)?;
        let alerts = AlertSettings::from_vars(&vars)?;
        Ok(Settings {
            data_dir,
            database,
            server,
            auth,
            telemetry,
            media,
            translation,
            instagram,
            proxies,
            pacing,
            worker,
            alerts,
        })
    }

    /// Creates the data dir and fills in `SECRET_KEY` and `ENCRYPTION_KEY` from files in
    /// it, generating them (mode 0600) on first start. Returns the variables that were
    /// generated, so the caller can warn.
    pub fn ensure_secrets(&mut self) -> Result<Vec<&'static str>, ConfigError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            ConfigError::new(
                "ICF_DATA_DIR",
                format!("cannot create {}: {e}", self.data_dir.display()),
            )
        })?;
        self.auth.ensure_keys(&self.data_dir)
    }

    /// What the translation service is built from; `primary: None` when no provider is set.
    /// The translator keeps the caption rules that saving and publishing check.
    pub fn translation_config(&self) -> TranslationConfig {
        self.translation.config(self.instagram.caption_rules)
    }
}

#[cfg(test)]
mod tests;
