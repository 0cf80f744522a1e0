//! A post's options as the upload form sends them (text fields, JSON where a field holds a
//! structure), read into [`PostOptions`]. Checked against the post itself by
//! [`PostOptions::check`] once its media are known.

use icf_core::enums::MediaVariants;
use icf_core::post_options::{PlaceInput, PostOptions, UserTagInput};

use crate::{AppError, AppResult};

/// The option fields of the upload form, as sent.
#[derive(Debug, Default)]
pub struct OptionFields {
    first_comment: Option<String>,
    pin_first_comment: Option<String>,
    /// Repeated: one per media item, in order.
    alt_text: Vec<String>,
    location: Option<String>,
    usertags: Option<String>,
    collaborators: Option<String>,
    disable_comments: Option<String>,
    hide_like_counts: Option<String>,
    share_to_feed: Option<String>,
    cover_offset_ms: Option<String>,
    media_variants: Option<String>,
}

impl OptionFields {
    /// Takes the field if it is an option; `false` when the name is not one.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "first_comment" => &mut self.first_comment,
            "pin_first_comment" => &mut self.pin_first_comment,
            "alt_text" => {
                self.alt_text.push(value);
                return true;
            }
            "location" => &mut self.location,
            "usertags" => &mut self.usertags,
            "collaborators" => &mut self.collaborators,
            "disable_comments" => &mut self.disable_comments,
            "hide_like_counts" => &mut self.hide_like_counts,
            "share_to_feed" => &mut self.share_to_feed,
            "cover_offset_ms" => &mut self.cover_offset_ms,
            "media_variants" => &mut self.media_variants,
            _ => return false,
        };
        *slot = Some(value);
        true
    }

    /// The options, each field read as its documented form; an empty field is "not set".
    pub fn parse(self) -> AppResult<PostOptions> {
        let defaults = PostOptions::default();
        let options = PostOptions {
            first_comment: self.first_comment,
            pin_first_comment: flag("pin_first_comment", self.pin_first_comment, false)?,
            alt_text: self.alt_text,
            location: json_field::<PlaceInput>(
                "location",
                self.location,
                "must be JSON like {\"name\": \"Cafe X\", \"lat\": 40.71, \"lng\": -74.0}",
            )?,
            usertags: json_field::<Vec<UserTagInput>>(
                "usertags",
                self.usertags,
                "must be a JSON array like [{\"username\": \"anna\", \"x\": 0.5, \"y\": 0.5, \"media_index\": 0}]",
            )?
            .unwrap_or_default(),
            collaborators: json_field::<Vec<String>>(
                "collaborators",
                self.collaborators,
                "must be a JSON array of Instagram usernames, like [\"anna\", \"bob\"]",
            )?
            .unwrap_or_default(),
            disable_comments: flag("disable_comments", self.disable_comments, false)?,
            hide_like_counts: flag("hide_like_counts", self.hide_like_counts, false)?,
            share_to_feed: flag("share_to_feed", self.share_to_feed, defaults.share_to_feed)?,
            cover_offset_ms: self
                .cover_offset_ms
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| {
                        AppError::validation(
                            "cover_offset_ms",
                            "must be a whole number of milliseconds, like 1500",
                        )
                    })
                })
                .transpose()?,
            media_variants: self
                .media_variants
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim()
                        .parse::<MediaVariants>()
                        .map_err(|e| AppError::validation("media_variants", e.to_string()))
                })
                .transpose()?,
        };
        Ok(options.normalized())
    }
}

/// A yes/no field: `true`/`false`, `1`/`0`, or `on` (an HTML checkbox); empty is `default`.
pub(crate) fn flag(field: &'static str, value: Option<String>, default: bool) -> AppResult<bool> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "1" | "on" | "yes") => Ok(true),
        Some("false" | "0" | "off" | "no") => Ok(false),
        Some(_) => Err(AppError::validation(field, "must be true or false")),
    }
}

fn json_field<T: serde::de::DeserializeOwned>(
    field: &'static str,
    value: Option<String>,
    shape: &str,
) -> AppResult<Option<T>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => serde_json::from_str(raw)
            .map(Some)
            .map_err(|e| AppError::validation(field, format!("{shape} ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fields: &[(&str, &str)]) -> AppResult<PostOptions> {
        let mut f = OptionFields::default();
        for (k, v) in fields {
            assert!(f.set(k, (*v).to_owned()), "{k} is an option");
        }
        f.parse()
    }

    #[test]
    fn form_fields_become_options() {
        let o = parse(&[
            ("first_comment", "  More below  "),
            ("pin_first_comment", "on"),
            ("alt_text", "A cat"),
            ("alt_text", ""),
            ("location", r#"{"name":"Cafe X","lat":40.7,"lng":-74}"#),
            (
                "usertags",
                r#"[{"username":"@Anna","x":0.5,"y":0.25,"media_index":1}]"#,
            ),
            ("collaborators", r#"["Bob"]"#),
            ("share_to_feed", "false"),
            ("cover_offset_ms", "1500"),
        ])
        .unwrap();
        assert_eq!(o.first_comment.as_deref(), Some("More below"));
        assert!(o.pin_first_comment);
        assert_eq!(o.alt_text, vec!["A cat".to_owned(), String::new()]);
        assert_eq!(o.location.unwrap().name, "Cafe X");
        assert_eq!(o.usertags[0].username, "anna");
        assert_eq!(o.usertags[0].media_index, 1);
        assert_eq!(o.collaborators, vec!["bob".to_owned()]);
        assert!(!o.share_to_feed);
        assert_eq!(o.cover_offset_ms, Some(1500));
        assert_eq!(parse(&[]).unwrap(), PostOptions::default());
    }

    #[test]
    fn unreadable_fields_are_named() {
        let field = |k: &str, v: &str| match parse(&[(k, v)]) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field("location", "Cafe X"), "location");
        assert_eq!(field("usertags", r#"[{"username":"a"}]"#), "usertags");
        assert_eq!(field("collaborators", "anna,bob"), "collaborators");
        assert_eq!(field("disable_comments", "maybe"), "disable_comments");
        assert_eq!(field("cover_offset_ms", "-3"), "cover_offset_ms");
    }
}
