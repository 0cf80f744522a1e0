//! Photo variants, in process: decode, reframe, shift colours, steer the pHash, encode
//! with the `image` crate's JPEG encoder, then measure the encoded bytes.
//!
//! The `image` 0.25 JPEG encoder has no chroma-subsampling setting (it always writes
//! 4:4:4, whatever its doc comment says) and writes no encoder tag. So the "chroma
//! setting" is applied to the pixels instead: a variant's chroma is kept, averaged over
//! 2×1 pixels (as 4:2:2 would) or over 2×2 (as 4:2:0 would), which changes the bytes and
//! the colour detail the way a different subsampling does. The "fresh metadata" is a JFIF
//! header with a per-variant pixel density, and nothing else: no EXIF, no ICC, no comment.

use image::RgbImage;
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::imageops::{self, FilterType};

use super::look::{Draw, Look, Measured, Strength, VariantSeed, sha256_hex};
use super::measure::{self, Luma};
use super::steer::{self, Amplitudes, Pattern, Response};
use crate::MediaError;

/// How far (coefficient units; one grey level of a cosine is ~1024) every bit is kept from
/// the median before encoding. JPEG at quality ≥ 75 moves a 32×32 cell's mean by well under
/// a grey level, i.e. coefficients by tens; the margin is ten times that.
const MARGIN: f64 = 300.0;
/// Encodes tried before giving up on hitting the target exactly (each one re-steers from
/// what the previous one measured, with a wider margin).
const ATTEMPTS: usize = 3;
/// Rounds of measuring the composed pixels before encoding (two or three are typical).
const SETTLE_ROUNDS: usize = 8;

/// The encoding choices of one variant.
#[derive(Debug, Clone, Copy)]
struct Encoding {
    quality: u8,
    /// 0: full chroma, 1: averaged over 2×1, 2: averaged over 2×2.
    chroma: u8,
    dpi: u16,
}

impl Encoding {
    fn draw(strength: Strength, seed: &VariantSeed) -> Self {
        let mut d = Draw::new(seed, "photo-encoding");
        // icf stores photos at quality 90: light stays around it, strong goes below.
        let quality = match strength {
            Strength::Light => d.int(86, 95),
            Strength::Strong => d.int(78, 88),
        } as u8;
        let chroma = d.int(0, 2) as u8;
        let dpi = [72, 96, 144, 150, 200, 240, 300, 350][d.int(0, 7) as usize];
        Encoding {
            quality,
            chroma,
            dpi,
        }
    }
}

/// A distinct copy of a photo for one account. CPU-heavy: call it from `spawn_blocking`.
///
/// `original` is a JPEG as icf stores it (or any image the crate reads). The variant has
/// the same width×height. The measures are taken on the returned bytes.
pub fn photo_variant(
    original: &[u8],
    strength: Strength,
    seed: &VariantSeed,
) -> Result<(Vec<u8>, Measured), MediaError> {
    let (w, h, rgb) = measure::decode_rgb(original)?;
    if w < 16 || h < 16 {
        return Err(MediaError::BadImage(
            "the image is too small to make variants of".into(),
        ));
    }
    let original_coeffs = measure::coeffs_rgb(w, h, &rgb);
    let original_phash = measure::hash_of(&original_coeffs);
    let (target, coded) = steer::target(&original_coeffs, strength, seed.slot);

    let look = Look::draw(strength, seed);
    let encoding = Encoding::draw(strength, seed);
    // Memory (a worker makes covers of 1080×1920 reels too): the decoded original goes into
    // the framing; the framed picture is kept as 8-bit RGB (SSIM reads its luma pixel by
    // pixel), and the pattern, the tone mask and the lumas measured are made row by row.
    let framed = frame(rgb, w, h, &look)?;
    let planes = recolour(&framed, &look, encoding.chroma);

    let response = Response::new(w, h);
    let mut amplitudes: Amplitudes = Default::default();
    // Without a codeword there is nothing to steer to: the variant keeps its own hash.
    if coded {
        settle(&planes, &response, target, &mut amplitudes);
    }
    let mut margin = MARGIN;
    let mut attempt = 1;
    loop {
        let rgb = compose(&planes, &Pattern::new(&amplitudes, w, h));
        let jpeg = encode(rgb, w, h, &encoding)?;
        let (dw, dh, decoded) = measure::decode_rgb(&jpeg)?;
        if (dw, dh) != (w, h) {
            return Err(MediaError::BadImage(
                "the encoded variant decodes to another size".into(),
            ));
        }
        let got = measure::coeffs_rgb(w, h, &decoded);
        let phash = measure::hash_of(&got);
        if coded && phash != target && attempt < ATTEMPTS {
            // The encoder moved a coefficient back across: steer again from what the
            // bytes measure, further from the median.
            margin *= 1.5;
            let effective = steer::without(&got, &response, &amplitudes);
            steer::steer(&effective, &response, target, margin, &mut amplitudes);
            attempt += 1;
            continue;
        }
        let measured = Measured {
            sha256: sha256_hex(&jpeg),
            width: w as u32,
            height: h as u32,
            phash,
            original_phash,
            distance: measure::hamming(phash, original_phash),
            ssim: measure::ssim_of(
                w,
                h,
                |i| rgb_luma(&decoded, i),
                |i| rgb_luma(framed.as_raw(), i),
            ),
            crop: look.crop,
            coded,
        };
        return Ok((jpeg, measured));
    }
}

/// Steers on the pixels before encoding: the linear model knows neither the tone mask nor
/// clipping, so each round measures the composed picture and makes up what they took.
fn settle(planes: &Planes, response: &Response, target: u64, a: &mut Amplitudes) {
    let (w, h) = (planes.y.width, planes.y.height);
    steer::steer(&measure::coeffs(&planes.y), response, target, MARGIN, a);
    for _ in 0..SETTLE_ROUNDS {
        let rgb = compose(planes, &Pattern::new(a, w, h));
        let got = measure::coeffs_rgb(w, h, &rgb);
        let effective = steer::without(&got, response, a);
        if !steer::steer(&effective, response, target, MARGIN, a) {
            return;
        }
    }
}

/// How much of the pattern a pixel takes, from its luma: all of it in the mid-tones,
/// fading to a fifth at black and white. SSIM's luminance term punishes any lift of a black
/// area (a window of mean 0 against one of mean 2 scores ~0.6, though nobody sees it), and
/// at white the pattern would only be clipped. Computed where it is used rather than kept
/// as a plane.
fn tone_mask(y: f32) -> f32 {
    (y.min(255.0 - y) / 16.0).clamp(0.2, 1.0)
}

/// The BT.601 luma of pixel `i` of 8-bit RGB, as SSIM reads it.
fn rgb_luma(rgb: &[u8], i: usize) -> f64 {
    let p = &rgb[3 * i..3 * i + 3];
    f64::from(measure::luma(
        f32::from(p[0]),
        f32::from(p[1]),
        f32::from(p[2]),
    ))
}

/// The original cut to the variant's window and scaled back to its size.
fn frame(rgb: Vec<u8>, w: usize, h: usize, look: &Look) -> Result<RgbImage, MediaError> {
    let image = RgbImage::from_raw(w as u32, h as u32, rgb)
        .ok_or_else(|| MediaError::BadImage("the decoded image has the wrong size".into()))?;
    let (x, y, cw, ch) = look.window(w as u32, h as u32);
    // The window as a view of the original: the resize reads the same pixels as from a
    // copy of it, without the copy.
    let cut = imageops::crop_imm(&image, x, y, cw, ch);
    Ok(imageops::resize(
        &*cut,
        w as u32,
        h as u32,
        FilterType::CatmullRom,
    ))
}

/// A picture as JPEG's YCbCr (BT.601, full range), floating point.
struct Planes {
    y: Luma,
    cb: Vec<f32>,
    cr: Vec<f32>,
}

/// Brightness, contrast, saturation and hue, then the chroma averaging.
fn recolour(framed: &RgbImage, look: &Look, chroma: u8) -> Planes {
    let (w, h) = (framed.width() as usize, framed.height() as usize);
    let (sin, cos) = look.hue.to_radians().sin_cos();
    let (sin, cos, sat) = (sin as f32, cos as f32, look.saturation as f32);
    let mut y = Vec::with_capacity(w * h);
    let mut cb = Vec::with_capacity(w * h);
    let mut cr = Vec::with_capacity(w * h);
    for p in framed.pixels() {
        let [r, g, b] = p.0.map(f32::from);
        let l = measure::luma(r, g, b);
        let (u, v) = ((b - l) * 0.564, (r - l) * 0.713);
        y.push(look.tone(l as f64) as f32);
        cb.push(sat * (u * cos - v * sin));
        cr.push(sat * (u * sin + v * cos));
    }
    let (bw, bh) = match chroma {
        1 => (2, 1),
        2 => (2, 2),
        _ => (1, 1),
    };
    for plane in [&mut cb, &mut cr] {
        average_blocks(plane, w, h, bw, bh);
    }
    Planes {
        y: Luma {
            width: w,
            height: h,
            data: y,
        },
        cb,
        cr,
    }
}

/// Replaces each `bw`×`bh` block of a plane by its mean.
fn average_blocks(plane: &mut [f32], w: usize, h: usize, bw: usize, bh: usize) {
    if bw * bh == 1 {
        return;
    }
    for by in (0..h).step_by(bh) {
        for bx in (0..w).step_by(bw) {
            let (ys, xs) = (by..(by + bh).min(h), bx..(bx + bw).min(w));
            let n = (ys.len() * xs.len()) as f32;
            let sum: f32 = ys
                .clone()
                .flat_map(|y| xs.clone().map(move |x| (y, x)))
                .map(|(y, x)| plane[y * w + x])
                .sum();
            for y in ys {
                for x in xs.clone() {
                    plane[y * w + x] = sum / n;
                }
            }
        }
    }
}

/// The picture plus the steering pattern (on luma: the same on R, G and B, so hue and
/// saturation stay), weighted by the tone mask, as 8-bit RGB.
fn compose(planes: &Planes, pattern: &Pattern) -> Vec<u8> {
    let (w, n) = (planes.y.width, planes.y.data.len());
    let mut rgb = Vec::with_capacity(n * 3);
    let to8 = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let mut line = Vec::with_capacity(w);
    for (y, row) in planes.y.data.chunks_exact(w.max(1)).enumerate() {
        pattern.row(y, &mut line);
        for (x, (luma, p)) in row.iter().zip(&line).enumerate() {
            let i = y * w + x;
            let l = luma + p * tone_mask(*luma);
            let (u, v) = (planes.cb[i], planes.cr[i]);
            rgb.push(to8(l + 1.402 * v));
            rgb.push(to8(l - 0.344_136 * u - 0.714_136 * v));
            rgb.push(to8(l + 1.772 * u));
        }
    }
    rgb
}

fn encode(rgb: Vec<u8>, w: usize, h: usize, encoding: &Encoding) -> Result<Vec<u8>, MediaError> {
    let image = RgbImage::from_raw(w as u32, h as u32, rgb)
        .ok_or_else(|| MediaError::BadImage("the variant has the wrong size".into()))?;
    let mut jpeg = Vec::with_capacity(w * h / 3);
    let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, encoding.quality);
    encoder.set_pixel_density(PixelDensity::dpi(encoding.dpi));
    encoder
        .encode_image(&image)
        .map_err(|e| MediaError::BadImage(e.to_string()))?;
    Ok(jpeg)
}
