//! Building and running the HTTP server. `icf serve` and the integration tests share this.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use icf_crypto::Cipher;
use icf_engine::proxy_check::ProxyCheckSettings;
use icf_media::MediaStore;
use icf_store::{Db, PoolSettings};
use icf_web::{AppState, AuthSettings, UploadSettings};
use icf_worker::{Registry, Worker, WorkerConfig, builtin};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{Settings, redact_url};

/// Opens the database described by the settings.
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    if let Some(path) = settings.database.url.strip_prefix("sqlite://")
        && let Some(parent) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the directory {}", parent.display()))?;
    }
    Db::connect(
        &settings.database.url,
        &PoolSettings {
            max_connections: settings.database.max_connections,
            ..PoolSettings::default()
        },
    )
    .await
    .with_context(|| {
        format!(
            "cannot open the database at {}",
            redact_url(&settings.database.url)
        )
    })
}

/// The media store the settings describe: S3 when a bucket is set, else the media dir.
pub fn media_store(settings: &Settings) -> anyhow::Result<MediaStore> {
    match &settings.media.s3 {
        Some(s3) => MediaStore::s3(s3, &settings.media.dir)
            .context("cannot set up S3 media storage (ICF_S3_*)"),
        None => MediaStore::local(&settings.media.dir).with_context(|| {
            format!(
                "cannot use {} for media (ICF_MEDIA_DIR)",
                settings.media.dir.display()
            )
        }),
    }
}

/// The cipher of the secrets at rest, from `ENCRYPTION_KEY` (already resolved).
pub fn cipher(settings: &Settings) -> anyhow::Result<Cipher> {
    let keys = settings
        .auth
        .encryption_keys
        .as_ref()
        .context("ENCRYPTION_KEY is not resolved")?;
    Ok(Cipher::from_keys(keys)?)
}

/// The anti-ban rules from the settings (specification §3.2 defaults).
pub fn pacing_rules(settings: &Settings) -> icf_core::pacing::PacingRules {
    // ICF_PACING_SPEED shrinks every wait alike (demos and tests), never the limits.
    let speed = i64::from(settings.pacing.speed.max(1));
    let defaults = icf_core::pacing::PacingRules::default();
    icf_core::pacing::PacingRules {
        min_spacing: chrono::Duration::milliseconds(
            settings.pacing.min_delay_between_posts_sec as i64 * 1000 / speed,
        ),
        max_spacing: chrono::Duration::milliseconds(
            settings.pacing.max_delay_between_posts_sec as i64 * 1000 / speed,
        ),
        min_gap_same_account: defaults.min_gap_same_account / speed as i32,
        scope: settings.pacing.spacing_scope,
        max_daily: settings.pacing.max_posts_per_day_per_account,
        comment_delay: (
            chrono::Duration::milliseconds(
                settings.pacing.first_comment_delay_sec.0 as i64 * 1000 / speed,
            ),
            chrono::Duration::milliseconds(
                settings.pacing.first_comment_delay_sec.1 as i64 * 1000 / speed,
            ),
        ),
        stories_count: settings.pacing.stories_count,
        ..defaults
    }
}

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    state: AppState,
    limits: crate::serve::HttpLimits,
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
            .auth
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
        let instagram = engine(&db, settings)?;
        let app = icf_app::App::new(
            db,
            cipher,
            media_store(settings)?,
            UploadSettings {
                max_file_bytes: settings.media.max_upload_mb * 1024 * 1024,
                max_photo_bytes: settings.media.max_photo_mb * 1024 * 1024,
                max_image_pixels: settings.media.max_image_pixels,
                media_concurrency: settings.media.concurrency,
                new_group_variants: settings.media.new_group_variants,
            },
        )
        .with_translation(translation)
        .with_pacing(pacing_rules(settings))
        .with_caption_rules(settings.instagram.caption_rules)
        .with_engine(instagram)
        .with_approval(icf_core::review::ApprovalPolicy {
            required: settings.auth.require_approval,
        })
        .with_proxy_check(proxy_check_settings(settings));
        let state = AppState::new(
            app,
            AuthSettings {
                secret_key,
                token_ttl: chrono::Duration::minutes(i64::from(settings.auth.token_ttl_minutes)),
            },
        )
        .with_metrics_token(
            settings
                .telemetry
                .metrics_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
        )
        .with_trusted_proxy_headers(settings.server.trust_proxy_headers)
        .with_secure_cookies(settings.server.secure_cookies);
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {} (ICF_LISTEN)", settings.server.listen))?;
        Ok(App {
            listener,
            state,
            limits: http_limits(settings),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.state.app.db
    }

    /// Cancelled when [`App::run`]'s shutdown begins (what long-lived responses end on).
    pub fn shutdown_token(&self) -> tokio_util::sync::CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish. Long-lived
    /// responses (server-sent events) see `AppState::shutdown` cancelled and end, so the
    /// drain does not wait for them.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stopping = self.state.shutdown.clone();
        let router = icf_web::app(self.state);
        crate::serve::serve_until(self.listener, router, self.limits, stopping, shutdown).await;
        Ok(())
    }
}

/// The HTTP server's limits on slow clients and open connections.
pub fn http_limits(settings: &Settings) -> crate::serve::HttpLimits {
    crate::serve::HttpLimits {
        header_timeout: std::time::Duration::from_secs(settings.server.header_timeout_secs),
        body_timeout: std::time::Duration::from_secs(settings.server.body_timeout_secs),
        max_connections: settings.server.max_connections,
    }
}

/// The Instagram settings: API base (the simulator in tests and demos), app profiles and
/// the pacing speed-up.
pub fn instagram_client_config(settings: &Settings) -> icf_instagram::ClientConfig {
    let speed = settings.pacing.speed.max(1);
    let base = icf_instagram::ClientConfig::with_api_base(settings.instagram.api_url.clone());
    icf_instagram::ClientConfig {
        pace: base.pace / speed,
        configure_interval: base.configure_interval / speed,
        transcode_wait: base.transcode_wait / speed,
        extra_ca_pem: settings.instagram.api_ca_pem.clone(),
        ..base
    }
}

/// What icf does with Instagram, shared by workers and routes.
pub fn engine(db: &Db, settings: &Settings) -> anyhow::Result<icf_engine::Engine> {
    Ok(icf_engine::Engine::new(
        db.clone(),
        cipher(settings)?,
        media_store(settings)?,
        icf_engine::EngineSettings {
            client: instagram_client_config(settings),
            app_profiles: settings.instagram.app_profiles.clone(),
            pacing: pacing_rules(settings),
            speed: settings.pacing.speed.max(1),
            proxy_check: proxy_check_settings(settings),
            proxy_recheck: std::time::Duration::from_secs(
                u64::from(settings.proxies.recheck_minutes) * 60,
            ),
            cooldowns: icf_engine::Cooldowns {
                please_wait: chrono::Duration::minutes(i64::from(
                    settings.pacing.cooldown_please_wait_minutes,
                )),
                feedback: chrono::Duration::hours(i64::from(
                    settings.pacing.cooldown_feedback_hours,
                )),
                failed_attempts: chrono::Duration::minutes(i64::from(
                    settings.pacing.failed_attempts_cooldown_minutes,
                )),
            },
            max_failed_attempts: settings.pacing.max_failed_attempts,
            alerts: alert_settings(settings),
            client_cache: icf_engine::ClientCacheSettings {
                capacity: settings.worker.client_cache_size as usize,
                idle: std::time::Duration::from_secs(settings.worker.client_idle_secs),
            },
            variants: icf_engine::VariantSettings {
                concurrency: settings.media.variant_concurrency,
            },
        },
    ))
}

/// Where alerts go.
pub fn alert_settings(settings: &Settings) -> icf_engine::alerts::AlertSettings {
    icf_engine::alerts::AlertSettings {
        webhooks: settings.alerts.webhook_urls.clone(),
        telegram: match (
            &settings.alerts.telegram_bot_token,
            &settings.alerts.telegram_chat_id,
        ) {
            (Some(token), Some(chat)) => Some(icf_engine::alerts::Telegram {
                api_url: settings.alerts.telegram_api_url.clone(),
                token: token.clone(),
                chat_id: chat.clone(),
            }),
            _ => None,
        },
        group_window: std::time::Duration::from_secs(settings.alerts.group_secs),
        failed_share: f64::from(settings.alerts.failed_percent) / 100.0,
        post_completed: settings.alerts.post_completed,
    }
}

/// Where and how long proxy checks go.
pub fn proxy_check_settings(settings: &Settings) -> ProxyCheckSettings {
    ProxyCheckSettings {
        url: settings.proxies.check_url.clone(),
        timeout: std::time::Duration::from_secs(settings.proxies.check_timeout_secs),
        extra_ca_pem: settings.instagram.api_ca_pem.clone(),
    }
}

/// Every job kind this build runs, and the periodic jobs.
pub fn job_registry(settings: &Settings, db: &Db) -> anyhow::Result<Registry> {
    let mut registry = Registry::new();
    let engine = engine(db, settings)?;
    // Copies of the media left behind by a worker that stopped mid-post on this machine.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(icf_engine::variants::sweep(engine.clone()));
    }
    let check_every =
        std::time::Duration::from_secs(u64::from(settings.instagram.account_check_hours) * 3600);
    let proxy_every =
        std::time::Duration::from_secs(u64::from(settings.proxies.check_minutes) * 60);
    registry
        .register(icf_engine::PostToInstagram {
            engine: engine.clone(),
        })
        .register(icf_engine::first_comment::FirstComment {
            engine: engine.clone(),
        })
        .register(icf_engine::login::LoginAccount {
            engine: engine.clone(),
        })
        .register(icf_engine::proxy_health::CheckProxy {
            engine: engine.clone(),
        })
        .register(icf_engine::proxy_health::RecoverProxyErrors {
            engine: engine.clone(),
        })
        .register(icf_engine::proxy_health::ScheduleProxyChecks {
            engine: engine.clone(),
            every: proxy_every,
        })
        .register(icf_engine::maintenance::MaintainAccounts {
            engine: engine.clone(),
            retention: icf_engine::maintenance::Retention {
                session_lifetime: chrono::Duration::days(i64::from(
                    settings.instagram.session_lifetime_days,
                )),
                logs: (settings.worker.log_retention_days > 0)
                    .then(|| chrono::Duration::days(i64::from(settings.worker.log_retention_days))),
            },
        })
        .every_job(
            icf_engine::maintenance::MAINTENANCE_EVERY,
            &icf_core::jobs::MaintainAccounts {},
        )
        .register(icf_engine::alerts::DeliverAlerts::new(alert_settings(
            settings,
        )))
        .register(icf_engine::checks::CheckAccountStatus { engine })
        .register(icf_engine::checks::ScheduleAccountChecks {
            every: check_every,
            speed: settings.pacing.speed,
        });
    if settings.proxies.check_minutes > 0 {
        registry.every_job(proxy_every, &icf_core::jobs::ScheduleProxyChecks {});
    }
    if settings.instagram.account_check_hours > 0 {
        registry.every_job(check_every, &icf_core::jobs::ScheduleAccountChecks {});
    }
    registry
        .register(builtin::PruneFinishedJobs {
            retention: chrono::Duration::days(i64::from(settings.worker.job_retention_days)),
        })
        .register(builtin::Selftest)
        .every_job(
            std::time::Duration::from_secs(3600),
            &icf_core::jobs::PruneFinishedJobs {},
        )
        // Instagram actions, across every worker process (specification §6).
        .cap(
            icf_core::jobs::JobKind::PostToInstagram.as_str(),
            settings.worker.max_concurrent_tasks,
        );
    // Background translation of large batches, when a provider is configured.
    if let Ok(Some(t)) = icf_translate::Translation::from_config(&settings.translation_config()) {
        registry.register(icf_translate::job::TranslateText {
            translation: std::sync::Arc::new(t),
        });
    }
    Ok(registry)
}

/// How workers run, from the settings.
pub fn worker_config(settings: &Settings, concurrency: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency: concurrency.max(1),
        lease: std::time::Duration::from_secs(settings.worker.job_lease_secs),
        poll_interval: std::time::Duration::from_secs(settings.worker.poll_secs),
        shutdown_grace: std::time::Duration::from_secs(settings.worker.shutdown_grace_secs),
    }
}

/// Runs a job worker on `db` until `shutdown` completes, then drains it gracefully.
pub async fn run_worker(
    db: Db,
    settings: &Settings,
    concurrency: u32,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let registry = job_registry(settings, &db)?;
    Worker::new(db, registry, worker_config(settings, concurrency))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| vars.get(k).cloned()).unwrap()
    }

    #[test]
    fn pacing_speed_shrinks_every_wait_but_no_limit() {
        let normal = pacing_rules(&settings(&[]));
        assert_eq!(normal.min_gap_same_account, chrono::Duration::minutes(30));
        assert_eq!(normal.min_spacing, chrono::Duration::seconds(120));
        let fast = pacing_rules(&settings(&[("ICF_PACING_SPEED", "60")]));
        assert_eq!(fast.min_gap_same_account, chrono::Duration::seconds(30));
        assert_eq!(fast.min_spacing, chrono::Duration::seconds(2));
        assert_eq!(fast.max_spacing, chrono::Duration::seconds(5));
        assert_eq!(fast.warmup_limits, normal.warmup_limits);
        let client = instagram_client_config(&settings(&[("ICF_PACING_SPEED", "60")]));
        assert_eq!(
            client.configure_interval,
            std::time::Duration::from_millis(50)
        );
    }
}
