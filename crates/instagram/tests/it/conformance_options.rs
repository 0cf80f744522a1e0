//! icf's client against the reference client for a post's options, its first comment,
//! stories and the lookups: each test performs one scenario of `tests/golden/record.py`
//! (same accounts, venues, captions, media and values) and compares the requests with
//! instagrapi 3.2.2's golden trace, as `conformance.rs` does for the plain posts.

use icf_instagram::sim::{Faults, Simulator};
use icf_instagram::{CarouselItem, InstagramClient, Media, PostOptions, UserTag, Venue};

use crate::conformance::{account, logged_in, photo, sim, trace, video};
use crate::trace_diff::assert_conforms;

pub(crate) const POINT: (f64, f64) = (40.7128, -74.006);
pub(crate) const FRIEND_A: &str = "golden_friend_a";
pub(crate) const FRIEND_B: &str = "golden_friend_b";
pub(crate) const COLLAB: &str = "golden_collab";

/// `people_and_places` of `record.py`: the users to tag and invite, and three venues (the
/// nearest, one 350 m north, one 5 km away).
pub(crate) fn people_and_places(sim: &Simulator) {
    for name in [FRIEND_A, FRIEND_B, COLLAB] {
        sim.add_account(account(name, Faults::default(), None));
    }
    sim.add_venue("Golden Cafe", "1 Main St", 40.7128, -74.006);
    sim.add_venue("Golden Park", "2 Park Ave", 40.7160, -74.006);
    sim.add_venue("Far Away Diner", "9 Elsewhere Rd", 40.7578, -74.006);
}

pub(crate) fn tag(user_id: &str, x: f64, y: f64) -> UserTag {
    UserTag {
        user_id: user_id.into(),
        x,
        y,
    }
}

async fn nearest_venue(c: &mut InstagramClient) -> Venue {
    let mut venues = c.location_search(POINT.0, POINT.1).await.unwrap();
    assert!(!venues.is_empty());
    venues.remove(0)
}

async fn user_id(c: &mut InstagramClient, username: &str) -> String {
    c.user_id_by_username(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{username} not found"))
}

/// Logs in as `username` after seeding the people and places, then starts the scenario's
/// trace.
async fn ready(username: &str) -> (Simulator, InstagramClient) {
    let sim = sim().await;
    people_and_places(&sim);
    let c = logged_in(&sim, username, Faults::default()).await;
    trace(&sim);
    (sim, c)
}

#[tokio::test]
async fn photo_options_are_instagrapis() {
    let (sim, mut c) = ready("golden_photo_options").await;
    let venue = nearest_venue(&mut c).await;
    let a = user_id(&mut c, " @Golden_Friend_A ").await;
    let b = user_id(&mut c, FRIEND_B).await;
    let collab = user_id(&mut c, COLLAB).await;
    let options = PostOptions {
        alt_texts: vec![Some("A red square".into())],
        location: Some(venue),
        usertags: vec![vec![tag(&a, 0.25, 0.5), tag(&b, 0.75, 0.125)]],
        coauthor_ids: vec![collab],
        disable_comments: true,
        hide_like_counts: true,
        ..PostOptions::default()
    };
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    c.publish_with(&media, "Golden photo with options #icf", &options)
        .await
        .unwrap();
    assert_conforms("photo_options", &trace(&sim));
}

#[tokio::test]
async fn first_comment_is_instagrapis() {
    let sim = sim().await;
    let mut c = logged_in(&sim, "golden_comment", Faults::default()).await;
    trace(&sim);
    let media = Media::Photo(photo("photo.jpg", 1080, 1080));
    let p = c
        .publish(&media, "Golden photo with a first comment #icf")
        .await
        .unwrap();
    let comment = c.comment(&p.media_id, "First! 👋 #icf").await.unwrap();
    c.pin_comment(&p.media_id, &comment.pk).await.unwrap();
    let comments = c.media_comments(&p.media_id).await.unwrap();
    assert_eq!(comments, vec![comment]);
    assert_conforms("first_comment", &trace(&sim));
}

#[tokio::test]
async fn carousel_options_are_instagrapis() {
    let (sim, mut c) = ready("golden_carousel_options").await;
    let venue = nearest_venue(&mut c).await;
    let a = user_id(&mut c, FRIEND_A).await;
    let b = user_id(&mut c, FRIEND_B).await;
    let collab = user_id(&mut c, COLLAB).await;
    let options = PostOptions {
        alt_texts: vec![
            Some("A red square".into()),
            None,
            Some("A test pattern".into()),
        ],
        location: Some(venue),
        usertags: vec![
            vec![tag(&a, 0.5, 0.5)],
            vec![],
            vec![tag(&b, 0.1, 0.9), tag(&a, 0.9, 0.1)],
        ],
        coauthor_ids: vec![collab],
        hide_like_counts: true,
        ..PostOptions::default()
    };
    let media = Media::Carousel(vec![
        CarouselItem::Photo(photo("photo.jpg", 1080, 1080)),
        CarouselItem::Photo(photo("photo2.jpg", 1080, 1350)),
        CarouselItem::Video(video("video.mp4", 720, 720)),
    ]);
    c.publish_with(&media, "Golden carousel with options #icf", &options)
        .await
        .unwrap();
    assert_conforms("carousel_options", &trace(&sim));
}

#[tokio::test]
async fn reel_options_are_instagrapis() {
    let (sim, mut c) = ready("golden_reel_options").await;
    let venue = nearest_venue(&mut c).await;
    let a = user_id(&mut c, FRIEND_A).await;
    let collab = user_id(&mut c, COLLAB).await;
    let options = PostOptions {
        alt_texts: vec![Some("A test pattern".into())],
        location: Some(venue),
        usertags: vec![vec![tag(&a, 0.5, 0.25)]],
        coauthor_ids: vec![collab],
        disable_comments: true,
        share_to_feed: false,
        ..PostOptions::default()
    };
    let media = Media::Reel(video("reel.mp4", 720, 1280));
    c.publish_with(&media, "Golden reel with options #icf", &options)
        .await
        .unwrap();
    assert_conforms("reel_options", &trace(&sim));
}

#[tokio::test]
async fn video_options_are_instagrapis() {
    let (sim, mut c) = ready("golden_video_options").await;
    let venue = nearest_venue(&mut c).await;
    let a = user_id(&mut c, FRIEND_A).await;
    let b = user_id(&mut c, FRIEND_B).await;
    let options = PostOptions {
        alt_texts: vec![Some("A moving test pattern".into())],
        location: Some(venue),
        usertags: vec![vec![tag(&a, 0.5, 0.5), tag(&b, 1.0, 0.0)]],
        ..PostOptions::default()
    };
    let media = Media::Video(video("video.mp4", 720, 720));
    c.publish_with(&media, "Golden video with options #icf", &options)
        .await
        .unwrap();
    assert_conforms("video_options", &trace(&sim));
}

#[tokio::test]
async fn photo_story_is_instagrapis() {
    let sim = sim().await;
    let mut c = logged_in(&sim, "golden_story_photo", Faults::default()).await;
    trace(&sim);
    let media = Media::StoryPhoto(photo("cover.jpg", 1080, 1920));
    let p = c.publish(&media, "Golden story #icf").await.unwrap();
    assert_eq!(p.product_type.as_deref(), Some("story"));
    assert_conforms("story_photo", &trace(&sim));
}

#[tokio::test]
async fn video_story_is_instagrapis() {
    let sim = sim().await;
    let mut c = logged_in(&sim, "golden_story_video", Faults::default()).await;
    trace(&sim);
    let media = Media::StoryVideo(video("reel.mp4", 720, 1280));
    let p = c.publish(&media, "Golden story video #icf").await.unwrap();
    assert_eq!((p.media_type, p.caption.as_deref()), (2, Some("")));
    assert_conforms("story_video", &trace(&sim));
}

#[tokio::test]
async fn user_lookup_is_instagrapis() {
    let (sim, mut c) = ready("golden_lookup").await;
    assert!(c.user_id_by_username(FRIEND_A).await.unwrap().is_some());
    assert_eq!(c.user_id_by_username("golden_nobody").await.unwrap(), None);
    assert_conforms("user_lookup", &trace(&sim));
}
