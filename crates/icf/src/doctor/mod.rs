//! `icf doctor`: one line per check of a deployment, OK, WARN or FAIL, and for every
//! failure the fix. Read-only except for one small object written to and removed from the
//! media store. Never prints a secret: keys, passwords and provider keys stay out of every
//! line, and HTTP errors are printed without their URL (Google's key travels in it).

use chrono::Utc;

use crate::config::Settings;

mod app_profile;
mod configuration;
mod database;
mod encryption;
mod media;
mod proxies;
mod report;
mod tools;
mod translation;
mod workers;

pub use app_profile::estimated_release;
pub use report::{Check, Level, config_failure, print};

use app_profile::app_profile;
use configuration::configuration;
use database::{database, migrations};
use encryption::encryption_key;
use media::media_storage;
use proxies::proxies;
use tools::tools;
use translation::translation;
use workers::workers;

/// Runs every check against the deployment the settings describe.
pub async fn run(settings: &Settings) -> Vec<Check> {
    let mut checks = vec![configuration(settings)];
    let db = match database(settings).await {
        Ok((db, check)) => {
            checks.push(check);
            Some(db)
        }
        Err(check) => {
            checks.push(check);
            None
        }
    };
    let migrated = match &db {
        Some(db) => {
            let (check, migrated) = migrations(db).await;
            checks.push(check);
            migrated
        }
        None => false,
    };
    let usable_db = db.as_ref().filter(|_| migrated);
    checks.push(encryption_key(settings, usable_db).await);
    checks.extend(tools().await);
    checks.push(media_storage(settings).await);
    checks.extend(translation(settings).await);
    checks.push(proxies(usable_db).await);
    checks.push(workers(settings, usable_db).await);
    checks.push(app_profile(settings, Utc::now().date_naive()));
    if let Some(db) = db {
        db.close().await;
    }
    checks
}
