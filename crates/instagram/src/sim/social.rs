//! The simulator's lookups and comments: `users/{username}/usernameinfo/`,
//! `location_search/` (seeded venues within about a kilometre, nearest first, then one for
//! the point itself), and a media's comments (`comment/`, `pin_comment/`,
//! `unpin_comment/`, `comments/`), with the `comment_failures` fault.

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use super::answers::{fail, json_response, server_error_page};
use super::state::{
    Account, Answer, Faults, Inner, Sim, SimComment, SimMedia, SimVenue, user_json,
};
use crate::crypto::hmac_sha256;
use crate::wire::parse_signed;

/// How far `location_search` looks around the point, in metres.
const SEARCH_RADIUS_M: f64 = 1000.0;
/// The key the app signs a comment's breadcrumb with (instagrapi's constant).
const BREADCRUMB_KEY: &[u8] = b"iN4$aGr0m";
/// Instagram lets an owner pin up to three comments.
const MAX_PINNED: usize = 3;

fn refuse(status: StatusCode, message: &str) -> Response {
    fail(status, json!({"message": message, "status": "fail"}))
}

fn media_not_found() -> Response {
    // instagrapi reads this message as `MediaUnavailable`.
    refuse(StatusCode::BAD_REQUEST, "Media not found or unavailable")
}

/// A venue's id, stable for the same name and point across runs (FNV-1a, in the range of
/// Facebook place ids).
pub(super) fn venue_id(name: &str, lat: f64, lng: f64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{name}|{lat}|{lng}").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    100_000_000_000_000 + h % 900_000_000_000_000
}

/// The distance between two points in metres (haversine).
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

fn venue_json(v: &SimVenue) -> Value {
    json!({
        "external_id": v.external_id, "external_id_source": "facebook_places",
        "facebook_places_id": v.external_id,
        "name": v.name, "address": v.address, "lat": v.lat, "lng": v.lng,
    })
}

/// A comment as `extract_comment` reads it.
fn comment_json(c: &SimComment) -> Value {
    json!({
        "pk": c.pk, "text": c.text, "type": 0,
        "user": {"pk": c.user_pk.to_string(), "username": c.username},
        "created_at_utc": c.created_at.timestamp(), "content_type": "comment",
        "status": "Active", "is_pinned": c.pinned,
    })
}

/// The media a path names by `{pk}_{owner}` or `{pk}`.
fn find_media<'a>(g: &'a mut Inner, id: &str) -> Option<&'a mut SimMedia> {
    g.media.iter_mut().find(|m| m.media_id == id || m.pk == id)
}

/// `user_breadcrumb`: `b'<base64 HMAC>'\nb'<base64 "size elapsed count time">'\n`, signed with
/// the app's key, its size the comment's length in characters.
fn breadcrumb_ok(crumb: &str, text: &str) -> bool {
    let inner = |l: &str| {
        l.strip_prefix("b'")
            .and_then(|l| l.strip_suffix('\''))
            .map(str::to_owned)
    };
    let lines: Vec<&str> = crumb.split('\n').collect();
    let (Some(sig), Some(data)) = (
        lines.first().and_then(|l| inner(l)),
        lines.get(1).and_then(|l| inner(l)),
    ) else {
        return false;
    };
    let Some(data) = STANDARD
        .decode(data)
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
    else {
        return false;
    };
    let size = data.split(' ').next().and_then(|s| s.parse::<usize>().ok());
    lines.len() == 3
        && lines[2].is_empty()
        && size == Some(text.chars().count())
        && data.split(' ').count() == 4
        && STANDARD.encode(hmac_sha256(BREADCRUMB_KEY, data.as_bytes())) == sig
}

impl Sim {
    /// The social endpoints, or `None` when the path is none of them.
    pub(super) fn social(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        body: &Bytes,
        username: &str,
        faults: &Faults,
    ) -> Option<Answer> {
        if *method == Method::GET && path == "/api/v1/location_search/" {
            return Some(self.location_search(query));
        }
        if let Some(name) = path
            .strip_prefix("/api/v1/users/")
            .and_then(|p| p.strip_suffix("/usernameinfo/"))
            .filter(|_| *method == Method::GET)
        {
            return Some(self.usernameinfo(name));
        }
        let rest = path.strip_prefix("/api/v1/media/")?;
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        match (method.clone(), parts.as_slice()) {
            (Method::POST, [id, "comment"]) => Some(self.comment(username, id, body, faults)),
            (Method::GET, [id, "comments"]) => Some(self.comments(id)),
            (Method::POST, [id, "pin_comment", pk]) => Some(self.pin(username, id, pk, true)),
            (Method::POST, [id, "unpin_comment", pk]) => Some(self.pin(username, id, pk, false)),
            _ => None,
        }
    }

    /// Seeds a venue for `location_search`; its id is derived from its name and point.
    pub(super) fn add_venue(&self, mut v: SimVenue) -> SimVenue {
        v.external_id = venue_id(&v.name, v.lat, v.lng);
        let mut g = self.lock();
        g.venues.retain(|o| o.external_id != v.external_id);
        g.venues.push(v.clone());
        v
    }

    fn usernameinfo(&self, name: &str) -> Answer {
        let name = name.to_lowercase();
        let g = self.lock();
        let Some(a) = g
            .accounts
            .values()
            .find(|a| a.cfg.username.to_lowercase() == name)
        else {
            return Err(refuse(StatusCode::NOT_FOUND, "User not found"));
        };
        let posts = g
            .media
            .iter()
            .filter(|m| m.username == a.cfg.username && m.media_type != "story")
            .count();
        Ok(json_response(
            StatusCode::OK,
            json!({"user": profile_json(a, posts), "status": "ok"}),
        ))
    }

    fn location_search(&self, query: &str) -> Answer {
        let get = |k: &str| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .filter(|x| x.is_finite())
        };
        let (Some(lat), Some(lng)) = (get("latitude"), get("longitude")) else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "Invalid latitude or longitude.",
            ));
        };
        let mut near: Vec<(f64, SimVenue)> = self
            .lock()
            .venues
            .iter()
            .map(|v| (distance_m((lat, lng), (v.lat, v.lng)), v.clone()))
            .filter(|(d, _)| *d <= SEARCH_RADIUS_M)
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let name = format!("{lat:.4}, {lng:.4}");
        let point = SimVenue {
            external_id: venue_id(&name, lat, lng),
            name,
            address: String::new(),
            lat,
            lng,
        };
        let venues: Vec<Value> = near
            .iter()
            .map(|(_, v)| v)
            .chain(std::iter::once(&point))
            .map(venue_json)
            .collect();
        Ok(json_response(
            StatusCode::OK,
            json!({"venues": venues, "request_id": "sim", "rank_token": "sim", "status": "ok"}),
        ))
    }

    /// `media/{id}/comment/`: the comment is stored unless the media is gone, its comments
    /// are off, the body is not the app's, or the `comment_failures` fault answers 500.
    fn comment(&self, username: &str, id: &str, body: &Bytes, faults: &Faults) -> Answer {
        let bad = || refuse(StatusCode::BAD_REQUEST, "Invalid Parameters");
        let v = parse_signed(body).ok_or_else(bad)?;
        let text = v
            .get("comment_text")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(bad)?;
        let token = v
            .get("idempotence_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let crumb = v
            .get("user_breadcrumb")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut g = self.lock();
        let Some(acc) = g.accounts.get_mut(username) else {
            return Err(bad());
        };
        let pk = acc.pk;
        if acc.comment_failures_served < faults.comment_failures {
            acc.comment_failures_served += 1;
            return Err(server_error_page());
        }
        let named = v.get("media_id").and_then(Value::as_str);
        let uid = v.get("_uid").and_then(Value::as_str);
        if named != Some(id) || uid != Some(pk.to_string().as_str()) || !breadcrumb_ok(crumb, text)
        {
            return Err(bad());
        }
        let next = g.next_comment_pk + rand::rng().random_range(1..1000);
        let media = find_media(&mut g, id).ok_or_else(media_not_found)?;
        if media.comments_disabled {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "Comments on this post have been limited.",
            ));
        }
        // The same idempotence token twice is the same comment (a retried request).
        if let Some(c) = media
            .comments
            .iter()
            .find(|c| !token.is_empty() && c.token == token)
        {
            let c = comment_json(c);
            return Ok(json_response(
                StatusCode::OK,
                json!({"comment": c, "status": "ok"}),
            ));
        }
        let c = SimComment {
            pk: next.to_string(),
            username: username.to_owned(),
            text: text.to_owned(),
            pinned: false,
            created_at: Utc::now(),
            user_pk: pk,
            token: token.to_owned(),
        };
        let answer = comment_json(&c);
        media.comments.push(c);
        g.next_comment_pk = next;
        Ok(json_response(
            StatusCode::OK,
            json!({"comment": answer, "status": "ok"}),
        ))
    }

    /// `media/{id}/comments/`: every comment on one page, oldest first.
    fn comments(&self, id: &str) -> Answer {
        let mut g = self.lock();
        let media = find_media(&mut g, id).ok_or_else(media_not_found)?;
        let list: Vec<Value> = media.comments.iter().map(comment_json).collect();
        Ok(json_response(
            StatusCode::OK,
            json!({
                "comments": list, "comment_count": list.len(), "caption": null,
                "has_more_comments": false, "has_more_headload_comments": false,
                "status": "ok",
            }),
        ))
    }

    /// `media/{id}/pin_comment/{pk}/` (or `unpin_comment`): only on one's own media.
    fn pin(&self, username: &str, id: &str, comment_pk: &str, pin: bool) -> Answer {
        let mut g = self.lock();
        let media = find_media(&mut g, id).ok_or_else(media_not_found)?;
        if media.username != username {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "You can only pin comments on your own posts.",
            ));
        }
        let pinned = media.comments.iter().filter(|c| c.pinned).count();
        let Some(c) = media.comments.iter_mut().find(|c| c.pk == comment_pk) else {
            return Err(refuse(StatusCode::BAD_REQUEST, "Comment not found."));
        };
        if pin && !c.pinned && pinned >= MAX_PINNED {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "You can pin up to 3 comments.",
            ));
        }
        c.pinned = pin;
        Ok(json_response(StatusCode::OK, json!({"status": "ok"})))
    }
}

/// The user object of `usernameinfo`, with every field instagrapi's `User` requires.
fn profile_json(a: &Account, posts: usize) -> Value {
    let mut u = user_json(a);
    if let Some(m) = u.as_object_mut() {
        for (k, v) in [
            ("media_count", json!(posts)),
            ("follower_count", json!(0)),
            ("following_count", json!(0)),
            ("account_type", json!(1)),
            ("has_anonymous_profile_picture", json!(true)),
        ] {
            m.insert(k.into(), v);
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_ids_are_stable_and_look_like_facebook_places() {
        let a = venue_id("Cafe X", 40.7128, -74.006);
        assert_eq!(a, venue_id("Cafe X", 40.7128, -74.006));
        assert_ne!(a, venue_id("Cafe Y", 40.7128, -74.006));
        assert_eq!(a.to_string().len(), 15);
    }

    #[test]
    fn distances_are_in_metres() {
        let d = distance_m((40.7128, -74.006), (40.7218, -74.006));
        assert!((990.0..1010.0).contains(&d), "{d}");
    }

    #[test]
    fn breadcrumbs_are_checked_against_the_text() {
        let data = "5 3000 1.25 1796663538204";
        let sig = STANDARD.encode(hmac_sha256(BREADCRUMB_KEY, data.as_bytes()));
        let crumb = format!("b'{sig}'\nb'{}'\n", STANDARD.encode(data));
        assert!(breadcrumb_ok(&crumb, "héllo"));
        assert!(!breadcrumb_ok(&crumb, "hello!"));
        assert!(!breadcrumb_ok(&crumb.replace("b'", "'"), "hello"));
    }
}
