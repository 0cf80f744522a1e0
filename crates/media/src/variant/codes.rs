//! The code book that keeps accounts apart: slot `s` of a post gets codeword `s`, a set of
//! pHash bits to flip, and any two codewords differ in at least 6 (light) or 12 (strong)
//! positions.
//!
//! A pHash has as many bits above its median as below (32 of 64: the median splits them),
//! so a target hash can only be reached if it flips as many 1-bits to 0 as 0-bits to 1.
//! A codeword is therefore a pair: `h` positions among the original's 1-bits and `h` among
//! its 0-bits (DC excluded), each given as a *rank* in its pool, cheapest first (see
//! `steer::ranked_pools`). The code is built once, over ranks, independent of any picture:
//! every slot of every post agrees on it.
//!
//! Two words meeting in `i` positions are `4h − 2i` bits apart. Light: `h = 2`, `i ≤ 1`
//! (distance ≥ 6, 4 bits from the original). Strong: `h = 4`, `i ≤ 2` (distance ≥ 12,
//! 8 bits from the original). Built greedily, growing the ranks allowed one at a time
//! (the first slots use only the cheapest bits), lexicographic within a rank.

use std::sync::OnceLock;

use super::look::Strength;

/// Ranks per pool: the 63 non-DC bits are 31 on one side of the median and 32 on the
/// other (DC is always above it); 31 fits both.
pub(crate) const POOL: usize = 31;

/// How many words are built: past this, a slot gets no codeword (its distance to the
/// others is measured and reported but not guaranteed).
const LIGHT_WORDS: usize = 400;
const STRONG_WORDS: usize = 128;

/// One codeword: bit `r` of `ones` is rank `r` of the 1-bit pool, same for `zeros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word {
    pub ones: u32,
    pub zeros: u32,
}

/// The code book of a strength.
pub(crate) fn book(strength: Strength) -> &'static [Word] {
    static LIGHT: OnceLock<Vec<Word>> = OnceLock::new();
    static STRONG: OnceLock<Vec<Word>> = OnceLock::new();
    match strength {
        Strength::Light => LIGHT.get_or_init(|| build(2, 1, LIGHT_WORDS)),
        Strength::Strong => STRONG.get_or_init(|| build(4, 2, STRONG_WORDS)),
    }
}

/// The minimum distance a code book guarantees between two of its words.
pub(crate) fn min_distance(strength: Strength) -> u32 {
    match strength {
        Strength::Light => 6,
        Strength::Strong => 12,
    }
}

/// Greedy constant-weight code: words of `half` ranks in each pool, any two meeting in at
/// most `meet` positions in all, at most `cap` words.
fn build(half: usize, meet: u32, cap: usize) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    for limit in half..=POOL {
        let top = 1u32 << (limit - 1);
        let subsets = subsets(limit, half);
        for &ones in &subsets {
            // Budget left for the zero side against each word; none means `ones` is out.
            let mut budget = Vec::with_capacity(words.len());
            let fits = words.iter().all(|w| {
                let met = (ones & w.ones).count_ones();
                budget.push(meet.saturating_sub(met));
                met <= meet
            });
            if !fits {
                continue;
            }
            // Only words that use the newly allowed rank: the others were tried already.
            let found = subsets.iter().copied().find(|&zeros| {
                (ones | zeros) & top != 0
                    && words
                        .iter()
                        .zip(&budget)
                        .all(|(w, b)| (zeros & w.zeros).count_ones() <= *b)
            });
            if let Some(zeros) = found {
                words.push(Word { ones, zeros });
                if words.len() == cap {
                    return words;
                }
            }
        }
    }
    words
}

/// All `k`-subsets of `0..n` as bit masks, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<u32> {
    fn walk(from: usize, n: usize, k: usize, mask: u32, out: &mut Vec<u32>) {
        if k == 0 {
            out.push(mask);
            return;
        }
        for i in from..=n.saturating_sub(k) {
            walk(i + 1, n, k - 1, mask | (1 << i), out);
        }
    }
    let mut out = Vec::new();
    walk(0, n, k, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(strength: Strength, at_least: usize) {
        let book = book(strength);
        assert!(book.len() >= at_least, "{} words", book.len());
        let d = min_distance(strength);
        for (i, a) in book.iter().enumerate() {
            for b in &book[..i] {
                let met = (a.ones & b.ones).count_ones() + (a.zeros & b.zeros).count_ones();
                let weight = a.ones.count_ones() * 2 + a.zeros.count_ones() * 2;
                assert!(weight - 2 * met >= d, "{a:?} {b:?}");
            }
        }
        let top = |n: usize| {
            book[..n]
                .iter()
                .map(|w| 32 - (w.ones | w.zeros).leading_zeros())
                .max()
                .unwrap_or(0)
        };
        eprintln!(
            "{strength:?}: {} words; ranks used by the first 6 / 50: {} / {}",
            book.len(),
            top(6),
            top(50.min(book.len()))
        );
    }

    #[test]
    fn code_books_keep_their_distance_and_size() {
        check(Strength::Light, 200);
        check(Strength::Strong, 100);
    }
}
