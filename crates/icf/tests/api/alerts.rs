//! Alerts reach a local webhook receiver and a stand-in Telegram API, grouped: two
//! accounts banned (one of them twice) make one message, a challenge another.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use icf_instagram::sim::{Faults, SimAccount, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp};
use crate::realproxy::{ProxyProcess, microsocks};

engine_tests!(what_needs_a_person_is_alerted_once_per_group);

const TOKEN: &str = "123456:TELEGRAM-SECRET-token";

pub type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// A local HTTP server recording every JSON request (path, body).
pub async fn receiver() -> (String, Calls, tokio::task::JoinHandle<()>) {
    let calls: Calls = Arc::default();
    let record = calls.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, axum::Json(body): axum::Json<Value>| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push((uri.path().to_owned(), body));
                axum::http::StatusCode::OK
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), calls, task)
}

fn sim_account(name: &str, faults: Faults) -> SimAccount {
    SimAccount {
        username: name.into(),
        password: "pw-alerts".into(),
        totp_secret: None,
        faults,
    }
}

async fn what_needs_a_person_is_alerted_once_per_group(engine: Engine) {
    let mut proxies: Vec<ProxyProcess> = Vec::new();
    for i in 0..3 {
        let Some(p) = microsocks(&format!("al{i}"), "pw") else {
            return;
        };
        proxies.push(p);
    }
    let banned = Faults {
        banned: true,
        ..Faults::default()
    };
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![
            sim_account("ban.one", banned.clone()),
            sim_account("ban.two", banned),
            sim_account(
                "code.one",
                Faults {
                    challenge: Some("email".into()),
                    ..Faults::default()
                },
            ),
        ],
    )
    .await
    .unwrap();
    let (base, calls, server) = receiver().await;
    let hook = format!("{base}/hook");
    let mut app = TestApp::spawn_with(
        engine,
        &[
            ("INSTAGRAM_API_URL", &sim.base_url()),
            ("ICF_PACING_SPEED", "1000"),
            ("ICF_ACCOUNT_CHECK_HOURS", "0"),
            ("ICF_PROXY_CHECK_MINUTES", "0"),
            ("ICF_ALERT_WEBHOOK_URLS", &hook),
            ("ICF_TELEGRAM_BOT_TOKEN", TOKEN),
            ("ICF_TELEGRAM_CHAT_ID", "-100200300"),
            ("ICF_TELEGRAM_API_URL", &base),
            ("ICF_ALERT_GROUP_SECS", "3"),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for (i, name) in ["ban.one", "ban.two", "code.one"].iter().enumerate() {
        let id = app
            .new_account(
                &admin,
                json!({"username": name, "password": "pw-alerts", "language": "en",
                    "proxy_url": format!("socks5://al{i}:pw@127.0.0.1:{}", proxies[i].port)}),
            )
            .await;
        ids.push(id);
    }
    for id in [&ids[0], &ids[1], &ids[0], &ids[2]] {
        let (status, r) = app
            .call(
                Method::POST,
                &format!("/api/accounts/{id}/login"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
    }

    let hooks = |calls: &Calls| -> Vec<Value> {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path == "/hook")
            .map(|(_, b)| b.clone())
            .collect()
    };
    for _ in 0..150 {
        if hooks(&calls).len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for a second message of the same group, if one were (wrongly) sent.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = hooks(&calls);
    assert_eq!(got.len(), 2, "{got:#?}");
    let bans = got
        .iter()
        .find(|b| b["event"] == "account_banned")
        .expect("a ban alert");
    assert_eq!(bans["count"], 2, "ban.one twice counts once: {bans}");
    let subjects: Vec<&str> = bans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"ban.one") && subjects.contains(&"ban.two"));
    let codes = got
        .iter()
        .find(|b| b["event"] == "challenge_required")
        .expect("a challenge alert");
    assert_eq!(codes["items"][0]["subject"], "code.one");

    let telegram: Vec<(String, Value)> = calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _)| path != "/hook")
        .cloned()
        .collect();
    assert_eq!(telegram.len(), 2, "{telegram:?}");
    for (path, body) in &telegram {
        assert_eq!(path, &format!("/bot{TOKEN}/sendMessage"));
        assert_eq!(body["chat_id"], "-100200300");
        assert!(
            body["text"].as_str().unwrap().starts_with("icf: "),
            "{body}"
        );
    }
    // The bot token is nowhere in what icf stored.
    let stored: Vec<String> = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COALESCE(last_error, '') FROM jobs"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert!(stored.iter().all(|e| !e.contains("TELEGRAM-SECRET")));
    server.abort();
    drop(proxies);
}
