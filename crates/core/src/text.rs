//! The one rule for free text people name things with (group names, descriptions, a
//! status reason): any language, but nothing that hides or disguises what is shown.
//! Usernames are stricter (letters, digits, `.`, `_`, `-`: see `auth::parse_username`).

use crate::auth::FieldError;

/// Whether a text is one line (a name) or may run over several (a description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// What a character is, when free text may not contain it.
fn refused(c: char, lines: Lines) -> Option<&'static str> {
    match c {
        '\n' | '\t' if lines == Lines::Many => None,
        '\r' if lines == Lines::Many => None,
        // Terminal escapes (ESC), NUL, DEL, C1 controls…
        c if c.is_control() => Some("control characters (terminal escapes included)"),
        // Embeddings and overrides, isolates, the Arabic letter mark: text that reads in
        // another order than it is stored ("gpj.exe" shown as "exe.jpg").
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' => {
            Some("text-direction controls (U+202A–U+202E, U+2066–U+2069)")
        }
        // Joiners build emoji sequences (a family) and words of Persian or Indic scripts:
        // fine in a description, where nothing is told apart by its look.
        '\u{200C}' | '\u{200D}' if lines == Lines::Many => None,
        // Zero-width spaces, joiners and marks, the BOM: two names that look the same.
        '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => {
            Some("invisible characters (zero-width spaces, joiners and marks)")
        }
        '\u{2028}' | '\u{2029}' if lines == Lines::One => Some("line breaks"),
        _ => None,
    }
}

/// Refuses control characters (tab and line breaks allowed in [`Lines::Many`]),
/// text-direction overrides and isolates, and zero-width characters, naming `field`.
pub fn check_free_text(field: &'static str, text: &str, lines: Lines) -> Result<(), FieldError> {
    match text
        .chars()
        .find_map(|c| refused(c, lines).map(|what| (c, what)))
    {
        None => Ok(()),
        Some((c, what)) => Err(FieldError::new(
            field,
            format!("must not contain {what}; found U+{:04X}", u32::from(c)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joiners_are_for_descriptions_not_names() {
        let family = "Our team \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let persian = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}";
        for text in [family, persian] {
            assert!(
                check_free_text("description", text, Lines::Many).is_ok(),
                "{text}"
            );
            assert!(check_free_text("name", text, Lines::One).is_err(), "{text}");
        }
        assert!(check_free_text("description", "zero\u{200B}width", Lines::Many).is_err());
    }

    #[test]
    fn hidden_and_disguising_characters_are_refused_by_field() {
        for bad in [
            "photo\u{202E}gpj.exe",
            "a\u{2066}b\u{2069}",
            "zero\u{200B}width",
            "joiner\u{200D}",
            "rlm\u{200F}",
            "\u{FEFF}bom",
            "esc\u{1b}[31mred",
            "nul\0",
            "del\u{7f}",
            "c1\u{9b}31m",
            "two\nlines",
            "para\u{2029}graph",
        ] {
            let err = check_free_text("name", bad, Lines::One).unwrap_err();
            assert_eq!(err.field, "name", "{bad:?}");
            assert!(err.message.contains("U+"), "{bad:?}: {}", err.message);
        }
        for good in [
            "Finance",
            "Финансы",
            "مالية",
            "金融 🚀",
            "Café · Ünïcode",
            "a-b_c.d",
        ] {
            assert_eq!(check_free_text("name", good, Lines::One), Ok(()), "{good}");
        }
        // Descriptions may run over lines and hold tabs, nothing else hidden.
        assert_eq!(
            check_free_text("description", "line one\r\nline two\tend", Lines::Many),
            Ok(())
        );
        for bad in ["x\u{202E}y", "x\u{1b}y", "x\u{200B}y"] {
            let err = check_free_text("description", bad, Lines::Many).unwrap_err();
            assert_eq!(err.field, "description");
        }
    }
}
