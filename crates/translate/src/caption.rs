//! Captions that survive translation. Pure: no I/O.
//!
//! A caption is cut into prose and protected tokens (hashtags, @mentions, URLs, emoji
//! grapheme clusters, line breaks) by icf-core's tokenizer, the same one that counts
//! hashtags for Instagram's rules. Protected tokens never go to a provider as text:
//! either they become XML placeholders (`<x id="N"/>`, for providers with tag handling)
//! or only the prose between them is sent, fragment by fragment. Every result is then
//! checked by [`validate`] against the source before anyone may use it: a translation
//! never adds, drops or changes a hashtag.

use std::collections::BTreeMap;

pub use icf_core::caption::{CaptionRules, Kind, Piece, caption_len, tokenize};

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

/// The rules a caption breaks, whatever it came from, as sentences for the user.
pub fn limit_problems(text: &str, rules: &CaptionRules) -> Vec<String> {
    rules
        .problems(text)
        .iter()
        .map(|p| format!("the caption {p}"))
        .collect()
}

/// Checks a translated caption against its source: every hashtag, mention, link and emoji
/// identical and as often, the same line breaks in the same order, and the limits.
pub fn validate(source: &str, result: &str, limits: &CaptionRules) -> Report {
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
        let limits = CaptionRules::default();
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

    #[test]
    fn a_translation_never_adds_a_hashtag() {
        // Five hashtags, Instagram's limit: a sixth from the provider would break it.
        let limits = CaptionRules::default();
        let src = "Sale: 5 # of us love it #a #b #c #d #e";
        assert!(validate(src, "Venta: a 5 # nos encanta #a #b #c #d #e", &limits).is_intact());
        for added in [
            "Venta: a 5 # nos encanta #a #b #c #d #e #f",
            "Venta: #oferta a 5 # nos encanta #a #b #c #d #e",
            "Venta: a 5 #nosotros encanta #a #b #c #d #e",
            "Venta: a 5 # nos encanta #a #a #b #c #d #e",
            "Venta: a 5 # nos encanta ＃extra #a #b #c #d #e",
        ] {
            let report = validate(src, added, &limits);
            assert!(!report.is_intact(), "{added}");
        }
    }
}
