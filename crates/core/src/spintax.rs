//! Caption variation (issue `[originality]`): a caption written with alternatives,
//! `{Hello|Hi|Hey} friends`, becomes one of its variants for each account, the same one for
//! the same account every time. Groups nest (`{a|{b|c}}`); a brace with no `|` inside is
//! plain text (`{name}` stays as written), and `\{`, `\}`, `\|` write the characters
//! themselves. A group that is opened, has alternatives and is never closed is a mistake
//! the writer is told about rather than published as typed.
//!
//! The choice is made by icf's own small generator (splitmix64) from a seed, so a variant
//! never changes with a library's version.

use std::collections::BTreeSet;

/// Why a caption's alternatives cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the variant group opened at character {at} ({{…|…}}) is never closed with '}}'")]
pub struct SpintaxError {
    /// 1-based, in characters.
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Choice(Vec<Vec<Node>>),
}

/// A text with its alternatives read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spintax {
    nodes: Vec<Node>,
}

/// Whether `text` has any group of alternatives (a cheap test before [`Spintax::parse`]).
pub fn has_spintax(text: &str) -> bool {
    text.contains('{') && text.contains('|') && Spintax::parse(text).is_ok_and(|s| !s.is_plain())
}

impl Spintax {
    pub fn parse(text: &str) -> Result<Spintax, SpintaxError> {
        let chars: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let nodes = parse_seq(&chars, &mut pos, false)?;
        Ok(Spintax { nodes })
    }

    /// No alternatives: every variant is the text itself (escapes aside).
    pub fn is_plain(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, Node::Text(_)))
    }

    /// How many ways the text can be resolved (saturating; alternatives that read the
    /// same are counted apart).
    pub fn combinations(&self) -> u64 {
        seq_count(&self.nodes)
    }

    /// The variant for `seed`: the same seed, the same text.
    pub fn resolve(&self, seed: u64) -> String {
        let mut rng = SplitMix(seed);
        let mut out = String::new();
        write_seq(&self.nodes, &mut rng, &mut out);
        out
    }

    /// Up to `limit` distinct variants: every one when there are few, else those of
    /// seeds 0, 1, 2, … (for checking a caption's rules on what may be published).
    pub fn variants(&self, limit: usize) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let tries = limit.saturating_mul(4).max(16);
        for seed in 0..tries as u64 {
            if seen.len() >= limit || seen.len() as u64 >= self.combinations() {
                break;
            }
            seen.insert(self.resolve(seed));
        }
        seen.into_iter().collect()
    }
}

/// A sequence up to the end, or (inside a group) up to its `|` or `}`.
fn parse_seq(chars: &[char], pos: &mut usize, in_group: bool) -> Result<Vec<Node>, SpintaxError> {
    let mut nodes = Vec::new();
    let mut text = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            '\\' if matches!(chars.get(*pos + 1), Some('{' | '}' | '|')) => {
                text.push(chars[*pos + 1]);
                *pos += 2;
            }
            '|' | '}' if in_group => break,
            '{' => match group_end(chars, *pos) {
                Some((end, true)) => {
                    if !text.is_empty() {
                        nodes.push(Node::Text(std::mem::take(&mut text)));
                    }
                    nodes.push(parse_group(chars, pos, end)?);
                }
                // Balanced but without alternatives: plain text, its inside read as usual.
                Some((_, false)) => {
                    text.push('{');
                    *pos += 1;
                }
                None if rest_has_bar(chars, *pos) => {
                    return Err(SpintaxError { at: *pos + 1 });
                }
                None => {
                    text.push('{');
                    *pos += 1;
                }
            },
            _ => {
                text.push(c);
                *pos += 1;
            }
        }
    }
    if !text.is_empty() {
        nodes.push(Node::Text(text));
    }
    Ok(nodes)
}

/// The group starting at `chars[*pos] == '{'` and closing at `end`.
fn parse_group(chars: &[char], pos: &mut usize, end: usize) -> Result<Node, SpintaxError> {
    *pos += 1;
    let mut alternatives = Vec::new();
    loop {
        alternatives.push(parse_seq(chars, pos, true)?);
        match chars.get(*pos) {
            Some('|') if *pos < end => *pos += 1,
            _ => break,
        }
    }
    *pos = end + 1;
    Ok(Node::Choice(alternatives))
}

/// Where the brace at `open` closes, and whether a `|` stands at its own depth; `None`
/// when it never closes.
fn group_end(chars: &[char], open: usize) -> Option<(usize, bool)> {
    let mut depth = 0usize;
    let mut bar = false;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some('{' | '}' | '|')) => i += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((i, bar));
                }
            }
            '|' if depth == 1 => bar = true,
            _ => {}
        }
        i += 1;
    }
    None
}

fn rest_has_bar(chars: &[char], from: usize) -> bool {
    chars[from..].contains(&'|')
}

fn seq_count(nodes: &[Node]) -> u64 {
    nodes.iter().fold(1u64, |acc, n| match n {
        Node::Text(_) => acc,
        Node::Choice(alts) => acc.saturating_mul(
            alts.iter()
                .map(|a| seq_count(a))
                .fold(0u64, u64::saturating_add),
        ),
    })
}

fn write_seq(nodes: &[Node], rng: &mut SplitMix, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Choice(alts) => {
                let pick = (rng.next() % alts.len() as u64) as usize;
                write_seq(&alts[pick], rng, out);
            }
        }
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): small, fast, and fixed here for good.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> BTreeSet<String> {
        let s = Spintax::parse(text).unwrap();
        (0..500).map(|seed| s.resolve(seed)).collect()
    }

    #[test]
    fn every_alternative_is_reached_and_nothing_else() {
        let got = all("{Hello|Hi|Hey} friends");
        let want: BTreeSet<String> = ["Hello friends", "Hi friends", "Hey friends"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            Spintax::parse("{Hello|Hi|Hey} friends")
                .unwrap()
                .combinations(),
            3
        );
    }

    #[test]
    fn groups_nest_and_multiply() {
        let s = Spintax::parse("{a|{b|c}} {1|2}").unwrap();
        assert_eq!(s.combinations(), 6);
        assert_eq!(all("{a|{b|c}} {1|2}").len(), 6);
        assert!(all("{a|{b|c}}").contains("c"));
        assert_eq!(s.variants(100).len(), 6);
        assert_eq!(s.variants(2).len(), 2);
    }

    #[test]
    fn the_same_seed_gives_the_same_variant() {
        let s = Spintax::parse("{one|two|three|four} {x|y|z}").unwrap();
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(s.resolve(seed), s.resolve(seed));
        }
        // And the generator is the fixed one: a known seed reads the same forever.
        assert_eq!(SplitMix(0).next(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn braces_without_alternatives_and_escapes_are_text() {
        for plain in [
            "{name} joined",
            "a | b",
            "}{",
            "smile :{",
            "\\{a|b\\}",
            "no braces",
        ] {
            let s = Spintax::parse(plain).unwrap();
            assert!(s.is_plain(), "{plain}");
            assert!(!has_spintax(plain), "{plain}");
        }
        assert_eq!(
            Spintax::parse("{name} joined").unwrap().resolve(7),
            "{name} joined"
        );
        assert_eq!(Spintax::parse("\\{a|b\\}").unwrap().resolve(7), "{a|b}");
        // A literal brace around a group keeps the group.
        assert_eq!(
            all("{x {b|c}}"),
            ["{x b}", "{x c}"].into_iter().map(String::from).collect()
        );
    }

    #[test]
    fn tags_and_links_inside_alternatives_are_kept_whole() {
        let got = all("{#rust @ann|#go https://example.com/a?b=c} ok");
        assert!(got.contains("#rust @ann ok"));
        assert!(got.contains("#go https://example.com/a?b=c ok"));
    }

    #[test]
    fn an_unclosed_group_with_alternatives_is_an_error_naming_where() {
        let err = Spintax::parse("Hi {there|you").unwrap_err();
        assert_eq!(err.at, 4);
        assert!(err.to_string().contains("character 4"), "{err}");
        assert!(Spintax::parse("Hi {there you").unwrap().is_plain());
    }
}
