//! The uploads (§5): photos to `rupload_igphoto`, videos to `rupload_igvideo` (a GET that
//! opens the upload, then the bytes), a reel after its `upload_settings`, a carousel item by
//! item. Nothing is visible on the profile until configure.

use bytes::Bytes;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::jar::dict;
use crate::client::request::Body;
use crate::client::{InstagramClient, now_ms, uuid4};
use crate::error::{ErrorShape, IgError, classify};
use crate::types::{CarouselItem, Media, Photo, Uploaded, Video};
use crate::wire::{compact_json, py_json};

impl InstagramClient {
    /// Uploads the media (rupload); nothing is visible on the profile yet.
    pub async fn upload(&mut self, media: &Media) -> Result<Uploaded, IgError> {
        let uid = self.require_login()?;
        match media {
            Media::Carousel(items) => return self.upload_carousel(items).await,
            Media::Photo(_) => {
                // instagrapi's `photo_upload` reads the account's feed first, to find the
                // new post there should configure's answer lack it.
                if let Err(e) = self.user_feed(&uid).await {
                    tracing::debug!(error = %e, "feed before the upload failed");
                }
            }
            Media::Video(_) | Media::Reel(_) | Media::StoryPhoto(_) | Media::StoryVideo(_) => {}
        }
        let upload_id = now_ms().to_string();
        match media {
            // A story photo goes up as a feed photo does (instagrapi's `for_story` only
            // changes how it resizes the file, and icf's photos come prepared).
            Media::Photo(p) | Media::StoryPhoto(p) => {
                self.rupload_photo(p, &upload_id, false).await?
            }
            Media::Video(v) => self.rupload_video(v, &upload_id, VideoKind::Feed).await?,
            Media::StoryVideo(v) => self.rupload_video(v, &upload_id, VideoKind::Story).await?,
            Media::Reel(v) => self.rupload_reel(v, &upload_id).await?,
            // Uploaded item by item above.
            Media::Carousel(_) => {}
        }
        if media.is_story() {
            // instagrapi reads the story tray between the upload and the configure; like
            // it, icf goes on when the read fails.
            if let Err(e) = self.story_tray(&uid).await {
                tracing::debug!(error = %e, "story tray after the upload failed");
            }
        }
        Ok(Uploaded {
            upload_id,
            children: vec![],
        })
    }

    /// A carousel's items one by one, each with its own upload id; the carousel's id comes
    /// after the last.
    async fn upload_carousel(&mut self, items: &[CarouselItem]) -> Result<Uploaded, IgError> {
        check_carousel(items)?;
        let mut children = Vec::with_capacity(items.len());
        let mut last = 0;
        for item in items {
            // Distinct ms timestamps, as sequential uploads on a phone would have.
            let mut id = now_ms();
            if id <= last {
                id = last + 1;
            }
            last = id;
            let id = id.to_string();
            match item {
                CarouselItem::Photo(p) => self.rupload_photo(p, &id, true).await?,
                CarouselItem::Video(v) => {
                    self.rupload_video(v, &id, VideoKind::Sidecar).await?;
                    // The cover goes up as a plain photo (`photo_rupload(thumbnail,
                    // upload_id)` in instagrapi's `album_upload`).
                    self.rupload_photo(&v.cover, &id, false).await?;
                }
            }
            children.push(id);
        }
        Ok(Uploaded {
            upload_id: (last + 1).to_string(),
            children,
        })
    }

    /// A JPEG to `rupload_igphoto`: a photo, a carousel photo (`sidecar`) or a video's
    /// cover (under the video's upload id).
    pub(super) async fn rupload_photo(
        &mut self,
        p: &Photo,
        upload_id: &str,
        sidecar: bool,
    ) -> Result<(), IgError> {
        let name = rupload_name(upload_id);
        let mut params = json!({
            "retry_context": retry_context(),
            "media_type": "1",
            "xsharing_user_ids": "[]",
            "upload_id": upload_id,
            "image_compression": py_json(&json!({"lib_name": "moz", "lib_version": "3.1.m", "quality": "80"})),
        });
        if sidecar {
            params["is_sidecar"] = json!("1");
        }
        let len = p.jpeg.len().to_string();
        let headers = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("X-Instagram-Rupload-Params", py_json(&params)),
            ("X_FB_PHOTO_WATERFALL_ID", uuid4()),
            ("X-Entity-Type", "image/jpeg".into()),
            ("Offset", "0".into()),
            ("X-Entity-Name", name.clone()),
            ("X-Entity-Length", len.clone()),
            ("Content-Type", "application/octet-stream".into()),
            ("Content-Length", len),
        ]);
        let url = self.root(&format!("rupload_igphoto/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::Raw(p.jpeg.clone()), headers)
            .await?;
        upload_result(status, &body, "photo")
    }

    /// A video to `rupload_igvideo`: the GET that opens the upload, then the bytes.
    async fn rupload_video(
        &mut self,
        v: &Video,
        upload_id: &str,
        kind: VideoKind,
    ) -> Result<(), IgError> {
        let name = rupload_name(upload_id);
        let mut params = json!({
            "retry_context": retry_context(),
            "media_type": "2",
            "xsharing_user_ids": compact_json(&json!([self.session.user_id().and_then(|u| u.parse::<u64>().ok())])),
            "upload_id": upload_id,
            "upload_media_duration_ms": v.duration_ms.to_string(),
            "upload_media_width": v.width.to_string(),
            "upload_media_height": v.height.to_string(),
        });
        if matches!(kind, VideoKind::Sidecar) {
            params["is_sidecar"] = json!("1");
        }
        if matches!(kind, VideoKind::Story) {
            // `video_rupload(to_story=True)` puts these three before the others.
            let mut story = serde_json::Map::new();
            story.insert("extract_cover_frame".into(), json!("1"));
            story.insert("content_tags".into(), json!("has-overlay"));
            story.insert("for_album".into(), json!("1"));
            if let Value::Object(rest) = params {
                story.extend(rest);
            }
            params = Value::Object(story);
        }
        // instagrapi sends these beside the session's headers only (not `private_headers`):
        // the GET that opens the upload, then the POST with the bytes.
        let mut first: Vec<(String, Option<String>)> = Vec::new();
        if matches!(kind, VideoKind::Sidecar) {
            first.push(("Segment-Start-Offset".into(), Some("0".into())));
            first.push(("Segment-Type".into(), Some("3".into())));
        }
        first.push(("Accept-Encoding".into(), Some("gzip, deflate".into())));
        first.push((
            "X-Instagram-Rupload-Params".into(),
            Some(compact_json(&params)),
        ));
        first.push(("X_FB_VIDEO_WATERFALL_ID".into(), Some(uuid4())));
        let url = self.root(&format!("rupload_igvideo/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::GET, url.clone(), Body::Empty, first.clone())
            .await?;
        upload_result(status, &body, "video")?;
        let len = v.mp4.len().to_string();
        let mut second: Vec<(String, Option<String>)> = [
            ("Offset", "0".to_owned()),
            ("X-Entity-Name", name.clone()),
            ("X-Entity-Length", len.clone()),
            ("Content-Type", "application/octet-stream".into()),
            ("Content-Length", len),
            ("X-Entity-Type", "video/mp4".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Some(v)))
        .collect();
        second.extend(first);
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::video(&v.mp4), second)
            .await?;
        upload_result(status, &body, "video")
    }

    /// A reel's upload as instagrapi's `clip_upload` makes it (§5.6): the
    /// `upload_settings` preflight, then the rupload GET and POST, each with the standard
    /// headers as its own.
    async fn rupload_reel(&mut self, v: &Video, upload_id: &str) -> Result<(), IgError> {
        let composer = uuid4();
        let asset_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase();
        let len = v.mp4.len();
        let name = format!(
            "{}-0-{len}-{upload_id}-{upload_id}",
            uuid::Uuid::new_v4().simple()
        );
        let target_id = self.session.user_id().and_then(|u| u.parse::<u64>().ok());
        let settings = reel_upload_settings(v, &composer, &asset_id, target_id);
        let text = py_json(&settings);
        let text_len = text.len().to_string();
        let headers = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("Content-Type", "application/json".into()),
            ("Content-Length", text_len.clone()),
            ("Offset", "0".into()),
            ("X-Entity-Length", text_len),
            ("X-Entity-Name", "upload_settings".into()),
            ("X-Entity-Type", "application/json".into()),
            ("X_FB_VIDEO_WATERFALL_ID", format!("{composer}_settings")),
        ]);
        let url = self.root(&format!("upload_settings/{composer}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::Raw(Bytes::from(text)), headers)
            .await?;
        upload_result(status, &body, "reel settings")?;

        let params = reel_rupload_params(v, upload_id);
        let opening = self.private_headers(vec![
            ("Accept-Encoding", "gzip".into()),
            ("X-Instagram-Rupload-Params", py_json(&params)),
            (
                "X_FB_VIDEO_WATERFALL_ID",
                format!("{composer}_{asset_id}_Mixed_0"),
            ),
            ("X-Entity-Type", "video/mp4".into()),
            ("Segment-Start-Offset", "0".into()),
            ("Segment-Type", "3".into()),
        ]);
        let url = self.root(&format!("rupload_igvideo/{name}"));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::GET, url.clone(), Body::Empty, opening.clone())
            .await?;
        upload_result(status, &body, "reel")?;
        // `{Offset, X-Entity-Name, X-Entity-Length, Content-Type, Content-Length, **headers}`.
        let len = len.to_string();
        let mut sending = dict(
            [
                ("Offset", "0".to_owned()),
                ("X-Entity-Name", name),
                ("X-Entity-Length", len.clone()),
                ("Content-Type", "application/octet-stream".into()),
                ("Content-Length", len),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v))),
        );
        sending = dict(sending.into_iter().chain(opening));
        self.pace().await;
        let (status, body) = self
            .transmit(Method::POST, url, Body::video(&v.mp4), sending)
            .await?;
        upload_result(status, &body, "reel")
    }
}

#[derive(Clone, Copy)]
enum VideoKind {
    /// A feed video.
    Feed,
    /// A carousel item.
    Sidecar,
    /// A story.
    Story,
}

/// A photo's or feed video's rupload name: the upload id and a random 10-digit number.
fn rupload_name(upload_id: &str) -> String {
    format!(
        "{upload_id}_0_{}",
        rand::rng().random_range(1_000_000_000u64..10_000_000_000)
    )
}

/// The `retry_context` of a first attempt.
fn retry_context() -> String {
    compact_json(&json!({"num_step_auto_retry": 0, "num_reupload": 0, "num_step_manual_retry": 0}))
}

fn check_carousel(items: &[CarouselItem]) -> Result<(), IgError> {
    if !(2..=10).contains(&items.len()) {
        return Err(IgError::BadMedia(format!(
            "a carousel needs 2 to 10 items, got {}",
            items.len()
        )));
    }
    Ok(())
}

/// rupload answers bypass the usual mapping in instagrapi (any non-200 is "not uploaded");
/// icf still tells account problems from media problems.
fn upload_result(status: u16, body: &[u8], what: &str) -> Result<(), IgError> {
    if status == 200 {
        return Ok(());
    }
    match classify(status, body) {
        Some(e)
            if matches!(
                e.kind,
                ErrorShape::Unknown | ErrorShape::BadRequestEmpty | ErrorShape::Other
            ) && (400..500).contains(&status) =>
        {
            Err(IgError::BadMedia(format!(
                "{what} upload refused: {}",
                e.message
            )))
        }
        Some(e) => Err(IgError::Api(e)),
        None => Err(IgError::BadMedia(format!(
            "{what} upload answered HTTP {status}"
        ))),
    }
}

/// The reel's `upload_settings` body (`clip_upload`'s `upload_settings` preflight), with the
/// account as the target when its id is known.
fn reel_upload_settings(
    v: &Video,
    composer: &str,
    asset_id: &str,
    target_id: Option<u64>,
) -> Value {
    let len = v.mp4.len();
    let mut context = json!({
        "source_attribution": null,
        "enable_video_dimension_upscale": false,
        "source_type": "clips",
        "quality": "",
    });
    if let Some(uid) = target_id {
        context["target_id"] = json!(uid);
    }
    json!({
        "composer_session_id": composer,
        "upload_setting_properties": {
            "upload_settings_version": "v0.1",
            "codec": {},
            "context": context,
            "video": {
                "video_height": v.height,
                "video_gop_size_sec": 0,
                "video_rotation_angle": 0,
                "video_width": v.width,
                "source_video_codec": null,
                "video_partial_frame_size_bytes": 0,
                "asset_id": asset_id,
                "video_key_frame_size_bytes": 0,
                "target_duration": v.duration_ms / 1000,
                "video_original_file_size": len,
                "video_duration_milliseconds": v.duration_ms,
                "audio_bit_rate_bps": -1,
                "video_bit_rate_bps": 0,
                "audio_codec_type": null,
                "video_fps": 30,
            },
            "creative_tools": {"transmuxing_eligible": false, "transcoding_required": true},
            "network": {
                "download_latency_connection_quality": "ig_dummy",
                "network_connection_name": "ig_dummy",
                "download_bandwidth_connection_quality": "ig_dummy",
            },
        },
        "preview_spec": {
            "spec_version": 1,
            "video_dur_ms": v.duration_ms,
            "audio_dur_ms": v.duration_ms,
        },
    })
}

/// The reel's `X-Instagram-Rupload-Params`.
fn reel_rupload_params(v: &Video, upload_id: &str) -> Value {
    json!({
        "provenance_metadata": py_json(&json!({"origin": ["EXTERNAL"]})),
        "upload_media_height": v.height.to_string(),
        "share_type": "reels",
        "debug_segment_id": "0",
        "extract_cover_frame": "1",
        "upload_engine_config_enum": "0",
        "xsharing_user_ids": "[]",
        "upload_media_width": v.width.to_string(),
        "stella_data": "{}",
        "is_clips_video": "1",
        "is_optimistic_upload": "true",
        "upload_media_duration_ms": v.duration_ms.to_string(),
        "content_tags": "use_default_cover",
        "upload_id": upload_id,
        // The same values as `retry_context()`, in `clip_upload`'s key order.
        "retry_context": compact_json(&json!({"num_reupload": 0, "num_step_manual_retry": 0, "num_step_auto_retry": 0})),
        "session_id": upload_id,
        "media_type": "2",
    })
}
