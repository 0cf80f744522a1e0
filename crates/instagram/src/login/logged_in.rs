//! What every login does once Instagram has said yes: check that a session came with the
//! answer, note the time, and open the app's first screens as the app does (§4.9).

use bytes::Bytes;
use chrono::Utc;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::request::Body;
use crate::client::{InstagramClient, now_ms};
use crate::error::IgError;
use crate::types::{AccountInfo, LoginOutcome};
use crate::wire::{compact_json, py_json};

impl InstagramClient {
    /// The login's end, whichever way it went: the account from the answer (or the
    /// session), the token required, the time noted, then the warm-up.
    pub(super) async fn logged_in(&mut self, v: &Value) -> Result<LoginOutcome, IgError> {
        let info = account_info(v.get("logged_in_user").unwrap_or(&Value::Null))
            .or_else(|| {
                Some(AccountInfo {
                    user_id: self.session.user_id()?,
                    username: String::new(),
                })
            })
            .ok_or_else(|| IgError::Protocol("login answered without a user".into()))?;
        if !self.session.is_logged_in() {
            return Err(IgError::Protocol(
                "login answered without an authorization token".into(),
            ));
        }
        self.session.last_login = Some(Utc::now().timestamp_millis() as f64 / 1000.0);
        self.warm_up().await;
        Ok(LoginOutcome::LoggedIn(info))
    }

    /// The app's first screens after login (§4.9), as instagrapi's `login_flow`:
    /// `get_reels_tray_feed("cold_start")`, then `get_timeline_feed(["cold_start_fetch"])`.
    /// Failures here do not undo the login.
    async fn warm_up(&mut self) {
        let s = &self.session;
        let tray = json!({
            "supported_capabilities_new": [
                {"value": "119.0,120.0,121.0,122.0,123.0,124.0,125.0,126.0,127.0,128.0,129.0,130.0,131.0,132.0,133.0,134.0,135.0,136.0,137.0,138.0,139.0,140.0,141.0,142.0", "name": "SUPPORTED_SDK_VERSIONS"},
                {"value": "14", "name": "FACE_TRACKER_VERSION"},
                {"value": "ETC2_COMPRESSION", "name": "COMPRESSION"},
                {"value": "gyroscope_enabled", "name": "gyroscope"}
            ],
            "reason": "cold_start",
            "timezone_offset": s.timezone_offset.to_string(),
            "tray_session_id": s.uuids.tray_session_id,
            "request_id": s.uuids.request_id,
            "page_size": 50,
            "_uuid": s.uuids.uuid,
            "reel_tray_impressions": {},
        });
        let now = now_ms().to_string();
        // Drawn before any await: the thread's generator cannot be held across one.
        let (charging, sound, latency) = {
            let mut rng = rand::rng();
            (
                rng.random_range(0..=1),
                rng.random_range(0..=1),
                rng.random_range(1..=5),
            )
        };
        let timeline = json!({
            "app_start_time": now,
            "has_camera_permission": "1",
            "feed_view_info": "[]",
            "client_recorded_request_time_ms": now,
            "client_seen_store_media_list": "",
            "client_view_state_media_list": "[]",
            "device_timezone_name": s.timezone_name.clone().unwrap_or_else(|| crate::session::timezone_name(s.timezone_offset)),
            "feed_reshare_info": "",
            "phone_id": s.uuids.phone_id,
            // instagrapi passes the reason as a list here.
            "reason": ["cold_start_fetch"],
            "battery_level": 100,
            "timezone_offset": s.timezone_offset.to_string(),
            "device_id": s.uuids.uuid,
            "include_attribution_ui_data": "true",
            "push_disabled": s.push_disabled.to_string(),
            "request_id": s.uuids.request_id,
            "request_build_time": now,
            "_uuid": s.uuids.uuid,
            "is_charging": charging,
            "is_dark_mode": 1,
            "will_sound_on": sound,
            "session_id": s.uuids.client_session_id,
            "session_level_signals": compact_json(&session_level_signals()),
            "bloks_versioning_id": s.device_settings.bloks_versioning_id,
            "is_pull_to_refresh": "0",
        });
        let headers = vec![
            ("X-Ads-Opt-Out", "0".to_owned()),
            ("X-DEVICE-ID", s.uuids.uuid.clone()),
            ("X-CM-Bandwidth-KBPS", "-1.000".to_owned()),
            ("X-CM-Latency", latency.to_string()),
        ];
        let url = self.api("feed/reels_tray/");
        if let Err(e) = self
            .call(Method::POST, url, Body::Signed(tray), vec![], false)
            .await
        {
            tracing::debug!(error = %e, "reels tray warm-up failed");
        }
        let url = self.api("feed/timeline/");
        // `json.dumps(data)` posted as the form body, unsigned.
        let raw = Body::Raw(Bytes::from(py_json(&timeline)));
        if let Err(e) = self.call(Method::POST, url, raw, headers, false).await {
            tracing::debug!(error = %e, "timeline warm-up failed");
        }
    }
}

/// What the timeline request says of the app session (`_timeline_session_level_signals_json`):
/// a fresh session with no activity.
fn session_level_signals() -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in [
        ("time_since_current_surface_session_start", 0),
        ("time_since_fg_session_start", 0),
        ("time_since_last_background", 0),
        ("num_ad_seen_current_surface_current_session", 0),
    ] {
        m.insert(k.into(), json!(v));
    }
    m.insert("app_entry".into(), json!("normal"));
    m.insert("last_surfaces_visited_current_session".into(), json!([]));
    for k in [
        "video_play_count",
        "video_pause_count",
        "video_dwell_time_sum",
        "video_dwell_time_max",
        "video_view_count",
        "video_intentional_audio_on",
        "video_intentional_audio_off",
        "video_audio_on_count",
        "feed_to_reels_iv_entry",
    ] {
        m.insert(k.into(), json!(0));
    }
    for k in [
        "time_since_last_ad_click",
        "time_since_last_ad_like",
        "time_since_last_organic_like",
        "time_since_last_like",
        "time_since_last_organic_business_profile_visit",
        "time_since_last_ad_imp",
        "time_since_last_search",
        "time_since_last_organic_engagement_event",
        "time_since_last_ad_profile_visit",
        "time_since_last_ad_cta",
        "time_since_last_ad_caption_more_click",
        "time_since_last_ad_comment_button",
        "time_since_last_ad_share",
        "time_since_last_ad_media_tap",
        "time_since_last_ad_gesture",
        "time_since_last_search_result_click",
        "time_since_last_serp_click",
        "time_since_last_organic_share",
        "time_since_last_organic_comment",
        "time_since_last_organic_caption_click",
        "time_since_last_organic_media_tap",
        "time_since_last_organic_gesture",
    ] {
        m.insert(k.into(), json!(-1));
    }
    m.insert("num_search_clicks_current_session".into(), json!(0));
    Value::Object(m)
}

/// The account in a `user` or `logged_in_user` object.
pub(super) fn account_info(user: &Value) -> Option<AccountInfo> {
    let pk = match user.get("pk")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(AccountInfo {
        user_id: pk,
        username: user.get("username")?.as_str()?.to_owned(),
    })
}
