//! The simulator's publishing (§5): rupload of photos and videos (a video must be read by
//! `ffprobe`), configure of each kind of post with its checks and faults, and the media as
//! the feed lists it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use super::answers::{
    bad_upload, dropped_connection, fail, json_response, needs_reupload, server_error_page,
};
use super::state::{Answer, Faults, Sim, SimMedia, Upload, header, shortcode};
use crate::wire::parse_signed;

impl Sim {
    fn rupload_params(headers: &HeaderMap, body: &Bytes) -> Result<(Value, String), Response> {
        let params: Value = header(headers, "x-instagram-rupload-params")
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(|| bad_upload("missing X-Instagram-Rupload-Params"))?;
        let upload_id = params
            .get("upload_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_upload("missing upload_id"))?
            .to_owned();
        if !body.is_empty() {
            let declared: Option<usize> =
                header(headers, "x-entity-length").and_then(|l| l.parse().ok());
            if declared != Some(body.len()) {
                return Err(bad_upload("X-Entity-Length does not match the body"));
            }
        }
        Ok((params, upload_id))
    }

    pub(super) fn rupload_photo(
        &self,
        username: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Answer {
        let (_, upload_id) = Self::rupload_params(headers, body)?;
        if image::load_from_memory_with_format(body, image::ImageFormat::Jpeg).is_err() {
            return Err(bad_upload("Uploaded image isn't a valid JPEG"));
        }
        let mut g = self.lock();
        let key = (username.to_owned(), upload_id.clone());
        match g.uploads.get_mut(&key) {
            // The cover of a video shares its upload id.
            Some(Upload::Video { cover, .. }) => *cover = true,
            _ => {
                g.uploads.insert(key, Upload::Photo);
            }
        }
        Ok(json_response(
            StatusCode::OK,
            json!({"upload_id": upload_id, "xsharing_nonces": {}, "status": "ok"}),
        ))
    }

    pub(super) async fn rupload_video(
        &self,
        method: &Method,
        username: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Answer {
        let (params, upload_id) = Self::rupload_params(headers, body)?;
        if *method == Method::GET {
            return Ok(json_response(
                StatusCode::OK,
                json!({"offset": 0, "status": "ok"}),
            ));
        }
        if !probe_video(body).await {
            return Err(bad_upload("Uploaded video could not be processed"));
        }
        let reel = params.get("is_clips_video").and_then(Value::as_str) == Some("1");
        let pending = self.faults_for(Some(username)).transcode_pending;
        self.lock().uploads.insert(
            (username.to_owned(), upload_id.clone()),
            Upload::Video {
                cover: false,
                reel,
                pending,
            },
        );
        Ok(json_response(
            StatusCode::OK,
            json!({"upload_id": upload_id, "xsharing_nonces": {}, "status": "ok"}),
        ))
    }

    pub(super) fn configure(
        &self,
        username: &str,
        pk: u64,
        kind: &str,
        body: &Bytes,
        faults: &Faults,
    ) -> Answer {
        let v = parse_signed(body).ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"Invalid Parameters","status":"fail"}),
            )
        })?;
        let upload_id = v
            .get("upload_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let caption = v
            .get("caption")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if faults.feedback_required {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                json!({"message":"feedback_required","spam":true,"feedback_title":"Action Blocked","feedback_message":"This action was blocked. Please try again later. We restrict certain content and actions to protect our community.","feedback_url":"repute/report_problem/scraping/","feedback_appeal_label":"Report problem","feedback_ignore_label":"OK","feedback_action":"report_problem","status":"fail"}),
            ));
        }
        if faults.configure_error {
            return Err(server_error_page());
        }
        if faults.drop_before_configure {
            return Err(dropped_connection());
        }
        let mut children = 0;
        {
            let mut g = self.lock();
            match kind {
                "photo" => {
                    if !matches!(
                        g.uploads.get(&(username.to_owned(), upload_id.clone())),
                        Some(Upload::Photo)
                    ) {
                        return Err(needs_reupload());
                    }
                }
                "video" => check_video(&mut g.uploads, username, &upload_id, Some(false))?,
                "reel" => check_video(&mut g.uploads, username, &upload_id, Some(true))?,
                _ => {
                    let items = v
                        .get("children_metadata")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    if !(2..=10).contains(&items.len()) {
                        return Err(fail(
                            StatusCode::BAD_REQUEST,
                            json!({"message":"Invalid number of children for the album.","status":"fail"}),
                        ));
                    }
                    for item in &items {
                        let id = item
                            .get("upload_id")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if item.get("clips").is_some() {
                            check_video(&mut g.uploads, username, id, None)?;
                        } else if !matches!(
                            g.uploads.get(&(username.to_owned(), id.to_owned())),
                            Some(Upload::Photo)
                        ) {
                            return Err(needs_reupload());
                        }
                    }
                    children = items.len();
                }
            }
        }
        let record = {
            let mut g = self.lock();
            g.next_pk += rand::rng().random_range(1..1000);
            let media_pk = g.next_pk;
            let m = SimMedia {
                username: username.to_owned(),
                media_id: format!("{media_pk}_{pk}"),
                media_type: kind.to_owned(),
                caption,
                created_at: Utc::now(),
                code: shortcode(media_pk),
                pk: media_pk.to_string(),
                upload_id,
                children,
            };
            g.media.push(m.clone());
            m
        };
        if faults.drop_after_configure {
            return Err(dropped_connection());
        }
        Ok(json_response(
            StatusCode::OK,
            json!({"media": media_json(&record, pk, username), "upload_id": record.upload_id, "status": "ok"}),
        ))
    }
}

type Uploads = HashMap<(String, String), Upload>;

/// A video upload is ready for configure once its cover arrived and transcoding is done.
fn check_video(
    uploads: &mut Uploads,
    username: &str,
    id: &str,
    want_reel: Option<bool>,
) -> Result<(), Response> {
    match uploads.get_mut(&(username.to_owned(), id.to_owned())) {
        Some(Upload::Video {
            cover,
            reel,
            pending,
        }) => {
            if !*cover || want_reel.is_some_and(|r| r != *reel) {
                return Err(needs_reupload());
            }
            if *pending > 0 {
                *pending -= 1;
                return Err(fail(
                    StatusCode::ACCEPTED,
                    json!({"message":"Transcode not finished yet.","status":"fail"}),
                ));
            }
            Ok(())
        }
        _ => Err(needs_reupload()),
    }
}

pub(super) fn media_json(m: &SimMedia, owner: u64, username: &str) -> Value {
    let (media_type, product_type) = match m.media_type.as_str() {
        "photo" => (1, "feed"),
        "video" => (2, "feed"),
        "reel" => (2, "clips"),
        _ => (8, "carousel_container"),
    };
    json!({
        "pk": m.pk, "id": m.media_id, "code": m.code,
        "taken_at": m.created_at.timestamp(),
        "media_type": media_type, "product_type": product_type,
        "user": {"pk": owner, "username": username},
        "caption": {"text": m.caption},
    })
}

/// A video must be something ffprobe reads as having a video stream.
async fn probe_video(bytes: &[u8]) -> bool {
    let Ok(file) = tempfile::NamedTempFile::new() else {
        return false;
    };
    if std::fs::write(file.path(), bytes).is_err() {
        return false;
    }
    let out = tokio::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(file.path())
        .output()
        .await;
    matches!(out, Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("video"))
}
