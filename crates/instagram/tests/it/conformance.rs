//! icf's client against the reference client: each test performs one scenario of
//! `tests/golden/record.py` with icf's client, through the recording simulator in proxy mode
//! (icf configured as in production: its own hosts, a proxy, HTTP/2 over TLS 1.3), and
//! compares the requests with instagrapi 3.2.2's golden trace of the same scenario. Any
//! difference outside `tests/golden/allow-list.json` fails, listed one per line.
//!
//! The same accounts, passwords, captions and media files as the recording, and the
//! reference client's default phone (a Pixel 8 Pro, en_US), so that what is not in the
//! allow-list can be equal to the byte.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use icf_instagram::sim::{Faults, SimAccount, Simulator};
use icf_instagram::{
    CarouselItem, ClientConfig, Credentials, InstagramClient, LoginOutcome, Media, Photo,
    ProxyEndpoint, Session, Video,
};
use serde_json::Value;

use crate::trace_diff::{assert_conforms, golden_dir};

pub(crate) const PASSWORD: &str = "golden-Passw0rd";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
const CODE: &str = "123456";

pub(crate) async fn sim() -> Simulator {
    let sim = Simulator::start_proxy(SocketAddr::from(([127, 0, 0, 1], 0)), Vec::new())
        .await
        .unwrap();
    sim.record(None);
    sim
}

pub(crate) fn account(username: &str, faults: Faults, totp: Option<&str>) -> SimAccount {
    SimAccount {
        username: username.into(),
        password: PASSWORD.into(),
        totp_secret: totp.map(str::to_owned),
        faults,
    }
}

/// instagrapi's default device: the same User-Agent, locale and device object.
pub(crate) fn session() -> Session {
    let device = icf_core::device::Device::with_model(
        &mut rand::rng(),
        icf_core::device::MODELS[0],
        "en",
        Some("US"),
    );
    let mut s = Session::new(
        &device,
        icf_instagram::AppProfiles::built_in().default_profile(),
    );
    // instagrapi's default zone (icf's for the US is New York's standard time).
    s.timezone_offset = -14400;
    s.timezone_name = Some("GMT-04:00".into());
    s
}

/// Production settings (Instagram's own hosts), through the simulator as the proxy.
pub(crate) fn client(sim: &Simulator, session: Session) -> InstagramClient {
    let cfg = ClientConfig {
        extra_ca_pem: sim.cert_pem().map(str::to_owned),
        pace: Duration::ZERO,
        configure_interval: Duration::from_millis(10),
        transcode_wait: Duration::from_millis(10),
        ..ClientConfig::default()
    };
    let proxy = ProxyEndpoint::parse(&sim.proxy_url()).unwrap();
    InstagramClient::new(session, &proxy, cfg).unwrap()
}

pub(crate) async fn logged_in(sim: &Simulator, username: &str, faults: Faults) -> InstagramClient {
    sim.add_account(account(username, faults, None));
    let mut c = client(sim, session());
    let out = c
        .login(Credentials {
            username,
            password: PASSWORD,
            totp_secret: None,
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    c
}

pub(crate) fn trace(sim: &Simulator) -> Vec<Value> {
    sim.take_trace()
}

pub(crate) fn media_file(name: &str) -> Bytes {
    let path: PathBuf = golden_dir().join("media").join(name);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

pub(crate) fn photo(name: &str, width: u32, height: u32) -> Photo {
    Photo {
        jpeg: media_file(name),
        width,
        height,
    }
}

pub(crate) fn video(name: &str, width: u32, height: u32) -> Video {
    Video {
        mp4: media_file(name).into(),
        width,
        height,
        duration_ms: 3000,
        cover: photo("cover.jpg", 1080, 1920),
    }
}

#[tokio::test]
async fn caa_login_is_instagrapis() {
    let sim = sim().await;
    logged_in(&sim, "golden_caa", Faults::default()).await;
    assert_conforms("caa_login", &trace(&sim));
}

#[tokio::test]
async fn legacy_login_after_the_caa_fallback_is_instagrapis() {
    let sim = sim().await;
    let faults = Faults {
        caa_fallback: true,
        ..Faults::default()
    };
    logged_in(&sim, "golden_legacy", faults).await;
    assert_conforms("legacy_login", &trace(&sim));
}

#[tokio::test]
async fn two_factor_with_totp_is_instagrapis() {
    let sim = sim().await;
    sim.add_account(account("golden_totp", Faults::default(), Some(TOTP_SECRET)));
    let mut c = client(&sim, session());
    let out = c
        .login(Credentials {
            username: "golden_totp",
            password: PASSWORD,
            totp_secret: Some(TOTP_SECRET),
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    assert_conforms("two_factor_totp", &trace(&sim));
}

#[tokio::test]
async fn email_challenge_is_instagrapis() {
    let sim = sim().await;
    let faults = Faults {
        challenge: Some("email".into()),
        code: Some(CODE.into()),
        ..Faults::default()
    };
    sim.add_account(account("golden_challenge", faults, None));
    let mut c = client(&sim, session());
    let out = c
        .login(Credentials {
            username: "golden_challenge",
            password: PASSWORD,
            totp_secret: None,
        })
        .await
        .unwrap();
    let LoginOutcome::ChallengeRequired(pending) = out else {
        panic!("{out:?}")
    };
    let out = c.submit_challenge_code(&pending, CODE).await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    assert_conforms("challenge_email", &trace(&sim));
}

#[tokio::test]
async fn session_check_is_instagrapis() {
    let sim = sim().await;
    let first = logged_in(&sim, "golden_session", Faults::default()).await;
    let saved = first.session().clone();
    trace(&sim);
    let mut c = client(&sim, saved);
    c.check_session().await.unwrap();
    assert_conforms("session_check", &trace(&sim));
}

async fn publish(username: &str, scenario: &str, media: Media, caption: &str) {
    let sim = sim().await;
    let mut c = logged_in(&sim, username, Faults::default()).await;
    trace(&sim);
    c.publish(&media, caption).await.unwrap();
    assert_eq!(sim.media(Some(username)).len(), 1);
    assert_conforms(scenario, &trace(&sim));
}

#[tokio::test]
async fn photo_is_instagrapis() {
    publish(
        "golden_photo",
        "photo",
        Media::Photo(photo("photo.jpg", 1080, 1080)),
        "Golden photo #icf",
    )
    .await;
}

#[tokio::test]
async fn carousel_is_instagrapis() {
    publish(
        "golden_carousel",
        "carousel",
        Media::Carousel(vec![
            CarouselItem::Photo(photo("photo.jpg", 1080, 1080)),
            CarouselItem::Photo(photo("photo2.jpg", 1080, 1350)),
            CarouselItem::Video(video("video.mp4", 720, 720)),
        ]),
        "Golden carousel #icf",
    )
    .await;
}

#[tokio::test]
async fn video_is_instagrapis() {
    publish(
        "golden_video",
        "video",
        Media::Video(video("video.mp4", 720, 720)),
        "Golden video #icf",
    )
    .await;
}

#[tokio::test]
async fn reel_is_instagrapis() {
    publish(
        "golden_reel",
        "reel",
        Media::Reel(video("reel.mp4", 720, 1280)),
        "Golden reel #icf",
    )
    .await;
}

/// After Instagram ends a session, the new login in the same client carries nothing of the
/// dead one (instagrapi's `_clear_session_state`): no token, no `IG-U-*`, user id 0.
#[tokio::test]
async fn a_relogin_sends_nothing_of_the_dead_session() {
    let sim = sim().await;
    let faults = Faults {
        // The warm-up's two requests, then the session dies.
        session_expires_after: Some(2),
        ..Faults::default()
    };
    let mut c = logged_in(&sim, "golden_relogin", faults).await;
    trace(&sim);
    let out = c
        .login(Credentials {
            username: "golden_relogin",
            password: PASSWORD,
            totp_secret: None,
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    let t = trace(&sim);
    assert_eq!(
        t[0]["path"], "/api/v1/accounts/current_user/",
        "the check first"
    );
    let header = |e: &Value, name: &str| {
        e["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == name)
            .map(|h| h[1].as_str().unwrap().to_owned())
    };
    let login: Vec<&Value> = t
        .iter()
        .skip(1)
        .take_while(|e| !e["path"].as_str().unwrap().contains("feed/"))
        .collect();
    assert!(
        login.len() >= 5,
        "a full CAA login followed: {}",
        login.len()
    );
    for e in login {
        assert_eq!(header(e, "authorization"), None, "{}", e["path"]);
        assert_eq!(header(e, "ig-u-ds-user-id"), None, "{}", e["path"]);
        if e["http"] == "2" {
            assert_eq!(header(e, "ig-intended-user-id").as_deref(), Some("0"));
        }
    }
}
