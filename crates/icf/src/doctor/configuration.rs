//! The settings as parsed, and the keys several processes must share.

use super::report::Check;
use crate::config::Settings;

pub(super) fn configuration(settings: &Settings) -> Check {
    let engine = icf_store::DbKind::from_url(&settings.database.url)
        .map(|e| e.as_str())
        .unwrap_or("?");
    let media = match &settings.media.s3 {
        Some(s3) => format!("S3 bucket {}", s3.bucket),
        None => format!("{}", settings.media.dir.display()),
    };
    let detail = format!(
        "parsed; database {engine}, media in {media}, listening on {}",
        settings.server.listen
    );
    // Several processes share a PostgreSQL database; each would generate its own keys.
    let unset: Vec<&str> = [
        ("SECRET_KEY", settings.auth.secret_key.is_none()),
        ("ENCRYPTION_KEY", settings.auth.encryption_keys.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, missing)| missing.then_some(name))
    .collect();
    if engine == "postgres" && !unset.is_empty() {
        return Check::warn(
            "configuration",
            format!(
                "{detail}; {} not set (taken from or generated into ICF_DATA_DIR)",
                unset.join(" and ")
            ),
            "with PostgreSQL, every icf process (web and workers, on every machine) needs the              same keys: set them explicitly from the data dir's files",
        );
    }
    Check::ok("configuration", detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Level;

    #[test]
    fn a_postgres_deployment_with_generated_keys_is_warned() {
        let settings = |vars: &[(&str, &str)]| {
            let map: std::collections::HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Settings::from_lookup(|k| map.get(k).cloned()).unwrap()
        };
        let pg = ("DATABASE_URL", "postgres://icf:pw@db/icf");
        let c = configuration(&settings(&[pg]));
        assert_eq!(c.level, Level::Warn);
        assert!(
            c.detail.contains("SECRET_KEY and ENCRYPTION_KEY not set"),
            "{c}"
        );
        assert!(!c.detail.contains("pw@"), "{c}");
        let key = fernet::Fernet::generate_key();
        let secret = "0123456789abcdef0123456789abcdef";
        let both = [pg, ("SECRET_KEY", secret), ("ENCRYPTION_KEY", key.as_str())];
        assert_eq!(configuration(&settings(&both)).level, Level::Ok);
        // One process on SQLite may keep its keys in the data dir.
        assert_eq!(configuration(&settings(&[])).level, Level::Ok);
    }
}
