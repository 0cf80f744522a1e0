//! What icf tells its operators: the log format, Sentry, and who may read `/metrics`.

use secrecy::SecretString;

use super::vars::{ConfigError, Vars};

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs, error reports and metrics.
#[derive(Clone)]
pub struct TelemetrySettings {
    /// `ICF_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `SENTRY_DSN` (optional)
    pub sentry_dsn: Option<SecretString>,
    /// `ICF_METRICS_TOKEN`: when set, `GET /metrics` requires `Authorization: Bearer <it>`.
    pub metrics_token: Option<SecretString>,
}

impl TelemetrySettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let log_format = match vars.get("ICF_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("") | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "ICF_LOG_FORMAT",
                    format!("expected 'text' or 'json', got '{other}'"),
                ));
            }
        };
        Ok(Self {
            log_format,
            sentry_dsn: vars.secret("SENTRY_DSN"),
            metrics_token: vars.secret("ICF_METRICS_TOKEN"),
        })
    }
}
