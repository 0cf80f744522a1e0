//! `icf jobs …`: the job queue seen from the shell.

use anyhow::{Context, bail};
use clap::Subcommand;
use icf_store::jobs;

use crate::config::Settings;
use crate::startup;

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Counts by kind and state, the oldest waiting job, running jobs and live workers.
    Status,
    /// Enqueue N diagnostic `selftest` jobs and wait until workers have run them all:
    /// checks end to end that workers are alive and complete jobs.
    Selftest {
        #[arg(long, default_value_t = 100)]
        count: u32,
        /// Simulated work per job, in milliseconds.
        #[arg(long, default_value_t = 0)]
        work_ms: u64,
        /// A name for this run (default: a random one).
        #[arg(long)]
        batch: Option<String>,
        /// Enqueue and exit without waiting.
        #[arg(long)]
        no_wait: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

pub(super) async fn run(settings: Settings, cmd: JobsCommand) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    db.migrate().await.context("applying migrations")?;
    let result = jobs_command(&db, &settings, cmd).await;
    db.close().await;
    result
}

async fn jobs_command(
    db: &icf_store::Db,
    settings: &Settings,
    cmd: JobsCommand,
) -> anyhow::Result<()> {
    match cmd {
        JobsCommand::Status => status(db, settings).await,
        JobsCommand::Selftest {
            count,
            work_ms,
            batch,
            no_wait,
            timeout,
        } => {
            let batch = batch.unwrap_or_else(|| {
                format!(
                    "selftest-{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                )
            });
            enqueue_selftests(db, settings, count, work_ms, &batch).await?;
            println!("enqueued {count} selftest jobs in batch {batch}");
            if no_wait {
                return Ok(());
            }
            wait_for_selftests(db, &batch, count, timeout).await
        }
    }
}

async fn status(db: &icf_store::Db, settings: &Settings) -> anyhow::Result<()> {
    let alive_since = chrono::Utc::now()
        - chrono::Duration::seconds(i64::try_from(settings.worker.job_lease_secs * 2)?);
    let q = jobs::overview(db, alive_since, 50).await?;
    println!("{:<24} {:<10} {:>8}", "kind", "state", "jobs");
    for c in &q.counts {
        println!("{:<24} {:<10} {:>8}", c.kind, c.state, c.count);
    }
    match q.oldest_waiting_since {
        Some(t) => println!(
            "oldest waiting job: due {} s ago",
            (chrono::Utc::now() - t).num_seconds()
        ),
        None => println!("no job is waiting"),
    }
    println!("live workers: {}", q.workers.len());
    for w in &q.workers {
        println!("  {} (concurrency {})", w.id, w.concurrency);
    }
    for r in &q.running {
        println!(
            "  running {} {} attempt {} on {} until {}",
            r.kind,
            r.id,
            r.attempt,
            r.worker.as_deref().unwrap_or("?"),
            r.lease_expires_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// All in one transaction: workers see the whole batch or none of it.
async fn enqueue_selftests(
    db: &icf_store::Db,
    settings: &Settings,
    count: u32,
    work_ms: u64,
    batch: &str,
) -> anyhow::Result<()> {
    let registry = startup::job_registry(settings, db)?;
    let mut tx = db.begin().await?;
    for _ in 0..count {
        let job = registry.job(&icf_core::jobs::Selftest {
            batch: batch.to_owned(),
            work_ms,
        });
        jobs::enqueue(&mut tx, &job).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn wait_for_selftests(
    db: &icf_store::Db,
    batch: &str,
    count: u32,
    timeout: u64,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let done = jobs::selftest::completed(db, batch).await?;
        if done >= i64::from(count) {
            println!(
                "all {count} jobs completed in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed().as_secs() >= timeout {
            bail!(
                "only {done} of {count} selftest jobs completed within {timeout} s: \
                 are workers running (`icf worker`, or `icf serve` without --no-worker)?"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
