//! The two measures of a variant: the perceptual hash (how far apart two copies look to a
//! duplicate detector) and SSIM (how far a copy looks from the original to a person).
//!
//! **pHash** is the DCT hash of Python's `imagehash.phash`: luma, an antialiased Lanczos-3
//! resize to 32×32, a 2-D DCT-II, the top-left 8×8 block, bit = coefficient > median of
//! those 64. Bit `8·u + v` (row-major, `u` the vertical frequency) is bit `63 − (8·u + v)` of
//! the `u64`, so the hex of the `u64` reads like `imagehash`'s string. Unlike PIL, no step
//! rounds to 8 bits (luma and the 32×32 stay floating point), so a bit whose coefficient is
//! within rounding of the median may differ from `imagehash`'s; the variants keep their
//! coefficients well away from the median, so they are unaffected. The 32-point DCT is
//! written by hand (a table of cosines, separable): no crate for 30 lines.
//!
//! **SSIM** is Wang et al. (2004) on luma with C1 = (0.01·255)², C2 = (0.03·255)², computed
//! the way x264 and ffmpeg's `ssim` filter compute it: 8×8 windows every 4 pixels (from
//! 4×4 block sums, sample variances), averaged over the picture. The same function measures
//! photos and sampled video frames, so the two strengths mean the same for both.

// Small matrix arithmetic (8×8, 32×32) reads as the formulas do with indices.
#![allow(clippy::needless_range_loop)]

use crate::MediaError;

/// Side of the picture the hash is taken from, and of its low-frequency block.
pub(crate) const N: usize = 32;
pub(crate) const K: usize = 8;

/// A picture's luma, row-major, floating point.
#[derive(Debug, Clone)]
pub(crate) struct Luma {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

pub(crate) fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The low-frequency 8×8 DCT block of a picture, `c[u][v]`.
pub(crate) type Coeffs = [[f64; K]; K];

/// Bit `8·u + v` of a hash, counted from the most significant end.
pub(crate) fn bit_mask(index: usize) -> u64 {
    1u64 << (63 - index)
}

/// The hash of a coefficient block: bit set where the coefficient exceeds the median.
pub(crate) fn hash_of(c: &Coeffs) -> u64 {
    let med = median(c);
    let mut hash = 0;
    for (i, value) in c.iter().flatten().enumerate() {
        if *value > med {
            hash |= bit_mask(i);
        }
    }
    hash
}

pub(crate) fn median(c: &Coeffs) -> f64 {
    let mut all: Vec<f64> = c.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    (all[K * K / 2 - 1] + all[K * K / 2]) / 2.0
}

/// Number of bits in which two hashes differ.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// pHash of an image file (JPEG, PNG or WebP).
pub fn phash_jpeg(bytes: &[u8]) -> Result<u64, MediaError> {
    let (w, h, rgb) = decode_rgb(bytes)?;
    Ok(hash_of(&coeffs_rgb(w, h, &rgb)))
}

/// Decodes any image the crate reads into 8-bit RGB: (width, height, pixels).
pub(crate) fn decode_rgb(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), MediaError> {
    let image = image::load_from_memory(bytes).map_err(|e| MediaError::BadImage(e.to_string()))?;
    // `into`, not `to`: a JPEG decodes as RGB already, and a copy of it would be 6 MB more
    // for a 1080×1920 picture.
    let rgb = image.into_rgb8();
    let (w, h) = rgb.dimensions();
    Ok((w as usize, h as usize, rgb.into_raw()))
}

/// Antialiased Lanczos-3 weights taking `size` samples to `N`: per output sample, the first
/// input index and the normalised weights (PIL's and the `image` crate's construction).
pub(crate) fn weights(size: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = (size as f64 / N as f64).max(1.0);
    let ratio = size as f64 / N as f64;
    let support = 3.0 * scale;
    (0..N)
        .map(|j| {
            let center = (j as f64 + 0.5) * ratio;
            let first = (center - support).floor().max(0.0) as usize;
            let last = ((center + support).ceil() as usize).min(size);
            let mut w: Vec<f64> = (first..last)
                .map(|x| lanczos3((x as f64 + 0.5 - center) / scale))
                .collect();
            let sum: f64 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            (first, w)
        })
        .collect()
}

fn lanczos3(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else if x.abs() < 3.0 {
        let px = std::f64::consts::PI * x;
        3.0 * px.sin() * (px / 3.0).sin() / (px * px)
    } else {
        0.0
    }
}

/// `cos(π·k·(2n + 1) / 2N)` for the N-point DCT-II, k < 8.
fn dct_table() -> [[f64; N]; K] {
    let mut t = [[0.0; N]; K];
    for (k, row) in t.iter_mut().enumerate() {
        for (n, value) in row.iter_mut().enumerate() {
            *value = (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * N) as f64).cos();
        }
    }
    t
}

/// The 8×8 low-frequency block of the unnormalised 2-D DCT-II (scipy's default, as
/// `imagehash` calls it) of the 32×32 resize of `luma`.
pub(crate) fn coeffs(luma: &Luma) -> Coeffs {
    let mut shrink = Shrink::new(luma.width, luma.height);
    luma.data
        .chunks_exact(luma.width.max(1))
        .for_each(|line| shrink.push(line));
    shrink.finish()
}

/// [`coeffs`] of 8-bit RGB pixels (`width`×`height`, row-major), through their BT.601 luma
/// one row at a time: the picture's luma is never held whole.
pub(crate) fn coeffs_rgb(width: usize, height: usize, rgb: &[u8]) -> Coeffs {
    let mut shrink = Shrink::new(width, height);
    rgb.chunks_exact(width.max(1) * 3)
        .for_each(|line| shrink.push_rgb(line));
    shrink.finish()
}

/// The 32×32 resize of a picture given one row of luma at a time: each row is taken down
/// to 32 samples as it comes (the horizontal pass), the columns when every row is in (the
/// vertical pass). A frame read from ffmpeg's pipe or a picture being composed is then
/// never held whole as floating point (a 1080×1920 luma plane is 8 MB of `f32`; its rows
/// taken down to 32 samples, 0.5 MB). Same arithmetic, in the same order, as a resize of
/// the whole plane.
pub(crate) struct Shrink {
    height: usize,
    wx: Vec<(usize, Vec<f64>)>,
    rows: Vec<[f64; N]>,
    line: Vec<f32>,
}

impl Shrink {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Shrink {
            height,
            wx: weights(width),
            rows: Vec::with_capacity(height),
            line: Vec::with_capacity(width),
        }
    }

    /// The next row of luma.
    pub(crate) fn push(&mut self, line: &[f32]) {
        let mut out = [0.0f64; N];
        for (j, (first, w)) in self.wx.iter().enumerate() {
            out[j] = w
                .iter()
                .zip(line.get(*first..).unwrap_or_default())
                .map(|(a, b)| a * f64::from(*b))
                .sum();
        }
        self.rows.push(out);
    }

    /// The next row, as 8-bit RGB.
    pub(crate) fn push_rgb(&mut self, rgb: &[u8]) {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.extend(
            rgb.chunks_exact(3)
                .map(|p| luma(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))),
        );
        self.push(&line);
        self.line = line;
    }

    /// The block. Rows that never came count as black: callers reading a pipe check that
    /// every row came.
    pub(crate) fn finish(self) -> Coeffs {
        let wy = weights(self.height);
        let mut small = [[0.0; N]; N];
        for (i, (first, w)) in wy.iter().enumerate() {
            for (k, weight) in w.iter().enumerate() {
                let Some(row) = self.rows.get(first + k) else {
                    continue;
                };
                for j in 0..N {
                    small[i][j] += weight * row[j];
                }
            }
        }
        dct8(&small)
    }
}

pub(crate) fn dct8(small: &[[f64; N]; N]) -> Coeffs {
    let t = dct_table();
    // Along rows (axis 1 in numpy terms) then columns; the DCT is separable so the order
    // does not matter. Factor 2 per axis: scipy's unnormalised DCT-II.
    let mut half = [[0.0; K]; N];
    for (y, row) in small.iter().enumerate() {
        for v in 0..K {
            half[y][v] = 2.0 * row.iter().zip(&t[v]).map(|(a, b)| a * b).sum::<f64>();
        }
    }
    let mut c = [[0.0; K]; K];
    for u in 0..K {
        for v in 0..K {
            c[u][v] = 2.0 * (0..N).map(|y| half[y][v] * t[u][y]).sum::<f64>();
        }
    }
    c
}

/// `g[a][k]`: coefficient `a` of the 1-D chain (resize of `size` samples to 32, then DCT)
/// when the input is the cosine `cos(π·k·(x + 0.5)/size)`. A pattern `Σ A[u][v]·cos_u(y)·
/// cos_v(x)` added to the luma moves the block by exactly `G_y · A · G_xᵀ` (the chain is
/// linear), which is how the steering predicts its effect without touching pixels.
pub(crate) fn response(size: usize) -> [[f64; K]; K] {
    let w = weights(size);
    let t = dct_table();
    let mut g = [[0.0; K]; K];
    for k in 0..K {
        let basis: Vec<f64> = (0..size).map(|x| basis(k, x, size)).collect();
        let small: Vec<f64> = w
            .iter()
            .map(|(first, ws)| ws.iter().zip(&basis[*first..]).map(|(a, b)| a * b).sum())
            .collect();
        for a in 0..K {
            g[a][k] = 2.0 * small.iter().zip(&t[a]).map(|(s, c)| s * c).sum::<f64>();
        }
    }
    g
}

/// The full-resolution cosine whose 32×32 resize is DCT basis function `k`.
pub(crate) fn basis(k: usize, x: usize, size: usize) -> f64 {
    (std::f64::consts::PI * k as f64 * (x as f64 + 0.5) / size as f64).cos()
}

/// SSIM of two pictures of `width`×`height` given by their luma at each pixel (row-major
/// index): x264's and ffmpeg's way, 8×8 windows every 4 pixels. The luma is read where it
/// is (8-bit Y planes, or RGB converted pixel by pixel): no floating-point copy of either
/// picture, and the 4×4 block sums are kept for two rows of blocks at a time (a window
/// spans two), not for the whole picture. The sums and the total are added in the same
/// order as over whole planes.
pub(crate) fn ssim_of(
    width: usize,
    height: usize,
    a: impl Fn(usize) -> f64,
    b: impl Fn(usize) -> f64,
) -> f64 {
    let (w, h) = (width / 4, height / 4);
    if w < 2 || h < 2 {
        let same = (0..width * height).all(|i| a(i) == b(i));
        return if same { 1.0 } else { 0.0 };
    }
    // Per 4×4 block of a row of blocks: Σa, Σb, Σa² + Σb², Σab.
    let blocks = |by: usize, sums: &mut Vec<[f64; 4]>| {
        sums.clear();
        for bx in 0..w {
            let mut s = [0.0f64; 4];
            for y in by * 4..by * 4 + 4 {
                for x in bx * 4..bx * 4 + 4 {
                    let (p, q) = (a(y * width + x), b(y * width + x));
                    s[0] += p;
                    s[1] += q;
                    s[2] += p * p + q * q;
                    s[3] += p * q;
                }
            }
            sums.push(s);
        }
    };
    // The window sums carry 64² (means) and 64·63 (sample variances) over the paper's
    // constants. x264's code, which ffmpeg copies, scales C1 by 64 only (a slip that only
    // shows in very dark windows); this follows the paper.
    let c1 = (0.01f64 * 255.0).powi(2) * 64.0 * 64.0;
    let c2 = (0.03f64 * 255.0).powi(2) * 64.0 * 63.0;
    let (mut upper, mut lower) = (Vec::with_capacity(w), Vec::with_capacity(w));
    blocks(0, &mut upper);
    let mut total = 0.0;
    for by in 0..h - 1 {
        blocks(by + 1, &mut lower);
        for bx in 0..w - 1 {
            let mut f = [0.0; 4];
            for s in [upper[bx], upper[bx + 1], lower[bx], lower[bx + 1]] {
                f.iter_mut().zip(s).for_each(|(t, v)| *t += v);
            }
            let [s1, s2, ss, s12] = f;
            let vars = ss * 64.0 - s1 * s1 - s2 * s2;
            let covar = s12 * 64.0 - s1 * s2;
            total += (2.0 * s1 * s2 + c1) * (2.0 * covar + c2)
                / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
        }
        std::mem::swap(&mut upper, &mut lower);
    }
    total / ((w - 1) * (h - 1)) as f64
}
