//! Property tests of the caption tokenizer and validator with random captions full of
//! emoji (ZWJ sequences, flags, skin tones, keycaps), hashtags in many scripts, mentions,
//! URLs and paragraph breaks.

use icf_translate::caption::{
    self, CaptionRules, Kind, Piece, fragments, from_fragments, from_placeholders, split_tail,
    to_placeholders, tokenize, validate,
};
use proptest::prelude::*;

const EMOJI: &[&str] = &[
    "😀",
    "👍🏽",
    "👩🏿‍💻",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇺🇦",
    "🇯🇵",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "1️⃣",
    "#️⃣",
    "❤️",
    "☀️",
    "🧑🏻‍🤝‍🧑🏾",
    "🐈‍⬛",
    "✌🏼",
];

const WORDS: &[&str] = &[
    "summer",
    "Café",
    "naïve",
    "лето",
    "привет",
    "夏天",
    "東京",
    "गर्मी",
    "नमस्ते",
    "صيف",
    "שלום",
    "ฤดูร้อน",
    "여름",
    "Straße",
    "año",
    "2026",
    "x_y",
];

const PUNCT: &[&str] = &[
    ",", ".", "!", "?", " - ", ":", "(ok)", "&", "<3", "\"q\"", "…",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

#[derive(Debug, Clone)]
enum Part {
    Word(String),
    Hashtag(String),
    Mention(String),
    Url(String),
    Emoji(String),
    Break(String),
    Punct(String),
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        4 => word().prop_map(Part::Word),
        2 => word().prop_map(|w| Part::Hashtag(format!("#{w}"))),
        1 => "[a-z][a-z0-9_.]{0,12}[a-z0-9]".prop_map(|n| Part::Mention(format!("@{n}"))),
        1 => ("(https://|http://|www\\.)", "[a-z]{1,8}\\.(com|io|de)", "(/[a-z0-9]{1,6}){0,3}", "(\\?q=[a-z0-9]{1,4})?")
            .prop_map(|(s, h, p, q)| Part::Url(format!("{s}{h}{p}{q}"))),
        2 => prop::sample::select(EMOJI).prop_map(|e| Part::Emoji(e.to_owned())),
        1 => prop::sample::select(&["\n", "\n\n", " \n", "\n\n\n"][..]).prop_map(|b| Part::Break(b.to_owned())),
        1 => prop::sample::select(PUNCT).prop_map(|p| Part::Punct(p.to_owned())),
    ]
}

/// A caption and the protected tokens it was built from, in order.
fn caption_with_tokens() -> impl Strategy<Value = (String, Vec<(Kind, String)>)> {
    prop::collection::vec(part(), 1..40).prop_map(|parts| {
        let mut text = String::new();
        let mut tokens = Vec::new();
        for p in parts {
            // Tokens are separated by a space, as people type them.
            let needs_space = !text.is_empty() && !text.ends_with(char::is_whitespace);
            let (kind, s) = match p {
                Part::Word(s) | Part::Punct(s) => (None, s),
                Part::Hashtag(s) => (Some(Kind::Hashtag), s),
                Part::Mention(s) => (Some(Kind::Mention), s),
                Part::Url(s) => (Some(Kind::Url), s),
                Part::Emoji(s) => (Some(Kind::Emoji), s),
                Part::Break(s) => {
                    // A break swallows the whitespace around it into one run.
                    let t = text.trim_end().len();
                    text.truncate(t);
                    (Some(Kind::Break), s)
                }
            };
            if needs_space && kind != Some(Kind::Break) {
                text.push(' ');
            }
            text.push_str(&s);
            if let Some(k) = kind {
                tokens.push((k, s));
            }
        }
        (text, tokens)
    })
}

fn protected(pieces: &[Piece]) -> Vec<(Kind, String)> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Protected(k, t) => Some((*k, t.clone())),
            Piece::Text(_) => None,
        })
        .collect()
}

/// A stand-in translator that rewrites prose visibly and keeps its shape.
fn fake_translate(fragment: &str) -> String {
    format!("«{}»", fragment.to_uppercase())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_tokenizes_back_to_itself(s in any::<String>()) {
        let joined: String = tokenize(&s).iter().map(Piece::as_str).collect();
        prop_assert_eq!(joined, s);
    }

    #[test]
    fn every_token_is_found((text, tokens) in caption_with_tokens()) {
        let mut found = protected(&tokenize(&text));
        // The generator cannot know that a break merges with whitespace next to it.
        found.retain(|(k, _)| *k != Kind::Break);
        let mut expected = tokens;
        expected.retain(|(k, _)| *k != Kind::Break);
        prop_assert_eq!(found, expected, "caption: {:?}", text);
    }

    #[test]
    fn a_caption_validates_against_itself((text, _) in caption_with_tokens()) {
        let report = validate(&text, &text, &CaptionRules { max_hashtags: 100, max_mentions: 100, ..CaptionRules::default() });
        prop_assert!(report.is_intact(), "{:?}", report);
        prop_assert!(report.limit_problems.is_empty());
    }

    #[test]
    fn placeholders_round_trip((text, _) in caption_with_tokens()) {
        let pieces = tokenize(&text);
        let (body, _) = split_tail(&pieces);
        let xml = to_placeholders(body);
        let body_text: String = body.iter().map(Piece::as_str).collect();
        prop_assert_eq!(from_placeholders(body, &xml).unwrap(), body_text);
        // Sent text never carries a protected token itself.
        for (kind, token) in protected(body) {
            if kind != Kind::Break && kind != Kind::Emoji {
                prop_assert!(!xml.contains(&token), "{} leaked into {}", token, xml);
            }
        }
    }

    #[test]
    fn translated_fragments_keep_every_token((text, _) in caption_with_tokens()) {
        let pieces = tokenize(&text);
        let translated: Vec<String> =
            fragments(&pieces).iter().map(|(_, f)| fake_translate(f)).collect();
        let result = from_fragments(&pieces, &translated).unwrap();
        let report = validate(&text, &result, &CaptionRules { max_hashtags: 100, max_mentions: 100, ..CaptionRules::default() });
        prop_assert!(report.is_intact(), "{:?}\nsource: {:?}\nresult: {:?}", report, text, result);
    }

    #[test]
    fn losing_or_doubling_a_token_is_caught(
        (text, _) in caption_with_tokens(),
        pick in any::<prop::sample::Index>(),
        double in any::<bool>(),
    ) {
        let pieces = tokenize(&text);
        let positions: Vec<usize> = pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Piece::Protected(..)))
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!positions.is_empty());
        let victim = positions[pick.index(positions.len())];
        let mut broken = String::new();
        for (i, p) in pieces.iter().enumerate() {
            if i == victim {
                if double {
                    broken.push_str(p.as_str());
                    broken.push(' ');
                    broken.push_str(p.as_str());
                }
                // Dropped: replaced by a space so neighbours stay apart.
                else if !matches!(p, Piece::Protected(Kind::Break, _)) {
                    broken.push(' ');
                }
                continue;
            }
            broken.push_str(p.as_str());
        }
        let report = validate(&text, &broken, &CaptionRules::default());
        prop_assert!(!report.is_intact(), "not caught\nsource: {:?}\nbroken: {:?}", text, broken);
    }

    #[test]
    fn lost_or_duplicated_placeholders_are_refused(
        (text, _) in caption_with_tokens(),
        pick in any::<prop::sample::Index>(),
        double in any::<bool>(),
    ) {
        let pieces = tokenize(&text);
        let n = protected(&pieces).len();
        prop_assume!(n > 0);
        let id = pick.index(n);
        let tag = format!("<x id=\"{id}\"/>");
        let xml = to_placeholders(&pieces);
        let broken = if double { format!("{xml}{tag}") } else { xml.replacen(&tag, "", 1) };
        prop_assert!(from_placeholders(&pieces, &broken).is_err());
    }

    #[test]
    fn length_is_counted_in_utf16_units(n in 0usize..3000) {
        let text = "👍".repeat(n);
        let over = caption::limit_problems(&text, &CaptionRules::default())
            .iter()
            .any(|p| p.contains("characters long"));
        prop_assert_eq!(over, 2 * n > CaptionRules::default().max_chars);
    }
}
