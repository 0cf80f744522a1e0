//! The simulator's publishing (§5): rupload of photos and videos (a video must be read by
//! `ffprobe`), configure of each kind of post with its checks and faults, and the media as
//! the feed lists it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use rand::Rng;
use serde_json::{Map, Value, json};

use super::answers::{
    bad_upload, dropped_connection, fail, json_response, needs_reupload, server_error_page,
};

use super::files::hex;
use super::options;
use super::state::{Answer, Faults, Sim, SimCover, SimFile, SimMedia, Upload, header, shortcode};
use crate::wire::parse_signed;
use sha2::{Digest, Sha256};

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
        let Ok(image) = image::load_from_memory_with_format(body, image::ImageFormat::Jpeg) else {
            return Err(bad_upload("Uploaded image isn't a valid JPEG"));
        };
        let key = (username.to_owned(), upload_id.clone());
        let is_cover = matches!(self.lock().uploads.get(&key), Some(Upload::Video { .. }));
        // A video's cover shares its upload id; it is listed as the video's cover.
        let file = (!is_cover).then(|| self.keep_photo(body, image.width(), image.height()));
        let mut g = self.lock();
        match (g.uploads.get_mut(&key), file) {
            (Some(Upload::Video { cover, .. }), _) => {
                *cover = Some(SimCover {
                    width: image.width(),
                    height: image.height(),
                    sha256: hex(&Sha256::digest(body)),
                })
            }
            (_, Some(file)) => {
                g.uploads.insert(key, Upload::Photo(file));
            }
            (_, None) => return Err(needs_reupload()),
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
        let Some(file) = self.keep_video(body).await else {
            return Err(bad_upload("Uploaded video could not be processed"));
        };
        let reel = params.get("is_clips_video").and_then(Value::as_str) == Some("1");
        let pending = self.faults_for(Some(username)).transcode_pending;
        self.lock().uploads.insert(
            (username.to_owned(), upload_id.clone()),
            Upload::Video {
                file,
                cover: None,
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
        let v = parse_signed(body).ok_or_else(invalid_parameters)?;
        let upload_id = text(&v, "upload_id");
        configure_faults(faults)?;
        let (files, cover) = self.check_uploads(username, kind, &upload_id, &v)?;
        let options = {
            let g = self.lock();
            options::read(&v, kind, pk, &g.accounts)?
        };
        let mut record = self.new_media(username, pk, kind, text(&v, "caption"), upload_id);
        record.children = if kind == "carousel" { files.len() } else { 0 };
        record.files = files;
        record.cover = cover;
        options.apply(&mut record);
        self.publish(record, pk, faults)
    }

    /// A new post of `username`, not yet published.
    pub(super) fn new_media(
        &self,
        username: &str,
        owner: u64,
        kind: &str,
        caption: String,
        upload_id: String,
    ) -> SimMedia {
        let media_pk = {
            let mut g = self.lock();
            g.next_pk += rand::rng().random_range(1..1000);
            g.next_pk
        };
        SimMedia {
            username: username.to_owned(),
            media_id: format!("{media_pk}_{owner}"),
            media_type: kind.to_owned(),
            story_kind: None,
            caption,
            created_at: Utc::now(),
            code: shortcode(media_pk),
            pk: media_pk.to_string(),
            upload_id,
            children: 0,
            comments: Vec::new(),
            accessibility_captions: vec![None],
            location: None,
            usertags: Vec::new(),
            coauthors: Vec::new(),
            comments_disabled: false,
            like_and_view_counts_disabled: false,
            share_to_feed: true,
            cover: None,
            files: Vec::new(),
            coauthor_pks: Vec::new(),
        }
    }

    /// Publishes the post and answers with it, unless the connection is to be cut first.
    pub(super) fn publish(&self, record: SimMedia, owner: u64, faults: &Faults) -> Answer {
        self.lock().media.push(record.clone());
        if faults.drop_after_configure {
            return Err(dropped_connection());
        }
        Ok(json_response(
            StatusCode::OK,
            json!({"media": media_json(&record, owner), "upload_id": record.upload_id, "status": "ok"}),
        ))
    }

    /// The uploads a configure names must be there (and a video's cover, and its
    /// transcoding done): the files in the post's order, and a video's or reel's cover.
    fn check_uploads(
        &self,
        username: &str,
        kind: &str,
        upload_id: &str,
        v: &Value,
    ) -> Result<(Vec<SimFile>, Option<SimCover>), Response> {
        let mut g = self.lock();
        match kind {
            "photo" => Ok((vec![check_photo(&g.uploads, username, upload_id)?], None)),
            "video" => check_video(&mut g.uploads, username, upload_id, Some(false), true)
                .map(|(f, c)| (vec![f], c)),
            "reel" => check_video(&mut g.uploads, username, upload_id, Some(true), true)
                .map(|(f, c)| (vec![f], c)),
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
                let mut files = Vec::with_capacity(items.len());
                for item in &items {
                    let id = item
                        .get("upload_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    files.push(if item.get("clips").is_some() {
                        check_video(&mut g.uploads, username, id, None, true)?.0
                    } else {
                        check_photo(&g.uploads, username, id)?
                    });
                }
                Ok((files, None))
            }
        }
    }
}

/// A string field of a configure body, empty when absent.
pub(super) fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn invalid_parameters() -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"message":"Invalid Parameters","status":"fail"}),
    )
}

/// The faults every configure meets before anything is published.
pub(super) fn configure_faults(faults: &Faults) -> Result<(), Response> {
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
    Ok(())
}

pub(super) type Uploads = HashMap<(String, String), Upload>;

/// A photo upload must be there; its file is the answer.
pub(super) fn check_photo(
    uploads: &Uploads,
    username: &str,
    id: &str,
) -> Result<SimFile, Response> {
    match uploads.get(&(username.to_owned(), id.to_owned())) {
        Some(Upload::Photo(file)) => Ok(file.clone()),
        _ => Err(needs_reupload()),
    }
}

/// A video upload is ready for configure once its cover arrived (a story video has none)
/// and transcoding is done; the file and its cover are the answer.
pub(super) fn check_video(
    uploads: &mut Uploads,
    username: &str,
    id: &str,
    want_reel: Option<bool>,
    need_cover: bool,
) -> Result<(SimFile, Option<SimCover>), Response> {
    match uploads.get_mut(&(username.to_owned(), id.to_owned())) {
        Some(Upload::Video {
            file,
            cover,
            reel,
            pending,
        }) => {
            if (need_cover && cover.is_none()) || want_reel.is_some_and(|r| r != *reel) {
                return Err(needs_reupload());
            }
            if *pending > 0 {
                *pending -= 1;
                return Err(fail(
                    StatusCode::ACCEPTED,
                    json!({"message":"Transcode not finished yet.","status":"fail"}),
                ));
            }
            Ok((file.clone(), cover.clone()))
        }
        _ => Err(needs_reupload()),
    }
}

/// A post as Instagram answers it (configure's `media`, the feed's and the story tray's
/// items), with its options where instagrapi reads them.
pub(super) fn media_json(m: &SimMedia, owner: u64) -> Value {
    let (media_type, product_type) = match (m.media_type.as_str(), m.story_kind.as_deref()) {
        ("photo", _) => (1, "feed"),
        ("video", _) => (2, "feed"),
        ("reel", _) => (2, "clips"),
        ("story", Some("video")) => (2, "story"),
        ("story", _) => (1, "story"),
        _ => (8, "carousel_container"),
    };
    let mut out = Map::new();
    out.insert("pk".into(), json!(m.pk));
    out.insert("id".into(), json!(m.media_id));
    out.insert("code".into(), json!(m.code));
    out.insert("taken_at".into(), json!(m.created_at.timestamp()));
    out.insert("media_type".into(), json!(media_type));
    out.insert("product_type".into(), json!(product_type));
    out.insert("user".into(), json!({"pk": owner, "username": m.username}));
    out.insert("caption".into(), json!({"text": m.caption}));
    if m.media_type != "story" {
        options::echo(m, owner, &mut out);
    }
    Value::Object(out)
}
