//! Video facts from `ffprobe`, Instagram's limits, and cover frames from `ffmpeg`
//! (Debian's packages; icf runs them with a timeout and kills them with the task).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

use crate::MediaError;

/// What ffprobe says about a video file, with width and height as displayed (rotation applied).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VideoInfo {
    pub container: String,
    pub codec: String,
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub rotation: i32,
    pub audio_codec: Option<String>,
    pub size_bytes: u64,
}

/// Where a video goes: the feed and reels have different limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoProduct {
    Feed,
    Reel,
}

/// Instagram's limits as icf checks them before any account tries (the server checks too,
/// but one bad file should fail once, at upload, not once per account).
#[derive(Debug, Clone)]
pub struct VideoLimits {
    pub min_duration_s: f64,
    pub feed_max_duration_s: f64,
    pub reel_max_duration_s: f64,
    pub feed_aspect: (f64, f64),
    pub reel_aspect: (f64, f64),
    pub codecs: &'static [&'static str],
}

impl Default for VideoLimits {
    fn default() -> Self {
        Self {
            min_duration_s: 3.0,
            feed_max_duration_s: 60.0 * 60.0,
            reel_max_duration_s: 3.0 * 60.0,
            feed_aspect: (4.0 / 5.0, 1.91),
            reel_aspect: (9.0 / 16.0, 1.91),
            codecs: &["h264", "hevc"],
        }
    }
}

impl VideoInfo {
    /// Checks the video against the limits of `product`; the message says what to change.
    pub fn check(&self, product: VideoProduct, limits: &VideoLimits) -> Result<(), MediaError> {
        let reject = |m: String| Err(MediaError::VideoRejected(m));
        if !limits.codecs.contains(&self.codec.as_str()) {
            return reject(format!(
                "the video is encoded as {}; Instagram needs H.264 or HEVC",
                self.codec
            ));
        }
        let (max, name, (lo, hi)) = match product {
            VideoProduct::Feed => (
                limits.feed_max_duration_s,
                "feed videos",
                limits.feed_aspect,
            ),
            VideoProduct::Reel => (limits.reel_max_duration_s, "reels", limits.reel_aspect),
        };
        if self.duration_s < limits.min_duration_s {
            return reject(format!(
                "the video lasts {:.1} s; {name} must last at least {:.0} s",
                self.duration_s, limits.min_duration_s
            ));
        }
        if self.duration_s > max {
            return reject(format!(
                "the video lasts {:.0} s; {name} may last at most {:.0} s",
                self.duration_s, max
            ));
        }
        let ratio = f64::from(self.width) / f64::from(self.height.max(1));
        if ratio < lo - 1e-2 || ratio > hi + 1e-2 {
            return reject(format!(
                "the video is {}×{} (aspect {ratio:.2}); {name} need an aspect between {lo:.2} and {hi:.2}",
                self.width, self.height
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    #[serde(default)]
    tags: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    format_name: Option<String>,
    duration: Option<String>,
    size: Option<String>,
}

const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts `tool` with its output piped (killed if dropped).
fn spawn(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
) -> Result<tokio::process::Child, MediaError> {
    Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| MediaError::Tool {
            tool,
            message: format!("cannot start it ({e}); install Debian's ffmpeg package"),
        })
}

pub(crate) async fn run(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
) -> Result<Vec<u8>, MediaError> {
    run_for(tool, args, TOOL_TIMEOUT).await
}

/// [`run`] with a time limit of its own: re-encoding a whole video takes longer than
/// reading one frame.
pub(crate) async fn run_for(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    timeout: Duration,
) -> Result<Vec<u8>, MediaError> {
    let child = spawn(tool, args)?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| no_answer(tool, timeout))??;
    if !output.status.success() {
        return Err(failed(tool, output.status, &output.stderr, args));
    }
    Ok(output.stdout)
}

fn no_answer(tool: &'static str, timeout: Duration) -> MediaError {
    MediaError::Tool {
        tool,
        message: format!("no answer within {} s", timeout.as_secs()),
    }
}

/// A tool that exited with an error: its last line of stderr, without the server's paths.
fn failed(
    tool: &'static str,
    status: std::process::ExitStatus,
    stderr: &[u8],
    args: &[&std::ffi::OsStr],
) -> MediaError {
    let stderr = String::from_utf8_lossy(stderr);
    let last = without_paths(stderr.lines().last().unwrap_or("").trim(), args);
    MediaError::Tool {
        tool,
        message: if last.is_empty() {
            format!("exit status {status}")
        } else {
            last
        },
    }
}

/// [`run`] for a tool whose output is taken as it comes, `record` bytes at a time (a row
/// of a raw frame), each handed to `each` and the buffer reused: a raw 1080×1920 RGB frame
/// is 6 MB, which collected whole (and grown by doubling on the way) is memory a worker
/// making copies of a reel does not need. Returns how many whole records came.
pub(crate) async fn run_records(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    record: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<usize, MediaError> {
    use tokio::io::AsyncReadExt;
    let mut child = spawn(tool, args)?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(MediaError::Tool {
            tool,
            message: "its output could not be read".into(),
        });
    };
    let work = async move {
        let records = async {
            let mut stdout = tokio::io::BufReader::with_capacity(1 << 16, stdout);
            let mut buf = vec![0u8; record.max(1)];
            let mut count = 0;
            loop {
                match stdout.read_exact(&mut buf).await {
                    Ok(_) => {
                        each(&buf);
                        count += 1;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(count),
                    Err(e) => return Err(e),
                }
            }
        };
        // Read at the same time: a tool blocked on a full stderr pipe would never finish
        // its stdout.
        let mut errors = Vec::new();
        let (count, read_errors) = tokio::join!(records, stderr.read_to_end(&mut errors));
        read_errors?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((count?, status, errors))
    };
    // The child goes with the future when the time is up (`kill_on_drop`).
    let (count, status, errors) = tokio::time::timeout(TOOL_TIMEOUT, work)
        .await
        .map_err(|_| no_answer(tool, TOOL_TIMEOUT))??;
    if !status.success() {
        return Err(failed(tool, status, &errors, args));
    }
    Ok(count)
}

/// The tools name the files they were given ("/srv/icf/uploads/.staging/…: Invalid data");
/// a message goes back to whoever uploaded, who must never see the server's paths.
fn without_paths(message: &str, args: &[&std::ffi::OsStr]) -> String {
    let mut out = message.to_owned();
    for arg in args {
        let arg = arg.to_string_lossy();
        if !arg.contains('/') {
            continue;
        }
        out = out.replace(arg.as_ref(), "the file");
        if let Some(name) = Path::new(arg.as_ref()).file_name() {
            let name = name.to_string_lossy();
            if name.len() > 3 {
                out = out.replace(name.as_ref(), "the file");
            }
        }
    }
    // Any other absolute path the tool mentions (its configuration, a library…).
    out.split(' ')
        .map(|word| {
            let bare = word.trim_matches(|c: char| "'\"(),:;".contains(c));
            let bare = bare.strip_prefix("file:").unwrap_or(bare);
            if bare.starts_with('/') && bare.len() > 1 {
                "[path]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `ffprobe` on a local file.
pub async fn probe(path: &Path) -> Result<VideoInfo, MediaError> {
    let out = run(
        "ffprobe",
        &[
            "-v".as_ref(),
            "error".as_ref(),
            "-print_format".as_ref(),
            "json".as_ref(),
            "-show_format".as_ref(),
            "-show_streams".as_ref(),
            path.as_os_str(),
        ],
    )
    .await
    .map_err(|e| unreadable_input(e, ""))?;
    parse_probe(&out)
}

fn parse_probe(json: &[u8]) -> Result<VideoInfo, MediaError> {
    let probe: Probe = serde_json::from_slice(json)
        .map_err(|e| MediaError::BadVideo(format!("ffprobe output: {e}")))?;
    let video = probe
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or_else(|| MediaError::BadVideo("the file has no video stream".into()))?;
    let audio = probe
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    let format = probe
        .format
        .ok_or_else(|| MediaError::BadVideo("ffprobe found no container".into()))?;
    let duration_s: f64 = format
        .duration
        .as_deref()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| MediaError::BadVideo("the video has no duration".into()))?;
    let rotation = video
        .tags
        .get("rotate")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<i32>().ok())
        .or_else(|| {
            video
                .side_data_list
                .iter()
                .find_map(|d| d.get("rotation").and_then(serde_json::Value::as_i64))
                .map(|r| r as i32)
        })
        .unwrap_or(0);
    let (mut width, mut height) = (video.width.unwrap_or(0), video.height.unwrap_or(0));
    if width == 0 || height == 0 {
        return Err(MediaError::BadVideo("the video stream has no size".into()));
    }
    if rotation.rem_euclid(180) == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    let fps = video
        .avg_frame_rate
        .as_deref()
        .and_then(|r| {
            let (n, d) = r.split_once('/')?;
            let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
            (d > 0.0).then_some(n / d)
        })
        .unwrap_or(0.0);
    Ok(VideoInfo {
        container: format.format_name.unwrap_or_default(),
        codec: video.codec_name.clone().unwrap_or_default(),
        duration_s,
        width,
        height,
        fps,
        rotation,
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        size_bytes: format
            .size
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    })
}

/// Writes one frame at `at_s` seconds as a JPEG: the cover Instagram shows before play.
pub async fn extract_cover(video: &Path, out: &Path, at_s: f64) -> Result<(), MediaError> {
    let at = format!("{:.3}", at_s.max(0.0));
    one_jpeg(&["-ss".as_ref(), at.as_ref()], video, &[], out).await?;
    if tokio::fs::metadata(out).await.map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(MediaError::BadVideo(format!("no frame at {at} s")));
    }
    Ok(())
}

/// One picture written by ffmpeg as a JPEG at quality 2: `before` the input (a seek), the
/// `input`, then `after` it (a filter). Frame covers and fitted cover images alike.
async fn one_jpeg(
    before: &[&std::ffi::OsStr],
    input: &Path,
    after: &[&std::ffi::OsStr],
    out: &Path,
) -> Result<(), MediaError> {
    let mut args: Vec<&std::ffi::OsStr> = ["-nostdin", "-loglevel", "error", "-y"]
        .iter()
        .map(|a| a.as_ref())
        .collect();
    args.extend_from_slice(before);
    args.extend(["-i".as_ref(), input.as_os_str()]);
    args.extend_from_slice(after);
    args.extend(
        ["-frames:v", "1", "-q:v", "2"]
            .iter()
            .map(|a| -> &std::ffi::OsStr { a.as_ref() }),
    );
    args.push(out.as_os_str());
    run("ffmpeg", &args).await.map(|_| ())
}

/// A tool that ran but could not read its input: the uploader's file (`BadVideo`, its
/// message after `prefix`), not icf's trouble. A tool that could not start stays `Tool`.
pub(crate) fn unreadable_input(e: MediaError, prefix: &str) -> MediaError {
    match e {
        MediaError::Tool { message, .. } if !message.contains("install") => {
            MediaError::BadVideo(format!("{prefix}{message}"))
        }
        other => other,
    }
}

/// An uploaded cover image made the video's cover: a JPEG of exactly `width`×`height`
/// (scaled to fill, then cropped to the middle), as the frame covers are, so a reel's cover
/// and its video always agree on their size. Any image ffmpeg reads (JPEG, PNG, WebP).
pub async fn fit_cover(
    image: &Path,
    out: &Path,
    width: u32,
    height: u32,
) -> Result<(), MediaError> {
    let filter = format!(
        "scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height}"
    );
    one_jpeg(&[], image, &["-vf".as_ref(), filter.as_ref()], out)
        .await
        .map_err(|e| unreadable_input(e, "the cover image cannot be read: "))?;
    if tokio::fs::metadata(out).await.map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(MediaError::BadVideo(
            "the cover image cannot be read".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(w: u32, h: u32, dur: f64) -> VideoInfo {
        VideoInfo {
            container: "mov,mp4".into(),
            codec: "h264".into(),
            duration_s: dur,
            width: w,
            height: h,
            fps: 30.0,
            rotation: 0,
            audio_codec: None,
            size_bytes: 1,
        }
    }

    #[test]
    fn limits_differ_between_feed_and_reels() {
        let l = VideoLimits::default();
        assert!(info(1080, 1920, 30.0).check(VideoProduct::Reel, &l).is_ok());
        let err = info(1080, 1920, 30.0)
            .check(VideoProduct::Feed, &l)
            .unwrap_err();
        assert!(err.to_string().contains("aspect"), "{err}");
        assert!(
            info(1080, 1350, 600.0)
                .check(VideoProduct::Feed, &l)
                .is_ok()
        );
        let err = info(1080, 1920, 600.0)
            .check(VideoProduct::Reel, &l)
            .unwrap_err();
        assert!(err.to_string().contains("at most 180 s"), "{err}");
        let err = info(1080, 1080, 1.0)
            .check(VideoProduct::Feed, &l)
            .unwrap_err();
        assert!(err.to_string().contains("at least 3 s"), "{err}");
        let mut vp9 = info(1080, 1080, 10.0);
        vp9.codec = "vp9".into();
        assert!(vp9.check(VideoProduct::Feed, &l).is_err());
    }

    #[test]
    fn tool_messages_never_quote_server_paths() {
        let path = std::ffi::OsStr::new("/srv/icf/uploads/.staging/0192abcd-ef.upload");
        let args = ["-v".as_ref(), "error".as_ref(), path];
        let said = "/srv/icf/uploads/.staging/0192abcd-ef.upload: Invalid data found when processing input";
        assert_eq!(
            without_paths(said, &args),
            "the file: Invalid data found when processing input"
        );
        let said = "Error opening output file 0192abcd-ef.upload.";
        assert_eq!(
            without_paths(said, &args),
            "Error opening output file the file."
        );
        let said = "could not open '/etc/fonts/fonts.conf': moov atom not found";
        assert_eq!(
            without_paths(said, &args),
            "could not open [path] moov atom not found"
        );
    }

    #[test]
    fn rotation_swaps_the_displayed_size() {
        let json =
            br#"{"streams":[{"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
            "avg_frame_rate":"30000/1001","side_data_list":[{"rotation":-90}]}],
            "format":{"format_name":"mov,mp4","duration":"12.5","size":"1000"}}"#;
        let info = parse_probe(json).unwrap();
        assert_eq!((info.width, info.height, info.rotation), (1080, 1920, -90));
        assert!((info.fps - 29.97).abs() < 0.01);
        assert!(parse_probe(br#"{"streams":[{"codec_type":"audio"}],"format":{}}"#).is_err());
    }
}
