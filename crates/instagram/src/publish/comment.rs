//! A post's first comment, as instagrapi 3.2.2's `mixins/comment.py` makes it:
//! `media_comment`, `comment_pin`, and the first page of `media_comments`, which after a crash tells whether the comment
//! was already posted, so that it is never posted twice.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::request::Body;
use crate::client::{InstagramClient, now_ms, uuid4};
use crate::crypto::hmac_sha256;
use crate::error::IgError;
use crate::types::Comment;
use crate::wire::py_float;

/// The key instagrapi signs its breadcrumbs with.
const BREADCRUMB_KEY: &[u8] = b"iN4$aGr0m";

impl InstagramClient {
    /// Posts a comment on a media. `media_id` is the full `{pk}_{owner}`; a bare pk is
    /// completed with the account's own id (icf comments on its own posts), where
    /// instagrapi would first ask `media/{pk}/info/` for the owner.
    pub async fn comment(&mut self, media_id: &str, text: &str) -> Result<Comment, IgError> {
        let uid = self.require_login()?;
        let media_id = full_media_id(media_id, &uid);
        let token = uuid4();
        let data = self.default_data(json!({
            "radio_type": "wifi-none",
            "delivery_class": "organic",
            "feed_position": rand::rng().random_range(0..=6).to_string(),
            "container_module": "feed_timeline",
            "media_id": media_id,
            "_uid": uid,
            "tap_source": "button",
            "is_2m_enabled": "false",
            "is_carousel_bumped_post": "false",
            "is_from_swipe": "false",
            "floating_context_items": "[]",
            "media_pct_watched": "0",
            "user_breadcrumb": user_breadcrumb(text.chars().count(), now_ms()),
            "idempotence_token": token,
            "comment_creation_key": token,
            "include_e2ee_mentioned_user_list": "true",
            "include_media_code": "true",
            "comment_text": text,
        }));
        let url = self.api(&format!("media/{media_id}/comment/"));
        let v = self
            .call(Method::POST, url, Body::Signed(data), vec![], false)
            .await?;
        v.get("comment")
            .and_then(read_comment)
            .ok_or_else(|| IgError::Protocol("the comment answer has no comment".into()))
    }

    /// Pins a comment of the account's own media (`comment_pin`).
    pub async fn pin_comment(&mut self, media_id: &str, comment_pk: &str) -> Result<(), IgError> {
        let uid = self.require_login()?;
        // instagrapi sends the id as given; icf's callers give `{pk}_{owner}`.
        let media_id = full_media_id(media_id, &uid);
        // `_uid` is the number here (`self.user_id`), where `media_comment` sends a string.
        let uid_number: Option<u64> = uid.parse().ok();
        let data = self.default_data(json!({
            "radio_type": "wifi-none",
            "_uid": uid_number,
        }));
        let url = self.api(&format!("media/{media_id}/pin_comment/{comment_pk}/"));
        self.call(Method::POST, url, Body::Signed(data), vec![], false)
            .await?;
        Ok(())
    }

    /// The first page of a media's comments, as instagrapi's `media_comments` asks for it
    /// (`media/{id}/comments/`, no parameters).
    pub async fn media_comments(&mut self, media_id: &str) -> Result<Vec<Comment>, IgError> {
        let uid = self.require_login()?;
        let media_id = full_media_id(media_id, &uid);
        let url = self.api(&format!("media/{media_id}/comments/"));
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        Ok(v.get("comments")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(read_comment).collect())
            .unwrap_or_default())
    }
}

fn full_media_id(media_id: &str, own_uid: &str) -> String {
    if media_id.contains('_') {
        media_id.to_owned()
    } else {
        format!("{media_id}_{own_uid}")
    }
}

/// A comment as `extract_comment` needs it: `pk`, `text` and the author's `user.pk`.
fn read_comment(c: &Value) -> Option<Comment> {
    let id = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let user = c.get("user")?;
    Some(Comment {
        pk: c.get("pk").and_then(id)?,
        text: c.get("text")?.as_str()?.to_owned(),
        user_id: user.get("pk").or_else(|| user.get("id")).and_then(id)?,
    })
}

/// `gen_user_breadcrumb(len(text))`: how long the typing took, signed. instagrapi formats
/// Python `bytes` with `str()`, so the literal `b'…'` wrappers are part of the value.
pub(crate) fn user_breadcrumb(size: usize, now_ms: i64) -> String {
    let mut rng = rand::rng();
    let elapsed = rng.random_range(500..=1500) + size * rng.random_range(500..=1500);
    let count = change_count(size, rng.random_range(3..=5));
    let data = format!("{size} {elapsed} {count} {now_ms}");
    let signature = STANDARD.encode(hmac_sha256(BREADCRUMB_KEY, data.as_bytes()));
    format!("b'{signature}'\nb'{}'\n", STANDARD.encode(&data))
}

/// `max(1, size / divisor)` as Python prints it: true division gives a float (`2.0`,
/// `4.666666666666667`), and `max` keeps the int `1` when the quotient is not above it.
fn change_count(size: usize, divisor: usize) -> String {
    let q = size as f64 / divisor as f64;
    if q > 1.0 { py_float(q) } else { "1".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_count_is_pythons_max_of_a_true_division() {
        assert_eq!(change_count(14, 3), "4.666666666666667");
        assert_eq!(change_count(6, 3), "2.0");
        assert_eq!(change_count(2, 5), "1");
        assert_eq!(change_count(3, 3), "1", "max(1, 1.0) keeps the int");
        assert_eq!(change_count(0, 4), "1");
        assert_eq!(change_count(5, 4), "1.25");
    }

    #[test]
    fn the_breadcrumb_is_two_python_bytes_reprs_signed_with_instagrapis_key() {
        let b = user_breadcrumb(14, 1_796_663_538_204);
        let lines: Vec<&str> = b.split('\n').collect();
        assert_eq!(lines.len(), 3, "{b:?}");
        assert_eq!(lines[2], "", "ends with a newline");
        let inner = |l: &str| {
            l.strip_prefix("b'")
                .and_then(|l| l.strip_suffix('\''))
                .map(str::to_owned)
        };
        let sig = inner(lines[0]).unwrap();
        let data = String::from_utf8(STANDARD.decode(inner(lines[1]).unwrap()).unwrap()).unwrap();
        let parts: Vec<&str> = data.split(' ').collect();
        assert_eq!(parts[0], "14");
        assert!((500 + 14 * 500..=1500 + 14 * 1500).contains(&parts[1].parse::<usize>().unwrap()));
        assert!(
            ["4.666666666666667", "3.5", "2.8"].contains(&parts[2]),
            "{data}"
        );
        assert_eq!(parts[3], "1796663538204");
        assert_eq!(
            sig,
            STANDARD.encode(hmac_sha256(BREADCRUMB_KEY, data.as_bytes()))
        );
    }

    #[test]
    fn a_bare_pk_gets_the_owner() {
        assert_eq!(full_media_id("35_58", "58"), "35_58");
        assert_eq!(full_media_id("35", "58"), "35_58");
    }
}
