//! The database: where it is, how many connections, whether `serve` migrates it.

use std::path::Path;

use super::vars::{ConfigError, Vars, redact_url};

/// Where the database is and how it is used.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`; default `sqlite://$ICF_DATA_DIR/icf.db`.
    pub url: String,
    /// `ICF_DB_MAX_CONNECTIONS` (default 10)
    pub max_connections: u32,
    /// `ICF_AUTO_MIGRATE` (default true): apply migrations when `serve` starts.
    pub auto_migrate: bool,
}

impl DatabaseSettings {
    /// The default SQLite file lives in the data dir.
    pub(crate) fn from_vars(vars: &Vars, data_dir: &Path) -> Result<Self, ConfigError> {
        Ok(Self {
            url: url(vars, data_dir)?,
            max_connections: vars.ranged("ICF_DB_MAX_CONNECTIONS", 10u32, 1, 500)?,
            auto_migrate: vars.parse("ICF_AUTO_MIGRATE", true, "true or false")?,
        })
    }
}

fn url(vars: &Vars, data_dir: &Path) -> Result<String, ConfigError> {
    let Some(url) = vars.text("DATABASE_URL") else {
        return Ok(format!("sqlite://{}", data_dir.join("icf.db").display()));
    };
    if icf_store::DbKind::from_url(&url).is_none() {
        // Redacted: a mistyped scheme still carries the password.
        return Err(ConfigError::new(
            "DATABASE_URL",
            format!(
                "expected a URL starting with sqlite:// or postgres://, got '{}'",
                redact_url(&url)
            ),
        ));
    }
    Ok(url)
}
