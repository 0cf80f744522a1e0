use icf_instagram::sim::{Faults, Simulator};
use icf_instagram::{
    CarouselItem, Credentials, ErrorClass, IgError, InstagramClient, LoginOutcome, Media,
    ProxyEndpoint,
};

use crate::common::*;

async fn logged_in(sim: &Simulator, proxy: &ProxyEndpoint, user: &str) -> InstagramClient {
    let mut c = client(sim, proxy);
    let out = c
        .login(Credentials {
            username: user,
            password: "pw-publish-1",
            totp_secret: None,
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    c
}

fn publisher(name: &str) -> icf_instagram::sim::SimAccount {
    account(name, "pw-publish-1")
}

#[tokio::test]
async fn photo_through_tinyproxy_is_published_once_with_its_caption() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![publisher("pia")]).await;
    let proxy = tinyproxy().await;
    let mut c = logged_in(&sim, &proxy.spec, "pia").await;
    let media = Media::Photo(jpeg(1080, 1350));
    let caption = "Привет, мир 👋 #icf";
    let uploaded = c.upload(&media).await.unwrap();
    assert!(
        sim.media(Some("pia")).is_empty(),
        "nothing public before configure"
    );
    let published = c.configure(&media, &uploaded, caption).await.unwrap();
    assert_eq!(published.media_type, 1);
    assert!(published.url().starts_with("https://www.instagram.com/p/"));
    let items = sim.media(Some("pia"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].caption, caption);
    assert_eq!(items[0].media_id, published.media_id);
    assert_eq!(items[0].upload_id, uploaded.upload_id);
    // The bytes went through this account's proxy.
    let log = proxy.log_text();
    assert!(log.contains("/rupload_igphoto/"), "{log}");
    assert!(log.contains("/api/v1/media/configure/"), "{log}");
}

#[tokio::test]
async fn video_through_microsocks_waits_for_transcoding() {
    if !tools_available(&["microsocks", "ffmpeg", "ffprobe"]) {
        return;
    }
    let mut acc = publisher("vera");
    acc.faults.transcode_pending = 2;
    let sim = simulator(vec![acc]).await;
    let proxy = microsocks().await;
    let mut c = logged_in(&sim, &proxy.spec, "vera").await;
    let media = Media::Video(mp4(320, 240).await);
    let p = c.publish(&media, "a video").await.unwrap();
    assert_eq!(p.media_type, 2);
    let items = sim.media(Some("vera"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].media_type, "video");
    let port = sim.addr().port();
    assert!(
        proxy.log_text().contains(&format!(":{port}")),
        "microsocks relayed to the simulator: {}",
        proxy.log_text()
    );
}

#[tokio::test]
async fn mixed_carousel_and_its_item_count_limits() {
    if !tools_available(&["tinyproxy", "ffmpeg", "ffprobe"]) {
        return;
    }
    let sim = simulator(vec![publisher("carl")]).await;
    let proxy = tinyproxy().await;
    let mut c = logged_in(&sim, &proxy.spec, "carl").await;
    let video = mp4(320, 320).await;
    let items = vec![
        CarouselItem::Photo(jpeg(1080, 1080)),
        CarouselItem::Video(video),
        CarouselItem::Photo(jpeg(800, 1000)),
    ];
    let media = Media::Carousel(items);
    let up = c.upload(&media).await.unwrap();
    assert_eq!(up.children.len(), 3);
    let p = c.configure(&media, &up, "three in one").await.unwrap();
    assert_eq!(p.media_type, 8);
    let recorded = sim.media(Some("carl"));
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].media_type, "carousel");
    assert_eq!(recorded[0].children, 3);
    assert!(
        proxy
            .log_text()
            .contains("/api/v1/media/configure_sidecar/")
    );

    // One item is not a carousel, nor are eleven: refused before any traffic.
    let before = sim.request_count();
    for n in [1usize, 11] {
        let m = Media::Carousel((0..n).map(|_| CarouselItem::Photo(jpeg(64, 64))).collect());
        let e = c.publish(&m, "x").await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::BadMedia);
    }
    assert_eq!(sim.request_count(), before);
}

#[tokio::test]
async fn reel_through_microsocks() {
    if !tools_available(&["microsocks", "ffmpeg", "ffprobe"]) {
        return;
    }
    let mut acc = publisher("rita");
    acc.faults.transcode_pending = 1;
    let sim = simulator(vec![acc]).await;
    let proxy = microsocks().await;
    let mut c = logged_in(&sim, &proxy.spec, "rita").await;
    let p = c
        .publish(&Media::Reel(mp4(360, 640).await), "a reel")
        .await
        .unwrap();
    assert_eq!(p.product_type.as_deref(), Some("clips"));
    assert!(p.url().contains("/reel/"));
    let items = sim.media(Some("rita"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].media_type, "reel");
}

#[tokio::test]
async fn one_posts_media_is_reused_for_several_accounts_each_through_its_own_proxy() {
    if !tools_available(&["tinyproxy", "microsocks"]) {
        return;
    }
    let sim = simulator(vec![publisher("one"), publisher("two")]).await;
    let (p1, p2) = (tinyproxy().await, microsocks().await);
    let media = Media::Photo(jpeg(640, 640));
    let mut a = logged_in(&sim, &p1.spec, "one").await;
    let mut b = logged_in(&sim, &p2.spec, "two").await;
    a.publish(&media, "hello").await.unwrap();
    b.publish(&media, "hola").await.unwrap();
    assert_eq!(sim.media(Some("one"))[0].caption, "hello");
    assert_eq!(sim.media(Some("two"))[0].caption, "hola");
    assert_eq!(p1.log_text().matches("/rupload_igphoto/").count(), 1);
}

#[tokio::test]
async fn media_that_does_not_decode_is_bad_media() {
    if !tools_available(&["tinyproxy", "ffprobe"]) {
        return;
    }
    let sim = simulator(vec![publisher("bea")]).await;
    let proxy = tinyproxy().await;
    let mut c = logged_in(&sim, &proxy.spec, "bea").await;
    let mut not_jpeg = jpeg(100, 100);
    not_jpeg.jpeg = bytes::Bytes::from_static(b"\x89PNG not really");
    let e = c.publish(&Media::Photo(not_jpeg), "x").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadMedia, "{e}");
    let mut not_video = icf_instagram::Video {
        mp4: bytes::Bytes::from_static(b"definitely not an mp4").into(),
        width: 100,
        height: 100,
        duration_ms: 1000,
        cover: jpeg(100, 100),
    };
    not_video.duration_ms = 1000;
    let e = c.publish(&Media::Video(not_video), "x").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadMedia, "{e}");
    assert!(sim.media(Some("bea")).is_empty());
}

#[tokio::test]
async fn a_dropped_answer_after_configure_is_found_by_recent_media_not_published_twice() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let mut after = publisher("dora");
    after.faults.drop_after_configure = true;
    let mut before = publisher("dave");
    before.faults.drop_before_configure = true;
    let sim = simulator(vec![after, before]).await;
    let proxy = tinyproxy().await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let media = Media::Photo(jpeg(500, 500));

    let mut c = logged_in(&sim, &proxy.spec, "dora").await;
    let e = c.publish(&media, "maybe twice").await.unwrap_err();
    assert!(matches!(e, IgError::Network { .. }), "{e:?}");
    assert!(e.maybe_applied());
    assert_eq!(e.class(), ErrorClass::Retryable);
    let found = c.recent_media(since, Some("maybe twice")).await.unwrap();
    assert_eq!(found.len(), 1, "the post exists: do not publish again");
    assert_eq!(found[0].media_id, sim.media(Some("dora"))[0].media_id);

    let mut c = logged_in(&sim, &proxy.spec, "dave").await;
    let e = c.publish(&media, "never made it").await.unwrap_err();
    assert!(e.maybe_applied());
    assert!(
        c.recent_media(since, Some("never made it"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(sim.media(Some("dave")).is_empty());
}

#[tokio::test]
async fn configure_without_an_upload_needs_a_reupload() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![publisher("nora")]).await;
    let proxy = tinyproxy().await;
    let mut c = logged_in(&sim, &proxy.spec, "nora").await;
    let media = Media::Photo(jpeg(300, 300));
    let fake = icf_instagram::Uploaded {
        upload_id: "1764000000000".into(),
        children: vec![],
    };
    let e = c.configure(&media, &fake, "x").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadMedia, "{e}");
    let _ = Faults::default();
}

#[tokio::test]
async fn every_media_type_through_both_kinds_of_proxy() {
    if !tools_available(&["tinyproxy", "microsocks", "ffmpeg", "ffprobe"]) {
        return;
    }
    let sim = simulator(vec![publisher("http_user"), publisher("socks_user")]).await;
    let (http, socks) = (tinyproxy().await, microsocks().await);
    let video = mp4(320, 240).await;
    let reel = mp4(240, 426).await;
    let kinds = [
        ("photo", Media::Photo(jpeg(600, 750))),
        ("video", Media::Video(video.clone())),
        (
            "carousel",
            Media::Carousel(vec![
                CarouselItem::Video(video),
                CarouselItem::Photo(jpeg(600, 600)),
            ]),
        ),
        ("reel", Media::Reel(reel)),
    ];
    for (user, proxy) in [("http_user", &http), ("socks_user", &socks)] {
        let mut c = logged_in(&sim, &proxy.spec, user).await;
        for (kind, media) in &kinds {
            c.publish(media, &format!("{kind} via {user}"))
                .await
                .unwrap();
        }
        let got: Vec<String> = sim
            .media(Some(user))
            .into_iter()
            .map(|m| format!("{} {}", m.media_type, m.caption))
            .collect();
        let want: Vec<String> = kinds
            .iter()
            .map(|(k, _)| format!("{k} {k} via {user}"))
            .collect();
        assert_eq!(got, want);
    }
    // tinyproxy logged every upload and configure; microsocks relayed to the simulator.
    let log = http.log_text();
    for path in [
        "/rupload_igphoto/",
        "/rupload_igvideo/",
        "/upload_settings/",
        "/media/configure_to_clips/",
    ] {
        assert!(log.contains(path), "{path} missing from the tinyproxy log");
    }
    assert!(
        socks
            .log_text()
            .contains(&format!(":{}", sim.addr().port()))
    );
}
