//! Glossaries: one language pair's forced translations of terms ("machine learning" →
//! "maschinelles Lernen", a brand kept as it is). The rules an entry keeps, and the ways
//! people write entries: a JSON object, `term = translation` lines, a CSV or TSV file.
//! Pure: no I/O. Matching terms in a caption is the translator's (icf-translate's `terms`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::FieldError;
use crate::caption::{Piece, tokenize};
use crate::ids::GlossaryId;
use crate::language::Language;
use crate::text::{Lines, check_free_text};

pub const MAX_NAME_CHARS: usize = 100;
/// Terms are words or short phrases; a longer "term" is a sentence, which a glossary
/// cannot force sensibly.
pub const MAX_TERM_CHARS: usize = 100;
pub const MAX_TRANSLATION_CHARS: usize = 200;
/// Far above any hand-kept glossary; keeps matching and DeepL uploads small.
pub const MAX_ENTRIES: usize = 5000;

/// One term and the translation every caption of the pair must use for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GlossaryEntry {
    pub term: String,
    pub translation: String,
}

/// A glossary as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Glossary {
    pub id: GlossaryId,
    pub name: String,
    /// The captions' language (`en`), as icf writes it.
    pub source_lang: String,
    /// The accounts' language (`de`, `pt-BR`), as icf writes it.
    pub target_lang: String,
    /// Term → translation, terms in alphabetical order regardless of case.
    #[serde(serialize_with = "entries_as_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub entries: Vec<GlossaryEntry>,
    pub entry_count: usize,
    /// Goes up by one on every change.
    pub version: i64,
    /// The copy of this version on DeepL, once a translation needed it (`null` until then,
    /// and again after every change: DeepL's glossaries cannot be edited).
    pub deepl_glossary_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn entries_as_object<S: Serializer>(entries: &[GlossaryEntry], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(entries.len()))?;
    for e in entries {
        map.serialize_entry(&e.term, &e.translation)?;
    }
    map.end()
}

/// Entries as a JSON object (`{"term": "translation", …}`) read in order with repeated
/// keys kept, so that a term given twice is refused instead of silently dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntries(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = RawEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of term → translation")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEntries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(RawEntries(out))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// A glossary's name: 1 to 100 characters on one line, unique regardless of case.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters long"),
        ));
    }
    check_free_text("name", name, Lines::One)?;
    Ok(name.to_owned())
}

/// The key that makes names unique case-insensitively.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The pair a glossary serves: two languages icf supports, not the same one.
pub fn parse_pair(source: &str, target: &str) -> Result<(Language, Language), FieldError> {
    let s = Language::parse_field(source, "source_lang")?;
    let t = Language::parse_field(target, "target_lang")?;
    if s == t {
        return Err(FieldError::new(
            "target_lang",
            format!("must differ from source_lang ({s})"),
        ));
    }
    Ok((s, t))
}

fn shown(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// One side of an entry: one line of text, no hashtag, mention, link or emoji (those are
/// kept byte for byte through translation, so a term or translation holding one could not
/// be put in place), at most `max` characters.
fn check_side(field: &'static str, what: &str, text: &str, max: usize) -> Result<(), FieldError> {
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!(
                "the {what} \"{}\" is longer than {max} characters",
                shown(text)
            ),
        ));
    }
    if text.contains(['\t', '\n', '\r']) {
        return Err(FieldError::new(
            field,
            format!("the {what} \"{}\" holds a tab or a line break", shown(text)),
        ));
    }
    check_free_text(field, text, Lines::One)?;
    if let Some(Piece::Protected(kind, token)) = tokenize(text)
        .into_iter()
        .find(|p| matches!(p, Piece::Protected(..)))
    {
        return Err(FieldError::new(
            field,
            format!(
                "the {what} \"{}\" holds the {} {token}; hashtags, @mentions, links and emoji \
                 are never translated, so they cannot be glossary entries",
                shown(text),
                kind.noun()
            ),
        ));
    }
    Ok(())
}

/// Checks and orders entries (alphabetically regardless of case): no empty term or
/// translation, no term twice regardless of case, nothing too long, at least one entry and
/// at most [`MAX_ENTRIES`]. Errors name `field` and the term.
pub fn check_entries(
    field: &'static str,
    raw: Vec<(String, String)>,
) -> Result<Vec<GlossaryEntry>, FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(field, "add at least one term"));
    }
    if raw.len() > MAX_ENTRIES {
        return Err(FieldError::new(
            field,
            format!(
                "{} terms; a glossary holds at most {MAX_ENTRIES}",
                raw.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (term, translation) in raw {
        let (term, translation) = (term.trim(), translation.trim());
        if term.is_empty() {
            return Err(FieldError::new(field, "a term is empty"));
        }
        check_side(field, "term", term, MAX_TERM_CHARS)?;
        if !term.chars().any(char::is_alphanumeric) {
            return Err(FieldError::new(
                field,
                format!("the term \"{}\" has no letter or digit", shown(term)),
            ));
        }
        if translation.is_empty() {
            return Err(FieldError::new(
                field,
                format!("the term \"{}\" has an empty translation", shown(term)),
            ));
        }
        check_side(field, "translation", translation, MAX_TRANSLATION_CHARS)?;
        if !seen.insert(term.to_lowercase()) {
            return Err(FieldError::new(
                field,
                format!(
                    "the term \"{}\" is given twice (terms match regardless of case)",
                    shown(term)
                ),
            ));
        }
        out.push(GlossaryEntry {
            term: term.to_owned(),
            translation: translation.to_owned(),
        });
    }
    out.sort_by_cached_key(|e| (e.term.to_lowercase(), e.term.clone()));
    Ok(out)
}

/// `term = translation` lines (the UI's text box); blank lines are skipped. The first `=`
/// ends the term.
pub fn parse_lines(field: &'static str, text: &str) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((term, translation)) = line.split_once('=') else {
            return Err(FieldError::new(
                field,
                format!("line {}: write it as \"term = translation\"", i + 1),
            ));
        };
        out.push((term.trim().to_owned(), translation.trim().to_owned()));
    }
    Ok(out)
}

/// The text box's lines for `entries`.
pub fn to_lines(entries: &[GlossaryEntry]) -> String {
    entries
        .iter()
        .map(|e| format!("{} = {}\n", e.term, e.translation))
        .collect()
}

/// Header cells a file's first line may have instead of an entry.
const HEADER_WORDS: &[&str] = &[
    "term",
    "terms",
    "source",
    "source term",
    "source_term",
    "translation",
    "target",
    "target term",
    "target_term",
];

/// A CSV or TSV file of two columns, term and translation. A tab on the first line makes
/// it TSV (DeepL's glossary format: no quoting), else a `;` without a `,` makes it
/// semicolon-separated (what spreadsheets write in many locales), else CSV with `"`
/// quoting. A first line of column names (`term,translation`, `source,target`) is skipped,
/// as are blank lines. Errors name the field `file` and the line.
pub fn parse_file(text: &str) -> Result<Vec<(String, String)>, FieldError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tsv = first.contains('\t');
    let delimiter = if tsv {
        b'\t'
    } else if first.contains(';') && !first.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quoting(!tsv)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = |r: Option<&csv::Position>| r.map_or(n as u64 + 1, csv::Position::line);
        let record = record.map_err(|e| {
            FieldError::new(
                "file",
                format!("line {}: not a valid row", line(e.position())),
            )
        })?;
        let cells: Vec<&str> = record.iter().map(str::trim).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let at = line(record.position());
        let header = out.is_empty()
            && cells
                .iter()
                .all(|c| HEADER_WORDS.contains(&c.to_lowercase().as_str()));
        if header {
            continue;
        }
        match cells.as_slice() {
            [term, translation] => out.push(((*term).to_owned(), (*translation).to_owned())),
            _ => {
                return Err(FieldError::new(
                    "file",
                    format!(
                        "line {at}: {} columns; each line holds a term and its translation",
                        cells.len()
                    ),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(FieldError::new("file", "the file holds no terms"));
    }
    Ok(out)
}

/// DeepL's `entries_format: "tsv"`: one `term<TAB>translation` line per entry.
pub fn to_tsv(entries: &[GlossaryEntry]) -> String {
    entries
        .iter()
        .map(|e| format!("{}\t{}\n", e.term, e.translation))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn entries_are_trimmed_sorted_and_checked() {
        let ok = check_entries(
            "entries",
            pairs(&[(" zebra ", "Zebra"), ("Apple", " Apfel"), ("C++", "C++")]),
        )
        .unwrap();
        let terms: Vec<&str> = ok.iter().map(|e| e.term.as_str()).collect();
        assert_eq!(terms, ["Apple", "C++", "zebra"]);
        assert_eq!(ok[0].translation, "Apfel");
        let long = "x".repeat(MAX_TERM_CHARS + 1);
        for (bad, says) in [
            (pairs(&[]), "at least one"),
            (pairs(&[("  ", "a")]), "empty"),
            (pairs(&[("a", " ")]), "empty translation"),
            (pairs(&[("Apple", "a"), ("APPLE", "b")]), "twice"),
            (pairs(&[(long.as_str(), "a")]), "longer than"),
            (pairs(&[("#sale", "a")]), "hashtag"),
            (pairs(&[("sale", "vente 🔥")]), "emoji"),
            (pairs(&[("a\tb", "c")]), "tab"),
            (pairs(&[("--", "c")]), "no letter"),
        ] {
            let e = check_entries("entries", bad).unwrap_err();
            assert_eq!(e.field, "entries");
            assert!(e.message.contains(says), "{says}: {}", e.message);
        }
    }

    #[test]
    fn json_entries_keep_repeated_terms_so_they_are_refused() {
        let raw: RawEntries = serde_json::from_str(r#"{"a": "x", "a": "y"}"#).unwrap();
        assert_eq!(raw.0.len(), 2);
        assert!(check_entries("entries", raw.0).is_err());
    }

    #[test]
    fn the_pair_is_two_supported_languages() {
        assert!(parse_pair("en", "de").is_ok());
        assert_eq!(parse_pair("xx", "de").unwrap_err().field, "source_lang");
        assert_eq!(
            parse_pair("en", "klingon").unwrap_err().field,
            "target_lang"
        );
        assert_eq!(parse_pair("en", "EN").unwrap_err().field, "target_lang");
    }

    #[test]
    fn files_are_csv_tsv_or_semicolons_with_an_optional_header() {
        let csv = "term,translation\n\"machine learning\",\"maschinelles Lernen\"\nicf,icf\n\n";
        assert_eq!(
            parse_file(csv).unwrap(),
            pairs(&[("machine learning", "maschinelles Lernen"), ("icf", "icf")])
        );
        let tsv = "cloud\tWolke\n\"quoted\"\t\"as is\"\n";
        assert_eq!(
            parse_file(tsv).unwrap(),
            pairs(&[("cloud", "Wolke"), ("\"quoted\"", "\"as is\"")])
        );
        assert_eq!(
            parse_file("\u{FEFF}Source;Target\nSale;Soldes\n").unwrap(),
            pairs(&[("Sale", "Soldes")])
        );
        let e = parse_file("a,b\nc,d,e\n").unwrap_err();
        assert_eq!(e.field, "file");
        assert!(e.message.starts_with("line 2:"), "{}", e.message);
        assert!(parse_file("term,translation\n").is_err());
    }

    #[test]
    fn lines_and_tsv_round_trip() {
        let raw = parse_lines("entries", "a = b\n\nc=d = e\n").unwrap();
        assert_eq!(raw, pairs(&[("a", "b"), ("c", "d = e")]));
        let entries = check_entries("entries", raw).unwrap();
        assert_eq!(to_lines(&entries), "a = b\nc = d = e\n");
        assert_eq!(to_tsv(&entries), "a\tb\nc\td = e\n");
        assert!(parse_lines("entries", "no separator").is_err());
    }
}
