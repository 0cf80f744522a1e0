//! Real ffmpeg/ffprobe (Debian's packages; CI installs them).

use std::path::Path;
use std::process::Command;

use icf_media::video::{VideoLimits, VideoProduct, extract_cover, probe};

fn make_video(path: &Path, size: &str, seconds: u32) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate=30:duration={seconds}"))
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={seconds}"),
        ])
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(status.success());
}

#[tokio::test]
async fn probes_a_real_video_and_checks_it_per_product() {
    let dir = tempfile::tempdir().unwrap();
    let reel = dir.path().join("reel.mp4");
    make_video(&reel, "360x640", 4);
    let info = probe(&reel).await.unwrap();
    assert_eq!((info.width, info.height), (360, 640));
    assert_eq!(info.codec, "h264");
    assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    assert!((info.duration_s - 4.0).abs() < 0.2, "{}", info.duration_s);
    assert!((info.fps - 30.0).abs() < 0.1);
    let limits = VideoLimits::default();
    assert!(info.check(VideoProduct::Reel, &limits).is_ok());
    assert!(
        info.check(VideoProduct::Feed, &limits).is_err(),
        "9:16 is too tall for the feed"
    );

    let cover = dir.path().join("cover.jpg");
    extract_cover(&reel, &cover, 1.0).await.unwrap();
    let img = image::ImageReader::open(&cover)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!((img.width(), img.height()), (360, 640));
}

#[tokio::test]
async fn files_that_are_not_video_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.mp4");
    std::fs::write(&fake, b"\0\0\0\x18ftypmp42 this is not really a video").unwrap();
    let err = probe(&fake).await.unwrap_err();
    assert!(matches!(err, icf_media::MediaError::BadVideo(_)), "{err}");
    // The message goes to whoever uploaded: never the server's path.
    let message = err.to_string();
    assert!(!message.contains(dir.path().to_str().unwrap()), "{message}");
    assert!(!message.contains("fake.mp4"), "{message}");
    assert!(!message.contains('/'), "{message}");

    let short = dir.path().join("short.mp4");
    make_video(&short, "640x640", 1);
    let info = probe(&short).await.unwrap();
    let err = info
        .check(VideoProduct::Feed, &VideoLimits::default())
        .unwrap_err();
    assert!(err.to_string().contains("at least 3 s"), "{err}");
}
