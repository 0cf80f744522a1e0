//! Rules of a post before anything is uploaded: what its media make it, and what a caption
//! may hold (Instagram's own limits, [`CaptionRules`], so a caption never fails on the 50th
//! account).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::FieldError;
use crate::caption::CaptionRules;
use crate::enums::{JobPriority, MediaType, PostStatus, TranslationOrigin};
use crate::ids::{GroupId, PostId, UserId};
use crate::post_options::PostOptions;

/// One stored media file of a post, in upload order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostMedia {
    /// Storage key of the prepared file (a JPEG for photos).
    pub key: String,
    pub kind: MediaKind,
    pub width: u32,
    pub height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// For videos: the cover frame, a JPEG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_key: Option<String>,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Photo,
    Video,
}

/// A post as icf keeps it: media and a caption in its source language, for some groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Post {
    pub id: PostId,
    pub media: Vec<PostMedia>,
    pub media_type: MediaType,
    pub caption_original: String,
    pub original_language: String,
    pub target_groups: Vec<GroupId>,
    pub status: PostStatus,
    pub priority: JobPriority,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub posted_at: Option<DateTime<Utc>>,
    /// First comment, alt texts, location, tags, collaborators and switches.
    pub options: PostOptions,
}

pub const MAX_CAROUSEL_ITEMS: usize = 10;

/// One uploaded file, as far as the post's type is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Photo,
    Video,
}

/// A post's caption in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostTranslation {
    pub language: String,
    pub text: String,
    /// `source` (the caption as written), `machine` or `edited` (by a person).
    pub origin: TranslationOrigin,
    /// An edit made before the source caption last changed: a person should look again.
    pub stale: bool,
    pub provider: Option<String>,
    /// The first comment in this language, when the post has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
    /// The alt texts in this language, one per media item, when the post has them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alt_text: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// Every text of a post in one language: what an account in that language publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostTexts {
    pub caption: String,
    pub first_comment: Option<String>,
    /// One per media item (empty string: none), or empty when the post has no alt text.
    pub alt_text: Vec<String>,
}

impl PostTexts {
    /// The post's own texts, in its source language.
    pub fn source(post: &Post) -> Self {
        Self {
            caption: post.caption_original.clone(),
            first_comment: post.options.first_comment.clone(),
            alt_text: post.options.alt_text.clone(),
        }
    }
}

/// What the uploaded files make: one photo → photo; one video → video, or reel when asked;
/// one file → story when asked; 2–10 files → carousel. `requested` is the user's `media_type`, needed only to tell a feed
/// video from a reel, and refused when it contradicts the files.
pub fn media_type_for(
    items: &[ItemKind],
    requested: Option<MediaType>,
) -> Result<MediaType, FieldError> {
    let derived = match items {
        [] => return Err(FieldError::new("media", "add at least one photo or video")),
        [_] if requested == Some(MediaType::Story) => MediaType::Story,
        [ItemKind::Photo] => MediaType::Photo,
        [ItemKind::Video] => match requested {
            Some(MediaType::Reel) => MediaType::Reel,
            _ => MediaType::Video,
        },
        many if requested == Some(MediaType::Story) => {
            return Err(FieldError::new(
                "media",
                format!(
                    "a story is one photo or one video; {} files were sent",
                    many.len()
                ),
            ));
        }
        many if many.len() > MAX_CAROUSEL_ITEMS => {
            return Err(FieldError::new(
                "media",
                format!(
                    "a carousel holds 2 to {MAX_CAROUSEL_ITEMS} items; {} were sent",
                    many.len()
                ),
            ));
        }
        _ => MediaType::Carousel,
    };
    match requested {
        None => Ok(derived),
        Some(r) if r == derived => Ok(derived),
        Some(r) => Err(FieldError::new(
            "media_type",
            format!("{r} does not fit the files sent, which make a {derived}"),
        )),
    }
}

/// A caption in `language` against Instagram's caption rules; the error names the language:
/// "the es caption has 6 hashtags; Instagram allows at most 5".
pub fn check_caption(
    field: &'static str,
    language: &str,
    caption: &str,
    rules: &CaptionRules,
) -> Result<(), FieldError> {
    rules
        .check(caption)
        .map_err(|problem| FieldError::new(field, format!("the {language} caption {problem}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemKind::{Photo, Video};

    #[test]
    fn files_decide_the_type() {
        assert_eq!(media_type_for(&[Photo], None).unwrap(), MediaType::Photo);
        assert_eq!(media_type_for(&[Video], None).unwrap(), MediaType::Video);
        assert_eq!(
            media_type_for(&[Video], Some(MediaType::Reel)).unwrap(),
            MediaType::Reel
        );
        assert_eq!(
            media_type_for(&[Photo, Video, Photo], None).unwrap(),
            MediaType::Carousel
        );
        assert_eq!(media_type_for(&[], None).unwrap_err().field, "media");
        assert!(
            media_type_for(&[Photo; 11], None)
                .unwrap_err()
                .message
                .contains("11 were sent")
        );
        assert_eq!(
            media_type_for(&[Photo], Some(MediaType::Reel))
                .unwrap_err()
                .field,
            "media_type"
        );
        assert_eq!(
            media_type_for(&[Photo; 10], None).unwrap(),
            MediaType::Carousel
        );
        assert_eq!(
            media_type_for(&[Video], Some(MediaType::Story)).unwrap(),
            MediaType::Story
        );
        assert_eq!(
            media_type_for(&[Photo], Some(MediaType::Story)).unwrap(),
            MediaType::Story
        );
        assert_eq!(
            media_type_for(&[Photo, Photo], Some(MediaType::Story))
                .unwrap_err()
                .field,
            "media"
        );
    }

    #[test]
    fn caption_limits_name_the_language() {
        let rules = CaptionRules::default();
        assert!(check_caption("caption", "en", &"é".repeat(2200), &rules).is_ok());
        assert!(check_caption("caption", "en", &"é".repeat(2201), &rules).is_err());
        let tags = |n: usize| (0..n).map(|i| format!("#t{i} ")).collect::<String>();
        assert!(check_caption("text", "es", &tags(5), &rules).is_ok());
        let err = check_caption("text", "es", &tags(6), &rules).unwrap_err();
        assert_eq!(err.field, "text");
        assert_eq!(
            err.message,
            "the es caption has 6 hashtags; Instagram allows at most 5"
        );
        let thirty = CaptionRules {
            max_hashtags: 30,
            ..rules
        };
        assert!(check_caption("caption", "en", &tags(30), &thirty).is_ok());
        assert!(
            check_caption("caption", "en", &tags(31), &thirty)
                .unwrap_err()
                .message
                .contains("31 hashtags")
        );
    }
}
