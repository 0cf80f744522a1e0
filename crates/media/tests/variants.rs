//! Media variants on real pictures and a real video (ffmpeg makes them; the tests are
//! skipped, saying why, when ffmpeg is missing, unless `ICF_REQUIRE_FFMPEG=1`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use icf_media::variant::{guaranteed_distance, guaranteed_slots};
use icf_media::{
    Measured, PhotoOptions, Strength, VariantSeed, hamming, phash_jpeg, photo_variant,
    prepare_photo, video_phash, video_variant,
};

const SLOTS: u32 = 6;

/// The tests of this file run one at a time. The video's determinism check failed twice
/// with the photo tests running beside it (and once for a person with a build beside it):
/// two encodes of one seed gave the same measures but other H.264 packets. Alone it has
/// always passed. Why the load changes x264's output is not understood yet (see issue
/// `[originality]`); this keeps the check meaningful instead of flaky.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one runs all the same.
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn have_ffmpeg() -> bool {
    let found = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !found {
        assert!(
            std::env::var("ICF_REQUIRE_FFMPEG").as_deref() != Ok("1"),
            "ffmpeg is missing and ICF_REQUIRE_FFMPEG=1"
        );
        eprintln!("skipped: ffmpeg is not installed (apt-get install ffmpeg)");
    }
    found
}

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

/// A 1080×1350 picture from a lavfi source, stored as icf stores photos.
fn picture(dir: &Path, name: &str, source: &str) -> Vec<u8> {
    let path = dir.join(format!("{name}.png"));
    let path = path.to_str().unwrap();
    ffmpeg(&["-f", "lavfi", "-i", source, "-frames:v", "1", path]);
    let bytes = std::fs::read(path).unwrap();
    prepare_photo(&bytes, &PhotoOptions::default())
        .unwrap()
        .jpeg
}

fn seed(slot: u32) -> VariantSeed {
    let mut key = [7u8; 32];
    key[0] = slot as u8;
    key[1] = 0x5a;
    VariantSeed { key, slot }
}

/// Every pair apart by the strength's distance, distinct bytes, SSIM above `min_ssim`.
fn check_set(name: &str, strength: Strength, min_ssim: f64, set: &[Measured]) {
    let need = guaranteed_distance(strength);
    let mut min_pair = u32::MAX;
    for (i, a) in set.iter().enumerate() {
        assert!(a.ssim >= min_ssim, "{name} {strength:?} slot {i}: {a:?}");
        assert!(a.coded);
        for b in &set[..i] {
            assert_ne!(a.sha256, b.sha256, "{name} {strength:?}");
            min_pair = min_pair.min(hamming(a.phash, b.phash));
        }
    }
    let min_ssim_seen = set.iter().map(|m| m.ssim).fold(f64::INFINITY, f64::min);
    let to_original: Vec<u32> = set.iter().map(|m| m.distance).collect();
    eprintln!(
        "{name:>10} {strength:?}: min pairwise distance {min_pair}, min SSIM {min_ssim_seen:.4}, \
         distance to the original {to_original:?}"
    );
    assert!(min_pair >= need, "{name} {strength:?}: {min_pair} < {need}");
}

/// Six accounts' copies of one picture, light and strong.
fn photo_set(name: &str, source: &str) {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let original = picture(dir.path(), name, source);
    let original_phash = phash_jpeg(&original).unwrap();
    for (strength, min_ssim) in [(Strength::Light, 0.97), (Strength::Strong, 0.90)] {
        let started = Instant::now();
        let set: Vec<Measured> = (0..SLOTS)
            .map(|slot| {
                let (jpeg, m) = photo_variant(&original, strength, &seed(slot)).unwrap();
                // What was measured is what the bytes are.
                assert_eq!(phash_jpeg(&jpeg).unwrap(), m.phash);
                assert_eq!(m.original_phash, original_phash);
                assert_eq!(m.distance, hamming(m.phash, original_phash));
                let img = image::load_from_memory(&jpeg).unwrap();
                assert_eq!((img.width(), img.height()), (1080, 1350));
                assert_eq!((m.width, m.height), (1080, 1350));
                m
            })
            .collect();
        eprintln!(
            "{name:>10} {strength:?}: {:.0} ms per variant",
            started.elapsed().as_secs_f64() * 1000.0 / f64::from(SLOTS)
        );
        check_set(name, strength, min_ssim, &set);
    }
}

#[test]
fn photo_variants_of_a_detailed_picture() {
    let _serial = one_at_a_time();
    photo_set("testsrc2", "testsrc2=size=1080x1350");
}

#[test]
fn photo_variants_of_a_smooth_picture() {
    let _serial = one_at_a_time();
    photo_set("gradients", "gradients=size=1080x1350:seed=3");
}

#[test]
fn photo_variants_of_a_mostly_flat_picture() {
    let _serial = one_at_a_time();
    photo_set(
        "flat",
        "color=c=0x8094a8:size=1080x1350,noise=alls=6:allf=u",
    );
}

/// Large black and saturated areas: where SSIM punishes any lift and RGB clips.
#[test]
fn photo_variants_of_colour_bars() {
    let _serial = one_at_a_time();
    photo_set("bars", "smptehdbars=size=1080x1350");
}

/// A picture that is nearly all black (or all white) with a small detailed patch (4 % of
/// it): where the steering pattern has least room (it fades to a fifth at black and white,
/// and nothing goes below 0 or above 255), so the hash is steered by the patch and what
/// little the pattern still moves elsewhere. Asserted: what docs/VARIANTS.md promises of
/// any picture — every slot its own bytes and codeword, what `Measured` says is what the
/// bytes measure, and every pair of slots the strength's distance apart. SSIM is printed,
/// not asserted: on the mostly black picture it falls below the goals (light 0.946–0.966,
/// strong 0.864–0.948 in the first run), which the docs report.
fn mostly_plain_set(name: &str, background: &str) {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "color=c={background}:size=1080x1350[bg];testsrc2=size=216x270[fg];[bg][fg]overlay=432:540"
    );
    let original = picture(dir.path(), name, &source);
    let original_phash = phash_jpeg(&original).unwrap();
    for strength in [Strength::Light, Strength::Strong] {
        let set: Vec<Measured> = (0..SLOTS)
            .map(|slot| {
                let (jpeg, m) = photo_variant(&original, strength, &seed(slot)).unwrap();
                assert_eq!(phash_jpeg(&jpeg).unwrap(), m.phash);
                assert_eq!(m.original_phash, original_phash);
                assert_eq!(m.distance, hamming(m.phash, original_phash));
                m
            })
            .collect();
        // SSIM 0: the goals are reported, not required, here.
        check_set(name, strength, 0.0, &set);
    }
}

#[test]
fn photo_variants_of_a_mostly_black_picture() {
    let _serial = one_at_a_time();
    mostly_plain_set("black", "black");
}

#[test]
fn photo_variants_of_a_mostly_white_picture() {
    let _serial = one_at_a_time();
    mostly_plain_set("white", "white");
}

#[test]
fn photo_variants_are_deterministic_and_slots_past_the_code_book_still_differ() {
    let _serial = one_at_a_time();
    if !have_ffmpeg() {
        return;
    }
    assert!(guaranteed_slots(Strength::Light) >= 200);
    assert!(guaranteed_slots(Strength::Strong) >= 100);
    let dir = tempfile::tempdir().unwrap();
    let original = picture(dir.path(), "mandelbrot", "mandelbrot=size=1080x1350");
    for strength in [Strength::Light, Strength::Strong] {
        let (a, ma) = photo_variant(&original, strength, &seed(3)).unwrap();
        let (b, mb) = photo_variant(&original, strength, &seed(3)).unwrap();
        assert!(a == b, "same seed, same bytes");
        assert_eq!(ma, mb);
        // Same key, another slot: another codeword.
        let other = VariantSeed { slot: 4, ..seed(3) };
        let (_, mc) = photo_variant(&original, strength, &other).unwrap();
        assert!(hamming(ma.phash, mc.phash) >= guaranteed_distance(strength));
        // Past the code book: no guarantee, but distinct bytes all the same.
        let past = guaranteed_slots(strength) as u32;
        let (c, m) = photo_variant(&original, strength, &seed(past)).unwrap();
        assert!(!m.coded);
        assert_ne!(c, a);
        assert!(m.ssim >= 0.9, "{m:?}");
    }
}

/// A 3 s 1080×1920 reel with a sine track, as icf stores videos.
fn reel(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("reel.mp4");
    #[rustfmt::skip]
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-shortest", path.to_str().unwrap(),
    ]);
    path
}

/// The SHA-256 of each stream's packets (video, audio), whatever their order in the file.
fn stream_hashes(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map",
            "0",
            "-c",
            "copy",
            "-f",
            "streamhash",
            "-hash",
            "sha256",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hashes = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(hashes.contains(",v,") && hashes.contains(",a,"), "{hashes}");
    hashes
}
#[test]
fn video_variants_are_apart_alike_and_deterministic() {
    let _serial = one_at_a_time();
    if !have_ffmpeg() {
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(video_variants());
}

async fn video_variants() {
    let dir = tempfile::tempdir().unwrap();
    let original = reel(dir.path());
    let original_phash = video_phash(&original).await.unwrap();
    for (strength, min_ssim) in [(Strength::Light, 0.97), (Strength::Strong, 0.90)] {
        let started = Instant::now();
        let mut set = Vec::new();
        for slot in 0..SLOTS {
            let out = dir.path().join(format!("{strength:?}-{slot}.mp4"));
            let m = video_variant(&original, &out, strength, &seed(slot))
                .await
                .unwrap();
            assert_eq!(video_phash(&out).await.unwrap(), m.phash);
            assert_eq!(m.original_phash, original_phash);
            assert_eq!((m.width, m.height), (1080, 1920));
            let info = icf_media::video::probe(&out).await.unwrap();
            assert_eq!(info.codec, "h264");
            assert_eq!(info.audio_codec.as_deref(), Some("aac"), "audio kept");
            assert!((info.duration_s - 3.0).abs() < 0.1, "{}", info.duration_s);
            set.push(m);
        }
        eprintln!(
            "reel {strength:?}: {:.1} s per variant",
            started.elapsed().as_secs_f64() / f64::from(SLOTS)
        );
        check_set("reel", strength, min_ssim, &set);
        // Same seed, same video and audio, packet for packet. (Not always the same file:
        // twice, under a loaded machine, the MP4 muxer laid the same packets out in another
        // order. A retry never depends on it: it re-sends the copy it kept.)
        let again = dir.path().join("again.mp4");
        let m = video_variant(&original, &again, strength, &seed(2))
            .await
            .unwrap();
        let first = dir.path().join(format!("{strength:?}-2.mp4"));
        let without_file_hash = |m: &Measured| Measured {
            sha256: String::new(),
            ..m.clone()
        };
        assert_eq!(without_file_hash(&m), without_file_hash(&set[2]));
        assert_eq!(stream_hashes(&again), stream_hashes(&first));
    }
}
