//! Video variants: one ffmpeg pass (reframe, `eq`/`hue`, light luma noise, the steering
//! pattern, x264 with its own GOP and CRF, audio copied), then the measures on the output.
//!
//! **The defining frame** of a video, whose pHash is the video's: the frame shown half-way
//! through, read with `-ss` at the middle of a frame interval (`(k + ½) / fps` with
//! `k = ⌊frames / 2⌋`, `frames = round(duration · fps)`), so that a timestamp rounded
//! differently by another muxer cannot pick the neighbouring frame. [`video_phash`] and
//! [`video_variant`] both use [`defining_time`].
//!
//! **The steering pattern** is static (the same on every frame), written as one raw 4:2:0
//! frame of `128 + pattern` luma and neutral chroma, and added to every frame's luma by
//! `lut2` (a table of the two planes, built once: fast, unlike a per-pixel expression),
//! faded towards black and white as the photos' pattern is. It is found on previews of the defining frame made by the very filter graph
//! of the encode (one frame, no encoding; the per-frame noise differs after a seek, which
//! a 32×32 resize averages away), then checked on the encoded output.
//!
//! **SSIM** is measured on three frames (¼, ½ and ¾ of the way, same mid-interval rule)
//! against the original's frames framed the same way (crop and scale, no colour change),
//! with the photos' SSIM on the stored luma (the Y plane, as video SSIM is usually
//! measured); the lowest of the three is reported.
//!
//! **Determinism**: x264 with a fixed thread count (its output depends on the count, not
//! on the scheduling), `bitexact` flags on the scaler, codec and muxer, the noise seeded
//! from the key, no metadata or chapters copied (`-map_metadata -1`), timestamps passed
//! through.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::look::{Draw, Look, Measured, Strength, VariantSeed};
use super::measure::{self, Coeffs, Shrink};
use super::steer::{self, Amplitudes, Pattern, Response};
use crate::MediaError;
use crate::video::{VideoInfo, probe, run_for, run_records, unreadable_input};

/// Coefficient margin kept from the median (see the photos'): H.264 at CRF ≤ 26 and the
/// 4:2:0 rounding of the pattern move a 32×32 cell by well under a grey level.
const MARGIN: f64 = 500.0;
/// Encodes tried before settling for what the last one measured.
const ATTEMPTS: usize = 3;
/// Rounds of previewing the defining frame before encoding (one or two are typical).
const SETTLE_ROUNDS: usize = 4;
/// The pattern (second plane, 128 = none) added to the luma, faded near black and white.
const FADED: &str = "clip(x+(y-128)*4*clip((x-16)/219,0,1)*(1-clip((x-16)/219,0,1)),0,255)";
/// x264 threads: fixed, because x264's output depends on it.
const THREADS: &str = "2";

/// The encoding choices of one video variant.
#[derive(Debug, Clone, Copy)]
struct Encoding {
    crf: u32,
    gop: u32,
    noise: u32,
    noise_seed: u32,
}

impl Encoding {
    fn draw(strength: Strength, seed: &VariantSeed) -> Self {
        let mut d = Draw::new(seed, "video-encoding");
        let (crf, noise) = match strength {
            Strength::Light => ((17, 20), (0, 1)),
            Strength::Strong => ((21, 25), (2, 4)),
        };
        Encoding {
            crf: d.int(crf.0, crf.1),
            gop: d.int(30, 150),
            noise: d.int(noise.0, noise.1),
            noise_seed: d.int(0, i32::MAX as u32),
        }
    }
}

/// When the defining frame is read: the middle of the interval of the frame half-way.
pub(crate) fn defining_time(info: &VideoInfo) -> f64 {
    frame_time(info, 0.5)
}

fn frame_time(info: &VideoInfo, fraction: f64) -> f64 {
    let fps = if info.fps > 1.0 { info.fps } else { 30.0 };
    let frames = (info.duration_s * fps).round().max(1.0);
    ((frames * fraction).floor().min(frames - 1.0) + 0.5) / fps
}

/// pHash of the video's defining frame (see the module's doc).
pub async fn video_phash(path: &Path) -> Result<u64, MediaError> {
    let (_, c) = defining_coeffs(path).await?;
    Ok(measure::hash_of(&c))
}

async fn defining_coeffs(path: &Path) -> Result<(VideoInfo, Coeffs), MediaError> {
    let info = probe(path).await?;
    let c = frame_coeffs(path, defining_time(&info), None, &info).await?;
    Ok((info, c))
}

/// The pHash block of one frame at `at` seconds, through `filter` if any: its 8-bit RGB
/// rows are taken down as ffmpeg writes them ([`Shrink`]), the frame is never held whole.
async fn frame_coeffs(
    path: &Path,
    at: f64,
    filter: Option<&str>,
    info: &VideoInfo,
) -> Result<Coeffs, MediaError> {
    let mut shrink = Shrink::new(info.width as usize, info.height as usize);
    frame_pixels(path, at, filter, info, "rgb24", 3, |row| {
        shrink.push_rgb(row)
    })
    .await?;
    Ok(shrink.finish())
}

/// One frame's Y plane: the luma the codec stored, which is what video SSIM is usually
/// measured on (ffmpeg's and x264's `SSIM Y`). Kept as it came, 8 bits a pixel.
async fn frame_y(
    path: &Path,
    at: f64,
    filter: Option<&str>,
    info: &VideoInfo,
) -> Result<Vec<u8>, MediaError> {
    let mut y = Vec::with_capacity(info.width as usize * info.height as usize);
    frame_pixels(path, at, filter, info, "gray", 1, |row| {
        y.extend_from_slice(row)
    })
    .await?;
    Ok(y)
}

/// One frame at `at` seconds, through `filter` if any, in `pix_fmt`: each row handed to
/// `row` as it comes.
async fn frame_pixels(
    path: &Path,
    at: f64,
    filter: Option<&str>,
    info: &VideoInfo,
    pix_fmt: &str,
    bytes_per_pixel: usize,
    row: impl FnMut(&[u8]),
) -> Result<(), MediaError> {
    let at = format!("{at:.4}");
    let mut args: Vec<&OsStr> = vec![
        "-nostdin".as_ref(),
        "-loglevel".as_ref(),
        "error".as_ref(),
        "-ss".as_ref(),
        at.as_ref(),
        "-i".as_ref(),
        path.as_os_str(),
    ];
    if let Some(filter) = filter {
        args.extend::<[&OsStr; 2]>(["-vf".as_ref(), filter.as_ref()]);
    }
    let tail: [&OsStr; 7] = [
        "-frames:v".as_ref(),
        "1".as_ref(),
        "-f".as_ref(),
        "rawvideo".as_ref(),
        "-pix_fmt".as_ref(),
        pix_fmt.as_ref(),
        "pipe:1".as_ref(),
    ];
    args.extend(tail);
    frame_rows(&args, &at, info, bytes_per_pixel, row).await
}

/// Runs ffmpeg writing one raw frame of the video's size to its stdout, handing each row
/// to `row`; an error unless exactly the frame's rows came.
async fn frame_rows(
    args: &[&OsStr],
    at: &str,
    info: &VideoInfo,
    bytes_per_pixel: usize,
    row: impl FnMut(&[u8]),
) -> Result<(), MediaError> {
    let rows = run_records("ffmpeg", args, info.width as usize * bytes_per_pixel, row)
        .await
        .map_err(|e| unreadable_input(e, ""))?;
    if rows != info.height as usize {
        return Err(MediaError::BadVideo(format!("no frame at {at} s")));
    }
    Ok(())
}

/// Crop to the variant's window and scale back to the original size.
fn framing(look: &Look, info: &VideoInfo) -> String {
    let (x, y, w, h) = look.window(info.width, info.height);
    format!(
        "crop={w}:{h}:{x}:{y},scale={}:{}:flags=bicubic+accurate_rnd+full_chroma_int+bitexact",
        info.width, info.height
    )
}

/// The colour changes, as the photos make them: the tone curve of [`Look::tone`] as a
/// luma lookup table (in video levels, 16–235), then hue and saturation.
fn colour(look: &Look) -> String {
    // t: luma as 0–1 of the video range; the change, in RGB levels, scaled to video levels.
    let t = "clip((val-16)/219,0,1)";
    format!(
        "lutyuv=y='clip(val+({b:.4}+{c:.5}*({t}*255-127.5))*4*{t}*(1-{t})*219/255,0,255)',\
         hue=h={h:.4}:s={s:.5}",
        b = look.brightness,
        c = look.contrast - 1.0,
        h = look.hue,
        s = look.saturation,
    )
}

/// Re-encodes `original` into `out`: a distinct copy for one account, same width×height,
/// H.264 yuv420p MP4 with `+faststart`, audio copied. Byte-identical for the same seed.
pub async fn video_variant(
    original: &Path,
    out: &Path,
    strength: Strength,
    seed: &VariantSeed,
) -> Result<Measured, MediaError> {
    let (info, original_coeffs) = defining_coeffs(original).await?;
    if info.width % 2 != 0 || info.height % 2 != 0 {
        return Err(MediaError::BadVideo(format!(
            "the video is {}×{}; variants need even sizes",
            info.width, info.height
        )));
    }
    let original_phash = measure::hash_of(&original_coeffs);
    let (target, coded) = steer::target(&original_coeffs, strength, seed.slot);
    let look = Look::draw(strength, seed);
    let encoding = Encoding::draw(strength, seed);
    let (framing, colour) = (framing(&look, &info), colour(&look));

    let pattern_file = sibling(out, "steer.yuv");
    let job = Job {
        original,
        out,
        pattern_file: &pattern_file,
        info: &info,
        filters: format!("{framing},{colour},{}", noise(&encoding)),
        encoding,
    };
    let result = job.steer_and_encode(coded.then_some(target)).await;
    let _ = tokio::fs::remove_file(&pattern_file).await;
    let phash = result?;
    let ssim = sampled_ssim(original, out, &info, &framing).await?;
    let out_info = probe(out).await?;
    Ok(Measured {
        sha256: file_sha256(out).await?,
        width: out_info.width,
        height: out_info.height,
        phash,
        original_phash,
        distance: measure::hamming(phash, original_phash),
        ssim,
        crop: look.crop,
        coded,
    })
}

fn noise(encoding: &Encoding) -> String {
    // Luma only (colour noise would show), temporal (a fixed grain pattern would not hide
    // anything), seeded from the key.
    format!(
        "noise=c0s={}:c0f=t:c0_seed={}",
        encoding.noise, encoding.noise_seed
    )
}

/// A file next to `out` (same volume, cleaned up by whoever cleans `out`'s folder).
fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    out.with_file_name(name)
}

struct Job<'a> {
    original: &'a Path,
    out: &'a Path,
    pattern_file: &'a Path,
    info: &'a VideoInfo,
    filters: String,
    encoding: Encoding,
}

impl Job<'_> {
    /// Steers on the defining frame as the filter graph makes it (one frame, no encoding)
    /// until its hash sits on `target`, encodes, and checks the encoded defining frame;
    /// if the encoder undid a bit, steers again from what it measures with a wider margin.
    /// Returns the output's pHash. `None`: no codeword, no pattern.
    async fn steer_and_encode(&self, target: Option<u64>) -> Result<u64, MediaError> {
        let mut a: Amplitudes = Default::default();
        let Some(target) = target else {
            self.encode(&a).await?;
            let (_, got) = defining_coeffs(self.out).await?;
            return Ok(measure::hash_of(&got));
        };
        let response = Response::new(self.info.width as usize, self.info.height as usize);
        let mut margin = MARGIN;
        // The linear model knows neither clipping nor the 4:2:0 rounding: measure the real
        // graph's frame and make up the difference, a few rounds at most.
        for _ in 0..SETTLE_ROUNDS {
            let got = self.preview(&a).await?;
            let base = steer::without(&got, &response, &a);
            if !steer::steer(&base, &response, target, margin, &mut a) {
                break;
            }
        }
        let mut attempt = 1;
        loop {
            self.encode(&a).await?;
            let (_, got) = defining_coeffs(self.out).await?;
            let phash = measure::hash_of(&got);
            if phash == target || attempt == ATTEMPTS {
                return Ok(phash);
            }
            margin *= 1.5;
            let base = steer::without(&got, &response, &a);
            steer::steer(&base, &response, target, margin, &mut a);
            attempt += 1;
        }
    }

    /// The inputs and filter graph shared by the preview and the encode.
    async fn graph(&self, a: &Amplitudes) -> Result<(Vec<String>, String), MediaError> {
        let (w, h) = (self.info.width as usize, self.info.height as usize);
        if a.iter().flatten().all(|v| *v == 0.0) {
            return Ok((
                Vec::new(),
                format!("[0:v]{},format=yuv420p[v]", self.filters),
            ));
        }
        write_pattern(self.pattern_file, a, w, h).await?;
        let input = [
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-video_size",
            &format!("{w}x{h}"),
            "-i",
        ]
        .map(String::from)
        .to_vec();
        // The pattern fades towards black and white as the photos' does (`4t(1 − t)` of the
        // luma in video range): SSIM's luminance term punishes a few grey levels on black
        // hard, and a lookup table of the two planes (`lut2`, built once) stays fast.
        let graph = format!(
            "[0:v]{},format=yuv420p[m];[m][1:v]lut2=c0='{FADED}':c1=x:c2=x[v]",
            self.filters
        );
        Ok((input, graph))
    }

    /// The block of the defining frame the graph makes with the pattern `a`.
    async fn preview(&self, a: &Amplitudes) -> Result<Coeffs, MediaError> {
        let (input, graph) = self.graph(a).await?;
        let at = format!("{:.4}", defining_time(self.info));
        let mut args: Vec<&OsStr> = ["-nostdin", "-loglevel", "error", "-ss", &at, "-i"]
            .map(|a| -> &OsStr { a.as_ref() })
            .to_vec();
        args.push(self.original.as_os_str());
        args.extend(input.iter().map(|a| -> &OsStr { a.as_ref() }));
        if !input.is_empty() {
            args.push(self.pattern_file.as_os_str());
        }
        #[rustfmt::skip]
        let rest = [
            "-filter_complex", &graph, "-map", "[v]",
            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ];
        args.extend(rest.map(|a| -> &OsStr { a.as_ref() }));
        let mut shrink = Shrink::new(self.info.width as usize, self.info.height as usize);
        frame_rows(&args, &at, self.info, 3, |row| shrink.push_rgb(row)).await?;
        Ok(shrink.finish())
    }

    /// One ffmpeg pass: original → `out`, with the pattern `a` laid over the luma.
    async fn encode(&self, a: &Amplitudes) -> Result<(), MediaError> {
        let (input, graph) = self.graph(a).await?;
        let (crf, gop) = (self.encoding.crf.to_string(), self.encoding.gop.to_string());
        let mut args: Vec<&OsStr> = ["-nostdin", "-loglevel", "error", "-y", "-i"]
            .iter()
            .map(|a| a.as_ref())
            .collect();
        args.push(self.original.as_os_str());
        args.extend(input.iter().map(|a| -> &OsStr { a.as_ref() }));
        if !input.is_empty() {
            args.push(self.pattern_file.as_os_str());
        }
        #[rustfmt::skip]
        let rest = [
            // Nothing left to the clock: one filter thread, and the muxer waits for every
            // stream before it writes (the copied audio is ready long before the video, and
            // the same seed gave two files under load without these).
            "-filter_complex_threads", "1", "-max_interleave_delta", "0",
            "-filter_complex", &graph, "-map", "[v]", "-map", "0:a?",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", &crf, "-g", &gop,
            "-pix_fmt", "yuv420p", "-threads", THREADS, "-fps_mode", "passthrough",
            "-c:a", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", "-f", "mp4",
        ];
        args.extend(rest.map(|a| -> &OsStr { a.as_ref() }));
        args.push(self.out.as_os_str());
        // About real time on two cores at 1080×1920; ten times that is a stuck ffmpeg.
        let timeout = Duration::from_secs(120 + 10 * self.info.duration_s.ceil() as u64);
        run_for("ffmpeg", &args, timeout)
            .await
            .map_err(|e| unreadable_input(e, ""))?;
        Ok(())
    }
}

/// Writes one raw yuv420p frame: luma `128 + pattern` (in video levels: 219 per 255 of
/// RGB, so that the RGB the hash reads moves by the pattern), chroma neutral. Row by row:
/// the frame is never held whole.
async fn write_pattern(path: &Path, a: &Amplitudes, w: usize, h: usize) -> Result<(), MediaError> {
    let pattern = Pattern::new(a, w, h);
    let mut file =
        tokio::io::BufWriter::with_capacity(1 << 16, tokio::fs::File::create(path).await?);
    let (mut line, mut bytes) = (Vec::with_capacity(w), Vec::with_capacity(w));
    for y in 0..h {
        pattern.row(y, &mut line);
        bytes.clear();
        bytes.extend(
            line.iter()
                .map(|p| (128.0 + p * 219.0 / 255.0).round().clamp(0.0, 255.0) as u8),
        );
        file.write_all(&bytes).await?;
    }
    // Both chroma planes, (w/2)×(h/2) each, written as h/2 runs of w/2·2 bytes.
    let neutral = vec![128u8; 2 * (w / 2)];
    for _ in 0..h / 2 {
        file.write_all(&neutral).await?;
    }
    file.flush().await?;
    Ok(())
}

/// The lowest SSIM of three frames of `out` against the original's, framed the same way.
async fn sampled_ssim(
    original: &Path,
    out: &Path,
    info: &VideoInfo,
    framing: &str,
) -> Result<f64, MediaError> {
    let mut lowest = f64::INFINITY;
    let (w, h) = (info.width as usize, info.height as usize);
    for fraction in [0.25, 0.5, 0.75] {
        let at = frame_time(info, fraction);
        let reference = frame_y(original, at, Some(framing), info).await?;
        let got = frame_y(out, at, None, info).await?;
        lowest = lowest.min(measure::ssim_of(
            w,
            h,
            |i| f64::from(got[i]),
            |i| f64::from(reference[i]),
        ));
    }
    Ok(lowest)
}

async fn file_sha256(path: &Path) -> Result<String, MediaError> {
    use sha2::{Digest, Sha256};
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
