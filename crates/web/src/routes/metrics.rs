//! `GET /metrics` in the Prometheus text format. Every figure is read from the database
//! when scraped, so it is right however many `icf serve` and `icf worker` processes run,
//! and whichever of them is scraped. Behind `ICF_METRICS_TOKEN` when that is set.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

type Labels = Vec<(&'static str, String)>;

fn family(
    registry: &mut Registry,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Labels, i64)>,
) {
    let f = Family::<Labels, Gauge>::default();
    for (labels, v) in rows {
        f.get_or_create(&labels).set(v);
    }
    registry.register(name, help, f);
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return Err(ApiError::Unauthorized(
                "the metrics token is missing or wrong",
            ));
        }
    }
    let snap = icf_store::stats::metrics(&state.app.db, Utc::now()).await?;
    let mut r = Registry::default();
    family(
        &mut r,
        "icf_jobs",
        "Jobs in the queue by kind and state",
        snap.jobs
            .iter()
            .map(|(k, s, n)| (vec![("kind", k.clone()), ("state", s.clone())], *n)),
    );
    let oldest = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    oldest.set(snap.oldest_waiting_secs.unwrap_or(0.0));
    r.register(
        "icf_queue_oldest_waiting_seconds",
        "Age of the oldest due job still waiting",
        oldest,
    );
    family(
        &mut r,
        "icf_accounts",
        "Instagram accounts by status",
        snap.accounts
            .iter()
            .map(|(s, n)| (vec![("status", s.clone())], *n)),
    );
    family(
        &mut r,
        "icf_proxies",
        "Proxies by status",
        snap.proxies
            .iter()
            .map(|(s, n)| (vec![("status", s.clone())], *n)),
    );
    family(
        &mut r,
        "icf_posts",
        "Posts by status",
        snap.posts
            .iter()
            .map(|(s, n)| (vec![("status", s.clone())], *n)),
    );
    family(
        &mut r,
        "icf_executions",
        "Post executions by status and error class",
        snap.executions
            .iter()
            .map(|(s, c, n)| (vec![("status", s.clone()), ("error_class", c.clone())], *n)),
    );
    let durations = Family::<Labels, Histogram>::new_with_constructor(|| {
        Histogram::new([0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0])
    });
    for (outcome, ms) in &snap.publish_attempts {
        durations
            .get_or_create(&vec![("outcome", outcome.clone())])
            .observe(*ms as f64 / 1000.0);
    }
    r.register(
        "icf_publish_duration_seconds",
        "Publishing attempts of the last 24 h",
        durations,
    );
    family(
        &mut r,
        "icf_translation_cache_entries",
        "Cached translations",
        [(vec![], snap.translation_cache_entries)],
    );
    family(
        &mut r,
        "icf_translation_cache_hits",
        "Times a cached translation was reused (all processes)",
        [(vec![], snap.translation_cache_hits)],
    );
    if let Some(t) = state.app.translation.as_deref() {
        let c = t.counters();
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        family(
            &mut r,
            "icf_translation_lookups",
            "Translation cache lookups of this process",
            [
                (vec![("result", "hit".into())], n(c.hits)),
                (vec![("result", "miss".into())], n(c.misses)),
            ],
        );
    }
    let mut body = String::new();
    encode(&mut body, &r).map_err(ApiError::internal)?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}
