//! Steering a picture's pHash to a target: a smooth pattern made of the DCT basis
//! functions of the hash's 8×8 block, added to the luma.
//!
//! The hash chain (resize to 32×32, DCT) is linear, so a pattern `Σ A[u][v]·cos_u(y)·
//! cos_v(x)` moves the coefficient block by exactly `G_y·A·G_xᵀ` (see
//! [`measure::response`]): the amplitudes are found in coefficient space, in microseconds,
//! and the pixels are touched once. A cosine of frequency ≤ 3.5 periods per picture and a
//! few grey levels is invisible, and SSIM barely sees it: within an 8×8 window it is a
//! near-constant shift, which only the luminance term notices, and only slightly.
//!
//! Every non-DC bit is pushed to the right side of the median by at least a margin, so
//! that JPEG or H.264 rounding cannot undo it; the median moves as coefficients move, so
//! the search iterates until all 63 bits are settled.

// Small matrix arithmetic (8×8, 32×32) reads as the formulas do with indices.
#![allow(clippy::needless_range_loop)]

use super::codes::{self, POOL};
use super::look::Strength;
use super::measure::{self, Coeffs, K};

/// The slot's target hash: the original's with the slot's codeword flipped, and whether
/// the slot had a codeword (past the code book's size it keeps the original's hash).
pub(crate) fn target(original: &Coeffs, strength: Strength, slot: u32) -> (u64, bool) {
    let hash = measure::hash_of(original);
    let book = codes::book(strength);
    let Some(word) = book.get(slot as usize) else {
        return (hash, false);
    };
    let (ones, zeros) = ranked_pools(original);
    let mut flips = 0u64;
    for (pool, ranks) in [(&ones, word.ones), (&zeros, word.zeros)] {
        for (rank, index) in pool.iter().enumerate().take(POOL) {
            if ranks & (1 << rank) != 0 {
                flips |= measure::bit_mask(*index);
            }
        }
    }
    (hash ^ flips, true)
}

/// The non-DC bits above and below the median, each ranked by how cheap it is to flip
/// (closest to the median first; ties by position). Depends only on the original, so
/// every slot ranks the same way.
fn ranked_pools(c: &Coeffs) -> (Vec<usize>, Vec<usize>) {
    let med = measure::median(c);
    let flat: Vec<f64> = c.iter().flatten().copied().collect();
    let mut ones: Vec<usize> = (1..K * K).filter(|&i| flat[i] > med).collect();
    let mut zeros: Vec<usize> = (1..K * K).filter(|&i| flat[i] <= med).collect();
    let cost = |i: &usize| (flat[*i] - med).abs();
    ones.sort_by(|a, b| cost(a).total_cmp(&cost(b)).then(a.cmp(b)));
    zeros.sort_by(|a, b| cost(a).total_cmp(&cost(b)).then(a.cmp(b)));
    (ones, zeros)
}

/// Amplitudes (grey levels) of the pattern's cosines.
pub(crate) type Amplitudes = [[f64; K]; K];

/// How a picture of one size responds to each cosine (see [`measure::response`]).
pub(crate) struct Response {
    gy: [[f64; K]; K],
    gx: [[f64; K]; K],
}

impl Response {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Response {
            gy: measure::response(height),
            gx: measure::response(width),
        }
    }

    /// The coefficient block moved by the pattern `a`: `G_y·A·G_xᵀ`.
    pub(crate) fn apply(&self, base: &Coeffs, a: &Amplitudes) -> Coeffs {
        let mut out = *base;
        for (p, row) in out.iter_mut().enumerate() {
            for (q, value) in row.iter_mut().enumerate() {
                let mut sum = 0.0;
                for u in 0..K {
                    for v in 0..K {
                        sum += self.gy[p][u] * a[u][v] * self.gx[q][v];
                    }
                }
                *value += sum;
            }
        }
        out
    }
}

/// Adds to `a` what it takes for `base` (the picture's block without the pattern) to hash
/// to `target`, every non-DC coefficient at least `margin` from the median. Returns
/// whether `a` had to change.
pub(crate) fn steer(
    base: &Coeffs,
    response: &Response,
    target: u64,
    margin: f64,
    a: &mut Amplitudes,
) -> bool {
    for round in 0..400 {
        let c = response.apply(base, a);
        let med = measure::median(&c);
        let mut settled = true;
        for i in 1..K * K {
            let (u, v) = (i / K, i % K);
            let want_above = target & measure::bit_mask(i) != 0;
            let off = if want_above {
                c[u][v] - (med + margin)
            } else {
                (med - margin) - c[u][v]
            };
            if off < -1e-6 * margin {
                settled = false;
                // A little past the line: the median follows the coefficients that cross.
                let goal = if want_above {
                    med + 1.25 * margin
                } else {
                    med - 1.25 * margin
                };
                a[u][v] += (goal - c[u][v]) / (response.gy[u][u] * response.gx[v][v]);
            }
        }
        if settled {
            return round > 0;
        }
    }
    true
}

/// What a measured block would be without the pattern `a`, as the linear model sees it:
/// what clipping, the tone mask or the encoder took from the pattern stays in it, so
/// steering again from there makes up for it.
pub(crate) fn without(measured: &Coeffs, response: &Response, a: &Amplitudes) -> Coeffs {
    let moved = response.apply(&Default::default(), a);
    let mut base = *measured;
    for (row, m) in base.iter_mut().zip(&moved) {
        row.iter_mut().zip(m).for_each(|(c, d)| *c -= d);
    }
    base
}

/// The pattern in grey levels, one row at a time: whoever lays it over a picture does so
/// row by row, and a whole 1080×1920 pattern would be 8 MB of `f32` held for nothing.
pub(crate) struct Pattern {
    width: usize,
    height: usize,
    /// Per vertical frequency u, the horizontal sum `Σ_v A[u][v]·cos_v(x)`.
    rows: Vec<Vec<f64>>,
}

impl Pattern {
    pub(crate) fn new(a: &Amplitudes, width: usize, height: usize) -> Self {
        let rows = (0..K)
            .map(|u| {
                (0..width)
                    .map(|x| (0..K).map(|v| a[u][v] * measure::basis(v, x, width)).sum())
                    .collect()
            })
            .collect();
        Pattern {
            width,
            height,
            rows,
        }
    }

    /// Row `y` of the pattern, into `out` (emptied first).
    pub(crate) fn row(&self, y: usize, out: &mut Vec<f32>) {
        let cy: Vec<f64> = (0..K).map(|u| measure::basis(u, y, self.height)).collect();
        out.clear();
        out.extend(
            (0..self.width).map(|x| (0..K).map(|u| cy[u] * self.rows[u][x]).sum::<f64>() as f32),
        );
    }
}
