//! A post's options as a user sees them: each shows up on the simulator's record of the
//! post (`GET /__sim/media`), the simulator refuses what Instagram would (unknown people,
//! tags outside the picture, too many collaborators, comments on a post with comments
//! off), unknown usernames are `None`, and a failed first comment can be retried without
//! being posted twice.

use std::net::SocketAddr;

use icf_instagram::sim::{Faults, Simulator};
use icf_instagram::{
    CarouselItem, ErrorClass, IgError, InstagramClient, Media, PostOptions, Published,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::conformance::{logged_in, media_file, photo, video};
use crate::conformance_options::{COLLAB, FRIEND_A, FRIEND_B, POINT, people_and_places, tag};

/// A simulator in proxy mode (as in production) with the people and places of the golden
/// scenarios, and a logged-in poster.
async fn poster(username: &str, faults: Faults) -> (Simulator, InstagramClient) {
    let sim = Simulator::start_proxy(SocketAddr::from(([127, 0, 0, 1], 0)), Vec::new())
        .await
        .unwrap();
    people_and_places(&sim);
    let c = logged_in(&sim, username, faults).await;
    (sim, c)
}

async fn ids(c: &mut InstagramClient) -> (String, String, String) {
    let mut out = Vec::new();
    for name in [FRIEND_A, FRIEND_B, COLLAB] {
        out.push(c.user_id_by_username(name).await.unwrap().unwrap());
    }
    let [a, b, collab] = <[String; 3]>::try_from(out).unwrap();
    (a, b, collab)
}

/// The simulator's record of the account's only post, as `GET /__sim/media` lists it.
fn record(sim: &Simulator, username: &str) -> Value {
    let items = sim.media(Some(username));
    assert_eq!(items.len(), 1, "{items:?}");
    serde_json::to_value(&items[0]).unwrap()
}

fn refusal(e: &IgError) -> String {
    match e {
        IgError::Api(a) if a.status == 400 => a.message.clone(),
        other => panic!("an Instagram refusal expected, got {other:?}"),
    }
}

#[tokio::test]
async fn every_option_of_a_photo_shows_up_on_the_post() {
    let (sim, mut c) = poster("opt_photo", Faults::default()).await;
    let (a, b, collab) = ids(&mut c).await;
    let venue = c.location_search(POINT.0, POINT.1).await.unwrap().remove(0);
    let options = PostOptions {
        alt_texts: vec![Some("A red square on white".into())],
        location: Some(venue),
        usertags: vec![vec![tag(&a, 0.25, 0.5), tag(&b, 1.0, 0.0)]],
        coauthor_ids: vec![collab],
        disable_comments: true,
        hide_like_counts: true,
        share_to_feed: true,
    };
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    let p = c
        .publish_with(&media, "All the options", &options)
        .await
        .unwrap();
    let r = record(&sim, "opt_photo");
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r["media_id"], p.media_id.as_str());
    assert_eq!(
        r["accessibility_captions"],
        json!(["A red square on white"])
    );
    assert_eq!(r["location"]["name"], "Golden Cafe");
    assert_eq!(r["location"]["address"], "1 Main St");
    assert_eq!(
        (r["location"]["lat"].as_f64(), r["location"]["lng"].as_f64()),
        (Some(40.7128), Some(-74.006))
    );
    assert!(r["location"]["facebook_places_id"].as_u64().is_some());
    assert_eq!(
        r["usertags"],
        json!([
            {"username": FRIEND_A, "x": 0.25, "y": 0.5, "media_index": 0},
            {"username": FRIEND_B, "x": 1.0, "y": 0.0, "media_index": 0},
        ])
    );
    assert_eq!(r["coauthors"], json!([COLLAB]));
    assert_eq!(r["comments_disabled"], true);
    assert_eq!(r["like_and_view_counts_disabled"], true);
    assert_eq!(r["share_to_feed"], true);
    assert_eq!(r["cover"], Value::Null);
    assert_eq!(r["comments"], json!([]));
}

#[tokio::test]
async fn a_carousel_has_alt_text_and_tags_per_item() {
    let (sim, mut c) = poster("opt_carousel", Faults::default()).await;
    let (a, b, _) = ids(&mut c).await;
    let options = PostOptions {
        alt_texts: vec![None, Some("Green".into())],
        usertags: vec![vec![], vec![tag(&a, 0.5, 0.5), tag(&b, 0.1, 0.2)]],
        ..PostOptions::default()
    };
    let media = Media::Carousel(vec![
        CarouselItem::Photo(photo("photo.jpg", 1080, 1080)),
        CarouselItem::Photo(photo("photo2.jpg", 1080, 1350)),
        CarouselItem::Video(video("video.mp4", 720, 720)),
    ]);
    c.publish_with(&media, "Per item", &options).await.unwrap();
    let r = record(&sim, "opt_carousel");
    // One alt text per item, null where none (the third item was given none at all).
    assert_eq!(r["accessibility_captions"], json!([null, "Green", null]));
    let tagged: Vec<(String, u64)> = r["usertags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["username"].as_str().unwrap().to_owned(),
                t["media_index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tagged, [(FRIEND_A.to_owned(), 1), (FRIEND_B.to_owned(), 1)]);
    assert_eq!(r["location"], Value::Null);
    assert_eq!(r["comments_disabled"], false);
}

#[tokio::test]
async fn a_reel_kept_out_of_the_grid_keeps_its_cover_and_collaborators() {
    let (sim, mut c) = poster("opt_reel", Faults::default()).await;
    let (_, _, collab) = ids(&mut c).await;
    let options = PostOptions {
        coauthor_ids: vec![collab],
        hide_like_counts: true,
        share_to_feed: false,
        ..PostOptions::default()
    };
    let media = Media::Reel(video("reel.mp4", 720, 1280));
    c.publish_with(&media, "Only in Reels", &options)
        .await
        .unwrap();
    let r = record(&sim, "opt_reel");
    assert_eq!(r["share_to_feed"], false);
    assert_eq!(r["coauthors"], json!([COLLAB]));
    assert_eq!(r["like_and_view_counts_disabled"], true);
    let cover: String = Sha256::digest(media_file("cover.jpg"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r["cover"],
        json!({"width": 1080, "height": 1920, "sha256": cover})
    );
}

#[tokio::test]
async fn stories_are_recorded_as_stories_and_stay_out_of_the_feed() {
    let (sim, mut c) = poster("opt_story", Faults::default()).await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let photo_story = c
        .publish(
            &Media::StoryPhoto(photo("cover.jpg", 1080, 1920)),
            "Hello story",
        )
        .await
        .unwrap();
    let video_story = c
        .publish(&Media::StoryVideo(video("reel.mp4", 720, 1280)), "Dropped")
        .await
        .unwrap();
    assert_eq!((photo_story.media_type, video_story.media_type), (1, 2));
    let items = sim.media(Some("opt_story"));
    let kinds: Vec<(&str, Option<&str>, &str)> = items
        .iter()
        .map(|m| {
            (
                m.media_type.as_str(),
                m.story_kind.as_deref(),
                m.caption.as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("story", Some("photo"), "Hello story"),
            ("story", Some("video"), "")
        ]
    );
    // Stories are not posts: the profile's feed does not list them.
    let recent: Vec<Published> = c.recent_media(since, None).await.unwrap();
    assert!(recent.is_empty(), "{recent:?}");
}

#[tokio::test]
async fn the_simulator_refuses_what_instagram_would() {
    let (sim, mut c) = poster("opt_refused", Faults::default()).await;
    let (a, b, collab) = ids(&mut c).await;
    let me = c.session().user_id().unwrap();
    let photo = Media::Photo(photo("photo.jpg", 1080, 1080));
    let cases = [
        (
            PostOptions {
                usertags: vec![vec![tag("1234", 0.5, 0.5)]],
                ..PostOptions::default()
            },
            "does not exist",
        ),
        (
            PostOptions {
                usertags: vec![vec![tag(&a, 1.5, 0.5)]],
                ..PostOptions::default()
            },
            "outside",
        ),
        (
            PostOptions {
                coauthor_ids: vec![a.clone(), b.clone(), collab.clone(), me.clone()],
                ..PostOptions::default()
            },
            "up to 3 collaborators",
        ),
        (
            PostOptions {
                coauthor_ids: vec![me],
                ..PostOptions::default()
            },
            "yourself",
        ),
        (
            PostOptions {
                coauthor_ids: vec!["77".into()],
                ..PostOptions::default()
            },
            "does not exist",
        ),
    ];
    for (options, says) in cases {
        let e = c
            .publish_with(&photo, "refused", &options)
            .await
            .unwrap_err();
        assert!(refusal(&e).contains(says), "{e} should say {says:?}");
        assert_eq!(e.class(), ErrorClass::Failed);
    }
    assert!(
        sim.media(Some("opt_refused")).is_empty(),
        "nothing published"
    );
}

#[tokio::test]
async fn options_naming_more_items_than_the_post_has_are_refused_before_any_request() {
    let (sim, mut c) = poster("opt_local", Faults::default()).await;
    let before = sim.request_count();
    let options = PostOptions {
        alt_texts: vec![Some("one".into()), Some("two".into())],
        ..PostOptions::default()
    };
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    let uploaded = icf_instagram::Uploaded {
        upload_id: "1".into(),
        children: vec![],
    };
    let e = c
        .configure_with(&media, &uploaded, "x", &options)
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadMedia);
    assert_eq!(sim.request_count(), before);
}

#[tokio::test]
async fn comments_are_refused_where_they_are_off_and_on_unknown_media() {
    let (sim, mut c) = poster("opt_no_comments", Faults::default()).await;
    let options = PostOptions {
        disable_comments: true,
        ..PostOptions::default()
    };
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    let p = c.publish_with(&media, "quiet", &options).await.unwrap();
    let e = c.comment(&p.media_id, "hello?").await.unwrap_err();
    assert!(refusal(&e).contains("limited"), "{e}");
    let e = c.comment("1_2", "hello?").await.unwrap_err();
    assert!(refusal(&e).contains("Media not found"), "{e}");
    assert_eq!(record(&sim, "opt_no_comments")["comments"], json!([]));
}

#[tokio::test]
async fn unknown_usernames_are_none_and_known_ones_are_normalised() {
    let (_sim, mut c) = poster("opt_lookup", Faults::default()).await;
    assert_eq!(c.user_id_by_username("nobody_at_all").await.unwrap(), None);
    let plain = c.user_id_by_username(FRIEND_A).await.unwrap();
    assert!(plain.is_some());
    assert_eq!(
        c.user_id_by_username("  @GOLDEN_FRIEND_A").await.unwrap(),
        plain
    );
}

#[tokio::test]
async fn venues_come_nearest_first_then_the_point_itself() {
    let (_sim, mut c) = poster("opt_venues", Faults::default()).await;
    let venues = c.location_search(POINT.0, POINT.1).await.unwrap();
    let names: Vec<&str> = venues.iter().map(|v| v.name.as_str()).collect();
    // The diner 5 km away is not near; the last venue is the point itself.
    assert_eq!(names, ["Golden Cafe", "Golden Park", "40.7128, -74.0060"]);
    assert!(
        venues
            .iter()
            .all(|v| v.external_source.as_deref() == Some("facebook_places"))
    );
    let again = c.location_search(POINT.0, POINT.1).await.unwrap();
    assert_eq!(venues, again, "stable ids");
}

/// A first comment that failed (Instagram answered 500) is retried after checking the
/// post's comments, and ends up posted once and pinned.
#[tokio::test]
async fn a_failed_comment_is_retried_without_posting_it_twice() {
    let faults = Faults {
        comment_failures: 2,
        ..Faults::default()
    };
    let (sim, mut c) = poster("opt_comment_fault", faults).await;
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    let p = c.publish(&media, "commented").await.unwrap();
    for _ in 0..2 {
        let e = c.comment(&p.media_id, "First!").await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Retryable, "{e}");
        assert!(e.maybe_applied(), "a 500 may have posted it: check first");
        assert!(c.media_comments(&p.media_id).await.unwrap().is_empty());
    }
    let comment = c.comment(&p.media_id, "First!").await.unwrap();
    c.pin_comment(&p.media_id, &comment.pk).await.unwrap();
    assert_eq!(
        c.media_comments(&p.media_id).await.unwrap(),
        vec![comment.clone()]
    );
    let r = record(&sim, "opt_comment_fault");
    assert_eq!(
        r["comments"][0]["username"], "opt_comment_fault",
        "{}",
        r["comments"]
    );
    assert_eq!(r["comments"][0]["text"], "First!");
    assert_eq!(r["comments"][0]["pinned"], true);
    assert_eq!(r["comments"].as_array().unwrap().len(), 1);
}
