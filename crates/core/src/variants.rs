//! What each account received of a post's media when it got its own copy (issue
//! `[originality]`), and how far apart the copies are: every media item's variant is
//! recorded on the account's execution with its SHA-256 and 64-bit perceptual hash, so the
//! post page can show how far each copy is from the original and how close the two closest
//! accounts of the post came.

use serde::{Deserialize, Serialize};

use crate::enums::MediaVariants;

/// One media item's copy for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaVariantRecord {
    /// The media item (0 for a single photo or video; the carousel's order otherwise).
    pub index: usize,
    pub strength: MediaVariants,
    /// Lowercase hex of the SHA-256 of the file Instagram received.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// The 64-bit perceptual hash, 16 hex digits (kept as text: JSON numbers lose bits
    /// past 2⁵³ in a browser).
    pub phash: String,
    /// Bits of the perceptual hash that differ from the original's (0–64).
    pub distance: u32,
    /// Similarity to the original framed as the copy is (1 = the same picture).
    pub ssim: f64,
    /// A video's cover, which is a copy too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_sha256: Option<String>,
}

/// A 64-bit hash as the records write it.
pub fn phash_hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// The hash of a record, if its text is 16 hex digits.
pub fn parse_phash(text: &str) -> Option<u64> {
    (text.len() == 16)
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
}

/// The closest two accounts of a post: the smallest perceptual distance between the copies
/// of one media item given to two different accounts, over all items. `None` with fewer
/// than two accounts' copies of any item. `accounts` holds each account's records.
pub fn closest_pair(accounts: &[&[MediaVariantRecord]]) -> Option<u32> {
    let items = accounts
        .iter()
        .flat_map(|records| records.iter().map(|r| r.index))
        .max()?;
    let mut closest: Option<u32> = None;
    for index in 0..=items {
        let hashes: Vec<u64> = accounts
            .iter()
            .filter_map(|records| records.iter().find(|r| r.index == index))
            .filter_map(|r| parse_phash(&r.phash))
            .collect();
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                let d = (a ^ b).count_ones();
                closest = Some(closest.map_or(d, |c| c.min(d)));
            }
        }
    }
    closest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(index: usize, phash: u64) -> MediaVariantRecord {
        MediaVariantRecord {
            index,
            strength: MediaVariants::Light,
            sha256: format!("{phash:064x}"),
            width: 1080,
            height: 1350,
            phash: phash_hex(phash),
            distance: 7,
            ssim: 0.99,
            cover_sha256: None,
        }
    }

    #[test]
    fn hashes_survive_their_text_form() {
        for h in [0, 1, u64::MAX, 0x8000_0000_0000_0001] {
            assert_eq!(parse_phash(&phash_hex(h)), Some(h));
        }
        assert_eq!(parse_phash("12"), None);
        assert_eq!(parse_phash("zzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn the_closest_pair_compares_the_same_item_of_different_accounts() {
        // Item 0 of a and b differ by 2 bits; item 1 of a and c by 1; an account's own
        // items are never compared with each other (a's items are 0 bits apart).
        let a = [record(0, 0b0000), record(1, 0b0000)];
        let b = [record(0, 0b0011)];
        let c = [record(1, 0b1000), record(0, 0b1111)];
        assert_eq!(closest_pair(&[&a, &b]), Some(2));
        assert_eq!(closest_pair(&[&a, &b, &c]), Some(1));
        assert_eq!(closest_pair(&[&a]), None);
        assert_eq!(closest_pair(&[]), None);
        let far = [record(0, u64::MAX)];
        assert_eq!(closest_pair(&[&a, &far]), Some(64));
    }
}
