//! icf's configuration: one typed struct, read once at start from the environment (and an
//! optional `.env` file). The specification's variable names are kept; the rest are `ICF_*`.
//!
//! A bad value stops icf with a message that names the variable and what it expects.
//! Secret values are never echoed in those messages.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use icf_core::caption::CaptionRules;
use icf_core::language::Language;
use icf_translate::{ProviderConfig, ProviderKind, RetryPolicy, TranslationConfig};
use secrecy::{ExposeSecret, SecretString};

/// A variable with a value icf cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of icf. Built by [`Settings::from_env`] or, in tests, [`Settings::from_lookup`].
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`; default `sqlite://$ICF_DATA_DIR/icf.db`.
    pub database_url: String,
    /// `ICF_DATA_DIR` (default `./data`): the SQLite file, uploads, generated keys.
    pub data_dir: PathBuf,
    /// `ICF_LISTEN` (default `127.0.0.1:8000`).
    pub listen: SocketAddr,
    /// `SECRET_KEY`: signs the JWTs. Generated into the data dir when unset.
    pub secret_key: Option<SecretString>,
    /// `ENCRYPTION_KEY`: comma-separated Fernet keys, first encrypts, all decrypt.
    /// Generated into the data dir when unset.
    pub encryption_keys: Option<SecretString>,
    /// `DEEPL_API_KEY`
    pub deepl_api_key: Option<SecretString>,
    /// `GOOGLE_TRANSLATE_API_KEY`
    pub google_translate_api_key: Option<SecretString>,
    /// `TRANSLATION_PROVIDER` (`deepl`, `google`, `libretranslate` or `none`); when unset,
    /// the first provider with credentials: DeepL, then Google, then LibreTranslate.
    pub translation_provider: Option<ProviderKind>,
    /// `TRANSLATION_FALLBACK_PROVIDER`: used when the first provider's quota is used up.
    pub translation_fallback_provider: Option<ProviderKind>,
    /// `DEEPL_API_URL`: overrides the host picked from the key (`:fx` → Free).
    pub deepl_api_url: Option<String>,
    /// `GOOGLE_TRANSLATE_API_URL` (default `https://translation.googleapis.com`).
    pub google_translate_api_url: Option<String>,
    /// `LIBRETRANSLATE_URL`: a LibreTranslate server.
    pub libretranslate_url: Option<String>,
    /// `LIBRETRANSLATE_API_KEY` (optional).
    pub libretranslate_api_key: Option<SecretString>,
    /// `TRANSLATION_ENGLISH_VARIANT` (`en-US` default, or `en-GB`): what plain `en` means.
    pub translation_english_variant: Language,
    /// `TRANSLATION_PORTUGUESE_VARIANT` (`pt-BR` default, or `pt-PT`): what plain `pt` means.
    pub translation_portuguese_variant: Language,
    /// Instagram's caption rules, checked for every language's caption on save and on
    /// publish, shown by the UI's counters and kept by the translator:
    /// `ICF_MAX_HASHTAGS` (default 5, Instagram's limit since December 2025; 0 to 30; the
    /// deprecated name `ICF_CAPTION_MAX_HASHTAGS` is still read), `ICF_CAPTION_MAX_MENTIONS`
    /// (default 20) and 2,200 characters.
    pub caption_rules: CaptionRules,
    /// `ICF_TRANSLATION_RETRY_INITIAL_MS` (default 1000): the first backoff delay.
    pub translation_retry_initial_ms: u64,
    /// `ICF_TRANSLATION_MAX_RETRIES` (default 5).
    pub translation_max_retries: u32,
    /// `ICF_TRANSLATION_TIMEOUT_SECS` (default 10): per request attempt.
    pub translation_timeout_secs: u64,
    /// `INSTAGRAM_SESSION_LIFETIME_DAYS` (default 90)
    pub instagram_session_lifetime_days: u32,
    /// `MAX_POSTS_PER_DAY_PER_ACCOUNT` (default 10)
    pub max_posts_per_day_per_account: u32,
    /// `MAX_CONCURRENT_TASKS` (default 50)
    pub max_concurrent_tasks: u32,
    /// `MIN_DELAY_BETWEEN_POSTS_SEC` (default 120)
    pub min_delay_between_posts_sec: u64,
    /// `ICF_SPACING_SCOPE` (`post`, the default, or `global`): which publishes the random
    /// delay separates — the accounts of one post, or every publish in icf.
    pub spacing_scope: icf_core::pacing::SpacingScope,
    /// `MAX_DELAY_BETWEEN_POSTS_SEC` (default 300)
    pub max_delay_between_posts_sec: u64,
    /// `SENTRY_DSN` (optional)
    pub sentry_dsn: Option<SecretString>,
    /// `ICF_AUTO_MIGRATE` (default true): apply migrations when `serve` starts.
    pub auto_migrate: bool,
    /// `ICF_TOKEN_TTL_MINUTES` (default 720): how long a sign-in lasts.
    pub token_ttl_minutes: u32,
    /// `ICF_DB_MAX_CONNECTIONS` (default 10)
    pub db_max_connections: u32,
    /// `ICF_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `ICF_METRICS_TOKEN`: when set, `GET /metrics` requires `Authorization: Bearer <it>`.
    pub metrics_token: Option<SecretString>,
    /// `ICF_MEDIA_DIR` (default `$ICF_DATA_DIR/uploads`): uploaded media on disk.
    pub media_dir: PathBuf,
    /// `ICF_S3_BUCKET` and friends: keep media in S3-compatible storage instead.
    pub s3: Option<icf_media::storage::S3Settings>,
    /// `ICF_MAX_UPLOAD_MB` (default 1024): the largest file, videos included, and what one
    /// post's files may total.
    pub max_upload_mb: u64,
    /// `ICF_MAX_PHOTO_MB` (default 30): the largest photo.
    pub max_photo_mb: u64,
    /// `ICF_MAX_IMAGE_PIXELS` (default 50000000, i.e. 50 megapixels): the most pixels a
    /// photo may have, read from its header before it is decoded. The decoded buffer may
    /// take at most 4 bytes per pixel of it (an 8-bit RGBA image of that size), so a 16-bit
    /// image gets fewer pixels. One decode holds about 8 bytes per pixel of it at most.
    pub max_image_pixels: u64,
    /// `ICF_MEDIA_CONCURRENCY` (default 2): how many photo decodes and ffprobe/ffmpeg runs
    /// go at once; further uploads wait their turn. Bounds their memory together.
    pub media_concurrency: usize,
    /// `ICF_PROXY_CHECK_URL`: what a proxy check fetches through the proxy. Default:
    /// Instagram's robots.txt, or `robots.txt` on `INSTAGRAM_API_URL` when that is set
    /// (a proxy is healthy when it reaches the Instagram icf talks to).
    pub proxy_check_url: String,
    /// `ICF_PROXY_CHECK_TIMEOUT_SECS` (default 10): a check slower than this fails.
    pub proxy_check_timeout_secs: u64,
    /// `ICF_JOB_LEASE_SECS` (default 60): how long a worker holds a job without renewing
    /// it; a job whose worker died runs again about this long after.
    pub job_lease_secs: u64,
    /// `ICF_WORKER_POLL_SECS` (default 5): the safety-net poll of idle workers.
    pub worker_poll_secs: u64,
    /// `ICF_WORKER_SHUTDOWN_GRACE_SECS` (default 30): on SIGTERM, how long running jobs
    /// may finish before they are given back to the queue.
    pub worker_shutdown_grace_secs: u64,
    /// `ICF_JOB_RETENTION_DAYS` (default 14): finished jobs older than this are pruned.
    pub job_retention_days: u32,
    /// `INSTAGRAM_APP_PROFILE`: a JSON file of app profiles replacing the built-in
    /// `crates/instagram/data/app_profiles.json` (read and checked at start).
    pub instagram_app_profiles: icf_instagram::AppProfiles,
    /// `INSTAGRAM_API_URL` (default `https://i.instagram.com`): the simulator in tests/demos.
    pub instagram_api_url: String,
    /// `INSTAGRAM_API_CA`: a PEM file of extra CA certificates to trust for
    /// `INSTAGRAM_API_URL` (the simulator's, from `icf sim instagram --tls`).
    pub instagram_api_ca_pem: Option<String>,
    /// `ICF_PACING_SPEED` (default 1, at most 3600): divides every anti-ban wait (the
    /// same-account gap, the spacing between accounts), Instagram request pacing and
    /// publish retry delays. For demos and tests only; production keeps 1.
    pub pacing_speed: u32,
    /// `ICF_ACCOUNT_CHECK_HOURS` (default 6, 0–168): how often every account's session is
    /// checked by the `check_account_status` job; 0 turns the periodic checks off.
    pub account_check_hours: u32,
    /// `ICF_PROXY_CHECK_MINUTES` (default 30, 0–1440): how often every proxy is checked by
    /// the `check_proxy` job (failing accounts over to the reserve); 0 turns it off.
    pub proxy_check_minutes: u32,
    /// `ICF_PROXY_RECHECK_MINUTES` (default 10, 0–1440): before an account acts, its proxy
    /// is checked again when its last check is older than this.
    pub proxy_recheck_minutes: u32,
    /// `ICF_LOG_RETENTION_DAYS` (default 90, 0–3650): activity logs older than this are
    /// deleted by the periodic upkeep; 0 keeps them.
    pub log_retention_days: u32,
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
    /// `ICF_ALERT_WEBHOOK_URLS`: comma-separated URLs that receive alerts as JSON.
    pub alert_webhook_urls: Vec<String>,
    /// `ICF_TELEGRAM_BOT_TOKEN` and `ICF_TELEGRAM_CHAT_ID`: a Telegram chat for alerts.
    pub telegram_bot_token: Option<SecretString>,
    pub telegram_chat_id: Option<String>,
    /// `ICF_TELEGRAM_API_URL` (default `https://api.telegram.org`).
    pub telegram_api_url: String,
    /// `ICF_ALERT_GROUP_SECS` (default 300, 1–86400): alerts of one kind within this window
    /// go out as one message.
    pub alert_group_secs: u64,
    /// `ICF_ALERT_FAILED_PERCENT` (default 20, 0–100): a post whose failed accounts exceed
    /// this share is reported.
    pub alert_failed_percent: u32,
    /// `ICF_ALERT_POST_COMPLETED` (default false): also report every completed post.
    pub alert_post_completed: bool,
    /// `ICF_TRUST_PROXY_HEADERS` (default false): icf runs behind a reverse proxy (nginx)
    /// on a private or loopback address; the client's address is its `X-Real-IP`.
    pub trust_proxy_headers: bool,
    /// `ICF_HTTP_HEADER_TIMEOUT_SECS` (default 30, 1–600): a client must send a request's
    /// whole head (request line and headers) within this time, and an idle keep-alive
    /// connection is closed after it (waiting for the next request counts as reading its
    /// head). Slow clients cannot hold connections open.
    pub http_header_timeout_secs: u64,
    /// `ICF_HTTP_BODY_TIMEOUT_SECS` (default 60, 1–3600): the longest wait for the next
    /// piece of a request body. It is per piece, not for the whole body, so a large upload
    /// on a slow but moving link is never cut.
    pub http_body_timeout_secs: u64,
    /// `ICF_HTTP_MAX_CONNECTIONS` (default 1024, 1–1000000): open HTTP connections at most;
    /// beyond it new connections wait in the listen queue. Keep it well below the
    /// process's file limit (`ulimit -n`), which database and Instagram connections share.
    pub http_max_connections: usize,
    /// `ICF_SECURE_COOKIES` (default false): mark the UI's cookies `Secure` always, for
    /// icf behind a TLS-terminating proxy. Without it they are `Secure` when the request
    /// says it came over HTTPS (`X-Forwarded-Proto: https` or an `https://` Origin).
    pub secure_cookies: bool,
}

/// The private API's host.
pub const DEFAULT_INSTAGRAM_API_URL: &str = "https://i.instagram.com";

/// Instagram's own host: a proxy that reaches it is what icf needs.
pub const DEFAULT_PROXY_CHECK_URL: &str = "https://www.instagram.com/robots.txt";

impl std::fmt::Debug for Settings {
    // Hand-written so the URL's password and the keys never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[set]"))
            .field(
                "encryption_keys",
                &self.encryption_keys.as_ref().map(|_| "[set]"),
            )
            .field("max_concurrent_tasks", &self.max_concurrent_tasks)
            .field("media_dir", &self.media_dir)
            .field("s3_bucket", &self.s3.as_ref().map(|s| &s.bucket))
            .field("translation_provider", &self.translation_provider)
            .field(
                "translation_fallback_provider",
                &self.translation_fallback_provider,
            )
            .field(
                "deepl_api_key",
                &self.deepl_api_key.as_ref().map(|_| "[set]"),
            )
            .field("job_lease_secs", &self.job_lease_secs)
            .field("job_retention_days", &self.job_retention_days)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

fn parse_var<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    expected: &str,
) -> Result<T, ConfigError>
where
    T::Err: Display,
{
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| ConfigError::new(name, format!("expected {expected}, got '{raw}' ({e})"))),
    }
}

/// A whole number that must lie in `min..=max`.
fn ranged_var<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Display + Copy,
    T::Err: Display,
{
    let expected = format!("a whole number from {min} to {max}");
    let value = parse_var(lookup, name, default, &expected)?;
    if value < min || value > max {
        return Err(ConfigError::new(
            name,
            format!("expected {expected}, got {value}"),
        ));
    }
    Ok(value)
}

/// Comma-separated http(s) URLs.
fn url_list(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let mut urls = Vec::new();
    for raw in lookup(name).unwrap_or_default().split(',') {
        let url = raw.trim();
        if url.is_empty() {
            continue;
        }
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.chars().any(char::is_whitespace)
        {
            return Err(ConfigError::new(
                name,
                "expected http:// or https:// URLs, separated by commas",
            ));
        }
        urls.push(url.to_owned());
    }
    Ok(urls)
}

fn secret_var(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<SecretString> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
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
        let data_dir: PathBuf = lookup("ICF_DATA_DIR")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("./data"));

        let database_url = match lookup("DATABASE_URL").filter(|v| !v.trim().is_empty()) {
            Some(url) => {
                let url = url.trim().to_owned();
                if icf_store::DbKind::from_url(&url).is_none() {
                    return Err(ConfigError::new(
                        "DATABASE_URL",
                        format!(
                            "expected a URL starting with sqlite:// or postgres://, got '{}'",
                            redact_url(&url)
                        ),
                    ));
                }
                url
            }
            None => format!("sqlite://{}", data_dir.join("icf.db").display()),
        };

        let listen = parse_var(
            &lookup,
            "ICF_LISTEN",
            SocketAddr::from(([127, 0, 0, 1], 8000)),
            "an address like 127.0.0.1:8000",
        )?;

        let secret_key = secret_var(&lookup, "SECRET_KEY");
        if let Some(key) = &secret_key
            && key.expose_secret().len() < 32
        {
            return Err(ConfigError::new(
                "SECRET_KEY",
                "expected at least 32 characters (it signs the sign-in tokens); \
                 generate one with `openssl rand -hex 32`",
            ));
        }

        let encryption_keys = secret_var(&lookup, "ENCRYPTION_KEY");
        if let Some(keys) = &encryption_keys {
            validate_fernet_keys(keys.expose_secret())?;
        }

        let min_delay = parse_var(
            &lookup,
            "MIN_DELAY_BETWEEN_POSTS_SEC",
            120u64,
            "a number of seconds",
        )?;
        let max_delay = parse_var(
            &lookup,
            "MAX_DELAY_BETWEEN_POSTS_SEC",
            300u64,
            "a number of seconds",
        )?;
        if min_delay > max_delay {
            return Err(ConfigError::new(
                "MAX_DELAY_BETWEEN_POSTS_SEC",
                format!(
                    "expected at least MIN_DELAY_BETWEEN_POSTS_SEC ({min_delay}), got {max_delay}"
                ),
            ));
        }

        let max_concurrent_tasks = parse_var(
            &lookup,
            "MAX_CONCURRENT_TASKS",
            50u32,
            "a whole number from 1 to 1000",
        )?;
        if !(1..=1000).contains(&max_concurrent_tasks) {
            return Err(ConfigError::new(
                "MAX_CONCURRENT_TASKS",
                format!("expected a whole number from 1 to 1000, got {max_concurrent_tasks}"),
            ));
        }
        let max_posts = parse_var(
            &lookup,
            "MAX_POSTS_PER_DAY_PER_ACCOUNT",
            10u32,
            "a whole number from 1 to 100",
        )?;
        if !(1..=100).contains(&max_posts) {
            return Err(ConfigError::new(
                "MAX_POSTS_PER_DAY_PER_ACCOUNT",
                format!("expected a whole number from 1 to 100, got {max_posts}"),
            ));
        }

        let log_format = match lookup("ICF_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("") | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "ICF_LOG_FORMAT",
                    format!("expected 'text' or 'json', got '{other}'"),
                ));
            }
        };

        let token_ttl_minutes = parse_var(
            &lookup,
            "ICF_TOKEN_TTL_MINUTES",
            720u32,
            "a number of minutes",
        )?;
        if token_ttl_minutes == 0 {
            return Err(ConfigError::new(
                "ICF_TOKEN_TTL_MINUTES",
                "expected a number of minutes above 0",
            ));
        }
        let db_max_connections = parse_var(
            &lookup,
            "ICF_DB_MAX_CONNECTIONS",
            10u32,
            "a whole number from 1 to 500",
        )?;
        if !(1..=500).contains(&db_max_connections) {
            return Err(ConfigError::new(
                "ICF_DB_MAX_CONNECTIONS",
                format!("expected a whole number from 1 to 500, got {db_max_connections}"),
            ));
        }

        let media_dir = lookup("ICF_MEDIA_DIR")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("uploads"));
        let s3 = match lookup("ICF_S3_BUCKET").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(bucket) => {
                let need = |name: &'static str| {
                    lookup(name)
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| ConfigError::new(name, "required when ICF_S3_BUCKET is set"))
                };
                Some(icf_media::storage::S3Settings {
                    bucket: bucket.trim().to_owned(),
                    region: lookup("ICF_S3_REGION")
                        .filter(|v| !v.trim().is_empty())
                        .unwrap_or_else(|| "us-east-1".into()),
                    endpoint: lookup("ICF_S3_ENDPOINT").filter(|v| !v.trim().is_empty()),
                    access_key_id: need("ICF_S3_ACCESS_KEY_ID")?,
                    secret_access_key: need("ICF_S3_SECRET_ACCESS_KEY")?,
                })
            }
        };
        let max_upload_mb = parse_var(
            &lookup,
            "ICF_MAX_UPLOAD_MB",
            1024u64,
            "a number of megabytes",
        )?;
        let max_photo_mb = parse_var(&lookup, "ICF_MAX_PHOTO_MB", 30u64, "a number of megabytes")?;
        if max_upload_mb == 0 || max_photo_mb == 0 {
            return Err(ConfigError::new(
                if max_upload_mb == 0 {
                    "ICF_MAX_UPLOAD_MB"
                } else {
                    "ICF_MAX_PHOTO_MB"
                },
                "expected a number of megabytes above 0",
            ));
        }
        let max_image_pixels = ranged_var(
            &lookup,
            "ICF_MAX_IMAGE_PIXELS",
            icf_media::photo::DEFAULT_MAX_PIXELS,
            100_000,
            1_000_000_000,
        )?;
        let media_concurrency = ranged_var(&lookup, "ICF_MEDIA_CONCURRENCY", 2usize, 1, 64)?;
        let deepl_api_key = secret_var(&lookup, "DEEPL_API_KEY");
        let google_translate_api_key = secret_var(&lookup, "GOOGLE_TRANSLATE_API_KEY");
        let deepl_api_url = url_var(&lookup, "DEEPL_API_URL")?;
        let google_translate_api_url = url_var(&lookup, "GOOGLE_TRANSLATE_API_URL")?;
        let libretranslate_url = url_var(&lookup, "LIBRETRANSLATE_URL")?;
        let has_credentials = |kind: ProviderKind| match kind {
            ProviderKind::DeepL => deepl_api_key.is_some(),
            ProviderKind::Google => google_translate_api_key.is_some(),
            ProviderKind::LibreTranslate => libretranslate_url.is_some(),
        };
        let needs = |kind: ProviderKind| match kind {
            ProviderKind::DeepL => "DEEPL_API_KEY",
            ProviderKind::Google => "GOOGLE_TRANSLATE_API_KEY",
            ProviderKind::LibreTranslate => "LIBRETRANSLATE_URL",
        };
        let translation_provider = match provider_var(&lookup, "TRANSLATION_PROVIDER")? {
            Some(Some(kind)) if !has_credentials(kind) => {
                return Err(ConfigError::new(
                    "TRANSLATION_PROVIDER",
                    format!("is {} but {} is not set", kind.as_str(), needs(kind)),
                ));
            }
            Some(chosen) => chosen,
            None => [
                ProviderKind::DeepL,
                ProviderKind::Google,
                ProviderKind::LibreTranslate,
            ]
            .into_iter()
            .find(|k| has_credentials(*k)),
        };
        let translation_fallback_provider =
            match provider_var(&lookup, "TRANSLATION_FALLBACK_PROVIDER")?.flatten() {
                Some(kind) if !has_credentials(kind) => {
                    return Err(ConfigError::new(
                        "TRANSLATION_FALLBACK_PROVIDER",
                        format!("is {} but {} is not set", kind.as_str(), needs(kind)),
                    ));
                }
                Some(kind)
                    if Some(kind) == translation_provider || translation_provider.is_none() =>
                {
                    return Err(ConfigError::new(
                        "TRANSLATION_FALLBACK_PROVIDER",
                        "must name a provider other than TRANSLATION_PROVIDER",
                    ));
                }
                other => other,
            };
        let translation_english_variant =
            variant_var(&lookup, "TRANSLATION_ENGLISH_VARIANT", &["en-US", "en-GB"])?;
        let translation_portuguese_variant = variant_var(
            &lookup,
            "TRANSLATION_PORTUGUESE_VARIANT",
            &["pt-BR", "pt-PT"],
        )?;
        let caption_rules = CaptionRules {
            max_hashtags: max_hashtags_var(&lookup)?,
            max_mentions: ranged_var(
                &lookup,
                "ICF_CAPTION_MAX_MENTIONS",
                CaptionRules::INSTAGRAM.max_mentions,
                0,
                CaptionRules::INSTAGRAM.max_mentions,
            )?,
            ..CaptionRules::INSTAGRAM
        };
        let translation_timeout_secs = parse_var(
            &lookup,
            "ICF_TRANSLATION_TIMEOUT_SECS",
            10u64,
            "a number of seconds",
        )?;
        if translation_timeout_secs == 0 {
            return Err(ConfigError::new(
                "ICF_TRANSLATION_TIMEOUT_SECS",
                "expected a number of seconds above 0",
            ));
        }
        let proxy_check_url_set = lookup("ICF_PROXY_CHECK_URL")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let proxy_check_url = proxy_check_url_set
            .clone()
            .unwrap_or_else(|| DEFAULT_PROXY_CHECK_URL.to_owned());
        if !(proxy_check_url.starts_with("http://") || proxy_check_url.starts_with("https://"))
            || proxy_check_url.chars().any(char::is_whitespace)
        {
            return Err(ConfigError::new(
                "ICF_PROXY_CHECK_URL",
                "expected an http:// or https:// URL",
            ));
        }
        let proxy_check_timeout_secs = parse_var(
            &lookup,
            "ICF_PROXY_CHECK_TIMEOUT_SECS",
            10u64,
            "a number of seconds from 1 to 120",
        )?;
        if !(1..=120).contains(&proxy_check_timeout_secs) {
            return Err(ConfigError::new(
                "ICF_PROXY_CHECK_TIMEOUT_SECS",
                "expected a number of seconds from 1 to 120",
            ));
        }
        let instagram_app_profiles = match lookup("INSTAGRAM_APP_PROFILE")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            None => icf_instagram::AppProfiles::built_in(),
            Some(path) => icf_instagram::AppProfiles::load(Some(Path::new(&path)))
                .map_err(|e| ConfigError::new("INSTAGRAM_APP_PROFILE", e.to_string()))?,
        };
        let instagram_api_url = match lookup("INSTAGRAM_API_URL")
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty())
        {
            None => DEFAULT_INSTAGRAM_API_URL.to_owned(),
            Some(url) => {
                let ok = (url.starts_with("http://") || url.starts_with("https://"))
                    && url.split_once("://").is_some_and(|(_, rest)| {
                        !rest.is_empty() && !rest.contains('/') && !rest.contains('@')
                    });
                if !ok {
                    return Err(ConfigError::new(
                        "INSTAGRAM_API_URL",
                        format!(
                            "expected a base URL like https://i.instagram.com or http://127.0.0.1:9100, got '{}'",
                            redact_url(&url)
                        ),
                    ));
                }
                url
            }
        };

        let instagram_api_ca_pem = match lookup("INSTAGRAM_API_CA")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(path) => {
                let pem = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::new("INSTAGRAM_API_CA", format!("cannot read {path}: {e}"))
                })?;
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(ConfigError::new(
                        "INSTAGRAM_API_CA",
                        format!("expected a PEM certificate in {path}"),
                    ));
                }
                Some(pem)
            }
        };

        Ok(Settings {
            metrics_token: secret_var(&lookup, "ICF_METRICS_TOKEN"),
            media_dir,
            s3,
            max_upload_mb,
            max_photo_mb,
            max_image_pixels,
            media_concurrency,
            translation_provider,
            translation_fallback_provider,
            deepl_api_url,
            google_translate_api_url,
            libretranslate_url,
            libretranslate_api_key: secret_var(&lookup, "LIBRETRANSLATE_API_KEY"),
            translation_english_variant,
            translation_portuguese_variant,
            caption_rules,
            translation_retry_initial_ms: parse_var(
                &lookup,
                "ICF_TRANSLATION_RETRY_INITIAL_MS",
                1000u64,
                "a number of milliseconds",
            )?,
            translation_max_retries: parse_var(
                &lookup,
                "ICF_TRANSLATION_MAX_RETRIES",
                5u32,
                "a whole number of retries",
            )?,
            translation_timeout_secs,
            proxy_check_url: match proxy_check_url_set {
                Some(_) => proxy_check_url,
                None if instagram_api_url != DEFAULT_INSTAGRAM_API_URL => {
                    format!("{instagram_api_url}/robots.txt")
                }
                None => proxy_check_url,
            },
            proxy_check_timeout_secs,
            database_url,
            data_dir,
            listen,
            secret_key,
            encryption_keys,
            deepl_api_key,
            google_translate_api_key,
            instagram_session_lifetime_days: parse_var(
                &lookup,
                "INSTAGRAM_SESSION_LIFETIME_DAYS",
                90u32,
                "a number of days",
            )?,
            max_posts_per_day_per_account: max_posts,
            max_concurrent_tasks,
            min_delay_between_posts_sec: min_delay,
            spacing_scope: match lookup("ICF_SPACING_SCOPE")
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref()
            {
                None | Some("") | Some("post") => icf_core::pacing::SpacingScope::Post,
                Some("global") => icf_core::pacing::SpacingScope::Global,
                Some(_) => {
                    return Err(ConfigError::new(
                        "ICF_SPACING_SCOPE",
                        "expected post or global",
                    ));
                }
            },
            max_delay_between_posts_sec: max_delay,
            sentry_dsn: secret_var(&lookup, "SENTRY_DSN"),
            auto_migrate: parse_var(&lookup, "ICF_AUTO_MIGRATE", true, "true or false")?,
            token_ttl_minutes,
            db_max_connections,
            log_format,
            job_lease_secs: ranged_var(&lookup, "ICF_JOB_LEASE_SECS", 60u64, 1, 3600)?,
            worker_poll_secs: ranged_var(&lookup, "ICF_WORKER_POLL_SECS", 5u64, 1, 300)?,
            worker_shutdown_grace_secs: ranged_var(
                &lookup,
                "ICF_WORKER_SHUTDOWN_GRACE_SECS",
                30u64,
                0,
                3600,
            )?,
            job_retention_days: ranged_var(&lookup, "ICF_JOB_RETENTION_DAYS", 14u32, 1, 3650)?,
            instagram_app_profiles,
            instagram_api_url,
            instagram_api_ca_pem,
            pacing_speed: ranged_var(&lookup, "ICF_PACING_SPEED", 1u32, 1, 3600)?,
            account_check_hours: ranged_var(&lookup, "ICF_ACCOUNT_CHECK_HOURS", 6u32, 0, 168)?,
            proxy_check_minutes: ranged_var(&lookup, "ICF_PROXY_CHECK_MINUTES", 30u32, 0, 1440)?,
            proxy_recheck_minutes: ranged_var(
                &lookup,
                "ICF_PROXY_RECHECK_MINUTES",
                10u32,
                0,
                1440,
            )?,
            log_retention_days: ranged_var(&lookup, "ICF_LOG_RETENTION_DAYS", 90u32, 0, 3650)?,
            cooldown_please_wait_minutes: ranged_var(
                &lookup,
                "ICF_COOLDOWN_PLEASE_WAIT_MINUTES",
                15u32,
                1,
                1440,
            )?,
            cooldown_feedback_hours: ranged_var(
                &lookup,
                "ICF_COOLDOWN_FEEDBACK_HOURS",
                24u32,
                1,
                168,
            )?,
            max_failed_attempts: ranged_var(&lookup, "ICF_MAX_FAILED_ATTEMPTS", 5u32, 0, 100)?,
            alert_webhook_urls: url_list(&lookup, "ICF_ALERT_WEBHOOK_URLS")?,
            telegram_bot_token: secret_var(&lookup, "ICF_TELEGRAM_BOT_TOKEN"),
            telegram_chat_id: lookup("ICF_TELEGRAM_CHAT_ID")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            telegram_api_url: match url_list(&lookup, "ICF_TELEGRAM_API_URL")?.as_slice() {
                [] => "https://api.telegram.org".to_owned(),
                [one] => one.clone(),
                _ => {
                    return Err(ConfigError::new(
                        "ICF_TELEGRAM_API_URL",
                        "expected one http:// or https:// URL",
                    ));
                }
            },
            alert_group_secs: ranged_var(&lookup, "ICF_ALERT_GROUP_SECS", 300u64, 1, 86400)?,
            alert_failed_percent: ranged_var(&lookup, "ICF_ALERT_FAILED_PERCENT", 20u32, 0, 100)?,
            trust_proxy_headers: parse_var(
                &lookup,
                "ICF_TRUST_PROXY_HEADERS",
                false,
                "true or false",
            )?,
            http_header_timeout_secs: ranged_var(
                &lookup,
                "ICF_HTTP_HEADER_TIMEOUT_SECS",
                30u64,
                1,
                600,
            )?,
            http_body_timeout_secs: ranged_var(
                &lookup,
                "ICF_HTTP_BODY_TIMEOUT_SECS",
                60u64,
                1,
                3600,
            )?,
            http_max_connections: ranged_var(
                &lookup,
                "ICF_HTTP_MAX_CONNECTIONS",
                1024usize,
                1,
                1_000_000,
            )?,
            secure_cookies: parse_var(&lookup, "ICF_SECURE_COOKIES", false, "true or false")?,
            alert_post_completed: parse_var(
                &lookup,
                "ICF_ALERT_POST_COMPLETED",
                false,
                "true or false",
            )?,
            failed_attempts_cooldown_minutes: ranged_var(
                &lookup,
                "ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES",
                60u32,
                1,
                10080,
            )?,
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
        let mut generated = Vec::new();
        if self.secret_key.is_none() {
            let (key, fresh) =
                load_or_generate(&self.data_dir.join("secret_key"), "SECRET_KEY", || {
                    use rand::RngCore;
                    let mut bytes = [0u8; 32];
                    rand::rng().fill_bytes(&mut bytes);
                    bytes.iter().map(|b| format!("{b:02x}")).collect()
                })?;
            self.secret_key = Some(key);
            if fresh {
                generated.push("SECRET_KEY");
            }
        }
        if self.encryption_keys.is_none() {
            let (key, fresh) = load_or_generate(
                &self.data_dir.join("encryption_key"),
                "ENCRYPTION_KEY",
                fernet::Fernet::generate_key,
            )?;
            validate_fernet_keys(key.expose_secret())?;
            self.encryption_keys = Some(key);
            if fresh {
                generated.push("ENCRYPTION_KEY");
            }
        }
        Ok(generated)
    }
}

impl Settings {
    /// What the translation service is built from; `primary: None` when no provider is set.
    pub fn translation_config(&self) -> TranslationConfig {
        let provider = |kind: ProviderKind| -> Option<ProviderConfig> {
            Some(match kind {
                ProviderKind::DeepL => ProviderConfig::DeepL {
                    key: self.deepl_api_key.clone()?,
                    base_url: self.deepl_api_url.clone(),
                    english: self.translation_english_variant,
                    portuguese: self.translation_portuguese_variant,
                },
                ProviderKind::Google => ProviderConfig::Google {
                    key: self.google_translate_api_key.clone()?,
                    base_url: self.google_translate_api_url.clone(),
                },
                ProviderKind::LibreTranslate => ProviderConfig::LibreTranslate {
                    url: self.libretranslate_url.clone()?,
                    key: self.libretranslate_api_key.clone(),
                },
            })
        };
        TranslationConfig {
            primary: self.translation_provider.and_then(provider),
            fallback: self.translation_fallback_provider.and_then(provider),
            retry: RetryPolicy {
                initial_delay: std::time::Duration::from_millis(self.translation_retry_initial_ms),
                max_retries: self.translation_max_retries,
                timeout: std::time::Duration::from_secs(self.translation_timeout_secs),
                ..RetryPolicy::default()
            },
            limits: self.caption_rules,
        }
    }
}

/// The old name of `ICF_MAX_HASHTAGS`, still read so that existing deployments keep their
/// setting. Deprecated: set `ICF_MAX_HASHTAGS` instead.
const DEPRECATED_MAX_HASHTAGS: &str = "ICF_CAPTION_MAX_HASHTAGS";

/// `ICF_MAX_HASHTAGS`, or the deprecated `ICF_CAPTION_MAX_HASHTAGS` when only that is set;
/// both set to different numbers is a mistake to fix, not to guess.
fn max_hashtags_var(lookup: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    let default = CaptionRules::INSTAGRAM.max_hashtags;
    let read = |name: &'static str| -> Result<Option<usize>, ConfigError> {
        if lookup(name).is_none_or(|v| v.trim().is_empty()) {
            return Ok(None);
        }
        ranged_var(lookup, name, default, 0, CaptionRules::MAX_HASHTAGS_SETTING).map(Some)
    };
    match (read("ICF_MAX_HASHTAGS")?, read(DEPRECATED_MAX_HASHTAGS)?) {
        (Some(new), Some(old)) if new != old => Err(ConfigError::new(
            "ICF_MAX_HASHTAGS",
            format!(
                "is {new} but the deprecated {DEPRECATED_MAX_HASHTAGS} is {old}: \
                 remove {DEPRECATED_MAX_HASHTAGS}"
            ),
        )),
        (Some(n), _) | (None, Some(n)) => Ok(n),
        (None, None) => Ok(default),
    }
}

/// An optional `http://` or `https://` base URL.
fn url_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    let Some(raw) = lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if !(raw.starts_with("http://") || raw.starts_with("https://")) {
        return Err(ConfigError::new(
            name,
            format!(
                "expected a URL starting with http:// or https://, got '{}'",
                redact_url(&raw)
            ),
        ));
    }
    Ok(Some(raw.trim_end_matches('/').to_owned()))
}

/// `Some(None)` for an explicit `none`, `None` when unset.
fn provider_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Option<ProviderKind>>, ConfigError> {
    match lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("none") => Ok(Some(None)),
        Some(v) => ProviderKind::parse(&v)
            .map(|k| Some(Some(k)))
            .ok_or_else(|| {
                ConfigError::new(
                    name,
                    format!("expected deepl, google, libretranslate or none, got '{v}'"),
                )
            }),
    }
}

fn variant_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    allowed: &[&str],
) -> Result<Language, ConfigError> {
    let raw = lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| allowed[0].to_owned());
    match Language::parse(&raw) {
        Ok(l) if allowed.contains(&l.code()) => Ok(l),
        _ => Err(ConfigError::new(
            name,
            format!("expected one of {}, got '{raw}'", allowed.join(", ")),
        )),
    }
}

fn validate_fernet_keys(keys: &str) -> Result<(), ConfigError> {
    for (i, key) in keys.split(',').map(str::trim).enumerate() {
        if fernet::Fernet::new(key).is_none() {
            return Err(ConfigError::new(
                "ENCRYPTION_KEY",
                format!(
                    "key #{} is not a Fernet key (expected 32 bytes in url-safe base64, \
                     as Python's Fernet.generate_key() makes)",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Reads a key file, or writes a new one readable only by the owner.
fn load_or_generate(
    path: &Path,
    variable: &'static str,
    generate: impl FnOnce() -> String,
) -> Result<(SecretString, bool), ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((SecretString::from(text.trim().to_owned()), false));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(ConfigError::new(
                variable,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    }
    let value = generate();
    write_private(path, &value)
        .map_err(|e| ConfigError::new(variable, format!("cannot write {}: {e}", path.display())))?;
    Ok((SecretString::from(value), true))
}

fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(value.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_sqlite_in_the_data_dir() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, "sqlite://./data/icf.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.max_concurrent_tasks, 50);
        assert_eq!(s.max_posts_per_day_per_account, 10);
        assert_eq!(
            (s.min_delay_between_posts_sec, s.max_delay_between_posts_sec),
            (120, 300)
        );
        assert!(s.auto_migrate);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_expectation() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "ICF_LISTEN",
                "localhost",
                "expected an address like 127.0.0.1:8000",
            ),
            ("DATABASE_URL", "mysql://x", "sqlite:// or postgres://"),
            (
                "MAX_CONCURRENT_TASKS",
                "lots",
                "expected a whole number from 1 to 1000",
            ),
            ("MAX_CONCURRENT_TASKS", "0", "from 1 to 1000"),
            ("ENCRYPTION_KEY", "short", "not a Fernet key"),
            ("SECRET_KEY", "tooshort", "at least 32 characters"),
            ("ICF_LOG_FORMAT", "xml", "'text' or 'json'"),
            ("ICF_AUTO_MIGRATE", "maybe", "true or false"),
            ("ICF_PROXY_CHECK_URL", "ftp://x", "http:// or https://"),
            ("ICF_PROXY_CHECK_TIMEOUT_SECS", "0", "from 1 to 120"),
            ("ICF_JOB_LEASE_SECS", "0", "from 1 to 3600"),
            (
                "ICF_JOB_RETENTION_DAYS",
                "forever",
                "a whole number from 1 to 3650",
            ),
            (
                "INSTAGRAM_APP_PROFILE",
                "/nonexistent/profiles.json",
                "cannot read",
            ),
            ("INSTAGRAM_API_URL", "ftp://x", "expected a base URL"),
            ("INSTAGRAM_API_CA", "/nonexistent/ca.pem", "cannot read"),
            (
                "INSTAGRAM_API_URL",
                "https://i.instagram.com/api/v1",
                "expected a base URL",
            ),
        ];
        for (var, value, expected) in cases {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, *var);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn secret_values_are_not_echoed() {
        let err = settings(&[("SECRET_KEY", "hunter2-secret")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = settings(&[("ENCRYPTION_KEY", "hunter2-secret")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = settings(&[("DATABASE_URL", "mysql://u:hunter2@h/db")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn the_translation_provider_follows_the_keys_deepl_first() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.translation_provider, None);
        assert!(s.translation_config().primary.is_none());
        let s = settings(&[("LIBRETRANSLATE_URL", "http://127.0.0.1:5000/")]).unwrap();
        assert_eq!(s.translation_provider, Some(ProviderKind::LibreTranslate));
        let s = settings(&[
            ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
            ("DEEPL_API_KEY", "d-key:fx"),
        ])
        .unwrap();
        assert_eq!(s.translation_provider, Some(ProviderKind::DeepL));
        let s = settings(&[
            ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
            ("DEEPL_API_KEY", "d-key:fx"),
            ("TRANSLATION_PROVIDER", "google"),
            ("TRANSLATION_FALLBACK_PROVIDER", "deepl"),
        ])
        .unwrap();
        assert_eq!(s.translation_provider, Some(ProviderKind::Google));
        assert_eq!(s.translation_fallback_provider, Some(ProviderKind::DeepL));
        let s = settings(&[("DEEPL_API_KEY", "k"), ("TRANSLATION_PROVIDER", "none")]).unwrap();
        assert_eq!(s.translation_provider, None);
    }

    #[test]
    fn bad_translation_settings_name_the_variable_without_the_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("TRANSLATION_PROVIDER", "bing")], "TRANSLATION_PROVIDER"),
            (&[("TRANSLATION_PROVIDER", "deepl")], "TRANSLATION_PROVIDER"),
            (
                &[
                    ("DEEPL_API_KEY", "hunter2"),
                    ("TRANSLATION_FALLBACK_PROVIDER", "deepl"),
                ],
                "TRANSLATION_FALLBACK_PROVIDER",
            ),
            (&[("DEEPL_API_URL", "ftp://x")], "DEEPL_API_URL"),
            (
                &[("TRANSLATION_ENGLISH_VARIANT", "pt-BR")],
                "TRANSLATION_ENGLISH_VARIANT",
            ),
            (&[("ICF_MAX_HASHTAGS", "31")], "ICF_MAX_HASHTAGS"),
            (&[("ICF_MAX_HASHTAGS", "five")], "ICF_MAX_HASHTAGS"),
            (
                &[("ICF_CAPTION_MAX_HASHTAGS", "31")],
                "ICF_CAPTION_MAX_HASHTAGS",
            ),
            (
                &[
                    ("ICF_MAX_HASHTAGS", "5"),
                    ("ICF_CAPTION_MAX_HASHTAGS", "30"),
                ],
                "ICF_MAX_HASHTAGS",
            ),
            (
                &[("ICF_CAPTION_MAX_MENTIONS", "21")],
                "ICF_CAPTION_MAX_MENTIONS",
            ),
        ];
        for (vars, variable) in cases {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.variable, *variable);
            assert!(!err.to_string().contains("hunter2"));
        }
        let s = settings(&[("DEEPL_API_KEY", "hunter2")]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn caption_rules_are_instagrams_with_a_configurable_hashtag_limit() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.caption_rules, CaptionRules::INSTAGRAM);
        assert_eq!(s.caption_rules.max_hashtags, 5);
        let hashtags = |vars: &[(&str, &str)]| settings(vars).unwrap().caption_rules.max_hashtags;
        assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "10")]), 10);
        assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "0")]), 0);
        assert_eq!(hashtags(&[("ICF_MAX_HASHTAGS", "")]), 5);
        // The deprecated name still works, alone or agreeing with the new one.
        assert_eq!(hashtags(&[("ICF_CAPTION_MAX_HASHTAGS", "30")]), 30);
        assert_eq!(
            hashtags(&[("ICF_MAX_HASHTAGS", "7"), ("ICF_CAPTION_MAX_HASHTAGS", "7")]),
            7
        );
        // The translator gets the same rules.
        let s = settings(&[("ICF_MAX_HASHTAGS", "3"), ("ICF_CAPTION_MAX_MENTIONS", "4")]).unwrap();
        assert_eq!(s.translation_config().limits, s.caption_rules);
        assert_eq!(
            (s.caption_rules.max_hashtags, s.caption_rules.max_mentions),
            (3, 4)
        );
    }

    #[test]
    fn instagram_settings_default_to_the_real_service_and_built_in_profiles() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.instagram_api_url, "https://i.instagram.com");
        assert_eq!(
            s.instagram_app_profiles.default_profile().app_version,
            "449.0.0.52.84"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let hash = "b".repeat(64);
        std::fs::write(
            &path,
            format!(r#"{{"default":"450.0.0.1.1","profiles":[{{"app_version":"450.0.0.1.1","version_code":"1","bloks_versioning_id":"{hash}"}}]}}"#),
        )
        .unwrap();
        let s = settings(&[
            ("INSTAGRAM_APP_PROFILE", path.to_str().unwrap()),
            ("INSTAGRAM_API_URL", "http://127.0.0.1:9100/"),
        ])
        .unwrap();
        assert_eq!(
            s.instagram_app_profiles.default_profile().app_version,
            "450.0.0.1.1"
        );
        assert_eq!(s.instagram_api_url, "http://127.0.0.1:9100");
        std::fs::write(&path, "{}").unwrap();
        let err = settings(&[("INSTAGRAM_APP_PROFILE", path.to_str().unwrap())]).unwrap_err();
        assert_eq!(err.variable, "INSTAGRAM_APP_PROFILE");
    }

    #[test]
    fn pacing_speed_defaults_to_real_time_and_is_bounded() {
        assert_eq!(settings(&[]).unwrap().pacing_speed, 1);
        assert_eq!(
            settings(&[("ICF_PACING_SPEED", "60")])
                .unwrap()
                .pacing_speed,
            60
        );
        for bad in ["0", "4000", "fast"] {
            let err = settings(&[("ICF_PACING_SPEED", bad)]).unwrap_err();
            assert_eq!(err.variable, "ICF_PACING_SPEED", "{bad}");
        }
    }

    #[test]
    fn image_pixels_and_media_concurrency_are_bounded() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.max_image_pixels, s.media_concurrency), (50_000_000, 2));
        let s = settings(&[
            ("ICF_MAX_IMAGE_PIXELS", "24000000"),
            ("ICF_MEDIA_CONCURRENCY", "1"),
        ])
        .unwrap();
        assert_eq!((s.max_image_pixels, s.media_concurrency), (24_000_000, 1));
        for (var, bad) in [
            ("ICF_MAX_IMAGE_PIXELS", "0"),
            ("ICF_MAX_IMAGE_PIXELS", "50MP"),
            ("ICF_MAX_IMAGE_PIXELS", "2000000000"),
            ("ICF_MEDIA_CONCURRENCY", "0"),
            ("ICF_MEDIA_CONCURRENCY", "many"),
            ("ICF_MEDIA_CONCURRENCY", "65"),
        ] {
            let err = settings(&[(var, bad)]).unwrap_err();
            assert_eq!(err.variable, var, "{bad}");
            assert!(err.to_string().contains("a whole number from"), "{err}");
        }
    }

    #[test]
    fn min_delay_above_max_is_refused() {
        let err = settings(&[
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "400"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "300"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "MAX_DELAY_BETWEEN_POSTS_SEC");
    }

    #[test]
    fn several_fernet_keys_are_accepted() {
        let a = fernet::Fernet::generate_key();
        let b = fernet::Fernet::generate_key();
        assert!(settings(&[("ENCRYPTION_KEY", &format!("{a}, {b}"))]).is_ok());
    }

    #[test]
    fn generated_secrets_are_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let dir_s = dir.path().to_str().unwrap();
        let mut s = settings(&[("ICF_DATA_DIR", dir_s)]).unwrap();
        assert_eq!(
            s.ensure_secrets().unwrap(),
            vec!["SECRET_KEY", "ENCRYPTION_KEY"]
        );
        let first = s.secret_key.as_ref().unwrap().expose_secret().to_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut again = settings(&[("ICF_DATA_DIR", dir_s)]).unwrap();
        assert!(again.ensure_secrets().unwrap().is_empty());
        assert_eq!(again.secret_key.unwrap().expose_secret(), first);
    }

    #[test]
    fn http_limits_have_safe_defaults_and_bounds() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.http_header_timeout_secs, 30);
        assert_eq!(s.http_body_timeout_secs, 60);
        assert_eq!(s.http_max_connections, 1024);
        assert!(!s.secure_cookies);
        let s = settings(&[
            ("ICF_HTTP_HEADER_TIMEOUT_SECS", "5"),
            ("ICF_HTTP_BODY_TIMEOUT_SECS", "120"),
            ("ICF_HTTP_MAX_CONNECTIONS", "200"),
            ("ICF_SECURE_COOKIES", "true"),
        ])
        .unwrap();
        assert_eq!(s.http_header_timeout_secs, 5);
        assert_eq!(s.http_body_timeout_secs, 120);
        assert_eq!(s.http_max_connections, 200);
        assert!(s.secure_cookies);
        for (var, bad) in [
            ("ICF_HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("ICF_HTTP_HEADER_TIMEOUT_SECS", "601"),
            ("ICF_HTTP_BODY_TIMEOUT_SECS", "0"),
            ("ICF_HTTP_MAX_CONNECTIONS", "0"),
            ("ICF_HTTP_MAX_CONNECTIONS", "many"),
            ("ICF_SECURE_COOKIES", "yes please"),
        ] {
            let err = settings(&[(var, bad)]).unwrap_err();
            assert_eq!(err.variable, var, "{bad}");
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://icf:pw@db:5432/icf"),
            "postgres://icf:***@db:5432/icf"
        );
        assert_eq!(
            redact_url("sqlite://./data/icf.db"),
            "sqlite://./data/icf.db"
        );
    }
}
