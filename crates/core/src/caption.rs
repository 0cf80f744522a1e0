//! What a caption may hold on Instagram, and how it is read: one tokenizer for hashtags,
//! @mentions, links, emoji and line breaks, used by the checks on save and on publish and by
//! the translator (icf-translate), so that they never disagree about what a hashtag is.
//! Pure: no I/O.

use unicode_properties::{GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

use crate::spintax::Spintax;

/// Instagram's caption rules. Every language's caption of a post must keep them.
///
/// The numbers are data, with their sources:
/// - 5 hashtags: since 18–19 December 2025 Instagram limits posts and reels to 5 hashtags
///   (announced by Adam Mosseri; reported e.g. at
///   <https://en.shiftdelete.net/an-era-is-ending-on-instagram-hashtag-limit-imposed>).
///   The Graph API reference still said 30 in 2026, hence configurable (`ICF_MAX_HASHTAGS`,
///   0 to 30).
/// - 2,200 characters and 20 @mentions: the `caption` parameter of Instagram's Graph API
///   (IG User Media reference); more than 20 @ tags is error 2207040, a caption too long
///   (characters, hashtags or @ tags) error 2207010.
///
/// Meta does not say how it counts characters: UTF-16 code units are the safe upper bound
/// (an emoji counts 2), see [`caption_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptionRules {
    /// Characters, counted by [`caption_len`].
    pub max_chars: usize,
    pub max_hashtags: usize,
    pub max_mentions: usize,
}

impl CaptionRules {
    /// Instagram's rules since December 2025.
    pub const INSTAGRAM: CaptionRules = CaptionRules {
        max_chars: 2200,
        max_hashtags: 5,
        max_mentions: 20,
    };
    /// The most hashtags any setting may allow: the Graph API reference's number.
    pub const MAX_HASHTAGS_SETTING: usize = 30;

    /// The rules `caption` breaks, in the order length, hashtags, mentions.
    pub fn problems(&self, caption: &str) -> Vec<CaptionProblem> {
        let counts = CaptionCounts::of(caption);
        [
            (Rule::Length, counts.chars, self.max_chars),
            (Rule::Hashtags, counts.hashtags, self.max_hashtags),
            (Rule::Mentions, counts.mentions, self.max_mentions),
        ]
        .into_iter()
        .filter(|(_, count, max)| count > max)
        .map(|(rule, count, max)| CaptionProblem {
            rule,
            count,
            max,
            variant: None,
        })
        .collect()
    }

    /// The first rule `caption` breaks, if any. A caption with alternatives
    /// (`{Hello|Hi}`, [`crate::spintax`]) is checked as each account may get it: every
    /// variant while there are at most [`CHECKED_VARIANTS`], a sample of that many
    /// otherwise; an unclosed group of alternatives is a problem too.
    pub fn check(&self, caption: &str) -> Result<(), CaptionProblem> {
        let first = |text: &str| self.problems(text).into_iter().next();
        if !(caption.contains('{') && caption.contains('|')) {
            return first(caption).map_or(Ok(()), Err);
        }
        let spun = Spintax::parse(caption).map_err(|e| CaptionProblem {
            rule: Rule::UnclosedVariants,
            count: e.at,
            max: 0,
            variant: None,
        })?;
        if spun.is_plain() {
            return first(&spun.resolve(0)).map_or(Ok(()), Err);
        }
        for variant in spun.variants(CHECKED_VARIANTS) {
            if let Some(mut p) = first(&variant) {
                p.variant = Some(variant);
                return Err(p);
            }
        }
        Ok(())
    }
}

/// How many variants of a caption with alternatives are checked at most.
pub const CHECKED_VARIANTS: usize = 256;

impl Default for CaptionRules {
    fn default() -> Self {
        Self::INSTAGRAM
    }
}

/// Which rule a caption breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Length,
    Hashtags,
    Mentions,
    /// A group of alternatives that is never closed (`count` is where it opens).
    UnclosedVariants,
}

/// A broken rule: how many there are and how many are allowed. Displays as the end of a
/// sentence about a caption: "has 6 hashtags; Instagram allows at most 5".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptionProblem {
    pub rule: Rule,
    pub count: usize,
    pub max: usize,
    /// The variant that breaks the rule, for a caption with alternatives.
    pub variant: Option<String>,
}

impl std::fmt::Display for CaptionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (count, max) = (self.count, self.max);
        if let Some(v) = &self.variant {
            let shown: String = v.chars().take(60).collect();
            let more = if v.chars().count() > 60 { "…" } else { "" };
            write!(f, "variant \"{shown}{more}\" ")?;
        }
        match self.rule {
            Rule::Length => write!(
                f,
                "is {count} characters long (an emoji counts 2); Instagram allows at most {max}"
            ),
            Rule::Hashtags => write!(f, "has {count} hashtags; Instagram allows at most {max}"),
            Rule::Mentions => write!(f, "has {count} @mentions; Instagram allows at most {max}"),
            Rule::UnclosedVariants => write!(
                f,
                "has a group of variants opened at character {count} ({{…|…}}) that is never \
                 closed with '}}'"
            ),
        }
    }
}

/// What the rules count in a caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptionCounts {
    /// [`caption_len`]
    pub chars: usize,
    pub hashtags: usize,
    pub mentions: usize,
}

impl CaptionCounts {
    pub fn of(caption: &str) -> Self {
        let mut counts = CaptionCounts {
            chars: caption_len(caption),
            ..CaptionCounts::default()
        };
        for piece in tokenize(caption) {
            match piece {
                Piece::Protected(Kind::Hashtag, _) => counts.hashtags += 1,
                Piece::Protected(Kind::Mention, _) => counts.mentions += 1,
                _ => {}
            }
        }
        counts
    }
}

/// The length Instagram's character limit is checked against: UTF-16 code units.
pub fn caption_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// What kind of protected token a piece is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Hashtag,
    Mention,
    Url,
    Emoji,
    /// A run of whitespace containing at least one line break, kept byte for byte.
    Break,
    /// A glossary term, never produced by [`tokenize`]: the translator cuts it out of the
    /// prose and the piece holds the glossary's translation, which goes into the result in
    /// the term's place (icf-translate's `terms`).
    Term,
}

impl Kind {
    /// The word for it in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Hashtag => "hashtag",
            Kind::Mention => "mention",
            Kind::Url => "link",
            Kind::Emoji => "emoji",
            Kind::Break => "line break",
            Kind::Term => "glossary term",
        }
    }
}

/// One piece of a caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Protected(Kind, String),
}

impl Piece {
    pub fn as_str(&self) -> &str {
        match self {
            Piece::Text(t) | Piece::Protected(_, t) => t,
        }
    }
}

/// A character words are made of (hashtags, glossary terms' whole-word matching).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || c == '_'
        // Combining marks belong to words in Devanagari, Thai, Arabic… (#हिन्दी).
        || c.general_category_group() == GeneralCategoryGroup::Mark
        // ZWNJ/ZWJ are written inside Persian and Indic words.
        || c == '\u{200C}'
        || c == '\u{200D}'
}

/// A grapheme cluster shown as an emoji: pictographs, flags, keycaps, ZWJ sequences,
/// skin-tone variants. Plain ASCII digits, `#` and `*` are emoji-capable characters but
/// only count when they form a keycap.
fn is_emoji_grapheme(g: &str) -> bool {
    g.chars()
        .any(|c| c == '\u{20E3}' || (!c.is_ascii() && c.is_emoji_char()))
}

fn is_word_grapheme(g: &str) -> bool {
    !is_emoji_grapheme(g) && g.chars().next().is_some_and(is_word_char)
}

fn url_start(rest: &str) -> bool {
    let lower: String = rest
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("www.")
}

/// Punctuation that ends a sentence after a URL rather than belonging to it.
fn url_trailing(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '\'' | '"' | '»' | '…' | '”' | '’'
    )
}

/// Cuts a caption into pieces. Concatenating the pieces gives the caption back exactly.
pub fn tokenize(caption: &str) -> Vec<Piece> {
    let graphemes: Vec<(usize, &str)> = caption.grapheme_indices(true).collect();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, pieces: &mut Vec<Piece>| {
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
    };
    let mut i = 0;
    while i < graphemes.len() {
        let (at, g) = graphemes[i];
        let prev_is_word = i > 0 && is_word_grapheme(graphemes[i - 1].1);
        let prev = if i > 0 { graphemes[i - 1].1 } else { "" };

        // URLs: up to the next whitespace, without trailing sentence punctuation.
        if !prev_is_word && prev != "/" && url_start(&caption[at..]) {
            let mut j = i;
            while j < graphemes.len() && !graphemes[j].1.chars().all(char::is_whitespace) {
                j += 1;
            }
            while j > i + 1 && graphemes[j - 1].1.chars().all(url_trailing) {
                j -= 1;
            }
            let end = graphemes.get(j).map_or(caption.len(), |(a, _)| *a);
            flush(&mut text, &mut pieces);
            pieces.push(Piece::Protected(Kind::Url, caption[at..end].to_owned()));
            i = j;
            continue;
        }
        if is_emoji_grapheme(g) {
            flush(&mut text, &mut pieces);
            pieces.push(Piece::Protected(Kind::Emoji, g.to_owned()));
            i += 1;
            continue;
        }
        if (g == "#" || g == "＃") && !prev_is_word && prev != "&" {
            let mut j = i + 1;
            while j < graphemes.len() && is_word_grapheme(graphemes[j].1) {
                j += 1;
            }
            if j > i + 1 {
                let end = graphemes.get(j).map_or(caption.len(), |(a, _)| *a);
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Protected(Kind::Hashtag, caption[at..end].to_owned()));
                i = j;
                continue;
            }
        }
        if g == "@" && !prev_is_word {
            let mut j = i + 1;
            while j < graphemes.len()
                && graphemes[j].1.len() == 1
                && graphemes[j]
                    .1
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            {
                j += 1;
            }
            // A full stop after a name ends the sentence.
            while j > i + 1 && graphemes[j - 1].1 == "." {
                j -= 1;
            }
            if j > i + 1 {
                let end = graphemes.get(j).map_or(caption.len(), |(a, _)| *a);
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Protected(Kind::Mention, caption[at..end].to_owned()));
                i = j;
                continue;
            }
        }
        if g.chars().all(char::is_whitespace) {
            let mut j = i;
            while j < graphemes.len() && graphemes[j].1.chars().all(char::is_whitespace) {
                j += 1;
            }
            let end = graphemes.get(j).map_or(caption.len(), |(a, _)| *a);
            let run = &caption[at..end];
            if run.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Protected(Kind::Break, run.to_owned()));
            } else {
                text.push_str(run);
            }
            i = j;
            continue;
        }
        text.push_str(g);
        i += 1;
    }
    flush(&mut text, &mut pieces);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(caption: &str) -> Vec<(Option<Kind>, String)> {
        tokenize(caption)
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => (None, t),
                Piece::Protected(k, t) => (Some(k), t),
            })
            .collect()
    }

    #[test]
    fn tokens_are_recognised() {
        let c = "Hi @anna.k! See https://ex.com/a?b=1. #Sun #солнце #日本 #हिन्दी 👨‍👩‍👧 🇺🇦 👍🏽\n\nBye";
        let got = kinds(c);
        let protected: Vec<(Kind, &str)> = got
            .iter()
            .filter_map(|(k, t)| k.map(|k| (k, t.as_str())))
            .collect();
        assert_eq!(
            protected,
            vec![
                (Kind::Mention, "@anna.k"),
                (Kind::Url, "https://ex.com/a?b=1"),
                (Kind::Hashtag, "#Sun"),
                (Kind::Hashtag, "#солнце"),
                (Kind::Hashtag, "#日本"),
                (Kind::Hashtag, "#हिन्दी"),
                (Kind::Emoji, "👨‍👩‍👧"),
                (Kind::Emoji, "🇺🇦"),
                (Kind::Emoji, "👍🏽"),
                (Kind::Break, "\n\n"),
            ]
        );
        let joined: String = tokenize(c).iter().map(Piece::as_str).collect();
        assert_eq!(joined, c);
    }

    #[test]
    fn not_everything_with_a_sign_is_a_token() {
        let got = kinds("mail me@example.com, 5 # of us, &#39; C# rocks, 1️⃣ ok");
        let protected: Vec<_> = got.iter().filter(|(k, _)| k.is_some()).collect();
        assert_eq!(protected, vec![&(Some(Kind::Emoji), "1️⃣".to_owned())]);
    }

    fn tags(n: usize) -> String {
        (0..n).map(|i| format!("#t{i} ")).collect()
    }

    #[test]
    fn instagrams_current_rules_are_the_default() {
        let rules = CaptionRules::default();
        assert_eq!(rules, CaptionRules::INSTAGRAM);
        assert_eq!(
            (rules.max_chars, rules.max_hashtags, rules.max_mentions),
            (2200, 5, 20)
        );
    }

    #[test]
    fn six_hashtags_break_the_rule_five_do_not() {
        let rules = CaptionRules::default();
        assert!(rules.check(&format!("Sunny day {}", tags(5))).is_ok());
        let problem = rules.check(&format!("Sunny day {}", tags(6))).unwrap_err();
        assert_eq!(
            problem,
            CaptionProblem {
                rule: Rule::Hashtags,
                count: 6,
                max: 5,
                variant: None,
            }
        );
        assert_eq!(
            problem.to_string(),
            "has 6 hashtags; Instagram allows at most 5"
        );
        let thirty = CaptionRules {
            max_hashtags: 30,
            ..CaptionRules::default()
        };
        assert!(thirty.check(&tags(30)).is_ok());
        assert!(thirty.check(&tags(31)).is_err());
    }

    #[test]
    fn a_caption_with_alternatives_is_checked_as_each_account_gets_it() {
        let rules = CaptionRules::default();
        // Six hashtags written, at most five in any variant: fine.
        let ok = format!("{{#a #b|#c}} {}", tags(3));
        assert!(rules.check(&ok).is_ok(), "{ok}");
        // One variant gets six.
        let six = format!("{{#a #b|#c}} {}", tags(3).replace("#t0", "#t0 #t9"));
        let problem = rules.check(&six).unwrap_err();
        assert_eq!(problem.rule, Rule::Hashtags);
        assert!(
            problem.to_string().starts_with("variant \"#a #b"),
            "{problem}"
        );
        let unclosed = rules.check("Hi {there|you").unwrap_err();
        assert_eq!(unclosed.rule, Rule::UnclosedVariants);
        assert!(unclosed.to_string().contains("character 4"), "{unclosed}");
        // Escapes and braces without alternatives are text, counted as written.
        assert!(rules.check("{name} \\{a|b\\}").is_ok());
    }

    #[test]
    fn mentions_and_length_have_their_limits() {
        let rules = CaptionRules::default();
        let mentions = |n: usize| (0..n).map(|i| format!("@u{i} ")).collect::<String>();
        assert!(rules.check(&mentions(20)).is_ok());
        assert_eq!(rules.check(&mentions(21)).unwrap_err().rule, Rule::Mentions);
        assert!(rules.check(&"é".repeat(2200)).is_ok());
        assert_eq!(
            rules.check(&"é".repeat(2201)).unwrap_err().rule,
            Rule::Length
        );
        // Counted like the translator counts: an emoji is 2 UTF-16 units.
        assert!(rules.check(&"👍".repeat(1100)).is_ok());
        assert!(rules.check(&"👍".repeat(1101)).is_err());
        // Every broken rule is reported, in a fixed order.
        let all = format!("{} {}{}", "x".repeat(2200), tags(6), mentions(21));
        let rules_broken: Vec<Rule> = rules.problems(&all).iter().map(|p| p.rule).collect();
        assert_eq!(
            rules_broken,
            vec![Rule::Length, Rule::Hashtags, Rule::Mentions]
        );
    }

    #[test]
    fn tags_are_counted_like_instagram() {
        let c = |s: &str| {
            let n = CaptionCounts::of(s);
            (n.hashtags, n.mentions)
        };
        assert_eq!(c("#a #b c#d mail@x.io @me @_x # @"), (2, 2));
        // Hashtags in any script; Instagram usernames are ASCII, so @школа is not one.
        assert_eq!(c("Новый курс #питон #हिन्दी @школа @icf_school 🔥"), (2, 1));
        // Not hashtags: an HTML entity, a keycap emoji, a link's anchor.
        assert_eq!(c("&#39; #️⃣ https://ex.com/#top"), (0, 0));
        // A full-width sign starts one; a sign inside a word does not.
        assert_eq!(c("＃全角 #a#b"), (2, 0));
    }
}
