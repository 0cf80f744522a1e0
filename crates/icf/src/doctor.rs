//! `icf doctor`: one line per check of a deployment, OK, WARN or FAIL, and for every
//! failure the fix. Read-only except for one small object written to and removed from the
//! media store. Never prints a secret: keys, passwords and provider keys stay out of every
//! line, and HTTP errors are printed without their URL (Google's key travels in it).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use icf_crypto::Cipher;
use icf_store::{Db, PoolSettings};
use icf_translate::{ProviderConfig, ProviderKind};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{ConfigError, Settings, redact_url};

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub level: Level,
    pub name: &'static str,
    pub detail: String,
    /// What to do about it; set for every FAIL and most WARNs.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            level: Level::Ok,
            name,
            detail: detail.into(),
            fix: None,
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Warn,
            name,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Fail,
            name,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4} {}: {}",
            self.level.label(),
            self.name,
            self.detail
        )?;
        if let Some(fix) = &self.fix {
            write!(f, "\n     fix: {fix}")?;
        }
        Ok(())
    }
}

/// The line for settings that did not parse (the other checks cannot run then).
pub fn config_failure(error: &ConfigError) -> Check {
    Check::fail(
        "configuration",
        error.to_string(),
        format!(
            "correct {} in the environment or .env (every variable is described in .env.example)",
            error.variable
        ),
    )
}

/// Prints the report; the process should exit non-zero when this returns false.
pub fn print(checks: &[Check]) -> bool {
    for c in checks {
        println!("{c}");
    }
    let fails = checks.iter().filter(|c| c.level == Level::Fail).count();
    let warns = checks.iter().filter(|c| c.level == Level::Warn).count();
    println!(
        "{} checks: {} failed, {} warnings",
        checks.len(),
        fails,
        warns
    );
    fails == 0
}

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

fn configuration(settings: &Settings) -> Check {
    let engine = icf_store::DbKind::from_url(&settings.database_url)
        .map(|e| e.as_str())
        .unwrap_or("?");
    let media = match &settings.s3 {
        Some(s3) => format!("S3 bucket {}", s3.bucket),
        None => format!("{}", settings.media_dir.display()),
    };
    let detail = format!(
        "parsed; database {engine}, media in {media}, listening on {}",
        settings.listen
    );
    // Several processes share a PostgreSQL database; each would generate its own keys.
    let unset: Vec<&str> = [
        ("SECRET_KEY", settings.secret_key.is_none()),
        ("ENCRYPTION_KEY", settings.encryption_keys.is_none()),
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

async fn database(settings: &Settings) -> Result<(Db, Check), Check> {
    const NAME: &str = "database";
    let shown = redact_url(&settings.database_url);
    // Connecting would create a missing SQLite file: say it is missing instead.
    if let Some(path) = settings.database_url.strip_prefix("sqlite://") {
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
    match Db::connect(&settings.database_url, &pool).await {
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

async fn migrations(db: &Db) -> (Check, bool) {
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

/// The keys `icf serve` would use: `ENCRYPTION_KEY`, else the file generated in the data
/// dir. The doctor never generates one.
fn resolve_keys(settings: &Settings) -> Result<Option<(SecretString, &'static str)>, String> {
    if let Some(keys) = &settings.encryption_keys {
        return Ok(Some((keys.clone(), "ENCRYPTION_KEY")));
    }
    let path = settings.data_dir.join("encryption_key");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some((
            SecretString::from(text.trim().to_owned()),
            "the key file in ICF_DATA_DIR",
        ))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// How many stored secrets of each kind are tried: enough to catch a wrong key, few
/// enough to stay fast with thousands of accounts.
const SECRET_SAMPLE: usize = 50;

async fn encryption_key(settings: &Settings, db: Option<&Db>) -> Check {
    const NAME: &str = "encryption key";
    let fix_wrong = "set ENCRYPTION_KEY to the key the secrets were encrypted with; when \
                     rotating, list the new key first and the old one after it, comma-separated, \
                     then run `icf rotate-keys`";
    let keys = match resolve_keys(settings) {
        Ok(k) => k,
        Err(e) => {
            return Check::fail(
                NAME,
                e,
                "make the data dir readable by the user icf runs as",
            );
        }
    };
    let cipher = match &keys {
        Some((k, _)) => match Cipher::from_keys(k) {
            Ok(c) => Some(c),
            Err(e) => return Check::fail(NAME, e.to_string(), fix_wrong),
        },
        None => None,
    };
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked against stored secrets: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    let mut tokens: Vec<String> = Vec::new();
    match icf_store::accounts::all_secrets(db).await {
        Ok(accounts) => {
            for (_, s) in accounts.into_iter().take(SECRET_SAMPLE) {
                tokens.push(s.password_enc);
                tokens.extend(s.session_data_enc);
                tokens.extend(s.totp_secret_enc);
            }
        }
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot read the accounts: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    }
    match icf_store::proxies::all_credentials(db).await {
        Ok(proxies) => tokens.extend(
            proxies
                .into_iter()
                .take(SECRET_SAMPLE)
                .map(|(_, token)| token),
        ),
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot read the proxies: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    }
    let Some(cipher) = cipher else {
        return if tokens.is_empty() {
            Check::warn(
                NAME,
                "ENCRYPTION_KEY is not set and none was generated yet; no secret is stored",
                "set ENCRYPTION_KEY (a Fernet key, see .env.example) before adding accounts, \
                 or let `icf serve` generate one into ICF_DATA_DIR and back that file up",
            )
        } else {
            Check::fail(
                NAME,
                format!(
                    "ENCRYPTION_KEY is not set and ICF_DATA_DIR has no key file, but {} \
                     secrets are stored",
                    tokens.len()
                ),
                fix_wrong,
            )
        };
    };
    let source = keys.map(|(_, s)| s).unwrap_or("ENCRYPTION_KEY");
    if tokens.is_empty() {
        return Check::ok(NAME, format!("{source} is valid; no secret is stored yet"));
    }
    let total = tokens.len();
    let failed = tokens.iter().filter(|t| cipher.decrypt(t).is_err()).count();
    if failed > 0 {
        return Check::fail(
            NAME,
            format!("{failed} of {total} sampled secrets do not decrypt with {source}"),
            fix_wrong,
        );
    }
    let old = tokens.iter().filter(|t| !cipher.is_current(t)).count();
    if old > 0 {
        return Check::warn(
            NAME,
            format!(
                "{total} sampled secrets decrypt; {old} are still under an older key of {source}"
            ),
            "run `icf rotate-keys`, then remove the old key from ENCRYPTION_KEY",
        );
    }
    Check::ok(
        NAME,
        format!("{total} sampled secrets decrypt with {source}"),
    )
}

async fn tools() -> Vec<Check> {
    let mut checks = Vec::new();
    for (name, tool) in [("ffmpeg", "ffmpeg"), ("ffprobe", "ffprobe")] {
        let out = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::process::Command::new(tool)
                .arg("-version")
                .stdin(std::process::Stdio::null())
                .output(),
        )
        .await;
        checks.push(match out {
            Ok(Ok(out)) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                let version = text
                    .split_whitespace()
                    .nth(2)
                    .unwrap_or("(unknown version)")
                    .to_owned();
                Check::ok(name, format!("{tool} {version}"))
            }
            Ok(Ok(out)) => Check::fail(
                name,
                format!("`{tool} -version` exited with {}", out.status),
                "reinstall it: `apt-get install ffmpeg`",
            ),
            Ok(Err(e)) => Check::fail(
                name,
                format!("cannot run {tool}: {e}"),
                "install it (`apt-get install ffmpeg`) so that it is on icf's PATH; video \
                 uploads and covers need it",
            ),
            Err(_) => Check::fail(
                name,
                format!("`{tool} -version` did not answer within 10 s"),
                "reinstall it: `apt-get install ffmpeg`",
            ),
        });
    }
    checks
}

async fn media_storage(settings: &Settings) -> Check {
    const NAME: &str = "media storage";
    let (place, fix) = match &settings.s3 {
        Some(s3) => (
            format!("S3 bucket {}", s3.bucket),
            "check ICF_S3_BUCKET (it must exist), ICF_S3_ENDPOINT, ICF_S3_REGION and the \
             access key's write permission on the bucket",
        ),
        None => (
            settings.media_dir.display().to_string(),
            "create ICF_MEDIA_DIR and make it writable by the user icf runs as \
             (e.g. `chown -R icf: /var/lib/icf`)",
        ),
    };
    let store = match crate::startup::media_store(settings) {
        Ok(s) => s,
        Err(e) => return Check::fail(NAME, format!("{place}: {e:#}"), fix),
    };
    // Uploads are staged on local disk first, whatever the store.
    let staging = store
        .staging_dir()
        .join(format!(".doctor-{}", uuid::Uuid::new_v4()));
    if let Err(e) = tokio::fs::write(&staging, b"icf doctor").await {
        return Check::fail(
            NAME,
            format!(
                "cannot write to the staging dir {}: {e}",
                store.staging_dir().display()
            ),
            "make ICF_MEDIA_DIR (its .staging folder) writable by the user icf runs as",
        );
    }
    let _ = tokio::fs::remove_file(&staging).await;
    let key = icf_media::storage::MediaKey::generate("doctor", "txt");
    let body = bytes::Bytes::from_static(b"icf doctor");
    let result = async {
        store.put_bytes(&key, body.clone()).await?;
        let back = store.get(&key).await?;
        store.delete(&key).await?;
        if settings.s3.is_none() {
            // The folder the probe created; removed only when empty.
            let _ = tokio::fs::remove_dir(settings.media_dir.join("doctor")).await;
        }
        Ok::<_, icf_media::MediaError>(back == body)
    };
    match tokio::time::timeout(Duration::from_secs(30), result).await {
        Ok(Ok(true)) => Check::ok(NAME, format!("{place} is writable")),
        Ok(Ok(false)) => Check::fail(
            NAME,
            format!("{place}: an object read back differs from what was written"),
            fix,
        ),
        Ok(Err(e)) => Check::fail(NAME, format!("{place}: {}", one_line(&e.to_string())), fix),
        Err(_) => Check::fail(NAME, format!("{place}: no answer within 30 s"), fix),
    }
}

async fn translation(settings: &Settings) -> Vec<Check> {
    const NAME: &str = "translation";
    let config = settings.translation_config();
    let Some(primary) = config.primary else {
        return vec![Check::ok(
            NAME,
            "no provider configured: captions are written by hand in each language",
        )];
    };
    let timeout = Duration::from_secs(settings.translation_timeout_secs.max(1));
    let mut checks = vec![provider(NAME, &primary, timeout).await];
    if let Some(fallback) = config.fallback {
        checks.push(provider("translation fallback", &fallback, timeout).await);
    }
    checks
}

/// A provider's cheapest authenticated request: DeepL's usage (which is also its quota),
/// Google's and LibreTranslate's language lists.
async fn provider(name: &'static str, config: &ProviderConfig, timeout: Duration) -> Check {
    let kind = config.kind();
    let client = match reqwest::Client::builder()
        .user_agent(concat!("icf-doctor/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return Check::fail(name, format!("cannot build an HTTP client: {e}"), "-"),
    };
    let (request, host, key_var) = match config {
        ProviderConfig::DeepL { key, base_url, .. } => {
            let base = base_url.clone().unwrap_or_else(|| {
                icf_translate::provider::deepl::host_for_key(key.expose_secret()).to_owned()
            });
            (
                client.get(format!("{base}/v2/usage")).header(
                    "Authorization",
                    format!("DeepL-Auth-Key {}", key.expose_secret()),
                ),
                base,
                "DEEPL_API_KEY",
            )
        }
        ProviderConfig::Google { key, base_url } => {
            let base = base_url
                .clone()
                .unwrap_or_else(|| "https://translation.googleapis.com".to_owned());
            let url = match reqwest::Url::parse_with_params(
                &format!("{base}/language/translate/v2/languages"),
                &[("key", key.expose_secret()), ("target", "en")],
            ) {
                Ok(u) => u,
                Err(e) => {
                    return Check::fail(
                        name,
                        format!("google: not a URL: {e}"),
                        "check GOOGLE_TRANSLATE_API_URL",
                    );
                }
            };
            (client.get(url), base, "GOOGLE_TRANSLATE_API_KEY")
        }
        ProviderConfig::LibreTranslate { url, .. } => (
            client.get(format!("{url}/languages")),
            url.clone(),
            "LIBRETRANSLATE_API_KEY",
        ),
    };
    let host = redact_url(&host);
    let label = kind.as_str();
    let resp = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            // Without the URL: Google's key is a query parameter.
            return Check::fail(
                name,
                format!(
                    "{label} at {host} is unreachable: {}",
                    one_line(&chain(&e.without_url()))
                ),
                "check this machine's outbound HTTPS (firewall, DNS, proxy) and the provider's \
                 URL setting",
            );
        }
    };
    let status = resp.status();
    if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::UNAUTHORIZED {
        return Check::fail(
            name,
            format!("{label} at {host} refused the key ({status})"),
            format!("check {key_var}: it is wrong, revoked or for another account"),
        );
    }
    if !status.is_success() {
        return Check::fail(
            name,
            format!("{label} at {host} answered {status}"),
            "check the provider's status page and URL setting; try again later",
        );
    }
    if kind != ProviderKind::DeepL {
        return Check::ok(
            name,
            format!("{label} at {host} is reachable (it has no quota endpoint)"),
        );
    }
    #[derive(serde::Deserialize)]
    struct Usage {
        character_count: u64,
        character_limit: u64,
    }
    match resp.json::<Usage>().await {
        Ok(u) if u.character_limit > 0 => {
            let used = u.character_count as f64 * 100.0 / u.character_limit as f64;
            let detail = format!(
                "{label} at {host} is reachable; {} of {} characters used this period ({used:.0}%)",
                u.character_count, u.character_limit
            );
            if used >= 90.0 {
                Check::warn(
                    name,
                    detail,
                    "raise the DeepL plan's limit, or set TRANSLATION_FALLBACK_PROVIDER",
                )
            } else {
                Check::ok(name, detail)
            }
        }
        Ok(u) => Check::ok(
            name,
            format!(
                "{label} at {host} is reachable; {} characters used, no limit",
                u.character_count
            ),
        ),
        Err(_) => Check::warn(
            name,
            format!("{label} at {host} is reachable, but its usage answer was not understood"),
            "check DEEPL_API_URL points at DeepL's API",
        ),
    }
}

async fn proxies(db: Option<&Db>) -> Check {
    const NAME: &str = "proxies";
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    let snapshot = match icf_store::stats::metrics(db, Utc::now()).await {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot count them: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    };
    let count = |rows: &[(String, i64)], status: &str| {
        rows.iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let total: i64 = snapshot.proxies.iter().map(|(_, n)| n).sum();
    let accounts: i64 = snapshot.accounts.iter().map(|(_, n)| n).sum();
    let active = count(&snapshot.proxies, "active");
    let failed = count(&snapshot.proxies, "failed");
    let checking = count(&snapshot.proxies, "checking");
    let detail = format!(
        "{total} in the pool: {active} active, {failed} failed, {checking} being checked; \
         {accounts} accounts"
    );
    if accounts > 0 && active == 0 {
        Check::fail(
            NAME,
            detail,
            "every account publishes through its own proxy: add working proxies \
             (`icf proxies import`) and assign them to the accounts",
        )
    } else if failed > 0 {
        Check::warn(
            NAME,
            detail,
            "re-check the failed ones (POST /api/proxies/{id}/check) and replace those that \
             stay failed",
        )
    } else {
        Check::ok(NAME, detail)
    }
}

/// A due job left waiting longer than this means nothing is running the queue.
const STUCK_AFTER_SECS: i64 = 300;

async fn workers(settings: &Settings, db: Option<&Db>) -> Check {
    const NAME: &str = "workers";
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    // Workers report every lease period; two missed reports mean gone.
    let lease = i64::try_from(settings.job_lease_secs).unwrap_or(60);
    let alive_since = Utc::now() - chrono::Duration::seconds(lease * 2);
    let q = match icf_store::jobs::overview(db, alive_since, 0).await {
        Ok(q) => q,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot read the queue: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    };
    let waiting_secs = q
        .oldest_waiting_since
        .map(|t| (Utc::now() - t).num_seconds().max(0));
    let detail = format!(
        "{} live worker{} ({} job slots); {}",
        q.workers.len(),
        if q.workers.len() == 1 { "" } else { "s" },
        q.workers
            .iter()
            .map(|w| i64::from(w.concurrency))
            .sum::<i64>(),
        match waiting_secs {
            Some(s) => format!("the oldest due job has waited {s} s"),
            None => "no job is waiting".to_owned(),
        }
    );
    match waiting_secs {
        Some(s) if s > STUCK_AFTER_SECS && q.workers.is_empty() => Check::fail(
            NAME,
            detail,
            "start workers: `icf worker` (or `icf serve` without --no-worker; with compose,              `docker compose up -d worker`)",
        ),
        Some(s) if s > STUCK_AFTER_SECS => Check::warn(
            NAME,
            detail,
            "the workers cannot keep up: add some (`--scale worker=N`, more icf-worker@N              units) or look for jobs stuck on one account (`icf jobs status`)",
        ),
        _ => Check::ok(NAME, detail),
    }
}

/// Instagram ships a new major version of its Android app every week; the profiles carry
/// no dates, so the age is reckoned from the major version against one known release.
const KNOWN_RELEASE: (u32, (i32, u32, u32)) = (449, (2026, 10, 1));
/// Past this, Instagram starts answering old app versions with `needs_upgrade`.
const STALE_AFTER_DAYS: i64 = 120;

/// The estimated release date of an app version like `449.0.0.52.84`.
pub fn estimated_release(app_version: &str) -> Option<NaiveDate> {
    let major: i64 = app_version.split('.').next()?.parse().ok()?;
    let (known_major, (y, m, d)) = KNOWN_RELEASE;
    let known = NaiveDate::from_ymd_opt(y, m, d)?;
    known.checked_add_signed(chrono::Duration::weeks(major - i64::from(known_major)))
}

fn app_profile(settings: &Settings, today: NaiveDate) -> Check {
    const NAME: &str = "instagram app profile";
    let profile = settings.instagram_app_profiles.default_profile();
    let version = &profile.app_version;
    let source = if std::env::var_os("INSTAGRAM_APP_PROFILE").is_some_and(|v| !v.is_empty()) {
        "INSTAGRAM_APP_PROFILE"
    } else {
        "built in"
    };
    let Some(released) = estimated_release(version) else {
        return Check::warn(
            NAME,
            format!("default {version} ({source}): its age cannot be estimated"),
            "check the version against the current Instagram release (INSTAGRAM.md)",
        );
    };
    let days = (today - released).num_days().max(0);
    let detail =
        format!("default {version} ({source}), released about {released} ({days} days ago)");
    if days > STALE_AFTER_DAYS {
        Check::warn(
            NAME,
            detail,
            "put a current release (app_version, version_code, bloks_versioning_id) into a \
             profile file and point INSTAGRAM_APP_PROFILE at it (see INSTAGRAM.md)",
        )
    } else {
        Check::ok(NAME, detail)
    }
}

/// An error with its causes ("error sending request" alone says little).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = s.source();
    }
    text
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 300 {
        line.chars().take(300).collect::<String>() + "…"
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_versions_are_dated_a_week_per_major_release() {
        assert_eq!(
            estimated_release("449.0.0.52.84"),
            NaiveDate::from_ymd_opt(2026, 10, 1)
        );
        assert_eq!(
            estimated_release("448.0.0.0.20"),
            NaiveDate::from_ymd_opt(2026, 9, 24)
        );
        assert_eq!(estimated_release("x.0"), None);
    }

    #[test]
    fn a_failure_prints_its_fix_on_the_next_line() {
        let c = Check::fail("database", "cannot connect", "start it");
        assert_eq!(
            c.to_string(),
            "FAIL database: cannot connect\n     fix: start it"
        );
        assert_eq!(Check::ok("x", "fine").to_string(), "OK   x: fine");
        assert!(!print(&[c]));
    }

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

    #[test]
    fn a_config_failure_names_the_variable() {
        let e = ConfigError {
            variable: "ICF_LISTEN",
            problem: "expected an address".into(),
        };
        let c = config_failure(&e);
        assert_eq!(c.level, Level::Fail);
        assert!(c.fix.as_deref().unwrap().contains("ICF_LISTEN"));
    }
}
