//! BENCHMARKS.md B8: what one media variant costs. Makes a 1080×1350 photo and a 30 s
//! 1080×1920 reel with ffmpeg in a temp dir, then variants of each, light and strong:
//!
//! ```sh
//! cargo run --release -p icf-media --example variant_cost
//! ```
//!
//! Prints wall time, CPU time and peak memory. Photos run in this process: CPU from
//! `/proc/self/stat`, memory as the process's `VmHWM` (its peak resident size, so it
//! includes the runtime's own few MB). Videos run in ffmpeg: CPU is the children's
//! (`cutime + cstime`, counted once ffmpeg is reaped), memory the largest `VmHWM` of any
//! ffmpeg child, read from `/proc` every 20 ms while it runs (`getrusage` would need
//! `unsafe`, which the workspace forbids). Linux only; figures depend on the machine.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use icf_media::{PhotoOptions, Strength, VariantSeed, photo_variant, prepare_photo, video_variant};

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on every Linux build icf targets).
const TICKS: f64 = 100.0;
const PHOTO_RUNS: u32 = 5;

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(status.success(), "ffmpeg {args:?}");
}

/// (own CPU, children's CPU) in seconds.
fn cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14–17, i.e. 11–14 after the name.
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / TICKS;
    (at(11) + at(12), at(13) + at(14))
}

fn vm_hwm_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Watches this process's children, keeping the largest peak resident size seen.
fn watch_children(stop: Arc<AtomicBool>, peak_kb: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    let me = std::process::id().to_string();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let pid = entry.file_name().to_string_lossy().into_owned();
                if !pid.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(1))
                    .unwrap_or("");
                if ppid == me {
                    peak_kb.fetch_max(vm_hwm_kb(&pid), Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

fn seed(slot: u32) -> VariantSeed {
    let mut key = [0x42u8; 32];
    key[0] = slot as u8;
    VariantSeed { key, slot }
}

fn photo_row(original: &[u8], strength: Strength) {
    let (cpu0, _) = cpu();
    let started = Instant::now();
    let mut ssim = f64::INFINITY;
    for slot in 0..PHOTO_RUNS {
        let (_, m) = photo_variant(original, strength, &seed(slot)).expect("photo variant");
        ssim = ssim.min(m.ssim);
    }
    let wall = started.elapsed().as_secs_f64() / f64::from(PHOTO_RUNS);
    let cpu = (cpu().0 - cpu0) / f64::from(PHOTO_RUNS);
    println!(
        "| photo 1080×1350 | {strength:?} | {:.0} ms | {:.0} ms | {:.0} MB (process VmHWM) | min SSIM {ssim:.4} |",
        wall * 1000.0,
        cpu * 1000.0,
        vm_hwm_kb("self") as f64 / 1024.0
    );
}

async fn video_row(original: &Path, dir: &Path, strength: Strength) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let watcher = watch_children(stop.clone(), peak.clone());
    let (own0, children0) = cpu();
    let started = Instant::now();
    let out = dir.join(format!("reel-{strength:?}.mp4"));
    let m = video_variant(original, &out, strength, &seed(1))
        .await
        .expect("video variant");
    let wall = started.elapsed().as_secs_f64();
    let (own1, children1) = cpu();
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    println!(
        "| reel 30 s 1080×1920 | {strength:?} | {wall:.1} s | {:.1} s (ffmpeg) + {:.2} s (icf) | {:.0} MB (largest ffmpeg VmHWM) | SSIM {:.4}, distance {} |",
        children1 - children0,
        own1 - own0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0,
        m.ssim,
        m.distance
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let png = dir.path().join("photo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1080x1350",
        "-frames:v",
        "1",
        png.to_str().expect("utf-8 path"),
    ]);
    let photo = prepare_photo(&std::fs::read(&png).expect("png"), &PhotoOptions::default())
        .expect("photo")
        .jpeg;
    let reel = dir.path().join("reel.mp4");
    #[rustfmt::skip]
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=30",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=30",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-shortest", reel.to_str().expect("utf-8 path"),
    ]);

    println!("| input | strength | wall per variant | CPU per variant | peak memory | measured |");
    println!("|---|---|---|---|---|---|");
    for strength in [Strength::Light, Strength::Strong] {
        photo_row(&photo, strength);
    }
    for strength in [Strength::Light, Strength::Strong] {
        video_row(&reel, dir.path(), strength).await;
    }
}
