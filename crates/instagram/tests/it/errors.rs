//! Every error class, produced by the simulator's faults and seen through a real proxy.

use std::time::Duration;

use icf_instagram::sim::{Faults, SimAccount};
use icf_instagram::{
    ClientConfig, Credentials, ErrorClass, IgError, InstagramClient, LoginOutcome, Media,
    TransportOptions,
};

use crate::common::*;

const PW: &str = "pw-errors-1";

fn with(name: &str, faults: Faults) -> SimAccount {
    let mut a = account(name, PW);
    a.faults = faults;
    a
}

fn creds(u: &str) -> Credentials<'_> {
    Credentials {
        username: u,
        password: PW,
        totp_secret: None,
    }
}

fn is_cooldown(c: ErrorClass) -> bool {
    matches!(c, ErrorClass::Cooldown { until } if until > chrono::Utc::now())
}

#[tokio::test]
async fn login_refusals_map_to_their_classes() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let cases = [
        (
            "wrongpw",
            Faults {
                bad_password: true,
                ..Faults::default()
            },
        ),
        (
            "waiter",
            Faults {
                please_wait: true,
                ..Faults::default()
            },
        ),
        (
            "banned",
            Faults {
                banned: true,
                ..Faults::default()
            },
        ),
        (
            "stale",
            Faults {
                needs_upgrade: true,
                ..Faults::default()
            },
        ),
        (
            "throttled",
            Faults {
                throttle: true,
                ..Faults::default()
            },
        ),
        (
            "broken",
            Faults {
                server_error: true,
                ..Faults::default()
            },
        ),
    ];
    let sim = simulator(cases.iter().map(|(n, f)| with(n, f.clone())).collect()).await;
    let proxy = tinyproxy().await;
    let expect = |name: &str, class: ErrorClass| match name {
        "wrongpw" => assert_eq!(class, ErrorClass::Credentials),
        "waiter" | "throttled" => assert!(is_cooldown(class), "{name}: {class:?}"),
        "banned" => assert_eq!(class, ErrorClass::Banned),
        "stale" => assert_eq!(class, ErrorClass::Outdated),
        "broken" => assert_eq!(class, ErrorClass::Retryable),
        _ => unreachable!(),
    };
    for (name, _) in &cases {
        let mut c = client(&sim, &proxy.spec);
        let e = c.login(creds(name)).await.unwrap_err();
        expect(name, e.class());
        assert!(!c.session().is_logged_in());
    }
    // A wrong password is refused as such, and is not retried in a loop.
    let mut c = client(&sim, &proxy.spec);
    let before = proxy.log_text().matches("accounts/login/").count();
    let e = c
        .login(Credentials {
            username: "waiter",
            password: "not-it",
            totp_secret: None,
        })
        .await
        .unwrap_err();
    assert!(is_cooldown(e.class()));
    assert_eq!(
        proxy.log_text().matches("accounts/login/").count(),
        before + 1
    );
}

#[tokio::test]
async fn publishing_refusals_map_to_their_classes() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let sim = simulator(vec![
        account("fb", PW),
        account("expiring", PW),
        account("later_banned", PW),
    ])
    .await;
    let proxy = microsocks().await;
    let media = Media::Photo(jpeg(200, 200));

    let mut fb = client(&sim, &proxy.spec);
    assert!(matches!(
        fb.login(creds("fb")).await.unwrap(),
        LoginOutcome::LoggedIn(_)
    ));
    let mut exp = client(&sim, &proxy.spec);
    exp.login(creds("expiring")).await.unwrap();
    let mut ban = client(&sim, &proxy.spec);
    ban.login(creds("later_banned")).await.unwrap();

    sim.add_account(with(
        "fb",
        Faults {
            feedback_required: true,
            ..Faults::default()
        },
    ));
    let e = fb.publish(&media, "blocked").await.unwrap_err();
    let class = e.class();
    match class {
        ErrorClass::Cooldown { until } => {
            assert!(until > chrono::Utc::now() + chrono::Duration::hours(12))
        }
        other => panic!("{other:?}"),
    }

    sim.add_account(with(
        "expiring",
        Faults {
            session_expires_after: Some(1),
            ..Faults::default()
        },
    ));
    assert!(exp.check_session().await.is_ok());
    let e = exp.publish(&media, "late").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Relogin);
    assert!(!exp.session().is_logged_in(), "the dead login is dropped");
    assert!(!exp.session().uuids.uuid.is_empty(), "the device is kept");

    sim.add_account(with(
        "later_banned",
        Faults {
            banned: true,
            ..Faults::default()
        },
    ));
    let e = ban.check_session().await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Banned);
    assert!(sim.media(None).is_empty());
}

#[tokio::test]
async fn slow_answers_time_out_as_retryable() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![with(
        "slow",
        Faults {
            slow_ms: Some(3000),
            ..Faults::default()
        },
    )])
    .await;
    let proxy = tinyproxy().await;
    let cfg = ClientConfig {
        transport: TransportOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_millis(500),
        },
        ..config(&sim)
    };
    let mut c = InstagramClient::new(fresh_session(), &proxy.spec, cfg).unwrap();
    let e = c.login(creds("slow")).await.unwrap_err();
    assert!(matches!(e, IgError::Network { .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retryable);
}

#[tokio::test]
async fn global_faults_apply_to_every_account() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![account("g1", PW)]).await;
    let proxy = tinyproxy().await;
    sim.set_global_faults(Faults {
        throttle: true,
        ..Faults::default()
    });
    let mut c = client(&sim, &proxy.spec);
    assert!(is_cooldown(c.login(creds("g1")).await.unwrap_err().class()));
    sim.set_global_faults(Faults::default());
    let mut c = client(&sim, &proxy.spec);
    assert!(matches!(
        c.login(creds("g1")).await.unwrap(),
        LoginOutcome::LoggedIn(_)
    ));
}
