//! B5 punctuality: N executions scheduled a little ahead, spaced by the planner; how late
//! each one's first attempt starts after its due time.

use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::json;

use super::figure::Figure;
use super::fixture::{Fixture, Store, quantile};
use super::world::{World, age_accounts, wait_all_ended};

pub async fn run(store: &Store, n: usize) -> anyhow::Result<Vec<Figure>> {
    let world = World::start("punct", n, |_| serde_json::Value::Null).await?;
    let mut fx = Fixture::start(
        store,
        &[
            ("INSTAGRAM_API_URL", world.sim.base_url()),
            // 2–5 min between accounts becomes 33–83 ms: N executions over about a minute.
            ("ICF_PACING_SPEED", "3600".into()),
        ],
    )
    .await?;
    fx.import_accounts(&world.lines("punct", n, "Punctual", &["en"]))
        .await?;
    age_accounts(&fx).await?;
    let group = fx.group_id("Punctual").await?;
    let post = fx.photo_post(&[&group], "On time", "en").await?;
    fx.run_worker(50);
    let when = Utc::now() + chrono::Duration::seconds(10);
    fx.call(
        Method::POST,
        &format!("/api/posts/{post}/publish"),
        Some(json!({"when": when.to_rfc3339()})),
    )
    .await?;
    wait_all_ended(&fx, Duration::from_secs(600)).await?;
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_as(
            "SELECT j.run_at, a.started_at FROM jobs j JOIN job_attempts a ON a.job_id = j.id \
             WHERE j.kind = 'post_to_instagram' AND a.attempt = 1 AND j.attempts = 1",
        )
        .fetch_all(pool)
        .await?
    });
    if rows.len() < n * 9 / 10 {
        bail!("only {} of {n} executions ran once", rows.len());
    }
    let mut late: Vec<f64> = rows
        .iter()
        .map(|(due, started)| (*started - *due).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        .collect();
    late.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        quantile(&late, 0.5),
        quantile(&late, 0.99),
        late.last().copied().unwrap_or(0.0),
    );
    let ok = world.sim.media(None).len();
    fx.finish().await?;
    Ok(vec![
        Figure::new(
            "B5",
            store,
            format!(
                "lateness of {} scheduled executions (start − due), {ok} published",
                rows.len()
            ),
            format!("p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms"),
        )
        .goal("p99 < 1 s", p99 < 1000.0),
    ])
}
