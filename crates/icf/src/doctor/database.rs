//! The database: reachable, and every migration applied.

use std::path::Path;
use std::time::Duration;

use icf_store::{Db, PoolSettings};

use super::report::{Check, one_line};
use crate::config::{Settings, redact_url};

pub(super) async fn database(settings: &Settings) -> Result<(Db, Check), Check> {
    const NAME: &str = "database";
    let shown = redact_url(&settings.database.url);
    // Connecting would create a missing SQLite file: say it is missing instead.
    if let Some(path) = settings.database.url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !Path::new(path).exists() {
            return Err(Check::fail(
                NAME,
                format!("{shown}: the file does not exist"),
                "run `icf migrate` to create it, or point DATABASE_URL at the existing database",
            ));
        }
    }
    let pool = PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    match Db::connect(&settings.database.url, &pool).await {
        Ok(db) => match db.readiness().await {
            Ok(_) => Ok((db, Check::ok(NAME, format!("{shown} is reachable")))),
            Err(e) => Err(Check::fail(
                NAME,
                format!("{shown}: {}", one_line(&e.to_string())),
                "check that the database server is running and DATABASE_URL's user may read it",
            )),
        },
        Err(e) => Err(Check::fail(
            NAME,
            format!("cannot connect to {shown}: {}", one_line(&e.to_string())),
            "check that the database server is running and reachable from here, and \
             DATABASE_URL's host, port, user, password and database name",
        )),
    }
}

pub(super) async fn migrations(db: &Db) -> (Check, bool) {
    const NAME: &str = "migrations";
    let known = db.known_migrations().len();
    match db.readiness().await {
        Ok(r) if r.pending_migrations == 0 => (
            Check::ok(NAME, format!("all {known} applied, none pending")),
            true,
        ),
        Ok(r) => (
            Check::fail(
                NAME,
                format!("{} of {known} not applied", r.pending_migrations),
                "run `icf migrate` (or start `icf serve` with ICF_AUTO_MIGRATE=true)",
            ),
            false,
        ),
        Err(e) => (
            Check::fail(
                NAME,
                format!("cannot read them: {}", one_line(&e.to_string())),
                "check DATABASE_URL's user may read _sqlx_migrations",
            ),
            false,
        ),
    }
}
