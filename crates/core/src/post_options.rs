//! What a post carries beside its media and caption (issue `[post-options]`): a first
//! comment, alt text per media item, a location, people tagged, collaborators, comments and
//! like counts switched off, a reel's place in the grid and its cover frame. Plain data and
//! the rules that tell a usable set of options from one Instagram would refuse (or that
//! would fail on the 50th account), checked before anything is stored.

use serde::{Deserialize, Serialize};

use crate::account::parse_instagram_username;
use crate::auth::FieldError;
use crate::caption::CaptionRules;
use crate::enums::{MediaType, MediaVariants};

/// Instagram invites at most this many collaborators to one post.
pub const MAX_COLLABORATORS: usize = 3;
/// Instagram's limit for one person tagged on one media item is 20; a post's tags together
/// stay within the same number here, which keeps a carousel's resolve step short.
pub const MAX_USERTAGS: usize = 20;
/// Instagram publishes no limit of its own for alt text; its Graph API takes as much as a
/// caption (2,200 characters), so a translation is held to the same.
pub const MAX_ALT_TEXT_CHARS: usize = 2200;

/// A place as the operator names it; icf finds Instagram's venue for it once per post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceInput {
    pub name: String,
    pub lat: f64,
    pub lng: f64,
}

/// Someone tagged on a media item, at (`x`, `y`) in 0..=1 of its width and height.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserTagInput {
    pub username: String,
    pub x: f64,
    pub y: f64,
    /// The carousel item (0 for a single photo or video).
    #[serde(default)]
    pub media_index: usize,
}

/// Everything a post carries beside media and caption. The texts (first comment, alt texts)
/// are in the post's source language; each account gets them in its own language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PostOptions {
    /// Posted by the same account right after the media.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
    pub pin_first_comment: bool,
    /// One per media item, in order; an empty string is "none" for that item. Empty: none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alt_text: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<PlaceInput>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usertags: Vec<UserTagInput>,
    /// Instagram usernames invited as collaborators.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<String>,
    pub disable_comments: bool,
    pub hide_like_counts: bool,
    /// Reels: also shown in the profile grid.
    pub share_to_feed: bool,
    /// Reels and videos: the cover is the frame at this time (ms) rather than the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_offset_ms: Option<u64>,
    /// Each account's own copy of the media (`off`, `light`, `strong`); `None` follows
    /// each account's group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_variants: Option<MediaVariants>,
}

impl Default for PostOptions {
    fn default() -> Self {
        Self {
            first_comment: None,
            pin_first_comment: false,
            alt_text: Vec::new(),
            location: None,
            usertags: Vec::new(),
            collaborators: Vec::new(),
            disable_comments: false,
            hide_like_counts: false,
            share_to_feed: true,
            cover_offset_ms: None,
            media_variants: None,
        }
    }
}

/// What the options are checked against: the post's kind and its media.
#[derive(Debug, Clone, Copy)]
pub struct PostShape {
    pub media_type: MediaType,
    pub media_count: usize,
    /// Seconds, for a video or reel (a cover offset must fall inside it).
    pub video_duration_s: Option<f64>,
    /// A cover image was uploaded with the post.
    pub has_cover_file: bool,
}

impl PostOptions {
    /// The alt text of item `i`, if any.
    pub fn alt_text_of(&self, i: usize) -> Option<&str> {
        self.alt_text
            .get(i)
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
    }

    /// Whether any alt text is set.
    pub fn has_alt_text(&self) -> bool {
        self.alt_text.iter().any(|t| !t.trim().is_empty())
    }

    /// Trims texts and names and drops empty ones, so "no first comment" has one form.
    pub fn normalized(mut self) -> Self {
        self.first_comment = self
            .first_comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        for t in &mut self.alt_text {
            *t = t.trim().to_owned();
        }
        if self.alt_text.iter().all(String::is_empty) {
            self.alt_text.clear();
        }
        for tag in &mut self.usertags {
            tag.username = normalize_username(&tag.username);
        }
        for c in &mut self.collaborators {
            *c = normalize_username(c);
        }
        if let Some(place) = &mut self.location {
            place.name = place.name.trim().to_owned();
        }
        self
    }

    /// The options against the post they belong to and Instagram's rules; the error names
    /// the API field. `language` is the source language (for caption-rule messages).
    pub fn check(
        &self,
        shape: PostShape,
        language: &str,
        rules: &CaptionRules,
    ) -> Result<(), FieldError> {
        let story = shape.media_type == MediaType::Story;
        if story {
            self.check_story(shape)?;
        }
        self.check_first_comment(language, rules)?;
        self.check_alt_text(shape)?;
        if let Some(place) = &self.location {
            check_place(place)?;
        }
        self.check_usertags(shape)?;
        self.check_collaborators()?;
        self.check_reel_fields(shape)
    }

    fn check_story(&self, shape: PostShape) -> Result<(), FieldError> {
        if shape.media_count != 1 {
            return Err(FieldError::new(
                "media",
                format!(
                    "a story is one photo or one video; {} files were sent",
                    shape.media_count
                ),
            ));
        }
        let refuse = |field: &'static str| {
            Err(FieldError::new(
                field,
                "stories do not carry this option (only a caption, for photo stories)",
            ))
        };
        if self.first_comment.is_some() {
            return refuse("first_comment");
        }
        if self.has_alt_text() {
            return refuse("alt_text");
        }
        if self.location.is_some() {
            return refuse("location");
        }
        if !self.usertags.is_empty() {
            return refuse("usertags");
        }
        if !self.collaborators.is_empty() {
            return refuse("collaborators");
        }
        if self.disable_comments {
            return refuse("disable_comments");
        }
        if self.hide_like_counts {
            return refuse("hide_like_counts");
        }
        Ok(())
    }

    fn check_first_comment(&self, language: &str, rules: &CaptionRules) -> Result<(), FieldError> {
        match &self.first_comment {
            Some(comment) => {
                if self.disable_comments {
                    return Err(FieldError::new(
                        "first_comment",
                        "comments are switched off for this post (disable_comments): nobody, \
                         the account included, can comment",
                    ));
                }
                rules.check(comment).map_err(|problem| {
                    FieldError::new(
                        "first_comment",
                        format!("the {language} first comment {problem}"),
                    )
                })
            }
            None if self.pin_first_comment => Err(FieldError::new(
                "pin_first_comment",
                "there is no first comment to pin",
            )),
            None => Ok(()),
        }
    }

    fn check_alt_text(&self, shape: PostShape) -> Result<(), FieldError> {
        if self.alt_text.is_empty() {
            return Ok(());
        }
        if self.alt_text.len() != shape.media_count {
            return Err(FieldError::new(
                "alt_text",
                format!(
                    "give one alt text per media item, in order (empty for none): {} for {} items",
                    self.alt_text.len(),
                    shape.media_count
                ),
            ));
        }
        for (i, t) in self.alt_text.iter().enumerate() {
            let n = t.chars().count();
            if n > MAX_ALT_TEXT_CHARS {
                return Err(FieldError::new(
                    "alt_text",
                    format!(
                        "the alt text of item {} has {n} characters; Instagram allows at most {MAX_ALT_TEXT_CHARS}",
                        i + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_usertags(&self, shape: PostShape) -> Result<(), FieldError> {
        if self.usertags.len() > MAX_USERTAGS {
            return Err(FieldError::new(
                "usertags",
                format!(
                    "at most {MAX_USERTAGS} people can be tagged; {} were sent",
                    self.usertags.len()
                ),
            ));
        }
        for (i, tag) in self.usertags.iter().enumerate() {
            let at = |m: String| FieldError::new("usertags", format!("tag {}: {m}", i + 1));
            check_username(&tag.username).map_err(at)?;
            for (name, v) in [("x", tag.x), ("y", tag.y)] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(at(format!(
                        "{name} is {v}; positions are fractions of the media from 0 to 1"
                    )));
                }
            }
            if tag.media_index >= shape.media_count {
                return Err(at(format!(
                    "media_index {} is past the last item (the post has {})",
                    tag.media_index, shape.media_count
                )));
            }
            let twice = self.usertags[..i]
                .iter()
                .any(|t| t.username == tag.username && t.media_index == tag.media_index);
            if twice {
                return Err(at(format!(
                    "@{} is tagged twice on item {}",
                    tag.username, tag.media_index
                )));
            }
        }
        Ok(())
    }

    fn check_collaborators(&self) -> Result<(), FieldError> {
        if self.collaborators.len() > MAX_COLLABORATORS {
            return Err(FieldError::new(
                "collaborators",
                format!(
                    "Instagram allows at most {MAX_COLLABORATORS} collaborators; {} were sent",
                    self.collaborators.len()
                ),
            ));
        }
        for (i, c) in self.collaborators.iter().enumerate() {
            check_username(c).map_err(|m| FieldError::new("collaborators", m))?;
            if self.collaborators[..i].contains(c) {
                return Err(FieldError::new(
                    "collaborators",
                    format!("@{c} is listed twice"),
                ));
            }
        }
        Ok(())
    }

    fn check_reel_fields(&self, shape: PostShape) -> Result<(), FieldError> {
        let video = matches!(shape.media_type, MediaType::Reel | MediaType::Video);
        if !self.share_to_feed && shape.media_type != MediaType::Reel {
            return Err(FieldError::new(
                "share_to_feed",
                "only a reel can be kept out of the profile grid",
            ));
        }
        if shape.has_cover_file && !video {
            return Err(FieldError::new(
                "cover",
                format!(
                    "a cover is for a reel or a video; this is a {}",
                    shape.media_type
                ),
            ));
        }
        if let Some(ms) = self.cover_offset_ms {
            if !video {
                return Err(FieldError::new(
                    "cover_offset_ms",
                    format!(
                        "a cover frame is for a reel or a video; this is a {}",
                        shape.media_type
                    ),
                ));
            }
            if shape.has_cover_file {
                return Err(FieldError::new(
                    "cover_offset_ms",
                    "give a cover image or a cover frame time, not both",
                ));
            }
            if let Some(d) = shape.video_duration_s
                && ms as f64 > d * 1000.0
            {
                return Err(FieldError::new(
                    "cover_offset_ms",
                    format!("{ms} ms is past the end of the video ({d:.1} s)"),
                ));
            }
        }
        Ok(())
    }
}

fn check_place(place: &PlaceInput) -> Result<(), FieldError> {
    if place.name.is_empty() {
        return Err(FieldError::new("location", "the place needs a name"));
    }
    if !(-90.0..=90.0).contains(&place.lat) || !(-180.0..=180.0).contains(&place.lng) {
        return Err(FieldError::new(
            "location",
            format!(
                "lat {} / lng {} is not a place on Earth (lat -90..90, lng -180..180)",
                place.lat, place.lng
            ),
        ));
    }
    Ok(())
}

/// As Instagram compares usernames (trimmed, without `@`, lowercase); a name that is no
/// username stays as written, for [`PostOptions::check`] to name.
fn normalize_username(raw: &str) -> String {
    parse_instagram_username(raw).unwrap_or_else(|_| raw.trim().to_owned())
}

/// Instagram's username rules ([`parse_instagram_username`]), the message naming the name.
fn check_username(name: &str) -> Result<(), String> {
    parse_instagram_username(name).map(|_| ()).map_err(|e| {
        format!(
            "'{}' is not an Instagram username: it {}",
            name.chars().take(40).collect::<String>(),
            e.message
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(media_type: MediaType, media_count: usize) -> PostShape {
        PostShape {
            media_type,
            media_count,
            video_duration_s: Some(10.0),
            has_cover_file: false,
        }
    }

    fn check(o: &PostOptions, s: PostShape) -> Result<(), FieldError> {
        o.clone()
            .normalized()
            .check(s, "en", &CaptionRules::INSTAGRAM)
    }

    fn tag(username: &str, x: f64, y: f64, media_index: usize) -> UserTagInput {
        UserTagInput {
            username: username.into(),
            x,
            y,
            media_index,
        }
    }

    #[test]
    fn every_option_on_a_carousel_is_accepted() {
        let o = PostOptions {
            first_comment: Some("More in the link #icf".into()),
            pin_first_comment: true,
            alt_text: vec!["A red square".into(), String::new()],
            location: Some(PlaceInput {
                name: "Cafe X".into(),
                lat: 40.7,
                lng: -74.0,
            }),
            usertags: vec![tag("@Anna", 0.5, 0.5, 0), tag("bob", 0.0, 1.0, 1)],
            collaborators: vec!["carol".into()],
            hide_like_counts: true,
            ..PostOptions::default()
        };
        check(&o, shape(MediaType::Carousel, 2)).unwrap();
        assert_eq!(o.normalized().usertags[0].username, "anna");
    }

    #[test]
    fn bad_options_name_their_field() {
        let field = |o: PostOptions, s: PostShape| check(&o, s).unwrap_err().field;
        let photo = shape(MediaType::Photo, 1);
        let base = PostOptions::default;
        let outside = PostOptions {
            usertags: vec![tag("anna", 1.2, 0.5, 0)],
            ..base()
        };
        assert_eq!(field(outside, photo), "usertags");
        let past = PostOptions {
            usertags: vec![tag("anna", 0.2, 0.5, 2)],
            ..base()
        };
        let err = check(&past, shape(MediaType::Carousel, 2)).unwrap_err();
        assert!(err.message.contains("media_index 2"), "{}", err.message);
        let four = PostOptions {
            collaborators: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            ..base()
        };
        assert_eq!(field(four, photo), "collaborators");
        let cover_on_photo = PostShape {
            has_cover_file: true,
            ..photo
        };
        assert_eq!(field(base(), cover_on_photo), "cover");
        let frame_on_photo = PostOptions {
            cover_offset_ms: Some(100),
            ..base()
        };
        assert_eq!(field(frame_on_photo, photo), "cover_offset_ms");
        let late_frame = PostOptions {
            cover_offset_ms: Some(11_000),
            ..base()
        };
        assert_eq!(
            field(late_frame, shape(MediaType::Reel, 1)),
            "cover_offset_ms"
        );
        assert_eq!(field(base(), shape(MediaType::Story, 2)), "media");
        let alt_count = PostOptions {
            alt_text: vec!["one".into()],
            ..base()
        };
        assert_eq!(field(alt_count, shape(MediaType::Carousel, 3)), "alt_text");
        let comment_when_off = PostOptions {
            first_comment: Some("hi".into()),
            disable_comments: true,
            ..base()
        };
        assert_eq!(field(comment_when_off, photo), "first_comment");
        let pin_nothing = PostOptions {
            pin_first_comment: true,
            ..base()
        };
        assert_eq!(field(pin_nothing, photo), "pin_first_comment");
        let grid = PostOptions {
            share_to_feed: false,
            ..base()
        };
        assert_eq!(field(grid.clone(), photo), "share_to_feed");
        check(&grid, shape(MediaType::Reel, 1)).unwrap();
        let story_comment = PostOptions {
            first_comment: Some("hi".into()),
            ..base()
        };
        assert_eq!(
            field(story_comment, shape(MediaType::Story, 1)),
            "first_comment"
        );
        let nowhere = PostOptions {
            location: Some(PlaceInput {
                name: "X".into(),
                lat: 91.0,
                lng: 0.0,
            }),
            ..base()
        };
        assert_eq!(field(nowhere, photo), "location");
        let bad_name = PostOptions {
            collaborators: vec!["not a name".into()],
            ..base()
        };
        assert_eq!(field(bad_name, photo), "collaborators");
    }

    #[test]
    fn the_first_comment_keeps_instagrams_caption_rules() {
        let tags: String = (0..6).map(|i| format!("#t{i} ")).collect();
        let o = PostOptions {
            first_comment: Some(tags),
            ..PostOptions::default()
        };
        let err = check(&o, shape(MediaType::Photo, 1)).unwrap_err();
        assert_eq!(err.field, "first_comment");
        assert_eq!(
            err.message,
            "the en first comment has 6 hashtags; Instagram allows at most 5"
        );
    }

    #[test]
    fn stored_options_read_back_and_default_to_the_grid() {
        let o: PostOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o, PostOptions::default());
        assert!(o.share_to_feed);
        let full = PostOptions {
            first_comment: Some("c".into()),
            usertags: vec![tag("anna", 0.25, 0.75, 0)],
            ..PostOptions::default()
        };
        let text = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<PostOptions>(&text).unwrap(), full);
    }
}
