use icf_instagram::{Credentials, ErrorClass, InstagramClient, LoginOutcome, Session};
use serde_json::Value;

use crate::common::*;

const FIXTURE: &str = include_str!("../instagrapi-3.2.2-settings.json");

#[test]
fn instagrapi_settings_import_and_export_with_the_same_keys_and_values() {
    let s = Session::import(FIXTURE).unwrap();
    assert_eq!(s.user_id().as_deref(), Some("58123456789"));
    assert!(s.is_logged_in());
    assert_eq!(s.uuids.android_device_id, "android-ee8d3465d5b9f320");
    assert_eq!(s.device_settings.app_version, "449.0.0.52.84");
    assert_eq!(s.timezone_offset, -18000);
    let exported = s.export();
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    let back: Value = serde_json::from_str(&exported).unwrap();
    // Every key and value survives, including the unknown `username` extra.
    assert_eq!(back, original);
    assert!(
        exported.contains("\n    \"uuids\": {"),
        "4-space indent like dump_settings"
    );
    assert_eq!(Session::import(&exported).unwrap(), s);
    let auth = s.authorization_header().unwrap();
    assert!(auth.starts_with("Bearer IGT:2:"));
}

#[test]
fn a_2x_session_without_newer_keys_still_loads() {
    let mut v: Value = serde_json::from_str(FIXTURE).unwrap();
    let m = v.as_object_mut().unwrap();
    for k in ["timezone_name", "private_transport", "tls_verify", "mid"] {
        m.remove(k);
    }
    m["uuids"]
        .as_object_mut()
        .unwrap()
        .remove("tray_session_id");
    let s = Session::import(&v.to_string()).unwrap();
    assert_eq!(s.uuids.tray_session_id.len(), 36);
    assert_eq!(
        s.mid.as_deref(),
        Some("ZfakeMidForTests000000000000"),
        "mid from the cookie"
    );
}

#[tokio::test]
async fn an_imported_session_that_instagram_rejects_is_relogged_with_the_same_device() {
    if !tools_available(&["tinyproxy"]) {
        return;
    }
    let sim = simulator(vec![account("fixture_user", "pw-fixture-1")]).await;
    let proxy = tinyproxy().await;
    let imported = Session::import(FIXTURE).unwrap();
    let mut c = InstagramClient::new(imported.clone(), &proxy.spec, config(&sim)).unwrap();
    // The fixture's token is unknown to this "Instagram": the check says log in again.
    let err = c.check_session().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Relogin);
    let out = c
        .login(Credentials {
            username: "fixture_user",
            password: "pw-fixture-1",
            totp_secret: None,
        })
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::LoggedIn(_)));
    assert_eq!(
        c.session().uuids,
        imported.uuids,
        "same device ids after relogin"
    );
    assert_ne!(c.session().authorization_data, imported.authorization_data);
}
