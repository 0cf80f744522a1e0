//! Stories, as instagrapi 3.2.2 publishes them (`mixins/photo.py`, `mixins/video.py`): the
//! story tray read after the upload, as its `_current_story_ids` reads it, and
//! `media/configure_to_story/` for a photo and a video, with the bodies of
//! `photo_configure_to_story` and `video_configure_to_story` without stickers.

use chrono::Utc;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::request::Body;
use crate::client::{InstagramClient, uuid4};
use crate::error::IgError;
use crate::types::{Photo, Uploaded, Video};
use crate::wire::{compact_json, py_json};

/// The constant text layout instagrapi sends with every photo story, caption or not.
const TEXT_METADATA: &str = r#"[{"font_size":40.0,"scale":1.0,"width":611.0,"height":169.0,"x":0.51414347,"y":0.8487708,"rotation":0.0,"format_type":"modern_refreshed_v2","effects":["default"]}]"#;

/// instagrapi's `config.SUPPORTED_CAPABILITIES`, key order `value` then `name`.
fn supported_capabilities() -> Value {
    json!([
        {"value": "119.0,120.0,121.0,122.0,123.0,124.0,125.0,126.0,127.0,128.0,129.0,130.0,131.0,132.0,133.0,134.0,135.0,136.0,137.0,138.0,139.0,140.0,141.0,142.0", "name": "SUPPORTED_SDK_VERSIONS"},
        {"value": "14", "name": "FACE_TRACKER_VERSION"},
        {"value": "ETC2_COMPRESSION", "name": "COMPRESSION"},
        {"value": "gyroscope_enabled", "name": "gyroscope"},
    ])
}

/// `media_transformation_info`: the story's size as strings, no transform.
fn transformation(width: u32, height: u32) -> String {
    compact_json(&json!({
        "width": width.to_string(),
        "height": height.to_string(),
        "x_transform": "0",
        "y_transform": "0",
        "zoom": "1.0",
        "rotation": "0.0",
        "background_coverage": "0.0",
    }))
}

impl InstagramClient {
    /// The account's story tray (`user_stories_v1`), read once after a story's upload as
    /// instagrapi does to tell the new story from the old ones. Its answer is not needed
    /// here: configure's answer names the story.
    pub(super) async fn story_tray(&mut self, uid: &str) -> Result<Value, IgError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "supported_capabilities_new",
                &py_json(&supported_capabilities()),
            )
            .finish();
        let url = self.api(&format!("feed/user/{uid}/story/?{query}"));
        self.call(Method::GET, url, Body::Empty, vec![], false)
            .await
    }

    /// `photo_configure_to_story`: a caption only when there is one.
    pub(super) async fn configure_story_photo(
        &mut self,
        p: &Photo,
        up: &Uploaded,
        caption: &str,
    ) -> Result<Value, IgError> {
        let now = Utc::now().timestamp();
        // `_uid` is the number here (a string in video stories).
        let uid: Option<u64> = self.session.user_id().and_then(|u| u.parse().ok());
        let mut data = self.default_data(json!({
            "text_metadata": TEXT_METADATA,
            "supported_capabilities_new": py_json(&supported_capabilities()),
            "has_original_sound": "1",
            "camera_session_id": self.session.uuids.client_session_id,
            "scene_capture_type": "",
            "timezone_offset": self.session.timezone_offset.to_string(),
            "client_shared_at": (now - 5).to_string(),
            "story_sticker_ids": "",
            "media_folder": "Camera",
            "configure_mode": "1",
            "source_type": "4",
            "creation_surface": "camera",
            "imported_taken_at": now - 3 * 24 * 3600,
            "capture_type": "normal",
            "rich_text_format_types": r#"["modern_refreshed_v2"]"#,
            "upload_id": up.upload_id,
            "client_timestamp": now.to_string(),
            "device": self.device_object(),
            "_uid": uid,
            "composition_id": uuid4(),
            "app_attribution_android_namespace": "",
            "media_transformation_info": transformation(p.width, p.height),
            "original_media_type": "photo",
            "camera_entry_point": rand::rng().random_range(25..=164).to_string(),
            "edits": {
                "crop_original_size": [p.width as f64, p.height as f64],
                "filter_type": 0,
                "filter_strength": 1.0,
            },
            "extra": {"source_width": p.width, "source_height": p.height},
        }));
        if !caption.is_empty()
            && let Some(m) = data.as_object_mut()
        {
            m.insert("caption".into(), json!(caption));
        }
        let url = self.api("media/configure_to_story/");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }

    /// `video_configure_to_story`: instagrapi never sends the caption of a video story.
    pub(super) async fn configure_story_video(
        &mut self,
        v: &Video,
        up: &Uploaded,
    ) -> Result<Value, IgError> {
        let now = Utc::now().timestamp();
        let secs = v.duration_ms as f64 / 1000.0;
        let data = self.default_data(json!({
            "_uid": self.session.user_id(),
            "supported_capabilities_new": compact_json(&supported_capabilities()),
            "has_original_sound": "1",
            "filter_type": "0",
            "camera_session_id": self.session.uuids.client_session_id,
            "camera_entry_point": rand::rng().random_range(35..=164).to_string(),
            "composition_id": uuid4(),
            "timezone_offset": self.session.timezone_offset.to_string(),
            "client_timestamp": now.to_string(),
            "client_shared_at": (now - 7).to_string(),
            "date_time_original": self.local_time(),
            "configure_mode": "1",
            "source_type": "3",
            "video_result": "",
            "creation_surface": "camera",
            "capture_type": "normal",
            "upload_id": up.upload_id,
            "original_media_type": "video",
            "camera_position": "back",
            "device": self.device_object(),
            "length": secs,
            "clips": [{"length": secs, "source_type": "3", "camera_position": "back"}],
            "media_transformation_info": transformation(v.width, v.height),
            "extra": {"source_width": v.width, "source_height": v.height},
            "audio_muted": false,
            "poster_frame_index": 0,
        }));
        let url = self.api("media/configure_to_story/?video=1");
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_written_as_instagrapi_writes_them() {
        let spaced = py_json(&supported_capabilities());
        assert!(
            spaced.starts_with(r#"[{"value": "119.0,120.0,"#),
            "{spaced}"
        );
        assert!(spaced.ends_with(r#"{"value": "gyroscope_enabled", "name": "gyroscope"}]"#));
        assert_eq!(
            transformation(1080, 1920),
            r#"{"width":"1080","height":"1920","x_transform":"0","y_transform":"0","zoom":"1.0","rotation":"0.0","background_coverage":"0.0"}"#
        );
    }
}
