//! The simulator's stories: `media/configure_to_story/` (a photo, or a video with
//! `?video=1`, whose upload has no cover) and the story tray `feed/user/{id}/story/`.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::answers::{fail, json_response};
use super::publish::{
    check_photo, check_video, configure_faults, invalid_parameters, media_json, text,
};
use super::state::{Answer, Faults, Sim};
use crate::wire::parse_signed;

/// How long a story stays in the tray.
const STORY_LIFETIME: Duration = Duration::hours(24);

impl Sim {
    pub(super) fn configure_story(
        &self,
        username: &str,
        pk: u64,
        video: bool,
        body: &Bytes,
        faults: &Faults,
    ) -> Answer {
        let v = parse_signed(body).ok_or_else(invalid_parameters)?;
        let upload_id = text(&v, "upload_id");
        check_story_body(&v, pk, video)?;
        configure_faults(faults)?;
        let file = {
            let mut g = self.lock();
            if video {
                check_video(&mut g.uploads, username, &upload_id, Some(false), false)?.0
            } else {
                check_photo(&g.uploads, username, &upload_id)?
            }
        };
        // A video story has no caption field; instagrapi drops it.
        let caption = if video {
            String::new()
        } else {
            text(&v, "caption")
        };
        let mut record = self.new_media(username, pk, "story", caption, upload_id);
        record.story_kind = Some(if video { "video" } else { "photo" }.to_owned());
        record.files = vec![file];
        self.publish(record, pk, faults)
    }

    /// `feed/user/{id}/story/`: the account's stories of the last day, `reel: null` when
    /// there are none.
    pub(super) fn story_tray(&self, path: &str) -> Answer {
        let pk: Option<u64> = path
            .trim_start_matches("/api/v1/feed/user/")
            .split('/')
            .next()
            .and_then(|id| id.parse().ok());
        let owner = {
            let g = self.lock();
            pk.and_then(|pk| g.accounts.values().find(|a| a.pk == pk))
                .map(|a| (a.pk, a.cfg.username.clone()))
        };
        let Some((pk, username)) = owner else {
            return Err(fail(
                StatusCode::NOT_FOUND,
                json!({"message": "User not found", "status": "fail"}),
            ));
        };
        let since = Utc::now() - STORY_LIFETIME;
        let items: Vec<Value> = self
            .media(Some(&username))
            .iter()
            .filter(|m| m.media_type == "story" && m.created_at >= since)
            .map(|m| media_json(m, pk))
            .collect();
        let reel = match items.last() {
            None => Value::Null,
            Some(last) => json!({
                "id": pk, "user": {"pk": pk, "username": username},
                "latest_reel_media": last["taken_at"], "items": items,
            }),
        };
        Ok(json_response(
            StatusCode::OK,
            json!({"reel": reel, "status": "ok"}),
        ))
    }
}

/// What a story's configure must carry: the poster's id, the upload, and the story's
/// constants (`configure_mode` 1 is "to my story").
fn check_story_body(v: &Value, pk: u64, video: bool) -> Result<(), Response> {
    let uid_ok = match v.get("_uid") {
        Some(Value::String(s)) => s.parse() == Ok(pk),
        Some(Value::Number(n)) => n.as_u64() == Some(pk),
        _ => false,
    };
    let kind_ok = v.get("original_media_type").and_then(Value::as_str)
        == Some(if video { "video" } else { "photo" });
    let mode_ok = v.get("configure_mode").and_then(Value::as_str) == Some("1");
    let caps_ok = v
        .get("supported_capabilities_new")
        .and_then(Value::as_str)
        .is_some_and(|c| serde_json::from_str::<Value>(c).is_ok_and(|j| j.is_array()));
    if uid_ok && kind_ok && mode_ok && caps_ok {
        Ok(())
    } else {
        Err(invalid_parameters())
    }
}
