//! What every variant shares: its strength, its seed and what is measured of it, the
//! deterministic draws made from the seed, and the reframing and colour changes (the same
//! for photos and videos).

use sha2::{Digest, Sha256};

/// How different a variant may look: `Light` is meant to be invisible, `Strong` may be
/// slightly visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    Light,
    Strong,
}

/// What makes one account's copy of one media file: `key` is derived by the caller from
/// (post id, account id, media index) — e.g. SHA-256 of them — and seeds every random
/// choice; `slot` is the account's stable index among the post's accounts (0, 1, 2, …):
/// slot `s` gets codeword `s`, which keeps its pHash apart from every other slot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantSeed {
    pub key: [u8; 32],
    pub slot: u32,
}

/// How a variant was measured, on its final bytes (stored as JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Measured {
    /// Lowercase hex SHA-256 of the variant's bytes.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// 64-bit pHash of the variant (of its defining frame for a video).
    pub phash: u64,
    pub original_phash: u64,
    /// Hamming distance of `phash` to `original_phash`.
    pub distance: u32,
    /// SSIM (luma) to the original framed as the variant is: the photometric change. For
    /// videos, the lowest over the sampled frames.
    pub ssim: f64,
    /// Share of each side cut away before scaling back (0.01 = 1 %): the geometric change,
    /// which SSIM does not see.
    #[serde(default)]
    pub crop: f64,
    /// Whether `slot` had a codeword (the pairwise distance is guaranteed only then).
    #[serde(default)]
    pub coded: bool,
}

/// Deterministic random numbers from a seed: SHA-256 of (key, purpose, counter). Slow
/// next to a PRNG, but a variant draws a dozen numbers, and it needs no new crate.
pub(crate) struct Draw {
    key: [u8; 32],
    purpose: &'static str,
    counter: u64,
}

impl Draw {
    pub(crate) fn new(seed: &VariantSeed, purpose: &'static str) -> Self {
        Draw {
            key: seed.key,
            purpose,
            counter: 0,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(self.purpose.as_bytes());
        h.update(self.counter.to_le_bytes());
        self.counter += 1;
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_le_bytes(b)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A magnitude in `[lo, hi)` with a random sign: a shift that is never ~0.
    pub(crate) fn shift(&mut self, lo: f64, hi: f64) -> f64 {
        let m = self.range(lo, hi);
        if self.next_u64() & 1 == 0 { m } else { -m }
    }

    /// Uniform integer in `lo..=hi`.
    pub(crate) fn int(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }
}

/// The reframing and colour changes of one variant, shared by photos and videos.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Look {
    /// Fraction of width and height cut away (same for both: the aspect is kept).
    pub crop: f64,
    /// Where the kept window sits in the cut margin, 0 = left/top, 1 = right/bottom.
    pub at_x: f64,
    pub at_y: f64,
    /// Added to mid-grey luma, in grey levels (of 255); see [`Look::tone`].
    pub brightness: f64,
    /// Factor on luma around mid-grey; see [`Look::tone`].
    pub contrast: f64,
    /// Factor on chroma.
    pub saturation: f64,
    /// Hue rotation in degrees.
    pub hue: f64,
}

impl Look {
    pub(crate) fn draw(strength: Strength, seed: &VariantSeed) -> Self {
        let mut d = Draw::new(seed, "look");
        // Light: changes under what anyone notices side by side (±1 % brightness, ±2 %
        // contrast). Strong: a few times more, still a plausible re-edit.
        let (crop, b, c, s, h) = match strength {
            Strength::Light => (
                (0.004, 0.012),
                (0.8, 2.5),
                (0.008, 0.02),
                (0.01, 0.03),
                (0.5, 1.5),
            ),
            Strength::Strong => (
                (0.012, 0.02),
                (3.0, 7.0),
                (0.03, 0.06),
                (0.04, 0.10),
                (2.0, 5.0),
            ),
        };
        Look {
            crop: d.range(crop.0, crop.1),
            at_x: d.unit(),
            at_y: d.unit(),
            brightness: d.shift(b.0, b.1),
            contrast: 1.0 + d.shift(c.0, c.1),
            saturation: 1.0 + d.shift(s.0, s.1),
            hue: d.shift(h.0, h.1),
        }
    }

    /// The brightness and contrast change of a luma value (0–255): a curve pinned at black
    /// and white. A plain offset would lift black to grey-2, which nobody sees but which
    /// SSIM's luminance term punishes hard (a window of mean 0 against one of mean 2 scores
    /// ~0.6), and black is where photos clip. The change is full at mid-grey and fades as
    /// `4t(1 − t)` towards both ends; contrast turns about mid-grey (a mild S-curve).
    pub(crate) fn tone(&self, luma: f64) -> f64 {
        let t = (luma / 255.0).clamp(0.0, 1.0);
        let fade = 4.0 * t * (1.0 - t);
        luma + (self.brightness + (self.contrast - 1.0) * (luma - 127.5)) * fade
    }

    /// The kept window of a `width`×`height` picture: (x, y, w, h), even sizes and offsets
    /// (videos are 4:2:0), never the whole picture.
    pub(crate) fn window(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let keep = |size: u32| {
            let k = ((f64::from(size) * (1.0 - self.crop)) as u32) & !1;
            k.clamp(2.min(size), size.saturating_sub(2).max(2.min(size)))
        };
        let (w, h) = (keep(width), keep(height));
        let x = ((f64::from(width - w) * self.at_x) as u32) & !1;
        let y = ((f64::from(height - h) * self.at_y) as u32) & !1;
        (x.min(width - w), y.min(height - h), w, h)
    }
}

/// Lowercase hex of SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
