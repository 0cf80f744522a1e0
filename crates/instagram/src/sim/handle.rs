//! How a request reaches its answer: the faults every request meets, the app's headers,
//! then the endpoint, and for everything but login a live session.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::answers::{
    bad_upload, dropped_connection, fail, json_response, login_required, server_error_page,
    suspended,
};
use super::publish::media_json;
use super::state::{Answer, Faults, Sim, header, user_json};
use crate::app_profile::APP_ID;
use crate::wire::parse_signed;

impl Sim {
    pub(super) async fn handle(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        self.lock().requests += 1;
        let path = uri.path().to_owned();
        let query = uri.query().unwrap_or_default().to_owned();
        let user = self.session_user(&headers);
        // Before a session exists, the account is named in the login body itself.
        let login_user = if path == "/api/v1/accounts/login/" {
            parse_signed(&body)
                .and_then(|v| v.get("username").and_then(Value::as_str).map(str::to_owned))
        } else if path.starts_with("/api/v1/bloks/async_action/") {
            form_urlencoded::parse(&body)
                .find(|(k, _)| k == "params")
                .and_then(|(_, v)| serde_json::from_str::<Value>(&v).ok())
                .and_then(|v| {
                    let ci = v.get("client_input_params")?;
                    ci.get("contact_point")
                        .or_else(|| ci.get("username_input"))?
                        .as_str()
                        .map(str::to_owned)
                })
        } else {
            None
        };
        let faults = self.faults_for(user.as_deref().or(login_user.as_deref()));
        if let Some(ms) = faults.slow_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if faults.server_error {
            return server_error_page();
        }
        if faults.throttle {
            return StatusCode::TOO_MANY_REQUESTS.into_response();
        }
        // The password key is fetched with the web session (instagrapi's
        // `password_publickeys`), and Instagram hands it to any client.
        if !path.starts_with("/graphql_www")
            && path != "/api/v1/qe/sync/"
            && let Err(r) = check_app_headers(&headers)
        {
            return r;
        }
        let result = match (method.clone(), path.as_str()) {
            (_, "/api/v1/qe/sync/") => Ok(self.qe_sync()),
            (Method::POST, "/api/v1/launcher/sync/") => Ok(json_response(
                StatusCode::OK,
                json!({"configs": {}, "status": "ok"}),
            )),
            (Method::POST, "/api/v1/accounts/login/") => self.login(&headers, &body, &faults),
            (Method::POST, "/api/v1/accounts/two_factor_login/") => self.two_factor(&body),
            (Method::POST, "/graphql_www") => self.graphql(&body),
            (Method::POST, "/api/v1/attestation/create_android_keystore/") => self.keystore(&body),
            (Method::POST, p) if p.starts_with("/api/v1/bloks/async_action/") => {
                self.bloks(p, &headers, &body)
            }
            (_, p) if p.starts_with("/api/v1/challenge/") => self.challenge(&method, p, &body),
            _ => {
                self.authenticated(&method, &path, &query, &headers, &body, user, &faults)
                    .await
            }
        };
        result.unwrap_or_else(|e| e)
    }

    /// Everything that needs a live session.
    #[allow(clippy::too_many_arguments)]
    async fn authenticated(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &Bytes,
        user: Option<String>,
        faults: &Faults,
    ) -> Answer {
        let username = user.ok_or_else(login_required)?;
        {
            let mut g = self.lock();
            let Some(acc) = g.accounts.get_mut(&username) else {
                return Err(login_required());
            };
            acc.calls += 1;
            if let Some(n) = faults.session_expires_after
                && acc.calls > n
            {
                g.sessions.retain(|_, u| *u != username);
                return Err(login_required());
            }
        }
        if faults.banned {
            return Err(suspended());
        }
        let pk = self
            .lock()
            .accounts
            .get(&username)
            .map(|a| a.pk)
            .unwrap_or(0);
        match (method.clone(), path) {
            (Method::GET, "/api/v1/accounts/current_user/") => {
                let user = self
                    .lock()
                    .accounts
                    .get(&username)
                    .map(user_json)
                    .unwrap_or(Value::Null);
                Ok(json_response(
                    StatusCode::OK,
                    json!({"user": user, "status": "ok"}),
                ))
            }
            (Method::POST, "/api/v1/accounts/logout/") => {
                self.lock().sessions.retain(|_, u| *u != username);
                Ok(json_response(StatusCode::OK, json!({"status": "ok"})))
            }
            (Method::POST, "/api/v1/feed/reels_tray/") => Ok(json_response(
                StatusCode::OK,
                json!({"tray": [], "status": "ok"}),
            )),
            (Method::POST, "/api/v1/feed/timeline/") => Ok(json_response(
                StatusCode::OK,
                json!({"feed_items": [], "more_available": false, "status": "ok"}),
            )),
            (Method::GET, p) if p.starts_with("/api/v1/feed/user/") && p.ends_with("/story/") => {
                self.story_tray(p)
            }
            (Method::GET, p) if p.starts_with("/api/v1/feed/user/") => {
                Ok(self.user_feed(&username, pk))
            }
            (_, p)
                if (p.starts_with("/rupload_igphoto/") || p.starts_with("/rupload_igvideo/"))
                    && (faults.upload_error || faults.drop_during_upload) =>
            {
                if faults.drop_during_upload {
                    Err(dropped_connection())
                } else {
                    Err(server_error_page())
                }
            }
            (Method::POST, p) if p.starts_with("/rupload_igphoto/") => {
                self.rupload_photo(&username, headers, body)
            }
            (_, p) if p.starts_with("/rupload_igvideo/") => {
                self.rupload_video(method, &username, headers, body).await
            }
            (Method::POST, p) if p.starts_with("/upload_settings/") => {
                serde_json::from_slice::<Value>(body)
                    .ok()
                    .filter(|v| v.get("composer_session_id").is_some())
                    .map(|_| json_response(StatusCode::OK, json!({"status": "ok"})))
                    .ok_or_else(|| bad_upload("upload settings are not JSON"))
            }
            (Method::POST, "/api/v1/media/configure/") => {
                let kind = if query.contains("video=1") {
                    "video"
                } else {
                    "photo"
                };
                self.configure(&username, pk, kind, body, faults)
            }
            (Method::POST, "/api/v1/media/configure_to_clips/") => {
                self.configure(&username, pk, "reel", body, faults)
            }
            (Method::POST, "/api/v1/media/configure_sidecar/") => {
                self.configure(&username, pk, "carousel", body, faults)
            }
            (Method::POST, "/api/v1/media/configure_to_story/") => {
                let video = query.contains("video=1");
                self.configure_story(&username, pk, video, body, faults)
            }
            _ => self
                .social(method, path, query, body, &username, faults)
                .unwrap_or_else(|| {
                    Err(json_response(
                        StatusCode::NOT_FOUND,
                        json!({"message": "Page not found", "status": "fail"}),
                    ))
                }),
        }
    }
}

impl Sim {
    /// `feed/user/{id}/`: the account's posts, newest first (stories are in the tray).
    fn user_feed(&self, username: &str, pk: u64) -> Response {
        let items: Vec<Value> = self
            .media(Some(username))
            .iter()
            .rev()
            .filter(|m| m.media_type != "story")
            .map(|m| media_json(m, pk))
            .collect();
        json_response(
            StatusCode::OK,
            json!({"items": items, "num_results": items.len(), "more_available": false, "status": "ok"}),
        )
    }
}

/// The app's standard headers (§3.3): a request without them is not from the Android app.
fn check_app_headers(h: &HeaderMap) -> Result<(), Response> {
    let ua_ok = header(h, "user-agent").is_some_and(|ua| {
        ua.starts_with("Instagram ") && ua.contains(" Android (") && ua.ends_with(')')
    });
    let app_ok = header(h, "x-ig-app-id") == Some(APP_ID);
    let bloks_ok = header(h, "x-bloks-version-id")
        .is_some_and(|b| b.len() == 64 && b.chars().all(|c| c.is_ascii_hexdigit()));
    let ids_ok = [
        "x-ig-device-id",
        "x-ig-family-device-id",
        "x-ig-android-id",
        "x-pigeon-session-id",
    ]
    .iter()
    .all(|k| header(h, k).is_some_and(|v| !v.is_empty()));
    if ua_ok && app_ok && bloks_ok && ids_ok {
        Ok(())
    } else {
        Err(fail(
            StatusCode::BAD_REQUEST,
            json!({"message":"useragent mismatch","status":"fail"}),
        ))
    }
}
