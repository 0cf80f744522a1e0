//! Captions that survive translation. Pure: no I/O.
//!
//! A caption is cut into prose and protected tokens (hashtags, @mentions, URLs, emoji
//! grapheme clusters, line breaks). Protected tokens never go to a provider as text:
//! either they become XML placeholders (`<x id="N"/>`, for providers with tag handling)
//! or only the prose between them is sent, fragment by fragment. Every result is then
//! checked by [`validate`] against the source before anyone may use it.

use std::collections::BTreeMap;

use unicode_properties::{GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

/// Instagram's caption limit. Meta does not say how it counts; UTF-16 code units are the
/// safe upper bound (an emoji counts 2).
pub const MAX_CAPTION_UTF16: usize = 2200;

/// What kind of protected token a piece is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Hashtag,
    Mention,
    Url,
    Emoji,
    /// A run of whitespace containing at least one line break, kept byte for byte.
    Break,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Hashtag => "hashtag",
            Kind::Mention => "mention",
            Kind::Url => "link",
            Kind::Emoji => "emoji",
            Kind::Break => "line break",
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

/// Limits a caption must respect; the counts are configurable because Instagram changed
/// them (30 hashtags in the API reference, 5 in the app since December 2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_hashtags: usize,
    pub max_mentions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_hashtags: 5,
            max_mentions: 20,
        }
    }
}

fn is_word_char(c: char) -> bool {
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

/// Whether a prose fragment has anything a translator could change (letters or digits).
pub fn is_translatable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// Splits off the trailing block of hashtags, mentions, emoji and whitespace (the usual
/// layout), which is re-appended untouched instead of being sent.
pub fn split_tail(pieces: &[Piece]) -> (&[Piece], &[Piece]) {
    let mut cut = pieces.len();
    while cut > 0 {
        match &pieces[cut - 1] {
            Piece::Protected(..) => cut -= 1,
            Piece::Text(t) if !is_translatable(t) => cut -= 1,
            Piece::Text(_) => break,
        }
    }
    pieces.split_at(cut)
}

fn xml_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
}

/// The text sent with XML tag handling: escaped prose with `<x id="N"/>` for the N-th
/// protected piece.
pub fn to_placeholders(pieces: &[Piece]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for piece in pieces {
        match piece {
            Piece::Text(t) => xml_escape(t, &mut out),
            Piece::Protected(..) => {
                out.push_str(&format!("<x id=\"{n}\"/>"));
                n += 1;
            }
        }
    }
    out
}

/// Why a translated text could not be put back together or is not the caption it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Corruption(pub String);

fn unescape_entity(entity: &str) -> Option<char> {
    match entity {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = entity.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Parses one `<x id="N"/>` tag at the start of `s`; returns N and the tag's length.
fn parse_placeholder(s: &str) -> Option<(usize, usize)> {
    let end = s.find('>')?;
    let tag = &s[..=end];
    let inner = tag.strip_prefix('<')?.strip_suffix('>')?;
    let inner = inner.strip_suffix('/')?.trim();
    let rest = inner.strip_prefix('x')?.trim_start();
    let rest = rest
        .strip_prefix("id")?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let rest = &rest[1..];
    let close = rest.find(quote)?;
    if !rest[close + 1..].trim().is_empty() {
        return None;
    }
    Some((rest[..close].parse().ok()?, end + 1))
}

/// Puts the protected pieces back into a translation made with placeholders. Every
/// placeholder must come back exactly once and no other markup may appear.
pub fn from_placeholders(pieces: &[Piece], translated: &str) -> Result<String, Corruption> {
    let protected: Vec<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Protected(_, t) => Some(t.as_str()),
            Piece::Text(_) => None,
        })
        .collect();
    let mut seen = vec![0usize; protected.len()];
    let mut out = String::new();
    let mut rest = translated;
    while let Some(pos) = rest.find(['<', '&']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with('&') {
            let semi = rest
                .find(';')
                .filter(|i| *i <= 10)
                .ok_or_else(|| Corruption("the translation has a stray '&'".into()))?;
            let c = unescape_entity(&rest[1..semi])
                .ok_or_else(|| Corruption("the translation has an unknown entity".into()))?;
            out.push(c);
            rest = &rest[semi + 1..];
            continue;
        }
        let (id, len) = parse_placeholder(rest).ok_or_else(|| {
            Corruption("the translation has markup that is not a placeholder".into())
        })?;
        let original = protected.get(id).ok_or_else(|| {
            Corruption(format!("the translation has an unknown placeholder {id}"))
        })?;
        seen[id] += 1;
        out.push_str(original);
        rest = &rest[len..];
    }
    out.push_str(rest);
    if let Some((id, count)) = seen.iter().enumerate().find(|(_, c)| **c != 1) {
        let what = if *count == 0 { "lost" } else { "duplicated" };
        return Err(Corruption(format!(
            "placeholder {id} ({}) was {what}",
            protected[id]
        )));
    }
    Ok(out)
}

/// The prose fragments worth sending, trimmed, with their index among `pieces`.
pub fn fragments(pieces: &[Piece]) -> Vec<(usize, &str)> {
    pieces
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Piece::Text(t) if is_translatable(t) => Some((i, t.trim())),
            _ => None,
        })
        .collect()
}

/// Reassembles a caption from pieces and the translations of [`fragments`] (same order),
/// keeping each fragment's surrounding whitespace.
pub fn from_fragments(pieces: &[Piece], translations: &[String]) -> Result<String, Corruption> {
    let mut out = String::new();
    let mut next = translations.iter();
    for piece in pieces {
        match piece {
            Piece::Text(t) if is_translatable(t) => {
                let tr = next
                    .next()
                    .ok_or_else(|| Corruption("fewer translations than fragments".into()))?;
                let lead = &t[..t.len() - t.trim_start().len()];
                let trail = &t[t.trim_end().len()..];
                out.push_str(lead);
                out.push_str(tr.trim());
                out.push_str(trail);
            }
            other => out.push_str(other.as_str()),
        }
    }
    if next.next().is_some() {
        return Err(Corruption("more translations than fragments".into()));
    }
    Ok(out)
}

/// What [`validate`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The result is not the source's caption (a token changed, appeared or vanished): it
    /// must not be used.
    pub corruptions: Vec<String>,
    /// The result breaks an Instagram limit. Shown to the user.
    pub limit_problems: Vec<String>,
}

impl Report {
    pub fn is_intact(&self) -> bool {
        self.corruptions.is_empty()
    }
}

/// Counts of each protected token, to compare source and result as multisets.
fn census(pieces: &[Piece]) -> BTreeMap<(Kind, &str), usize> {
    let mut map = BTreeMap::new();
    for p in pieces {
        if let Piece::Protected(kind, t) = p
            && *kind != Kind::Break
        {
            *map.entry((*kind, t.as_str())).or_insert(0) += 1;
        }
    }
    map
}

fn count(pieces: &[Piece], kind: Kind) -> usize {
    pieces
        .iter()
        .filter(|p| matches!(p, Piece::Protected(k, _) if *k == kind))
        .count()
}

/// The length Instagram's limit is checked against.
pub fn caption_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The limits a caption breaks, whatever it came from.
pub fn limit_problems(text: &str, limits: &Limits) -> Vec<String> {
    let pieces = tokenize(text);
    let mut problems = Vec::new();
    let len = caption_len(text);
    if len > MAX_CAPTION_UTF16 {
        problems.push(format!(
            "the caption is {len} characters long; Instagram allows {MAX_CAPTION_UTF16}"
        ));
    }
    let hashtags = count(&pieces, Kind::Hashtag);
    if hashtags > limits.max_hashtags {
        problems.push(format!(
            "the caption has {hashtags} hashtags; the limit is {}",
            limits.max_hashtags
        ));
    }
    let mentions = count(&pieces, Kind::Mention);
    if mentions > limits.max_mentions {
        problems.push(format!(
            "the caption has {mentions} @mentions; the limit is {}",
            limits.max_mentions
        ));
    }
    problems
}

/// Checks a translated caption against its source: every hashtag, mention, link and emoji
/// identical and as often, the same line breaks in the same order, and the limits.
pub fn validate(source: &str, result: &str, limits: &Limits) -> Report {
    let src = tokenize(source);
    let res = tokenize(result);
    let mut report = Report::default();
    let (a, b) = (census(&src), census(&res));
    for ((kind, token), n) in &a {
        let m = b.get(&(*kind, *token)).copied().unwrap_or(0);
        if m < *n {
            report
                .corruptions
                .push(format!("the {} {token} was lost or changed", kind.noun()));
        } else if m > *n {
            report
                .corruptions
                .push(format!("the {} {token} was repeated", kind.noun()));
        }
    }
    for (kind, token) in b.keys() {
        if !a.contains_key(&(*kind, *token)) {
            report
                .corruptions
                .push(format!("the {} {token} appeared from nowhere", kind.noun()));
        }
    }
    let breaks = |p: &[Piece]| -> Vec<String> {
        p.iter()
            .filter_map(|p| match p {
                Piece::Protected(Kind::Break, t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    };
    if breaks(&src) != breaks(&res) {
        report
            .corruptions
            .push("the line breaks and paragraphs changed".into());
    }
    if !source.trim().is_empty() && result.trim().is_empty() {
        report.corruptions.push("the translation is empty".into());
    }
    report.limit_problems = limit_problems(result, limits);
    report
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

    #[test]
    fn placeholders_round_trip_and_escape_markup() {
        let pieces = tokenize("Tom & Jerry <3 #cats 🐱");
        let xml = to_placeholders(&pieces);
        assert_eq!(xml, "Tom &amp; Jerry &lt;3 <x id=\"0\"/> <x id=\"1\"/>");
        assert_eq!(
            from_placeholders(&pieces, &xml).unwrap(),
            "Tom & Jerry <3 #cats 🐱"
        );
        // Providers may reorder placeholders and respace tags.
        assert_eq!(
            from_placeholders(&pieces, "<x id='1' /> Tom &amp; Jerry <x id=\"0\"/>").unwrap(),
            "🐱 Tom & Jerry #cats"
        );
    }

    #[test]
    fn lost_duplicated_or_foreign_placeholders_are_corruption() {
        let pieces = tokenize("a #b c 🐱");
        assert!(from_placeholders(&pieces, "a <x id=\"0\"/> c").is_err());
        assert!(from_placeholders(&pieces, "<x id=\"0\"/><x id=\"0\"/><x id=\"1\"/>").is_err());
        assert!(from_placeholders(&pieces, "<x id=\"0\"/><x id=\"1\"/><x id=\"2\"/>").is_err());
        assert!(from_placeholders(&pieces, "<b>a</b><x id=\"0\"/><x id=\"1\"/>").is_err());
    }

    #[test]
    fn fragments_keep_their_whitespace() {
        let pieces = tokenize("  Hello world #x, and more!\n\n🐱 end ");
        let frags: Vec<&str> = fragments(&pieces).into_iter().map(|(_, t)| t).collect();
        assert_eq!(frags, vec!["Hello world", ", and more!", "end"]);
        let out = from_fragments(&pieces, &["A".into(), "B".into(), "C".into()]).unwrap();
        assert_eq!(out, "  A #xB\n\n🐱 C ");
        assert!(from_fragments(&pieces, &["A".into()]).is_err());
    }

    #[test]
    fn the_trailing_block_is_split_off() {
        let pieces = tokenize("Sunny day! #sun #beach @joe 🌞");
        let (body, tail) = split_tail(&pieces);
        assert_eq!(
            body.iter().map(Piece::as_str).collect::<String>(),
            "Sunny day! "
        );
        assert_eq!(
            tail.iter().map(Piece::as_str).collect::<String>(),
            "#sun #beach @joe 🌞"
        );
    }

    #[test]
    fn validation_finds_changed_tokens_and_limits() {
        let limits = Limits::default();
        let src = "Go #sun @ann 🌞\nnow";
        assert!(validate(src, "Geh #sun @ann 🌞\njetzt", &limits).is_intact());
        for bad in [
            "Geh #sonne @ann 🌞\njetzt",
            "Geh #sun @ann @ann 🌞\njetzt",
            "Geh #sun @ann 🌞 jetzt",
            "Geh #sun @ann 🌝\njetzt",
            "Geh #sun #extra @ann 🌞\njetzt",
        ] {
            assert!(!validate(src, bad, &limits).is_intact(), "{bad}");
        }
        let long = format!("{} #a", "x".repeat(2200));
        assert_eq!(validate(&long, &long, &limits).limit_problems.len(), 1);
        let tags = "#a #b #c #d #e #f";
        let report = validate(tags, tags, &limits);
        assert!(report.is_intact());
        assert!(report.limit_problems[0].contains("6 hashtags"));
    }
}
