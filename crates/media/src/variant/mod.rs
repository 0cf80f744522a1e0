//! Media variants (issue #22): a distinct, deterministic copy of each media file per
//! account, so that no two accounts upload the same bytes or the same-looking hash.
//!
//! A variant is a slight reframing (crop ≤ 2 %, scaled back to the original size), small
//! colour shifts, a different encoding, and a smooth low-amplitude luma pattern that steers
//! the perceptual hash to the slot's codeword (see [`codes`] and `steer`): random changes
//! alone move a pHash by 0–3 bits, which is what a pHash is built for, so the distance
//! between accounts is put there on purpose. Everything random is drawn from
//! [`VariantSeed::key`]; the same seed gives the same bytes. See `docs/VARIANTS.md`.

mod codes;
mod look;
mod measure;
mod photo;
mod steer;
mod video;

pub use look::{Measured, Strength, VariantSeed};
pub use measure::{hamming, phash_jpeg};
pub use photo::photo_variant;
pub use video::{video_phash, video_variant};

/// The pHash distance guaranteed between any two slots below [`guaranteed_slots`]: 6 bits
/// (light) or 12 (strong).
pub fn guaranteed_distance(strength: Strength) -> u32 {
    codes::min_distance(strength)
}

/// How many slots (0, 1, …) get a codeword, hence the guaranteed distance to each other.
/// Slots past it still get a distinct copy, but their distance is only measured.
pub fn guaranteed_slots(strength: Strength) -> usize {
    codes::book(strength).len()
}
