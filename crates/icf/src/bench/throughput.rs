//! B2 publishing throughput: executions per second through real worker processes against
//! the Instagram simulator, with pacing switched off (every execution due at once, instead
//! of the planner's minutes apart), and the workers' CPU time per execution.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use icf_core::enums::JobPriority;
use icf_core::ids::{AccountId, PostId};
use icf_store::DbUuid;
use icf_store::executions::PlannedExecution;

use super::figure::Figure;
use super::fixture::{Fixture, Store};
use super::world::{World, age_accounts, wait_all_ended};

/// A worker process (`icf worker`) joined to the fixture.
pub struct WorkerProcess {
    child: tokio::process::Child,
}

impl WorkerProcess {
    pub fn spawn(fx: &Fixture, args: &[&str]) -> anyhow::Result<WorkerProcess> {
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .args(args)
            .envs(fx.worker_env())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a worker process")?;
        Ok(WorkerProcess { child })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// User + system CPU time so far.
    pub fn cpu(&self) -> Duration {
        self.pid().map_or(Duration::ZERO, cpu_of)
    }

    /// Resident memory now (VmRSS), in KiB.
    pub fn rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// SIGTERM, then waits for the graceful exit.
    pub async fn stop(mut self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}

/// CPU time of a process from /proc (clock ticks of 10 ms).
pub fn cpu_of(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name may hold spaces; fields count from after its closing parenthesis.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Queues the post to every account, all due now: the planner's spacing left out.
pub async fn enqueue_all_now(fx: &Fixture, post: &str) -> anyhow::Result<usize> {
    let post: PostId = post.parse().context("post id")?;
    let accounts: Vec<(DbUuid, String)> = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_as("SELECT id, language FROM accounts ORDER BY username")
            .fetch_all(pool)
            .await?
    });
    let now = Utc::now();
    let rows: Vec<PlannedExecution> = accounts
        .into_iter()
        .map(|(id, language)| PlannedExecution {
            account_id: id.into_id::<AccountId>(),
            language,
            caption: "Throughput".into(),
            first_comment: None,
            alt_text: Vec::new(),
            planned_at: now,
        })
        .collect();
    let mut tx = fx.db.begin().await?;
    let n =
        icf_store::executions::create_with_jobs(&mut tx, post, JobPriority::Normal, &rows).await?;
    tx.commit().await?;
    Ok(n)
}

/// `https`: the simulator over https, as Instagram is reached (TLS 1.3 and h2 through each
/// account's proxy, its connection kept and reused as the app does); otherwise plain HTTP,
/// a new connection through the proxy for every request.
pub async fn run(store: &Store, n: usize, https: bool) -> anyhow::Result<Vec<Figure>> {
    let world = if https {
        World::start_tls("tp", n, |_| serde_json::Value::Null).await?
    } else {
        World::start("tp", n, |_| serde_json::Value::Null).await?
    };
    let ca = world
        .ca_file
        .as_ref()
        .map(|f| f.path().display().to_string())
        .unwrap_or_default();
    let fx = Fixture::start(
        store,
        &[
            ("INSTAGRAM_API_URL", world.sim.base_url()),
            ("INSTAGRAM_API_CA", ca),
            ("ICF_PACING_SPEED", "3600".into()),
            // No spacing between the accounts of a post: the run measures what one
            // execution costs. With the spacing, the check before each publish lets one
            // execution of the post start every 33–83 ms and moves the others, again and
            // again (BENCHMARKS.md, "B2 measured again").
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0".into()),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0".into()),
            ("ICF_DB_MAX_CONNECTIONS", "20".into()),
        ],
    )
    .await?;
    fx.import_accounts(&world.lines("tp", n, "Fast", &["en"]))
        .await?;
    age_accounts(&fx).await?;
    let group = fx.group_id("Fast").await?;
    let mut out = Vec::new();
    // The second run's worker publishes two posts: its first to each account builds the
    // account's client from the database, its second finds it kept (issue 20).
    let runs: [(usize, &[&str]); 3] = [
        (
            1,
            &["1 worker process × 50, first post (every account logs in)"],
        ),
        (
            1,
            &[
                "1 worker process × 50, sessions saved",
                "1 worker process × 50, sessions saved, clients kept (its second post)",
            ],
        ),
        (2, &["2 worker processes × 50, sessions saved"]),
    ];
    let mut posts = 0;
    for (processes, whats) in runs {
        let workers: Vec<WorkerProcess> = (0..processes)
            .map(|_| WorkerProcess::spawn(&fx, &["worker", "--concurrency", "50"]))
            .collect::<Result<_, _>>()?;
        // Started and idle before the clock starts.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for what in whats {
            let cpu0: Duration = workers.iter().map(WorkerProcess::cpu).sum();
            // Before the run: what the worker holds without this run's clients.
            let rss0: u64 = workers.iter().filter_map(WorkerProcess::rss_kb).sum();
            let post = fx.photo_post(&[&group], "Throughput", "en").await?;
            let t = Instant::now();
            let queued = enqueue_all_now(&fx, &post).await?;
            wait_all_ended(&fx, Duration::from_secs(900)).await?;
            let took = t.elapsed();
            let cpu = workers.iter().map(WorkerProcess::cpu).sum::<Duration>() - cpu0;
            posts += 1;
            let failed: i64 = icf_store::on_pool!(&fx.db, |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM post_executions WHERE status = 'failed'")
                    .fetch_one(pool)
                    .await?
            });
            if failed > 0 {
                // Why, so a broken run says so instead of printing fast figures.
                let why: Vec<(Option<String>, i64)> = icf_store::on_pool!(&fx.db, |pool| {
                    sqlx::query_as(
                        "SELECT error_message, COUNT(*) FROM post_executions \
                         WHERE status = 'failed' GROUP BY error_message ORDER BY 2 DESC LIMIT 3",
                    )
                    .fetch_all(pool)
                    .await?
                });
                eprintln!("B2 {what}: failed executions: {why:?}");
            }
            let rss: u64 = workers.iter().filter_map(WorkerProcess::rss_kb).sum();
            out.push(Figure::new(
                "B2",
                store,
                format!(
                    "{what}: {queued} executions{}",
                    if https { ", over https" } else { "" }
                ),
                format!(
                    "{:.0} executions/s, {:.1} ms CPU per execution, worker RSS {} → {} MB{}",
                    queued as f64 / took.as_secs_f64(),
                    cpu.as_secs_f64() * 1000.0 / queued.max(1) as f64,
                    rss0 / 1024,
                    rss / 1024,
                    if failed > 0 {
                        format!(", {failed} failed in all runs so far")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        for w in workers {
            w.stop().await;
        }
    }
    let published = world.sim.media(None).len();
    out.push(Figure::new(
        "B2",
        store,
        "media on the simulator after the runs",
        format!("{published} (expected {})", posts * n),
    ));
    fx.finish().await?;
    Ok(out)
}
