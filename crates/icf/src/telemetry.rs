//! Structured logs with `tracing`: readable text by default, JSON with `ICF_LOG_FORMAT=json`;
//! with `SENTRY_DSN`, error events (and the panics) also go to Sentry, with the lines before
//! them as breadcrumbs. Log lines carry no secrets (they are redacted where they are made),
//! and Sentry is told not to add personal data of its own.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

use crate::config::LogFormat;

/// Installs the global subscriber once. `RUST_LOG` overrides the default levels. Keep the
/// returned guard alive: dropping it flushes what is still to be sent to Sentry.
pub fn init(format: LogFormat, sentry_dsn: Option<&str>) -> Option<sentry::ClientInitGuard> {
    let guard = sentry_dsn.map(|dsn| {
        let mut options = sentry::ClientOptions::default();
        options.release = sentry::release_name!();
        options.send_default_pii = false;
        sentry::init((dsn, options))
    });
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    // ERROR lines become Sentry events; INFO and WARN lines ride along as breadcrumbs.
    let sentry_layer = guard.as_ref().map(|_| {
        use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
        use tracing_subscriber::filter::LevelFilter;
        ErrorLayer::new()
            .with_filter(LevelFilter::ERROR)
            .and_then(BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
            .boxed()
    });
    // try_init: a second call (tests, `demo` starting several parts) is not an error.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(sentry_layer)
        .try_init();
    guard
}
