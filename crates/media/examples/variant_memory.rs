//! BENCHMARKS.md B4 with copies: how much of its own memory a process spends making one
//! account's copy of a reel (the video, and the cover, which is a photo copy). One job per
//! process, so that what the allocator kept from one job does not count in the other:
//!
//! ```sh
//! cargo run --release -p icf-media --example variant_memory -- video [light|strong]
//! cargo run --release -p icf-media --example variant_memory -- cover [light|strong]
//! cargo run --release -p icf-media --example variant_memory -- covers-threads [light|strong]
//! cargo run --release -p icf-media --example variant_memory -- covers-one-thread [light|strong]
//! ```
//!
//! The last two make the cover's copy four times in a row, each time on a thread of its
//! own (threads kept alive) or every time on the same thread, and print the resident size
//! after each: glibc gives each thread that allocates an arena of its own, and what an
//! arena kept after a job stays resident.
//!
//! Makes a 10 s 1080×1920 `testsrc2` reel with a sine tone (in-process memory does not
//! depend on the length: frames are read one at a time) and its 1080×1920 cover, as icf
//! makes them, then prints the process's resident size before the copy and its peak
//! (`VmHWM`, reset through `/proc/self/clear_refs` once the inputs are made) — ffmpeg's own
//! memory is its child's, not counted. The runtime is tokio's multi-thread one, as in
//! `icf worker`, and the cover's copy runs on a blocking thread as the worker runs it.
//! Linux only.

use std::process::Command;

use icf_media::{Strength, VariantSeed, photo_variant, video_variant};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let job = args.get(1).map(String::as_str).unwrap_or("video");
    let strength = match args.get(2).map(String::as_str) {
        Some("strong") => Strength::Strong,
        _ => Strength::Light,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let reel = dir.path().join("reel.mp4");
    let cover = dir.path().join("cover.jpg");
    #[rustfmt::skip]
    let made = Command::new("ffmpeg")
        .args([
            "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=10",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=10",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-shortest",
        ])
        .arg(&reel)
        .status()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(made.success(), "ffmpeg could not make the reel");
    icf_media::video::extract_cover(&reel, &cover, 5.0)
        .await
        .expect("cover");
    let seed = VariantSeed {
        key: [0x42; 32],
        slot: 1,
    };
    let jpeg = std::fs::read(&cover).expect("cover bytes");

    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = status_kb("VmRSS:");
    let started = std::time::Instant::now();
    let summary = match job {
        "covers-threads" | "covers-one-thread" => {
            let mut sizes = Vec::new();
            let (done_tx, done) = std::sync::mpsc::channel();
            let mut jobs = Vec::new();
            for slot in 0..4 {
                let (tx, rx) = std::sync::mpsc::channel::<()>();
                jobs.push(tx);
                if job == "covers-threads" || slot == 0 {
                    let (jpeg, done_tx) = (jpeg.clone(), done_tx.clone());
                    // Threads stay alive to the end: each keeps its arena.
                    std::thread::spawn(move || {
                        for () in rx.iter() {
                            let made = photo_variant(&jpeg, strength, &seed);
                            let _ = done_tx.send(made.is_ok());
                        }
                    });
                }
            }
            for slot in 0..4 {
                let to = if job == "covers-threads" { slot } else { 0 };
                let _ = jobs[to].send(());
                let _ = done.recv();
                sizes.push(format!(
                    "after {}: {:.1} MB",
                    slot + 1,
                    mb(status_kb("VmRSS:"))
                ));
            }
            sizes.join(", ")
        }
        "video-then-covers" => {
            // As a worker makes them: the video's copy on the runtime, then the cover's
            // twice on a thread of its own.
            let out = dir.path().join("copy.mp4");
            video_variant(&reel, &out, strength, &seed)
                .await
                .expect("video variant");
            let mut sizes = vec![format!(
                "after the video: {:.1} MB",
                mb(status_kb("VmRSS:"))
            )];
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let (done_tx, done) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for () in rx.iter() {
                    let _ = done_tx.send(photo_variant(&jpeg, strength, &seed).is_ok());
                }
            });
            for n in 1..=3 {
                let _ = tx.send(());
                let _ = done.recv();
                sizes.push(format!(
                    "after cover {n}: {:.1} MB",
                    mb(status_kb("VmRSS:"))
                ));
            }
            sizes.join(", ")
        }
        "cover" => {
            let (out, m) = tokio::task::spawn_blocking(move || {
                photo_variant(&jpeg, strength, &seed).expect("photo variant")
            })
            .await
            .expect("blocking task");
            format!(
                "{} bytes, ssim {:.4}, distance {}, sha256 {}",
                out.len(),
                m.ssim,
                m.distance,
                m.sha256
            )
        }
        _ => {
            let out = dir.path().join("copy.mp4");
            let m = video_variant(&reel, &out, strength, &seed)
                .await
                .expect("video variant");
            format!(
                "ssim {:.4}, distance {}, sha256 {}",
                m.ssim, m.distance, m.sha256
            )
        }
    };
    println!(
        "{job} {strength:?}: RSS before {:.1} MB, peak {:.1} MB (+{:.1} MB), {:.1} s; {summary}",
        mb(before),
        mb(status_kb("VmHWM:")),
        mb(status_kb("VmHWM:").saturating_sub(before)),
        started.elapsed().as_secs_f64()
    );
}
