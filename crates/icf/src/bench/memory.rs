//! B4 memory: the peak resident memory of `icf serve` while it receives a large video, and
//! of an `icf worker` process while it publishes that video to 50 accounts (with
//! `--copies`, each account's own re-encoded copy of it).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::figure::Figure;
use super::fixture::{Fixture, Store};
use super::throughput::WorkerProcess;
use super::world::{World, age_accounts, wait_all_ended};

/// Peak resident memory (VmHWM) of a process, in MB.
pub(super) fn peak_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// An H.264 MP4 of about `mb` MB, 55 s of 1080×1920 at a constant bitrate (ffmpeg pads
/// the stream to the rate, so the size is what was asked).
async fn make_video(path: &std::path::Path, mb: u64) -> anyhow::Result<u64> {
    let kbps = (mb * 8 * 1000 / 55).max(100);
    let rate = format!("{kbps}k");
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=1080x1920:rate=30")
        .args(["-t", "55", "-c:v", "libx264", "-preset", "ultrafast"])
        .args(["-pix_fmt", "yuv420p", "-b:v", &rate, "-minrate", &rate])
        .args(["-maxrate", &rate, "-bufsize", &rate])
        .args(["-x264-params", "nal-hrd=cbr", "-movflags", "+faststart"])
        .arg(path)
        .output()
        .await
        .context("cannot run ffmpeg")?;
    if !out.status.success() {
        bail!("ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(std::fs::metadata(path)?.len())
}

pub async fn run(
    store: &Store,
    video_mb: u64,
    accounts: usize,
    copies: bool,
) -> anyhow::Result<Vec<Figure>> {
    let world = World::start("mem", accounts, |_| Value::Null).await?;
    let variants = if copies { "light" } else { "off" };
    let fx = Fixture::start(
        store,
        &[
            ("INSTAGRAM_API_URL", world.sim.base_url()),
            // 2–5 s between accounts: one upload after the other, as in production.
            ("ICF_PACING_SPEED", "60".into()),
            ("ICF_MAX_UPLOAD_MB", (video_mb + 64).to_string()),
            // The import makes the group; it gets this.
            ("ICF_MEDIA_VARIANTS_DEFAULT", variants.into()),
        ],
    )
    .await?;
    fx.import_accounts(&world.lines("mem", accounts, "Video", &["en"]))
        .await?;
    age_accounts(&fx).await?;
    let group = fx.group_id("Video").await?;
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("big.mp4");
    let size = make_video(&video, video_mb).await?;

    let (mut serve, base) = fx.spawn_serve().await?;
    let serve_pid = serve.id().unwrap_or(0);
    let worker = WorkerProcess::spawn(&fx, &["worker", "--concurrency", "50"])?;
    let serve_idle = peak_mb(serve_pid);

    // The upload, streamed from the file as a browser would send it.
    let file = tokio::fs::File::open(&video).await?;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    let form = reqwest::multipart::Form::new()
        .text("caption", "A long video")
        // 9:16, as phones film: a reel (feed videos must be 4:5 to 1.91:1).
        .text("media_type", "reel")
        .text("original_language", "en")
        .text("target_groups", json!([group]).to_string())
        .part(
            "media",
            reqwest::multipart::Part::stream_with_length(body, size)
                .file_name("big.mp4")
                .mime_str("video/mp4")?,
        );
    let t = Instant::now();
    let resp = fx
        .client
        .post(format!("{base}/api/posts/"))
        .bearer_auth(&fx.token)
        .multipart(form)
        .send()
        .await?;
    let status = resp.status();
    let created: Value = resp.json().await?;
    if !status.is_success() {
        bail!("the upload answered {status}: {created}");
    }
    let upload = t.elapsed();
    let serve_after_upload = peak_mb(serve_pid);
    let post = created["id"].as_str().context("no post id")?.to_owned();
    let t = Instant::now();
    let plan = fx
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(json!({})),
        )
        .await?;
    if plan["created"] != accounts {
        bail!(
            "publishing planned {} of {accounts}: {plan}",
            plan["created"]
        );
    }
    wait_all_ended(&fx, Duration::from_secs(1800)).await?;
    let publish = t.elapsed();
    let worker_peak = worker.pid().map_or(0.0, peak_mb);
    let media = world.sim.media(None);
    let published = media.len();
    // With copies, every account's file is its own: count the distinct ones received.
    let files: std::collections::BTreeSet<String> = media
        .iter()
        .flat_map(|m| m.files.iter().map(|f| f.sha256.clone()))
        .collect();
    worker.stop().await;
    let _ = serve.start_kill();
    let _ = serve.wait().await;
    fx.finish().await?;
    let mb = size as f64 / 1_048_576.0;
    Ok(vec![
        Figure::new(
            "B4",
            store,
            format!("icf serve, peak RSS receiving a {mb:.0} MB video (idle: {serve_idle:.0} MB)"),
            format!(
                "{serve_after_upload:.0} MB (upload {:.1} s)",
                upload.as_secs_f64()
            ),
        )
        .goal("< 150 MB", serve_after_upload < 150.0),
        Figure::new(
            "B4",
            store,
            format!(
                "icf worker, peak RSS publishing it to {accounts} accounts ({published} published, \
                 media_variants={variants}: {} distinct files)",
                files.len()
            ),
            format!(
                "{worker_peak:.0} MB (all done in {:.0} s)",
                publish.as_secs_f64()
            ),
        )
        .goal("< 150 MB", worker_peak < 150.0),
    ])
}
