//! B7 soak: `icf serve` and two `icf worker` processes publish for a long time to 200
//! simulated accounts, some of them faulty; every minute the processes' memory, open files,
//! database connections and the queue's lag are sampled. None of them may grow, and no
//! execution may be left stuck.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::SeedableRng;
use reqwest::Method;
use serde_json::{Value, json};

use super::figure::Figure;
use super::fixture::{Fixture, Store};
use super::throughput::WorkerProcess;
use super::world::{World, age_accounts};

const ACCOUNTS: usize = 200;

/// One account in four misbehaves, in one of the ways Instagram does.
fn faults(i: usize) -> Value {
    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
    match rng.random_range(0..20) {
        0 => json!({"slow_ms": 1500}),
        1 => json!({"drop_after_configure": true}),
        2 => json!({"drop_before_configure": true}),
        3 => json!({"session_expires_after": 6}),
        4 => json!({"feedback_required": true}),
        _ => Value::Null,
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

struct Sample {
    minute: u64,
    rss_mb: Vec<f64>,
    fds: Vec<usize>,
    db_connections: Option<i64>,
    lag_s: f64,
    success: i64,
    failed: i64,
}

pub async fn run(store: &Store, minutes: u64) -> anyhow::Result<Vec<Figure>> {
    let world = World::start("soak", ACCOUNTS, faults).await?;
    let (_deepl, [key, url]) = super::fixture::deepl().await?;
    let fx = Fixture::start(
        store,
        &[
            ("INSTAGRAM_API_URL", world.sim.base_url()),
            key,
            url,
            // 2–5 min between accounts becomes 0.4–1 s: a publish every 0.7 s on average.
            ("ICF_PACING_SPEED", "300".into()),
            ("ICF_DB_MAX_CONNECTIONS", "10".into()),
            // The soak posts many times a day to each account: the cap of every account's
            // limit must let the limit of 100 set below stand.
            ("MAX_POSTS_PER_DAY_PER_ACCOUNT", "100".into()),
        ],
    )
    .await?;
    fx.import_accounts(&world.lines("soak", ACCOUNTS, "Soak", &["en", "es", "ru"]))
        .await?;
    age_accounts(&fx).await?;
    icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query("UPDATE accounts SET posts_limit_per_day = 100")
            .execute(pool)
            .await
            .map(|_| ())?
    });
    let group = fx.group_id("Soak").await?;

    // The measured processes: a server without its own worker, and two workers.
    let (serve, base) = fx.spawn_serve().await?;
    let workers: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::spawn(&fx, &["worker", "--concurrency", "50"]))
        .collect::<Result<_, _>>()?;
    let mut pids = vec![serve.id().unwrap_or(0)];
    pids.extend(workers.iter().filter_map(WorkerProcess::pid));
    let db_name = db_name(store, &fx);

    let start = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_post = Instant::now();
    let mut minute = 0;
    println!(
        "| minute | RSS serve / worker / worker (MB) | open files | db connections | queue lag (s) | success | failed |"
    );
    while start.elapsed() < Duration::from_secs(minutes * 60) {
        if Instant::now() >= next_post {
            // A new post to every account each minute, through the measured server.
            let post = fx.photo_post(&[&group], "Soak", "en").await?;
            let resp = fx
                .client
                .request(Method::POST, format!("{base}/api/posts/{post}/publish"))
                .bearer_auth(&fx.token)
                .json(&json!({"when": "now"}))
                .send()
                .await?;
            if !resp.status().is_success() {
                let status = resp.status();
                anyhow::bail!("publishing answered {status}: {}", resp.text().await?);
            }
            next_post += Duration::from_secs(60);
        }
        if start.elapsed() >= Duration::from_secs(minute * 60) {
            let s = sample(&fx, minute, &pids, db_name.as_deref()).await?;
            print_row(&s);
            samples.push(s);
            minute += 1;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let last = sample(&fx, minute, &pids, db_name.as_deref()).await?;
    let (stuck, expired) = stuck_and_expired(&fx).await?;
    for w in workers {
        w.stop().await;
    }
    drop(serve);
    let out = figures(store, minutes, &samples, &last, stuck, expired);
    fx.finish().await?;
    Ok(out)
}

/// The benchmark's own PostgreSQL database, whose connections are counted.
fn db_name(store: &Store, fx: &Fixture) -> Option<String> {
    match store {
        Store::Postgres(_) => fx
            .settings
            .database
            .url
            .rsplit('/')
            .next()
            .map(|s| s.split('?').next().unwrap_or(s).to_owned()),
        Store::Sqlite => None,
    }
}

/// One row of the table printed while the soak runs.
fn print_row(s: &Sample) {
    println!(
        "| {} | {} | {} | {} | {:.1} | {} | {} |",
        s.minute,
        s.rss_mb
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect::<Vec<_>>()
            .join(" / "),
        s.fds
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" / "),
        s.db_connections.map_or("–".into(), |c| c.to_string()),
        s.lag_s,
        s.success,
        s.failed
    );
}

/// Executions left `posting` for ten minutes and jobs whose lease ran out a minute ago:
/// what a soak must end without.
async fn stuck_and_expired(fx: &Fixture) -> anyhow::Result<(i64, i64)> {
    let stuck: i64 = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM post_executions WHERE status = 'posting' AND updated_at < $1",
        )
        .bind(Utc::now() - chrono::Duration::minutes(10))
        .fetch_one(pool)
        .await?
    });
    let expired: i64 = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_expires_at < $1",
        )
        .bind(Utc::now() - chrono::Duration::minutes(1))
        .fetch_one(pool)
        .await?
    });
    Ok((stuck, expired))
}

/// B7's figures: each process's growth, the database connections, and what the soak
/// left behind.
fn figures(
    store: &Store,
    minutes: u64,
    samples: &[Sample],
    last: &Sample,
    stuck: i64,
    expired: i64,
) -> Vec<Figure> {
    // Growth: the last sample against the one at minute 5 (after start-up and the first
    // sessions), so warming caches do not count as a leak.
    let base_sample = samples.iter().find(|s| s.minute >= 5).or(samples.first());
    let mut out = Vec::new();
    if let Some(b) = base_sample {
        let names = ["serve", "worker 1", "worker 2"];
        for (i, name) in names.iter().enumerate() {
            out.push(Figure::new(
                "B7",
                store,
                format!(
                    "{name}: RSS and open files, minute {} → {}",
                    b.minute, last.minute
                ),
                format!(
                    "{:.0} → {:.0} MB, {} → {} files",
                    b.rss_mb.get(i).copied().unwrap_or(0.0),
                    last.rss_mb.get(i).copied().unwrap_or(0.0),
                    b.fds.get(i).copied().unwrap_or(0),
                    last.fds.get(i).copied().unwrap_or(0)
                ),
            ));
        }
        if let (Some(a), Some(z)) = (b.db_connections, last.db_connections) {
            out.push(Figure::new(
                "B7",
                store,
                "database connections",
                format!("{a} → {z}"),
            ));
        }
    }
    out.push(
        Figure::new(
            "B7",
            store,
            format!(
                "{minutes} min, {ACCOUNTS} accounts (1 in 4 faulty): executions ended, queue lag at the end, stuck"
            ),
            format!(
                "{} success, {} failed, lag {:.1} s, {stuck} stuck executions, {expired} expired leases",
                last.success, last.failed, last.lag_s
            ),
        )
        .goal("none stuck", stuck == 0 && expired == 0),
    );
    out
}

async fn sample(
    fx: &Fixture,
    minute: u64,
    pids: &[u32],
    db_name: Option<&str>,
) -> anyhow::Result<Sample> {
    let now = Utc::now();
    let oldest: Option<DateTime<Utc>> = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1")
            .bind(now)
            .fetch_one(pool)
            .await?
    });
    let (success, failed): (i64, i64) = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM post_executions",
        )
        .fetch_one(pool)
        .await?
    });
    let db_connections = match (&fx.db, db_name) {
        (icf_store::Db::Postgres(pool), Some(name)) => Some(
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1")
                .bind(name)
                .fetch_one(pool)
                .await?,
        ),
        _ => None,
    };
    Ok(Sample {
        minute,
        rss_mb: pids.iter().map(|&p| rss_kb(p) as f64 / 1024.0).collect(),
        fds: pids.iter().map(|&p| open_fds(p)).collect(),
        db_connections,
        lag_s: oldest.map_or(0.0, |t| (now - t).num_milliseconds() as f64 / 1000.0),
        success,
        failed,
    })
}
