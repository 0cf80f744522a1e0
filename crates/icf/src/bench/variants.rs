//! B8 end to end: one photo post to 100 accounts with each account's own copy of the photo
//! (`light`) against one file for all (`off`): how fast the post goes out, and what the
//! worker spends. The cost of one copy alone is `crates/media/examples/variant_cost.rs`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::figure::Figure;
use super::fixture::{Fixture, Store};
use super::throughput::WorkerProcess;
use super::world::{World, age_accounts, wait_all_ended};

const ACCOUNTS: usize = 100;

/// A detailed 1080×1350 picture (ffmpeg's `testsrc2`), as a phone photo would be.
async fn picture() -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("photo.jpg");
    let out = tokio::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1080x1350:rate=1",
        ])
        .args(["-frames:v", "1", "-q:v", "2"])
        .arg(&path)
        .output()
        .await
        .context("cannot run ffmpeg")?;
    if !out.status.success() {
        bail!("ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(std::fs::read(path)?)
}

pub async fn run(store: &Store) -> anyhow::Result<Vec<Figure>> {
    let world = World::start("var", ACCOUNTS, |_| Value::Null).await?;
    let fx = Fixture::start(
        store,
        &[
            ("INSTAGRAM_API_URL", world.sim.base_url()),
            ("ICF_PACING_SPEED", "3600".into()),
            // No spacing: the run measures what a copy adds to a publish.
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0".into()),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0".into()),
            ("ICF_DB_MAX_CONNECTIONS", "20".into()),
        ],
    )
    .await?;
    fx.import_accounts(&world.lines("var", ACCOUNTS, "Copies", &["en"]))
        .await?;
    age_accounts(&fx).await?;
    let group = fx.group_id("Copies").await?;
    let photo = picture().await?;
    let mut out = Vec::new();
    let worker = WorkerProcess::spawn(&fx, &["worker", "--concurrency", "50"])?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A first post logs every account in, so both measured runs find sessions saved.
    for (mode, measured) in [("off", false), ("off", true), ("light", true)] {
        fx.call(
            Method::PUT,
            &format!("/api/groups/{group}"),
            Some(json!({"media_variants": mode})),
        )
        .await?;
        let post = fx
            .photo_post_of(&[&group], &format!("Copies {mode}"), "en", photo.clone())
            .await?;
        let cpu0 = worker.cpu();
        let t = Instant::now();
        fx.call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(json!({"when": "now"})),
        )
        .await?;
        wait_all_ended(&fx, Duration::from_secs(1800)).await?;
        let took = t.elapsed();
        let cpu = worker.cpu() - cpu0;
        if !measured {
            continue;
        }
        let executions = fx
            .call(Method::GET, &format!("/api/posts/{post}/executions"), None)
            .await?;
        let ok = executions["totals"]["success"].as_u64().unwrap_or(0);
        out.push(Figure::new(
            "B8",
            store,
            format!("a 1080×1350 photo post to {ACCOUNTS} accounts, media_variants={mode}"),
            format!(
                "{:.1} executions/s, {:.1} ms worker CPU per execution, {ok} published{}",
                ACCOUNTS as f64 / took.as_secs_f64(),
                cpu.as_secs_f64() * 1000.0 / ACCOUNTS as f64,
                match executions["closest_pair"].as_u64() {
                    Some(bits) => format!(", closest two accounts {bits} bits apart"),
                    None => String::new(),
                }
            ),
        ));
    }
    let peak = worker.pid().map_or(0.0, super::memory::peak_mb);
    out.push(Figure::new(
        "B8",
        store,
        "icf worker, peak RSS over the three posts",
        format!("{peak:.0} MB"),
    ));
    worker.stop().await;
    fx.finish().await?;
    Ok(out)
}
