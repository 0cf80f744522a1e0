//! Building and running the HTTP server. `icf serve` and the integration tests share this.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use icf_crypto::Cipher;
use icf_media::MediaStore;
use icf_store::{Db, PoolSettings};
use icf_web::proxy_check::ProxyCheckSettings;
use icf_web::{AppState, AuthSettings, UploadSettings};
use icf_worker::{Registry, Worker, WorkerConfig, builtin, kinds};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{Settings, redact_url};

/// Opens the database described by the settings.
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    if let Some(path) = settings.database_url.strip_prefix("sqlite://")
        && let Some(parent) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the directory {}", parent.display()))?;
    }
    Db::connect(
        &settings.database_url,
        &PoolSettings {
            max_connections: settings.db_max_connections,
            ..PoolSettings::default()
        },
    )
    .await
    .with_context(|| {
        format!(
            "cannot open the database at {}",
            redact_url(&settings.database_url)
        )
    })
}

/// The media store the settings describe: S3 when a bucket is set, else the media dir.
pub fn media_store(settings: &Settings) -> anyhow::Result<MediaStore> {
    match &settings.s3 {
        Some(s3) => MediaStore::s3(s3, &settings.media_dir.join(".staging"))
            .context("cannot set up S3 media storage (ICF_S3_*)"),
        None => MediaStore::local(&settings.media_dir).with_context(|| {
            format!(
                "cannot use {} for media (ICF_MEDIA_DIR)",
                settings.media_dir.display()
            )
        }),
    }
}

/// The cipher of the secrets at rest, from `ENCRYPTION_KEY` (already resolved).
pub fn cipher(settings: &Settings) -> anyhow::Result<Cipher> {
    let keys = settings
        .encryption_keys
        .as_ref()
        .context("ENCRYPTION_KEY is not resolved")?;
    Ok(Cipher::from_keys(keys)?)
}

/// The anti-ban rules from the settings (specification §3.2 defaults).
pub fn pacing_rules(settings: &Settings) -> icf_core::pacing::PacingRules {
    icf_core::pacing::PacingRules {
        min_spacing: chrono::Duration::seconds(settings.min_delay_between_posts_sec as i64),
        max_spacing: chrono::Duration::seconds(settings.max_delay_between_posts_sec as i64),
        ..icf_core::pacing::PacingRules::default()
    }
}

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    state: AppState,
}

impl App {
    /// Connects, migrates when `migrate` is set, and binds the listen address (port 0 picks
    /// a free port). Secrets must already be resolved (`Settings::ensure_secrets`).
    pub async fn build(settings: &Settings, migrate: bool) -> anyhow::Result<App> {
        let db = connect(settings).await?;
        if migrate {
            db.migrate().await.context("applying migrations")?;
        }
        let secret_key = settings
            .secret_key
            .clone()
            .context("SECRET_KEY is not resolved")?;
        let translation = icf_translate::Translation::from_config(&settings.translation_config())
            .context("setting up translation")?
            .map(std::sync::Arc::new);
        match &translation {
            Some(t) => tracing::info!(provider = t.provider().as_str(), "captions are translated"),
            None => tracing::info!(
                "no translation provider configured: captions are written by hand in each language"
            ),
        }
        let cipher = cipher(settings)?;
        let state = AppState::new(
            db,
            AuthSettings {
                secret_key,
                token_ttl: chrono::Duration::minutes(i64::from(settings.token_ttl_minutes)),
            },
            media_store(settings)?,
            UploadSettings {
                max_file_bytes: settings.max_upload_mb * 1024 * 1024,
                max_photo_bytes: settings.max_photo_mb * 1024 * 1024,
            },
            cipher,
        )
        .with_translation(translation)
        .with_pacing(pacing_rules(settings))
        .with_metrics_token(
            settings
                .metrics_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
        )
        .with_proxy_check(ProxyCheckSettings {
            url: settings.proxy_check_url.clone(),
            timeout: std::time::Duration::from_secs(settings.proxy_check_timeout_secs),
        });
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (ICF_LISTEN)", settings.listen))?;
        Ok(App { listener, state })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = icf_web::app(self.state);
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")
    }
}

/// Every job kind this build runs, and the periodic jobs. Later modules register their
/// handlers here (e.g. `post_to_instagram` with `MAX_CONCURRENT_TASKS` as its global cap).
pub fn job_registry(settings: &Settings) -> Registry {
    let mut registry = Registry::new();
    registry
        .register(builtin::PruneFinishedJobs {
            retention: chrono::Duration::days(i64::from(settings.job_retention_days)),
        })
        .register(builtin::Selftest)
        .every(
            kinds::PRUNE_FINISHED_JOBS,
            std::time::Duration::from_secs(3600),
            serde_json::json!({}),
        )
        // Instagram actions, across every worker process (specification §6).
        .cap(kinds::POST_TO_INSTAGRAM, settings.max_concurrent_tasks);
    // Background translation of large batches, when a provider is configured.
    if let Ok(Some(t)) = icf_translate::Translation::from_config(&settings.translation_config()) {
        registry.register(icf_translate::job::TranslateText {
            translation: std::sync::Arc::new(t),
        });
    }
    registry
}

/// How workers run, from the settings.
pub fn worker_config(settings: &Settings, concurrency: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency: concurrency.max(1),
        lease: std::time::Duration::from_secs(settings.job_lease_secs),
        poll_interval: std::time::Duration::from_secs(settings.worker_poll_secs),
        shutdown_grace: std::time::Duration::from_secs(settings.worker_shutdown_grace_secs),
    }
}

/// Runs a job worker on `db` until `shutdown` completes, then drains it gracefully.
pub async fn run_worker(
    db: Db,
    settings: &Settings,
    concurrency: u32,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    Worker::new(
        db,
        job_registry(settings),
        worker_config(settings, concurrency),
    )
    .run(shutdown)
    .await
    .context("the job worker failed")
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
