//! The values the client takes and gives back: who logs in and how a login ended, the
//! media of a post and what its upload and configure steps answered. Plain data, no I/O.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who is logging in. The TOTP secret, when known, lets icf answer two-factor alone.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub totp_secret: Option<&'a str>,
}

/// The logged-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub user_id: String,
    pub username: String,
}

/// Two-factor login waiting for a code (no TOTP secret stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorPending {
    pub username: String,
    pub two_factor_identifier: String,
    pub totp_on: bool,
    pub sms_on: bool,
    pub obfuscated_phone_number: Option<String>,
}

/// What a challenge asks the human for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeAsk {
    /// A 6-digit code Instagram sent by email: submit it.
    EmailCode,
    /// A 6-digit code Instagram sent by SMS: submit it.
    SmsCode,
    /// "Was this you?" in the official app: approve there, then log in again.
    AppApproval,
    /// A checkpoint only the owner can pass in the official app (captcha, selfie, …).
    Manual,
}

/// A challenge waiting for a human; persist it with the account and never change the
/// account's proxy or device while it is pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengePending {
    pub api_path: String,
    pub asks: ChallengeAsk,
    pub step_name: String,
    /// Where the code went (`j***@example.com`), when Instagram says.
    pub contact: Option<String>,
}

/// The result of a login attempt that did not fail outright.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LoginOutcome {
    LoggedIn(AccountInfo),
    TwoFactorRequired(TwoFactorPending),
    ChallengeRequired(ChallengePending),
    /// The challenge was passed but Instagram gave no session: log in again (once).
    ChallengePassed,
}

/// A JPEG as it will be uploaded (already cropped and sized) and its dimensions.
#[derive(Debug, Clone)]
pub struct Photo {
    pub jpeg: Bytes,
    pub width: u32,
    pub height: u32,
}

/// Where a video's bytes are. A stored video is a file, streamed from disk on every upload,
/// so that a 1 GB video published to 50 accounts never sits in a worker's memory.
#[derive(Debug, Clone)]
pub enum VideoData {
    Bytes(Bytes),
    File { path: std::path::PathBuf, len: u64 },
}

impl VideoData {
    pub fn len(&self) -> u64 {
        match self {
            VideoData::Bytes(b) => b.len() as u64,
            VideoData::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Bytes> for VideoData {
    fn from(b: Bytes) -> Self {
        VideoData::Bytes(b)
    }
}

/// An MP4 (H.264/AAC, moov first) with its metadata and a JPEG cover.
#[derive(Debug, Clone)]
pub struct Video {
    pub mp4: VideoData,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub cover: Photo,
}

#[derive(Debug, Clone)]
pub enum CarouselItem {
    Photo(Photo),
    Video(Video),
}

/// One post's media, prepared once and shared (cheaply cloned `Bytes`) by every account.
#[derive(Debug, Clone)]
pub enum Media {
    Photo(Photo),
    Video(Video),
    Carousel(Vec<CarouselItem>),
    Reel(Video),
    /// A story photo (best 9:16); its caption is sent, no other option.
    StoryPhoto(Photo),
    /// A story video; instagrapi sends neither its caption nor its cover, so neither does
    /// icf.
    StoryVideo(Video),
}

impl Media {
    /// How many media items the post has: the length [`PostOptions`]' per-item lists may
    /// have.
    pub fn item_count(&self) -> usize {
        match self {
            Media::Carousel(items) => items.len(),
            _ => 1,
        }
    }

    pub fn is_story(&self) -> bool {
        matches!(self, Media::StoryPhoto(_) | Media::StoryVideo(_))
    }
}

/// A place as Instagram knows it: a venue from `location_search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Venue {
    pub name: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// `facebook_places` for the venues `location_search` gives.
    pub external_source: Option<String>,
    pub facebook_places_id: Option<u64>,
}

/// Someone tagged on a media item, at (x, y) in 0..=1 of its width and height.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTag {
    pub user_id: String,
    pub x: f64,
    pub y: f64,
}

/// What a post carries beside its media and caption. `Default`: nothing, shown in the grid.
/// Stories take none of these (see `INSTAGRAM.md`, "Post options").
#[derive(Debug, Clone, PartialEq)]
pub struct PostOptions {
    /// Alt text per media item in order (a single photo/video/reel: index 0); `None`: none.
    pub alt_texts: Vec<Option<String>>,
    pub location: Option<Venue>,
    /// Tags per media item in order (single media: index 0).
    pub usertags: Vec<Vec<UserTag>>,
    /// Collaborators' user ids (at most 3).
    pub coauthor_ids: Vec<String>,
    pub disable_comments: bool,
    pub hide_like_counts: bool,
    /// Reels only: also shown in the profile grid (`clips_share_preview_to_feed`). Default true.
    pub share_to_feed: bool,
}

impl Default for PostOptions {
    fn default() -> Self {
        PostOptions {
            alt_texts: Vec::new(),
            location: None,
            usertags: Vec::new(),
            coauthor_ids: Vec::new(),
            disable_comments: false,
            hide_like_counts: false,
            share_to_feed: true,
        }
    }
}

impl PostOptions {
    /// The alt text of item `i`, when it has a non-empty one.
    pub fn alt_text(&self, i: usize) -> Option<&str> {
        self.alt_texts
            .get(i)
            .and_then(Option::as_deref)
            .filter(|t| !t.is_empty())
    }

    /// The tags of item `i` (none when the list is shorter).
    pub fn tags(&self, i: usize) -> &[UserTag] {
        self.usertags.get(i).map(Vec::as_slice).unwrap_or_default()
    }
}

/// One comment on a media, as far as icf reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub pk: String,
    pub text: String,
    pub user_id: String,
}

/// The result of the upload step; record `upload_id` before calling configure, so that a
/// crash between the two can be told apart from "never published".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub upload_id: String,
    /// The upload ids of carousel items, in order.
    pub children: Vec<String>,
}

/// A published media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// `{pk}_{owner_pk}`.
    pub media_id: String,
    pub pk: String,
    pub code: String,
    /// 1 photo, 2 video, 8 carousel.
    pub media_type: u8,
    /// `feed`, `clips`, `carousel_container`, `story`.
    pub product_type: Option<String>,
    pub taken_at: Option<i64>,
    pub caption: Option<String>,
}

impl Published {
    /// The post's link. A story's link needs its account's username
    /// (`https://www.instagram.com/stories/{username}/{pk}/`), which this does not know: for
    /// a story it gives the `/p/` form, which Instagram does not resolve.
    pub fn url(&self) -> String {
        if self.product_type.as_deref() == Some("clips") {
            format!("https://www.instagram.com/reel/{}/", self.code)
        } else {
            format!("https://www.instagram.com/p/{}/", self.code)
        }
    }

    /// A feed item or configure's `media`, as far as icf reads it.
    pub(crate) fn from_media(m: &Value) -> Option<Published> {
        let s = |k: &str| {
            m.get(k).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Some(Published {
            media_id: s("id")?,
            pk: s("pk")?,
            code: s("code")?,
            media_type: m.get("media_type").and_then(Value::as_u64).unwrap_or(0) as u8,
            product_type: s("product_type"),
            taken_at: m.get("taken_at").and_then(Value::as_i64),
            caption: m
                .pointer("/caption/text")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}
