//! configure (§5): the irreversible step that makes uploaded media a post, one body per
//! kind of post with the post's options in it (`options`; stories in `story`), polled while
//! Instagram transcodes a video.

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

use super::options::{self, TagStyle};
use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::error::{ErrorShape, IgError};
use crate::types::{CarouselItem, Media, Photo, PostOptions, Published, Uploaded, Video};
use crate::wire::compact_json;

/// The navigation chain instagrapi sends with a photo's configure.
const PHOTO_NAV_CHAIN: &str = "8rL:self_profile:4,ProfileMediaTabFragment:self_profile:5,UniversalCreationMenuFragment:universal_creation_menu:7,ProfileMediaTabFragment:self_profile:8,MediaCaptureFragment:tabbed_gallery_camera:9,Dd3:photo_filter:10,FollowersShareFragment:metadata_followers_share:11";

impl InstagramClient {
    /// The irreversible step: makes the uploaded media a post, polling while Instagram
    /// transcodes. A network error here may still have published (see
    /// [`IgError::maybe_applied`]): check [`InstagramClient::recent_media`] before retrying.
    pub async fn configure(
        &mut self,
        media: &Media,
        uploaded: &Uploaded,
        caption: &str,
    ) -> Result<Published, IgError> {
        self.configure_with(media, uploaded, caption, &PostOptions::default())
            .await
    }

    /// [`InstagramClient::configure`] with the post's options, sent where instagrapi sends
    /// them (`INSTAGRAM.md`, "Post options"). Stories take none of them: a story's options
    /// are ignored, its caption kept for a photo and dropped for a video, as instagrapi
    /// does.
    pub async fn configure_with(
        &mut self,
        media: &Media,
        uploaded: &Uploaded,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Published, IgError> {
        self.require_login()?;
        options::check(media, options)?;
        let attempts = self.cfg.max_configure_attempts.max(1);
        let mut last_err = None;
        for attempt in 0..attempts {
            if attempt > 0 || !matches!(media, Media::Photo(_)) {
                tokio::time::sleep(self.cfg.configure_interval).await;
            }
            let result = match media {
                Media::Photo(p) => self.configure_photo(p, uploaded, caption, options).await,
                Media::Video(v) => {
                    self.rupload_photo(&v.cover, &uploaded.upload_id, false)
                        .await?;
                    self.configure_video(v, uploaded, caption, options).await
                }
                Media::Reel(v) => {
                    self.rupload_photo(&v.cover, &uploaded.upload_id, false)
                        .await?;
                    self.configure_reel(v, uploaded, caption, options).await
                }
                Media::Carousel(items) => {
                    self.configure_sidecar(items, uploaded, caption, options)
                        .await
                }
                Media::StoryPhoto(p) => self.configure_story_photo(p, uploaded, caption).await,
                Media::StoryVideo(v) => self.configure_story_video(v, uploaded).await,
            };
            match result {
                Ok(v) => {
                    let media = v
                        .get("media")
                        .ok_or_else(|| IgError::Protocol("configure gave no media".into()))?;
                    return Published::from_media(media)
                        .ok_or_else(|| IgError::Protocol("configure media has no id".into()));
                }
                Err(IgError::Api(e)) if e.kind == ErrorShape::TranscodeNotFinished => {
                    tokio::time::sleep(self.cfg.transcode_wait).await;
                    last_err = Some(IgError::Api(e));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| IgError::Protocol("configure never finished".into())))
    }

    pub(super) fn local_time(&self) -> String {
        let t = Utc::now() + chrono::Duration::seconds(self.session.timezone_offset.into());
        t.format("%Y%m%dT%H%M%S.000Z").to_string()
    }

    async fn configure_photo(
        &mut self,
        p: &Photo,
        up: &Uploaded,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Value, IgError> {
        let d = &self.session.device_settings;
        let software = format!(
            "{}-user+{}+OPR1.170623.032+V10.2.3.0.OAGMIXM+release-keys",
            d.model, d.android_release
        );
        let now = self.local_time();
        let mut data = self.default_data(json!({
            "timezone_offset": self.session.timezone_offset.to_string(),
            "camera_model": d.model,
            "camera_make": d.manufacturer,
            "scene_type": "?",
            "nav_chain": PHOTO_NAV_CHAIN,
            "date_time_original": now,
            "date_time_digitalized": now,
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "scene_capture_type": "standard",
            "software": software,
            "multi_sharing": "1",
            "location": options::location(options.location.as_ref()),
            "media_folder": "Camera",
            "source_type": "4",
            "caption": caption,
            "upload_id": up.upload_id,
            "device": self.device_object(),
            "usertags": options::usertags(options.tags(0), TagStyle::Spaced),
            "edits": {"crop_original_size": [p.width as f64, p.height as f64], "crop_center": [0.0, 0.0], "crop_zoom": 1.0},
            "extra": {"source_width": p.width, "source_height": p.height},
        }));
        options::spread(&mut data, options::extra_data(options, options.alt_text(0)));
        let url = self.api("media/configure/");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_video(
        &mut self,
        v: &Video,
        up: &Uploaded,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Value, IgError> {
        let secs = v.duration_ms as f64 / 1000.0;
        let mut data = self.default_data(json!({
            "multi_sharing": "1",
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "upload_id": up.upload_id,
            "source_type": "4",
            "location": options::location(options.location.as_ref()),
            "poster_frame_index": 0,
            "length": secs,
            "audio_muted": false,
            "usertags": options::usertags(options.tags(0), TagStyle::Compact),
            "filter_type": "0",
            "date_time_original": self.local_time(),
            "timezone_offset": self.session.timezone_offset.to_string(),
            "clips": [{"length": secs, "source_type": "4"}],
            "extra": {"source_width": v.width, "source_height": v.height},
            "device": self.device_object(),
            "caption": caption,
        }));
        options::spread(&mut data, options::extra_data(options, options.alt_text(0)));
        let url = self.api("media/configure/?video=1");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_reel(
        &mut self,
        v: &Video,
        up: &Uploaded,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Value, IgError> {
        let secs = v.duration_ms as f64 / 1000.0;
        let mut data = self.default_data(json!({
            "filter_type": "0",
            "timezone_offset": self.session.timezone_offset.to_string(),
            "location": options::location(options.location.as_ref()),
            "source_type": "4",
            "caption": caption,
            "usertags": options::usertags(options.tags(0), TagStyle::Spaced),
            "clips_share_preview_to_feed": if options.share_to_feed { "1" } else { "0" },
            "upload_id": up.upload_id,
            "device": self.device_object(),
            "length": secs,
            "clips_segments_metadata": {"num_segments": 1, "clips_segments": [{
                "index": 0, "face_effect_id": null, "speed": 100, "source_type": 4,
                "duration_ms": v.duration_ms, "audio_type": "original", "from_draft": 0,
                "camera_position": -1, "media_folder": null, "media_type": "video",
                "original_media_type": 2, "original_segment_hash": null, "is_remix": false,
                "has_reusable_template_asset": false
            }]},
            "clips_audio_metadata": {"original": {"volume_level": 1.0}},
            "additional_audio_info": {"has_voiceover_attribution": 0},
            "edits": {"filter_type": 0, "filter_strength": 1.0},
            "capture_type": "clips_v2",
            "clips_creation_entry_point": "clips",
            "camera_entry_point": "71",
            "audience": "default",
            "include_e2ee_mentioned_user_list": "1",
            "hide_from_profile_grid": "false",
            "original_width": v.width,
            "original_height": v.height,
            "extra": {"source_width": v.width, "source_height": v.height},
            "audio_muted": false,
            "poster_frame_index": 70,
        }));
        // `clip_upload` has no collaborator parameter: they go through `extra_data` with
        // the rest, in the same order as a feed post's.
        options::spread(&mut data, options::extra_data(options, options.alt_text(0)));
        let url = self.api("media/configure_to_clips/?video=1");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    async fn configure_sidecar(
        &mut self,
        items: &[CarouselItem],
        up: &Uploaded,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Value, IgError> {
        let tz = self.session.timezone_offset.to_string();
        let device = compact_json(&self.device_object());
        let now = self.local_time();
        let children: Vec<Value> = items
            .iter()
            .zip(&up.children)
            .enumerate()
            .map(|(i, (item, id))| {
                let mut child = match item {
                CarouselItem::Photo(p) => json!({
                    "source_type": "4", "timezone_offset": tz, "device": device, "upload_id": id,
                    "edits": compact_json(&json!({"crop_original_size": [p.width, p.height], "crop_center": [0.0, -0.0], "crop_zoom": 1.0})),
                    "extra": compact_json(&json!({"source_width": p.width, "source_height": p.height})),
                    "scene_capture_type": "", "scene_type": null,
                }),
                CarouselItem::Video(v) => {
                    let secs = v.duration_ms as f64 / 1000.0;
                    json!({
                        "source_type": "4", "timezone_offset": tz, "device": device, "upload_id": id,
                        "clips": compact_json(&json!([{"length": secs, "source_type": "4"}])),
                        "extra": compact_json(&json!({"source_width": v.width, "source_height": v.height})),
                        "length": secs, "poster_frame_index": "0", "filter_type": "0",
                        "video_result": "", "date_time_original": now, "audio_muted": "false",
                    })
                }
                };
                options::carousel_child(&mut child, options, i);
                child
            })
            .collect();
        let mut data = self.default_data(json!({
            "timezone_offset": tz,
            "source_type": "4",
            "creation_logger_session_id": self.session.uuids.client_session_id,
            "location": options::location(options.location.as_ref()),
            "caption": caption,
            "client_sidecar_id": up.upload_id,
            "upload_id": up.upload_id,
            "suggested_venue_position": -1,
            "device": self.device_object(),
            "is_suggested_venue": false,
            "children_metadata": children,
        }));
        // The alt texts went per item; the rest is `album_upload`'s top-level `extra_data`.
        options::spread(&mut data, options::extra_data(options, None));
        let url = self.api("media/configure_sidecar/");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }
}
