//! Errors reach Sentry when `SENTRY_DSN` is set: a real `icf serve` whose encryption key no
//! longer opens a stored session fails the session export, and the error arrives at a
//! stand-in Sentry (its envelope endpoint) — without the session's cookie.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use icf_core::enums::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TEST_SECRET, TestApp, TestDb, test_settings, wait_for};
use crate::realproxy::free_port;

engine_tests!(errors_reach_sentry_without_secrets);

const FIXTURE: &str = include_str!("../../../instagram/tests/instagrapi-3.2.2-settings.json");

async fn errors_reach_sentry_without_secrets(engine: Engine) {
    // A stand-in Sentry: every request's path and body.
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let record = received.clone();
    let sentry =
        axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push((
                    uri.path().to_owned(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                axum::http::StatusCode::OK
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sentry_addr = listener.local_addr().unwrap();
    let receiver = tokio::spawn(async move {
        let _ = axum::serve(listener, sentry).await;
    });

    // An account with a session, stored under one key.
    let db = TestDb::new(engine).await;
    let first_key = fernet::Fernet::generate_key();
    let settings = test_settings(&db, &[("ENCRYPTION_KEY", first_key.as_str())]);
    let url = db.url.clone();
    let dir = db.dir.path().to_owned();
    let app = TestApp::start(db, settings, true).await;
    let password = app.create_user("ops", Role::Admin).await;
    let token = app.login("ops", &password).await;
    let account = app
        .new_account(
            &token,
            json!({"username": "keyed.one", "password": "pw-keyed-1", "language": "en",
                "auto_proxy": false}),
        )
        .await;
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let cookie = fixture["authorization_data"]["sessionid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/accounts/{account}/session"),
            Some(&token),
            Some(fixture),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The same database served with another key, and Sentry configured.
    let port = free_port();
    let log = dir.join("serve-sentry.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_icf"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &url)
        .env("ICF_DATA_DIR", dir.join("second"))
        .env("ICF_LISTEN", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", TEST_SECRET)
        .env("ENCRYPTION_KEY", fernet::Fernet::generate_key())
        .env("SENTRY_DSN", format!("http://publickey@{sentry_addr}/42"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_for(
        async || client.get(format!("{base}/healthz")).send().await.is_ok(),
        "the second server",
    )
    .await;
    let resp = client
        .get(format!("{base}/api/accounts/{account}/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!resp.text().await.unwrap().contains(&cookie));

    wait_for(
        async || {
            received
                .lock()
                .unwrap()
                .iter()
                .any(|(_, body)| body.contains("cannot be decrypted") || body.contains("decrypt"))
        },
        "the error at Sentry",
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    receiver.abort();
    let got = received.lock().unwrap().clone();
    assert!(
        got.iter().all(|(path, _)| path == "/api/42/envelope/"),
        "{got:?}"
    );
    for (_, body) in &got {
        assert!(!body.contains(&cookie), "the session cookie went to Sentry");
        assert!(!body.contains(&first_key), "the key went to Sentry");
    }
}
