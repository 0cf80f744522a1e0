//! Where a post's options go in the configure bodies, as instagrapi 3.2.2 puts them when a
//! user passes the matching arguments (see `INSTAGRAM.md`, "Post options"): the venue as
//! `location_build`'s JSON string, the tags as each kind's `usertags` string, and what
//! instagrapi has no parameter for through `extra_data`, spread at the end of the body.

use serde_json::{Map, Value, json};

use crate::error::IgError;
use crate::types::{Media, PostOptions, UserTag, Venue};
use crate::wire::{compact_json, py_json};

/// How a kind's configure writes its `usertags` string: photo and reel with `json.dumps`'
/// default spacing, video and carousel items compact (instagrapi's own inconsistency).
#[derive(Clone, Copy)]
pub(super) enum TagStyle {
    Spaced,
    Compact,
}

/// `location_build`: the venue as a compact JSON string, `{}` for none.
pub(super) fn location(venue: Option<&Venue>) -> String {
    match venue {
        None => "{}".to_owned(),
        Some(v) => compact_json(&json!({
            "name": v.name,
            "address": v.address,
            "lat": v.lat,
            "lng": v.lng,
            "external_source": v.external_source,
            "facebook_places_id": v.facebook_places_id,
        })),
    }
}

/// The `{"in": [...]}` value of `usertags`; the user id always a string, as instagrapi's
/// `UserShort.pk` makes it.
fn usertags_value(tags: &[UserTag]) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|t| json!({"user_id": t.user_id, "position": [t.x, t.y]}))
        .collect();
    json!({ "in": tags })
}

/// A kind's `usertags` field (an empty list when there are no tags).
pub(super) fn usertags(tags: &[UserTag], style: TagStyle) -> String {
    let v = usertags_value(tags);
    match style {
        TagStyle::Spaced => py_json(&v),
        TagStyle::Compact => compact_json(&v),
    }
}

/// A carousel item's own options, appended to its dict after the item's keys: the alt
/// text (icf's choice, see `INSTAGRAM.md`: instagrapi has none per item), then `usertags`
/// (compact, only when the item has tags), as `album_configure` appends them.
pub(super) fn carousel_child(child: &mut Value, options: &PostOptions, i: usize) {
    let Some(m) = child.as_object_mut() else {
        return;
    };
    if let Some(alt) = options.alt_text(i) {
        m.insert("custom_accessibility_caption".into(), json!(alt));
    }
    let tags = options.tags(i);
    if !tags.is_empty() {
        m.insert("usertags".into(), json!(usertags(tags, TagStyle::Compact)));
    }
}

/// The `extra_data` icf passes for the options instagrapi has no parameter for, followed
/// by `invite_coauthor_user_ids` as `with_coauthor_user_ids` adds it: ints `1`, in this
/// order, only those that are on. `alt` is the top-level alt text (none for carousels,
/// whose alt texts go per item).
pub(super) fn extra_data(options: &PostOptions, alt: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(alt) = alt {
        m.insert("custom_accessibility_caption".into(), json!(alt));
    }
    if options.disable_comments {
        m.insert("disable_comments".into(), json!(1));
    }
    if options.hide_like_counts {
        m.insert("like_and_view_counts_disabled".into(), json!(1));
    }
    if !options.coauthor_ids.is_empty() {
        m.insert(
            "invite_coauthor_user_ids".into(),
            json!(options.coauthor_ids),
        );
    }
    m
}

/// `**extra_data` at the end of a body: new keys go last, a key already there keeps its
/// place and takes the new value (Python's dict semantics).
pub(super) fn spread(body: &mut Value, extra: Map<String, Value>) {
    if let Some(m) = body.as_object_mut() {
        for (k, v) in extra {
            m.insert(k, v);
        }
    }
}

/// Options that name more items than the post has would be dropped without a word: refuse
/// them before any traffic. Their values (users, positions, how many collaborators) are
/// Instagram's to judge.
pub(super) fn check(media: &Media, options: &PostOptions) -> Result<(), IgError> {
    let n = media.item_count();
    if options.alt_texts.len() > n {
        return Err(IgError::BadMedia(format!(
            "{} alt texts for a post of {n} item(s)",
            options.alt_texts.len()
        )));
    }
    if options.usertags.len() > n {
        return Err(IgError::BadMedia(format!(
            "user tags for {} items on a post of {n} item(s)",
            options.usertags.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue() -> Venue {
        Venue {
            name: "Café X".into(),
            address: "1 Main St".into(),
            lat: Some(40.7128),
            lng: Some(-74.006),
            external_source: Some("facebook_places".into()),
            facebook_places_id: Some(106078429431815),
        }
    }

    #[test]
    fn the_location_is_location_builds_compact_string() {
        assert_eq!(location(None), "{}");
        assert_eq!(
            location(Some(&venue())),
            r#"{"name":"Caf\u00e9 X","address":"1 Main St","lat":40.7128,"lng":-74.006,"external_source":"facebook_places","facebook_places_id":106078429431815}"#
        );
        let bare = Venue {
            name: "Only name".into(),
            address: String::new(),
            lat: None,
            lng: None,
            external_source: None,
            facebook_places_id: None,
        };
        assert_eq!(
            location(Some(&bare)),
            r#"{"name":"Only name","address":"","lat":null,"lng":null,"external_source":null,"facebook_places_id":null}"#
        );
    }

    #[test]
    fn usertags_are_spaced_or_compact_per_kind() {
        let tags = [UserTag {
            user_id: "999".into(),
            x: 0.5,
            y: 0.25,
        }];
        assert_eq!(
            usertags(&tags, TagStyle::Spaced),
            r#"{"in": [{"user_id": "999", "position": [0.5, 0.25]}]}"#
        );
        assert_eq!(
            usertags(&tags, TagStyle::Compact),
            r#"{"in":[{"user_id":"999","position":[0.5,0.25]}]}"#
        );
        assert_eq!(usertags(&[], TagStyle::Spaced), r#"{"in": []}"#);
        // A whole number is still a float, as pydantic makes it.
        let corner = [UserTag {
            user_id: "1".into(),
            x: 1.0,
            y: 0.0,
        }];
        assert_eq!(
            usertags(&corner, TagStyle::Compact),
            r#"{"in":[{"user_id":"1","position":[1.0,0.0]}]}"#
        );
    }

    #[test]
    fn extra_data_has_only_what_is_on_in_instagrapis_order() {
        let none = extra_data(&PostOptions::default(), None);
        assert!(none.is_empty());
        let all = PostOptions {
            disable_comments: true,
            hide_like_counts: true,
            coauthor_ids: vec!["111".into(), "222".into()],
            ..PostOptions::default()
        };
        let m = extra_data(&all, Some("alt"));
        assert_eq!(
            Value::Object(m).to_string(),
            r#"{"custom_accessibility_caption":"alt","disable_comments":1,"like_and_view_counts_disabled":1,"invite_coauthor_user_ids":["111","222"]}"#
        );
    }
}
