//! B3 API latency: with N accounts and M activity log rows, the p50/p99 of the pages an
//! operator opens most, while a second process on loopback keeps the server busy.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use icf_store::{Db, DbUuid};
use sqlx::types::Json;

use super::fanout::{LANGUAGES, account_lines};
use super::figure::{Figure, ms};
use super::fixture::{Fixture, Store, quantile};

const SAMPLES: usize = 400;

/// id, account, action, status, duration, time.
type LogEntry = (
    DbUuid,
    DbUuid,
    &'static str,
    &'static str,
    i32,
    chrono::DateTime<Utc>,
);

/// Writes `rows` activity log entries spread over the last 30 days, on random accounts, in
/// large multi-row inserts (what months of work would leave).
async fn seed_logs(db: &Db, rows: usize) -> anyhow::Result<()> {
    let ids: Vec<DbUuid> = icf_store::on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM accounts")
            .fetch_all(pool)
            .await?
    });
    if ids.is_empty() {
        bail!("no accounts to log for");
    }
    const ACTIONS: [&str; 6] = [
        "login",
        "upload_photo",
        "configure",
        "check_status",
        "check_proxy",
        "status_change",
    ];
    let now = Utc::now();
    let per_row = Duration::from_secs(30 * 86_400).as_millis() as i64 / rows.max(1) as i64;
    let batch = 2_000;
    let mut done = 0;
    while done < rows {
        let n = batch.min(rows - done);
        let entries: Vec<LogEntry> = (done..done + n)
            .map(|i| {
                (
                    DbUuid(uuid::Uuid::new_v4()),
                    ids[i * 7919 % ids.len()],
                    ACTIONS[i % ACTIONS.len()],
                    if i % 10 == 0 { "failed" } else { "success" },
                    (i % 1_500) as i32,
                    now - chrono::Duration::milliseconds(per_row * i as i64),
                )
            })
            .collect();
        let details =
            serde_json::json!({"endpoint": "/api/v1/media/configure/", "http_status": 200});
        icf_store::on_pool!(db, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO activity_logs (id, account_id, action, status, details, duration_ms, created_at) ",
            );
            q.push_values(&entries, |mut b, e| {
                b.push_bind(e.0)
                    .push_bind(e.1)
                    .push_bind(e.2)
                    .push_bind(e.3)
                    .push_bind(Json(&details))
                    .push_bind(e.4)
                    .push_bind(e.5);
            });
            q.build().execute(pool).await.map(|_| ())?;
        });
        done += n;
    }
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(())
}

async fn sample(fx: &Fixture, path: &str) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let resp = fx
            .client
            .get(fx.url(path))
            .bearer_auth(&fx.token)
            .send()
            .await?;
        let status = resp.status();
        let _ = resp.bytes().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("{path} answered {status}");
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

pub async fn run(store: &Store, accounts: usize, log_rows: usize) -> anyhow::Result<Vec<Figure>> {
    let fx = Fixture::start(store, &[]).await?;
    let groups = ["IT", "Finance", "News", "Travel"];
    let per_group = accounts / groups.len();
    let mut lines = Vec::new();
    for (n, g) in groups.iter().enumerate() {
        lines.extend(account_lines(
            &g.to_lowercase(),
            g,
            n * per_group,
            per_group,
            &LANGUAGES,
        ));
    }
    fx.import_accounts(&lines).await?;
    let t = Instant::now();
    seed_logs(&fx.db, log_rows).await?;
    eprintln!(
        "  {log_rows} log rows written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let group = fx.group_id("Finance").await?;
    let an_account: String = fx
        .call(
            reqwest::Method::GET,
            "/api/accounts/?per_page=1&search=news_05042",
            None,
        )
        .await?["items"][0]["id"]
        .as_str()
        .context("no account")?
        .to_owned();

    let paths = [
        (
            "account list: one group, one language, page 3 of 50, by username",
            format!(
                "/api/accounts/?group_id={group}&language=es&status=active&page=3&per_page=50&sort=username"
            ),
        ),
        (
            "account list: search part of a username",
            "/api/accounts/?search=_0123&per_page=50".to_owned(),
        ),
        ("/api/stats/overview", "/api/stats/overview".to_owned()),
        ("/api/logs/ (newest page)", "/api/logs/".to_owned()),
        (
            "/api/logs/ of one account",
            format!("/api/logs/?account_id={an_account}"),
        ),
        (
            "/api/logs/ failed only",
            "/api/logs/?status=failed".to_owned(),
        ),
    ];
    // The second process: `icf bench-load` hammering the same pages with 4 connections.
    let exe = std::env::current_exe()?;
    let mut load = tokio::process::Command::new(exe)
        .arg("bench-load")
        .arg("--base")
        .arg(&fx.base)
        .arg("--concurrency")
        .arg("4")
        .args(paths.iter().map(|(_, p)| p.clone()))
        .env("ICF_BENCH_TOKEN", &fx.token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the load process")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut out = Vec::new();
    for (what, path) in &paths {
        let times = sample(&fx, path).await?;
        let (p50, p99) = (quantile(&times, 0.5), quantile(&times, 0.99));
        out.push(
            Figure::new(
                "B3",
                store,
                format!("{what}, {accounts} accounts, {log_rows} log rows, under load"),
                format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
            )
            .goal("p99 < 50 ms", p99 < 50.0),
        );
    }
    let _ = load.start_kill();
    let output = load.wait_with_output().await?;
    let per_second: Vec<u64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let total: u64 = per_second.iter().sum();
    out.push(Figure::new(
        "B3",
        store,
        "the load beside it (second process, 4 connections)",
        format!(
            "{:.0} requests/s",
            total as f64 / per_second.len().max(1) as f64
        ),
    ));
    let _ = ms;
    fx.finish().await?;
    Ok(out)
}
