//! Caption snippets and hashtag sets (issue `[workflow]`): text an agency reuses, kept per
//! group (or for every group) and per language, inserted from the composer. A snippet is
//! held to Instagram's caption rules on its own, so a set that could never fit is refused
//! when it is saved rather than when a post goes out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::FieldError;
use crate::caption::CaptionRules;
use crate::ids::{GroupId, SnippetId};

/// The longest snippet name.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snippet {
    pub id: SnippetId,
    pub name: String,
    /// `None`: offered for every group.
    pub group_id: Option<GroupId>,
    /// The language of the captions it goes into.
    pub language: String,
    pub text: String,
    /// Its hashtags, as Instagram counts them (what it adds to a caption's count).
    pub hashtags: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A snippet's name: trimmed, not empty, at most [`MAX_NAME_CHARS`].
pub fn check_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A snippet's text: trimmed, not empty, and within Instagram's caption rules on its own
/// (a hashtag set over the limit could never be inserted into any caption).
pub fn check_text(raw: &str, rules: &CaptionRules) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new("text", "must not be empty"));
    }
    rules
        .check(text)
        .map_err(|problem| FieldError::new("text", format!("the snippet {problem}")))?;
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts_are_checked() {
        assert_eq!(check_name("  Tech tags ").unwrap(), "Tech tags");
        assert_eq!(check_name(" ").unwrap_err().field, "name");
        assert_eq!(check_name(&"n".repeat(101)).unwrap_err().field, "name");
        let rules = CaptionRules::INSTAGRAM;
        assert_eq!(
            check_text(" #rust #python ", &rules).unwrap(),
            "#rust #python"
        );
        assert_eq!(check_text("", &rules).unwrap_err().field, "text");
        let six = "#a1 #b2 #c3 #d4 #e5 #f6";
        let err = check_text(six, &rules).unwrap_err();
        assert_eq!(err.field, "text");
        assert!(err.message.contains("6 hashtags"), "{}", err.message);
    }
}
