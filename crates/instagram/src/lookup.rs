//! Looking things up for a post's options, as instagrapi 3.2.2 does (`mixins/location.py`,
//! `mixins/user.py`): the venues near a point (`location_search`) and a username's user id
//! (`user_info_by_username_v1`, the private API only).

use reqwest::Method;
use serde_json::Value;

use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::error::{ErrorShape, IgError};
use crate::types::Venue;
use crate::wire::py_float;

impl InstagramClient {
    /// The venues Instagram knows near a point, nearest first as it answers them.
    pub async fn location_search(&mut self, lat: f64, lng: f64) -> Result<Vec<Venue>, IgError> {
        self.require_login()?;
        // `requests` writes the floats with Python's `str()`: `10.0`, `-74.006`.
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("latitude", &py_float(lat))
            .append_pair("longitude", &py_float(lng))
            .finish();
        let url = self.api(&format!("location_search/?{query}"));
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        let venues = v
            .get("venues")
            .and_then(Value::as_array)
            .ok_or_else(|| IgError::Protocol("location_search gave no venues".into()))?;
        Ok(venues.iter().filter_map(|v| venue(v, lat, lng)).collect())
    }

    /// A username's user id; `Ok(None)` when Instagram says there is no such user. The
    /// username is normalised as instagrapi does (trimmed, without a leading `@`, lower
    /// case). Unlike instagrapi, no public web lookup follows a failure: icf speaks to
    /// Instagram only as the app.
    pub async fn user_id_by_username(&mut self, username: &str) -> Result<Option<String>, IgError> {
        self.require_login()?;
        let name = normalize_username(username);
        if name.is_empty() {
            return Ok(None);
        }
        let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let url = self.api(&format!("users/{encoded}/usernameinfo/"));
        match self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await
        {
            Ok(v) => {
                let pk = v.pointer("/user/pk").and_then(|pk| match pk {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                pk.map(Some)
                    .ok_or_else(|| IgError::Protocol("usernameinfo gave no user pk".into()))
            }
            Err(IgError::Api(e))
                if e.kind == ErrorShape::NotFound || e.message.contains("User not found") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// `_normalize_username`: `strip()`, `lstrip("@")`, `strip()`, `lower()`.
fn normalize_username(username: &str) -> String {
    username
        .trim()
        .trim_start_matches('@')
        .trim()
        .to_lowercase()
}

/// One venue as `extract_location` reads it; one without the query's point gets it, as
/// instagrapi fills it in.
fn venue(v: &Value, lat: f64, lng: f64) -> Option<Venue> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let has_point = v.get("lat").is_some();
    let float = |k: &str, default: f64| {
        if has_point {
            v.get(k).and_then(Value::as_f64)
        } else {
            Some(default)
        }
    };
    let id = v
        .get("external_id")
        .filter(|x| !is_empty_id(x))
        .or_else(|| v.get("facebook_places_id"))
        .and_then(|x| match x {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
    Some(Venue {
        name: text("name")?,
        address: text("address")
            .or_else(|| text("location_address"))
            .unwrap_or_default(),
        lat: float("lat", lat),
        lng: float("lng", lng),
        external_source: text("external_id_source").or_else(|| text("external_source")),
        facebook_places_id: id,
    })
}

/// `external_id` values `extract_location` treats as none.
fn is_empty_id(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "None",
        Value::Number(n) => n.as_u64() == Some(0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usernames_are_normalised_as_instagrapi_does() {
        assert_eq!(normalize_username("  @Golden_Friend "), "golden_friend");
        assert_eq!(normalize_username("@ x"), "x");
        assert_eq!(normalize_username("plain"), "plain");
    }

    #[test]
    fn venues_are_read_as_extract_location_reads_them() {
        let v = venue(
            &json!({"external_id": 106078429431815u64, "external_id_source": "facebook_places", "name": "Cafe X", "address": "1 Main St", "lat": 40.7128, "lng": -74.006}),
            1.0,
            2.0,
        )
        .unwrap();
        assert_eq!(v.facebook_places_id, Some(106078429431815));
        assert_eq!(v.external_source.as_deref(), Some("facebook_places"));
        assert_eq!((v.lat, v.lng), (Some(40.7128), Some(-74.006)));
        // No point: the query's; the id as a string; no name: not a venue.
        let v = venue(
            &json!({"facebook_places_id": "42", "external_source": "facebook_places", "name": "P"}),
            1.5,
            2.5,
        )
        .unwrap();
        assert_eq!(
            (v.lat, v.lng, v.facebook_places_id),
            (Some(1.5), Some(2.5), Some(42))
        );
        assert_eq!(v.address, "");
        assert!(venue(&json!({"lat": 1.0}), 0.0, 0.0).is_none());
    }
}
