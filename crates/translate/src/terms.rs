//! Glossary terms in a caption. Pure: no I/O.
//!
//! A term matches as a whole word, regardless of case: not inside a longer word (`cat` is
//! not in `category`), and only in the caption's prose, never inside a hashtag, mention or
//! link. Where two terms could match at one place, the longest wins (`machine learning`
//! before `machine`); matches never overlap.
//!
//! With a provider that has no glossaries of its own (Google, LibreTranslate, and DeepL for
//! pairs it has none for) icf protects each matched term like a hashtag ([`protect`]): the
//! provider never sees it, and the glossary's translation is put in its place. The same
//! matching decides which entries a caption's cached translation depends on
//! ([`applied`]), so a glossary change misses the cache exactly for the captions that hold
//! a changed term.

use std::collections::{BTreeMap, HashMap};

use icf_core::caption::{Kind, Piece, is_word_char, tokenize};
use icf_core::glossary::GlossaryEntry;

/// Equal regardless of case, as the glossary means it.
fn same(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

fn folded(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Where a term was found: a byte range of the text and the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    pub start: usize,
    pub end: usize,
    pub entry: &'a GlossaryEntry,
}

/// A glossary's terms, ready to be found in texts.
pub struct Terms<'a> {
    /// Longest term first, each with its characters.
    entries: Vec<(&'a GlossaryEntry, Vec<char>)>,
    /// The entries (indices, longest first) by their first character, case folded.
    by_first: HashMap<char, Vec<usize>>,
}

impl<'a> Terms<'a> {
    pub fn new(entries: &'a [GlossaryEntry]) -> Terms<'a> {
        let mut list: Vec<(&GlossaryEntry, Vec<char>)> = entries
            .iter()
            .filter(|e| !e.term.is_empty())
            .map(|e| (e, e.term.chars().collect()))
            .collect();
        list.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.term.cmp(&b.0.term)));
        let mut by_first: HashMap<char, Vec<usize>> = HashMap::new();
        for (i, (_, chars)) in list.iter().enumerate() {
            by_first.entry(folded(chars[0])).or_default().push(i);
        }
        Terms {
            entries: list,
            by_first,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose term starts at `chars[i]`, if one does (the longest).
    fn at(&self, chars: &[(usize, char)], i: usize) -> Option<(usize, &'a GlossaryEntry)> {
        let candidates = self.by_first.get(&folded(chars[i].1))?;
        let prev_is_word = i > 0 && is_word_char(chars[i - 1].1);
        candidates.iter().find_map(|&k| {
            let (entry, term) = &self.entries[k];
            let n = term.len();
            let fits = i + n <= chars.len()
                && !(prev_is_word && is_word_char(term[0]))
                && term
                    .iter()
                    .zip(&chars[i..i + n])
                    .all(|(t, (_, c))| same(*t, *c))
                && !(is_word_char(term[n - 1])
                    && chars.get(i + n).is_some_and(|(_, c)| is_word_char(*c)));
            fits.then_some((n, *entry))
        })
    }

    /// Every term in `text`, left to right, longest first where several start together.
    pub fn find(&self, text: &str) -> Vec<Found<'a>> {
        let mut out = Vec::new();
        if self.entries.is_empty() {
            return out;
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            match self.at(&chars, i) {
                Some((n, entry)) => {
                    let end = chars.get(i + n).map_or(text.len(), |(at, _)| *at);
                    out.push(Found {
                        start: chars[i].0,
                        end,
                        entry,
                    });
                    i += n;
                }
                None => i += 1,
            }
        }
        out
    }

    /// `text` with every term replaced by its translation (what the DeepL simulator does
    /// with a glossary).
    pub fn replace(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in self.find(text) {
            out.push_str(&text[last..f.start]);
            out.push_str(&f.entry.translation);
            last = f.end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Whether `text`'s prose holds any of the terms.
    pub fn any_in(&self, text: &str) -> bool {
        tokenize(text).iter().any(|p| match p {
            Piece::Text(t) => !self.find(t).is_empty(),
            Piece::Protected(..) => false,
        })
    }
}

/// The caption's pieces with every term of its prose cut out as a protected
/// [`Kind::Term`] piece holding the glossary's translation.
pub fn protect(pieces: Vec<Piece>, terms: &Terms<'_>) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let Piece::Text(text) = piece else {
            out.push(piece);
            continue;
        };
        let mut last = 0;
        for f in terms.find(&text) {
            if f.start > last {
                out.push(Piece::Text(text[last..f.start].to_owned()));
            }
            out.push(Piece::Protected(Kind::Term, f.entry.translation.clone()));
            last = f.end;
        }
        if last < text.len() {
            out.push(Piece::Text(text[last..].to_owned()));
        }
    }
    out
}

/// The entries whose terms the caption's prose holds, each once, in term order: what its
/// translation depends on.
pub fn applied<'a>(text: &str, terms: &Terms<'a>) -> Vec<&'a GlossaryEntry> {
    let mut found: BTreeMap<String, &GlossaryEntry> = BTreeMap::new();
    for piece in tokenize(text) {
        if let Piece::Text(t) = piece {
            for f in terms.find(&t) {
                found.insert(f.entry.term.to_lowercase(), f.entry);
            }
        }
    }
    found.into_values().collect()
}

/// The applied entries as one string for the cache key: each term (case folded: matching
/// ignores case) and its translation (as written: the output shows it).
pub fn key_part(applied: &[&GlossaryEntry]) -> String {
    applied
        .iter()
        .map(|e| format!("{}\u{1f}{}\u{1e}", e.term.to_lowercase(), e.translation))
        .collect()
}

/// The terms a change touches: added, removed, or given another translation (case folded).
pub fn changed(old: &[GlossaryEntry], new: &[GlossaryEntry]) -> Vec<String> {
    let map = |entries: &[GlossaryEntry]| -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|e| (e.term.to_lowercase(), e.translation.clone()))
            .collect()
    };
    let (old, new) = (map(old), map(new));
    let mut out: Vec<String> = old
        .iter()
        .filter(|(t, tr)| new.get(*t) != Some(*tr))
        .map(|(t, _)| t.clone())
        .collect();
    out.extend(new.keys().filter(|t| !old.contains_key(*t)).cloned());
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, &str)]) -> Vec<GlossaryEntry> {
        list.iter()
            .map(|(t, tr)| GlossaryEntry {
                term: (*t).into(),
                translation: (*tr).into(),
            })
            .collect()
    }

    #[test]
    fn terms_match_whole_words_regardless_of_case() {
        let e = entries(&[("cat", "Katze"), ("Straße", "street")]);
        let terms = Terms::new(&e);
        assert_eq!(
            terms.replace("Cat, CAT and cat. A category, a bobcat, cats."),
            "Katze, Katze and Katze. A category, a bobcat, cats."
        );
        assert_eq!(terms.replace("STRASSE und STRAẞE"), "STRASSE und street");
        assert_eq!(
            terms.replace("кот cat_x x_cat 2cat"),
            "кот cat_x x_cat 2cat"
        );
    }

    #[test]
    fn the_longest_term_wins_and_matches_do_not_overlap() {
        let e = entries(&[
            ("machine", "Maschine"),
            ("machine learning", "maschinelles Lernen"),
            ("learning", "Lernen"),
        ]);
        let terms = Terms::new(&e);
        assert_eq!(
            terms.replace("Machine learning beats a machine that is learning."),
            "maschinelles Lernen beats a Maschine that is Lernen."
        );
    }

    #[test]
    fn terms_with_signs_at_their_ends_need_no_word_boundary_there() {
        let e = entries(&[("C++", "C++ (language)"), ("e.g.", "z. B.")]);
        let terms = Terms::new(&e);
        assert_eq!(
            terms.replace("I like C++, e.g. templates"),
            "I like C++ (language), z. B. templates"
        );
        assert_eq!(terms.replace("AC++"), "AC++");
    }

    #[test]
    fn only_prose_is_protected_never_a_hashtag_mention_or_link() {
        let e = entries(&[("icf", "ICF-DE"), ("summer", "Sommer")]);
        let terms = Terms::new(&e);
        let pieces = protect(
            tokenize("icf in summer @icf https://icf.example #summer"),
            &terms,
        );
        let terms_seen: Vec<&str> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Protected(Kind::Term, t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(terms_seen, ["ICF-DE", "Sommer"]);
        let joined: String = pieces.iter().map(Piece::as_str).collect();
        assert_eq!(joined, "ICF-DE in Sommer @icf https://icf.example #summer");
        assert!(!terms.any_in("#summer @icf"));
        assert!(terms.any_in("Hello Summer"));
    }

    #[test]
    fn the_key_depends_on_the_applied_entries_only() {
        let a = entries(&[("sun", "Sonne"), ("moon", "Mond")]);
        let b = entries(&[("sun", "Sonne"), ("moon", "Mond!"), ("star", "Stern")]);
        let (ta, tb) = (Terms::new(&a), Terms::new(&b));
        let text = "The SUN is up #moon";
        assert_eq!(
            key_part(&applied(text, &ta)),
            key_part(&applied(text, &tb)),
            "the moon is a hashtag here, the star absent: same key"
        );
        assert_ne!(
            key_part(&applied("The moon", &ta)),
            key_part(&applied("The moon", &tb))
        );
        assert!(applied("Nothing here", &ta).is_empty());
        assert_eq!(changed(&a, &b), ["moon", "star"]);
        assert_eq!(changed(&b, &a), ["moon", "star"]);
        assert!(changed(&a, &a).is_empty());
    }
}
