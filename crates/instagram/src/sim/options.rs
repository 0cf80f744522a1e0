//! The options of a configure body, read and checked as Instagram would (`location`,
//! `usertags` per item, `invite_coauthor_user_ids`, `custom_accessibility_caption`,
//! `disable_comments`, `like_and_view_counts_disabled`, `clips_share_preview_to_feed`), and
//! echoed in the answer's media the way instagrapi reads them back (a photo whose tags are
//! missing from the answer makes instagrapi edit the post).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answers::fail;
use super::state::{Account, SimLocation, SimMedia, SimUsertag};

/// Instagram's limits: people tagged per item, collaborators per post.
const MAX_TAGS_PER_ITEM: usize = 20;
const MAX_COAUTHORS: usize = 3;

/// What a configure body asked for beside the media and caption.
#[derive(Debug, Default)]
pub(super) struct PostOptions {
    pub(super) location: Option<SimLocation>,
    pub(super) usertags: Vec<SimUsertag>,
    /// (user id, username) of each collaborator.
    pub(super) coauthors: Vec<(u64, String)>,
    /// One entry per item.
    pub(super) alt_texts: Vec<Option<String>>,
    pub(super) comments_disabled: bool,
    pub(super) likes_hidden: bool,
    pub(super) share_to_feed: bool,
}

impl PostOptions {
    /// Writes the options into the record of the post.
    pub(super) fn apply(self, m: &mut SimMedia) {
        m.location = self.location;
        m.usertags = self.usertags;
        m.coauthors = self.coauthors.iter().map(|(_, u)| u.clone()).collect();
        m.coauthor_pks = self.coauthors.into_iter().map(|(pk, _)| pk).collect();
        m.accessibility_captions = self.alt_texts;
        m.comments_disabled = self.comments_disabled;
        m.like_and_view_counts_disabled = self.likes_hidden;
        m.share_to_feed = self.share_to_feed;
    }
}

/// Instagram's refusal of a bad option: 400 `{"message": …, "status": "fail"}`.
fn refuse(message: &str) -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        json!({"message": message, "status": "fail"}),
    )
}

/// Reads and checks the options of a configure body of `kind` (`photo`, `video`, `reel`,
/// `carousel`) posted by the account `poster`.
pub(super) fn read(
    v: &Value,
    kind: &str,
    poster: u64,
    accounts: &HashMap<String, Account>,
) -> Result<PostOptions, Response> {
    let by_pk = |pk: u64| {
        accounts
            .values()
            .find(|a| a.pk == pk)
            .map(|a| a.cfg.username.clone())
    };
    let mut o = PostOptions {
        location: location(v.get("location"))?,
        comments_disabled: flag(v, "disable_comments")?,
        likes_hidden: flag(v, "like_and_view_counts_disabled")?,
        share_to_feed: true,
        ..PostOptions::default()
    };
    if kind == "carousel" {
        let children = v
            .get("children_metadata")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, child) in children.iter().enumerate() {
            o.alt_texts.push(alt_text(child)?);
            o.usertags
                .extend(usertags(child.get("usertags"), i, &by_pk)?);
        }
    } else {
        o.alt_texts.push(alt_text(v)?);
        o.usertags = usertags(v.get("usertags"), 0, &by_pk)?;
    }
    if kind == "reel" {
        o.share_to_feed = match v.get("clips_share_preview_to_feed") {
            None => true,
            Some(Value::String(s)) if s == "1" => true,
            Some(Value::String(s)) if s == "0" => false,
            Some(_) => return Err(refuse("Invalid clips_share_preview_to_feed.")),
        };
    }
    o.coauthors = coauthors(v.get("invite_coauthor_user_ids"), poster, &by_pk)?;
    Ok(o)
}

/// `location`: a JSON string (`{}` for none) naming at least the place's name.
fn location(v: Option<&Value>) -> Result<Option<SimLocation>, Response> {
    let bad = || refuse("Invalid location.");
    let text = match v {
        None => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(bad()),
    };
    let loc: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let Some(m) = loc.as_object() else {
        return Err(bad());
    };
    if m.is_empty() {
        return Ok(None);
    }
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(bad)?;
    let coord = |k: &str, limit: f64| match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_f64()
            .filter(|c| c.abs() <= limit)
            .map(Some)
            .ok_or_else(bad),
    };
    let id = match m.get("facebook_places_id") {
        None | Some(Value::Null) => None,
        Some(x) => Some(x.as_u64().ok_or_else(bad)?),
    };
    Ok(Some(SimLocation {
        name: name.to_owned(),
        address: m.get("address").and_then(Value::as_str).map(str::to_owned),
        lat: coord("lat", 90.0)?,
        lng: coord("lng", 180.0)?,
        facebook_places_id: id,
    }))
}

/// `custom_accessibility_caption`: a string when present.
fn alt_text(v: &Value) -> Result<Option<String>, Response> {
    match v.get("custom_accessibility_caption") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(refuse("Invalid custom_accessibility_caption.")),
    }
}

/// A user id as clients send it: a string of digits (instagrapi) or a number.
fn user_id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// `usertags`: the JSON string `{"in": [{"user_id", "position": [x, y]}]}` of item `index`,
/// each user an existing account, each position inside the item.
fn usertags(
    v: Option<&Value>,
    index: usize,
    by_pk: &dyn Fn(u64) -> Option<String>,
) -> Result<Vec<SimUsertag>, Response> {
    let bad = || refuse("Invalid usertags.");
    let text = match v {
        None => return Ok(Vec::new()),
        Some(Value::String(s)) => s,
        Some(_) => return Err(bad()),
    };
    let tags: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let list = tags.get("in").and_then(Value::as_array).ok_or_else(bad)?;
    if list.len() > MAX_TAGS_PER_ITEM {
        return Err(refuse(
            "You can tag up to 20 people in each photo or video.",
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let pk = t.get("user_id").and_then(user_id).ok_or_else(bad)?;
        let username = by_pk(pk).ok_or_else(|| refuse("The user you tagged does not exist."))?;
        let pos: Vec<f64> = t
            .get("position")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        let [x, y] = pos[..] else {
            return Err(bad());
        };
        if !(0.0..=1.0).contains(&x) || !(0.0..=1.0).contains(&y) {
            return Err(refuse("A tag is outside the photo or video."));
        }
        out.push(SimUsertag {
            username,
            x,
            y,
            media_index: index,
            user_pk: pk,
        });
    }
    Ok(out)
}

/// `invite_coauthor_user_ids`: a JSON array of at most three other existing users.
fn coauthors(
    v: Option<&Value>,
    poster: u64,
    by_pk: &dyn Fn(u64) -> Option<String>,
) -> Result<Vec<(u64, String)>, Response> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(refuse("Invalid invite_coauthor_user_ids.")),
    };
    if list.len() > MAX_COAUTHORS {
        return Err(refuse("You can invite up to 3 collaborators."));
    }
    let mut out: Vec<(u64, String)> = Vec::new();
    for id in list {
        let pk = user_id(id).ok_or_else(|| refuse("Invalid invite_coauthor_user_ids."))?;
        if pk == poster {
            return Err(refuse("You can't invite yourself as a collaborator."));
        }
        let username = by_pk(pk).ok_or_else(|| refuse("The collaborator does not exist."))?;
        if !out.iter().any(|(p, _)| *p == pk) {
            out.push((pk, username));
        }
    }
    Ok(out)
}

/// A switch: `1`, `"1"` or `true` turns it on; `0`, `"0"`, `false` or no key leaves it off.
fn flag(v: &Value, key: &str) -> Result<bool, Response> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::String(s)) if s == "1" => Ok(true),
        Some(Value::String(s)) if s == "0" => Ok(false),
        Some(_) => Err(refuse(&format!("Invalid {key}."))),
    }
}

/// The answer's `usertags` of item `index`, as `extract_usertag` reads them back: the same
/// floats as were sent.
fn tags_json(m: &SimMedia, index: usize) -> Value {
    let tags: Vec<Value> = m
        .usertags
        .iter()
        .filter(|t| t.media_index == index)
        .map(|t| {
            json!({
                "user": {"pk": t.user_pk.to_string(), "username": t.username},
                "position": [t.x, t.y],
            })
        })
        .collect();
    json!({ "in": tags })
}

/// The options in configure's answer (and the feed's items), where instagrapi's
/// `extract_media_v1` reads them; a carousel's per-item ones in `carousel_media`.
pub(super) fn echo(m: &SimMedia, owner: u64, out: &mut Map<String, Value>) {
    let location = m.location.as_ref().map(|l| {
        json!({
            "pk": l.facebook_places_id, "name": l.name, "address": l.address,
            "lat": l.lat, "lng": l.lng, "facebook_places_id": l.facebook_places_id,
            "external_source": l.facebook_places_id.map(|_| "facebook_places"),
        })
    });
    out.insert("location".into(), location.unwrap_or(Value::Null));
    let coauthors: Vec<Value> = m
        .coauthor_pks
        .iter()
        .zip(&m.coauthors)
        .map(|(pk, name)| json!({"pk": pk.to_string(), "username": name}))
        .collect();
    out.insert("coauthor_producers".into(), Value::Array(coauthors));
    out.insert("comments_disabled".into(), json!(m.comments_disabled));
    out.insert(
        "like_and_view_counts_disabled".into(),
        json!(m.like_and_view_counts_disabled),
    );
    out.insert("comment_count".into(), json!(m.comments.len()));
    let alt = |i: usize| m.accessibility_captions.get(i).cloned().flatten();
    if m.media_type == "carousel" {
        let items: Vec<Value> = (0..m.children)
            .map(|i| {
                json!({
                    "pk": format!("{}{:02}", m.pk, i + 1),
                    "id": format!("{}{:02}_{owner}", m.pk, i + 1),
                    "media_type": 1,
                    "usertags": tags_json(m, i),
                    "accessibility_caption": alt(i),
                })
            })
            .collect();
        out.insert("carousel_media".into(), Value::Array(items));
        out.insert("carousel_media_count".into(), json!(m.children));
    } else {
        out.insert("usertags".into(), tags_json(m, 0));
        out.insert("accessibility_caption".into(), json!(alt(0)));
    }
}
