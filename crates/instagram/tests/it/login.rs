use icf_instagram::sim::Faults;
use icf_instagram::{
    ChallengeAsk, Credentials, ErrorClass, InstagramClient, LoginOutcome, Session,
};

use crate::common::*;

fn creds<'a>(u: &'a str, p: &'a str) -> Credentials<'a> {
    Credentials {
        username: u,
        password: p,
        totp_secret: None,
    }
}

#[tokio::test]
async fn plain_login_through_tinyproxy_and_session_reuse_without_the_password() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![account("anna", "s3cret-pass")]).await;
    let proxy = tinyproxy().await;
    let mut c = client(&sim, &proxy.spec);
    let out = c.login(creds("anna", "s3cret-pass")).await.unwrap();
    let LoginOutcome::LoggedIn(info) = out else {
        panic!("{out:?}")
    };
    assert_eq!(info.username, "anna");
    let session = c.session().clone();
    assert!(session.is_logged_in());
    // The CAA login takes the token, cookies and routing values, not X-MID (as
    // instagrapi's `bloks_apply_login_response`); the machine id comes as a cookie.
    assert!(session.cookies.contains_key("mid"));
    assert!(session.cookies.contains_key("csrftoken"));
    assert!(session.last_login.is_some());
    assert_eq!(c.check_session().await.unwrap().user_id, info.user_id);

    // The current (CAA) flow logged in; the legacy endpoint was not needed.
    let log = proxy.log_text();
    assert!(log.contains("/graphql_www"), "USDID registered");
    assert!(log.contains("create_android_keystore"));
    assert!(!log.contains("/api/v1/accounts/login/"));
    assert!(session.usdid.is_some());

    // A restart: the saved session is reused and no password is sent again.
    let log_before = proxy.log_text().matches("send_login_request").count();
    let mut again =
        icf_instagram::InstagramClient::new(session.clone(), &proxy.spec, config(&sim)).unwrap();
    let out = again.login(creds("anna", "s3cret-pass")).await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)));
    assert_eq!(
        proxy.log_text().matches("send_login_request").count(),
        log_before
    );
    assert_eq!(log_before, 1);
    // The password never travels in clear, and never reaches the proxy's log.
    assert!(!proxy.log_text().contains("s3cret-pass"));
    assert!(!session.export().contains("s3cret-pass"));

    // Logging out kills the token on Instagram's side too.
    again.logout().await.unwrap();
    assert!(!again.session().is_logged_in());
    let mut stale =
        icf_instagram::InstagramClient::new(session, &proxy.spec, config(&sim)).unwrap();
    assert_eq!(
        stale.check_session().await.unwrap_err().class(),
        ErrorClass::Relogin
    );
}

#[tokio::test]
async fn login_with_a_totp_secret_answers_two_factor_alone() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let mut acc = account("boris", "pw-boris-1");
    acc.totp_secret = Some(secret.into());
    let sim = simulator(vec![acc]).await;
    let proxy = microsocks().await;
    let mut c = client(&sim, &proxy.spec);
    let out = c
        .login(Credentials {
            username: "boris",
            password: "pw-boris-1",
            totp_secret: Some(secret),
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");

    // Without the secret the same account stops at a two-factor prompt.
    let mut c = client(&sim, &proxy.spec);
    let out = c.login(creds("boris", "pw-boris-1")).await.unwrap();
    let LoginOutcome::TwoFactorRequired(p) = out else {
        panic!("{out:?}")
    };
    assert!(p.totp_on);
    let code = icf_instagram::crypto::totp_code(secret, chrono::Utc::now().timestamp()).unwrap();
    let out = c.submit_two_factor_code(&p, &code).await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)));
}

#[tokio::test]
async fn sms_two_factor_with_a_code_the_user_submits() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let mut acc = account("carla", "pw-carla-1");
    acc.faults = Faults {
        two_factor: true,
        code: Some("246810".into()),
        ..Faults::default()
    };
    let sim = simulator(vec![acc]).await;
    let proxy = tinyproxy().await;
    let mut c = client(&sim, &proxy.spec);
    let LoginOutcome::TwoFactorRequired(p) = c.login(creds("carla", "pw-carla-1")).await.unwrap()
    else {
        panic!("expected two-factor")
    };
    assert!(p.sms_on && !p.totp_on);
    let wrong = c.submit_two_factor_code(&p, "000000").await.unwrap_err();
    assert_eq!(wrong.class(), ErrorClass::Failed);
    assert!(!c.session().is_logged_in());
    let out = c.submit_two_factor_code(&p, "246810").await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)));
}

#[tokio::test]
async fn email_challenge_is_reported_then_passed_with_the_submitted_code() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let mut acc = account("dmitri", "pw-dmitri-1");
    acc.faults.challenge = Some("email".into());
    acc.faults.code = Some("135790".into());
    let sim = simulator(vec![acc]).await;
    let proxy = microsocks().await;
    let mut c = client(&sim, &proxy.spec);
    let out = c.login(creds("dmitri", "pw-dmitri-1")).await.unwrap();
    let LoginOutcome::ChallengeRequired(pending) = out else {
        panic!("{out:?}")
    };
    assert_eq!(pending.asks, ChallengeAsk::EmailCode);
    assert_eq!(pending.contact.as_deref(), Some("j****e@example.com"));
    // The pending challenge survives a restart (the caller stores it as JSON).
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: icf_instagram::ChallengePending = serde_json::from_str(&stored).unwrap();
    assert!(c.submit_challenge_code(&pending, "999999").await.is_err());
    let out = c.submit_challenge_code(&pending, "135790").await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    assert!(c.check_session().await.is_ok());
}

#[tokio::test]
async fn sms_app_and_manual_challenges_say_what_they_need() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let mut accounts = Vec::new();
    for (name, kind) in [("sms1", "sms"), ("app1", "app"), ("man1", "manual")] {
        let mut a = account(name, "pw-12345");
        a.faults.challenge = Some(kind.into());
        accounts.push(a);
    }
    let sim = simulator(accounts).await;
    let proxy = tinyproxy().await;
    for (name, asks) in [
        ("sms1", ChallengeAsk::SmsCode),
        ("app1", ChallengeAsk::AppApproval),
        ("man1", ChallengeAsk::Manual),
    ] {
        let mut c = client(&sim, &proxy.spec);
        match c.login(creds(name, "pw-12345")).await.unwrap() {
            LoginOutcome::ChallengeRequired(p) => assert_eq!(p.asks, asks, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn caa_fallback_marker_continues_with_the_legacy_login_exactly_once() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let mut acc = account("eve", "pw-eve-1");
    acc.faults.please_wait = true;
    let sim = simulator(vec![acc]).await;
    let proxy = tinyproxy().await;
    let mut c = client(&sim, &proxy.spec);
    let e = c.login(creds("eve", "pw-eve-1")).await.unwrap_err();
    assert!(
        matches!(e.class(), icf_instagram::ErrorClass::Cooldown { .. }),
        "{e}"
    );
    let log = proxy.log_text();
    assert_eq!(log.matches("send_login_request").count(), 1);
    assert_eq!(log.matches("/api/v1/accounts/login/").count(), 1);
}

#[tokio::test]
async fn the_usdid_identity_is_kept_in_the_session_and_registered_once() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let sim = simulator(vec![account("fay", "pw-fay-1")]).await;
    let proxy = microsocks().await;
    let mut c = client(&sim, &proxy.spec);
    c.login(creds("fay", "pw-fay-1")).await.unwrap();
    let mut session = c.session().clone();
    let usdid = session.usdid.clone().unwrap();
    assert_eq!(usdid["registered"], true);
    assert!(
        usdid["private_key"]
            .as_str()
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    // Logged out but same device: the next password login reuses the identity.
    session.clear_login();
    let restored = Session::import(&session.export()).unwrap();
    let mut again = InstagramClient::new(restored, &proxy.spec, config(&sim)).unwrap();
    let before = sim.request_count();
    let out = again.login(creds("fay", "pw-fay-1")).await.unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)));
    assert_eq!(
        again.session().usdid.as_ref().unwrap()["usdid"],
        usdid["usdid"]
    );
    // process_client_data, keystore, oauth fetch, send_login (qe/sync key is cached per
    // client, so one more), warm-up x2; no graphql registration.
    assert_eq!(sim.request_count() - before, 7);
}

#[tokio::test]
async fn legacy_only_login_when_caa_is_switched_off() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![account("gil", "pw-gil-1")]).await;
    let proxy = tinyproxy().await;
    let cfg = icf_instagram::ClientConfig {
        caa_login: false,
        ..config(&sim)
    };
    let mut c = InstagramClient::new(fresh_session(), &proxy.spec, cfg).unwrap();
    assert!(matches!(
        c.login(creds("gil", "pw-gil-1")).await.unwrap(),
        LoginOutcome::LoggedIn(_)
    ));
    let log = proxy.log_text();
    assert!(!log.contains("bloks/async_action"));
    assert!(log.contains("/api/v1/accounts/login/"));
}

#[tokio::test]
async fn a_mistyped_totp_secret_is_an_operator_error_not_a_retry() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let mut acc = account("hal", "pw-hal-1");
    acc.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
    let sim = simulator(vec![acc]).await;
    let proxy = microsocks().await;
    let mut c = client(&sim, &proxy.spec);
    let e = c
        .login(Credentials {
            username: "hal",
            password: "pw-hal-1",
            totp_secret: Some("not base32 at all!"),
        })
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Credentials);
    assert!(!c.session().is_logged_in());
}

#[tokio::test]
async fn the_caa_network_info_can_match_the_accounts_country() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![account("ivo", "pw-ivo-1"), account("jan", "pw-jan-1")]).await;
    let proxy = tinyproxy().await;
    let mut c = client(&sim, &proxy.spec);
    c.login(creds("ivo", "pw-ivo-1")).await.unwrap();
    assert_eq!(
        sim.network_info("ivo").unwrap()["default_subscription_info"]["sim_operator_name"],
        "T-Mobile"
    );
    let de = icf_instagram::caa::network_info("26201", "Telekom.de");
    let cfg = icf_instagram::ClientConfig {
        caa_network_info: Some(de.clone()),
        ..config(&sim)
    };
    let mut c = InstagramClient::new(fresh_session(), &proxy.spec, cfg).unwrap();
    c.login(creds("jan", "pw-jan-1")).await.unwrap();
    assert_eq!(sim.network_info("jan").unwrap(), de);
}
