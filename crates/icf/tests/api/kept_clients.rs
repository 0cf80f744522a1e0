//! An account's Instagram client kept between its actions (issue #20): one client — one
//! pigeon session, the app's per-launch id — carries the account's publishes, as the app
//! would, until its proxy or its session changes elsewhere; then the next action is built
//! from what the database holds, never from the stale client.

use icf_instagram::sim::Faults;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, sim_account, socks5_url, wait_for};
use crate::realproxy::microsocks;

engine_tests!(an_accounts_client_is_kept_until_its_proxy_or_session_changes);

const PW: &str = "ig-kept-pw";

/// Publishes a new photo post to the group and waits for its one execution's end.
async fn publish(app: &TestApp, admin: &str, group: &str, caption: &str) -> Value {
    let post = app.new_photo_post(admin, group, caption, "en").await;
    app.publish_now(admin, &post).await;
    let path = format!("/api/posts/{post}/executions");
    let mut last = Value::Null;
    wait_for(
        async || {
            last = app.get_ok(admin, &path).await["items"][0].clone();
            last["status"] == "success" || last["status"] == "failed"
        },
        &format!("the publish of {caption} to end"),
    )
    .await;
    last
}

fn header<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

/// The distinct values of a header over the requests, in order of first use.
fn values_of(trace: &[Value], name: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for v in trace.iter().filter_map(|r| header(r, name)) {
        if !seen.iter().any(|s| s == v) {
            seen.push(v.to_owned());
        }
    }
    seen
}

fn configures(trace: &[Value]) -> usize {
    trace
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/configure/"))
        })
        .count()
}

async fn an_accounts_client_is_kept_until_its_proxy_or_session_changes(engine: Engine) {
    let (Some(first), Some(second)) = (microsocks("k1", "p1"), microsocks("k2", "p2")) else {
        return;
    };
    // 1000× faster: the account's 30-minute gap is under two seconds.
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("kept.ig", PW, Faults::default())],
        &[("ICF_PACING_SPEED", "1000"), ("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Kept").await;
    let id = app
        .new_account(
            &admin,
            // An old account: four posts fit in its day (a new one warms up with two).
            json!({"username": "kept.ig", "password": PW, "language": "en", "age_days": 1000,
                "group_id": group, "proxy_url": socks5_url(first.port, "k1", "p1")}),
        )
        .await;
    sim.record(None);

    // Two publishes, one client: the login, two uploads and two configures under one
    // pigeon session.
    for caption in ["One", "Two"] {
        let ex = publish(&app, &admin, &group, caption).await;
        assert_eq!(ex["status"], "success", "{ex}");
    }
    let trace = sim.take_trace();
    assert_eq!(configures(&trace), 2);
    let pigeons = values_of(&trace, "x-pigeon-session-id");
    assert_eq!(
        pigeons.len(),
        1,
        "one client for both publishes: {pigeons:?}"
    );

    // The account's proxy moves to another address and the old one goes away: the kept
    // client (which would dial the old proxy) is not used.
    let account = app.get_ok(&admin, &format!("/api/accounts/{id}")).await;
    let proxy = account["proxy_id"].as_str().expect("a proxy");
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/proxies/{proxy}"),
            Some(&admin),
            Some(json!({"url": socks5_url(second.port, "k2", "p2")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(first);
    let ex = publish(&app, &admin, &group, "Three").await;
    assert_eq!(ex["status"], "success", "{ex}");
    let trace = sim.take_trace();
    assert_eq!(configures(&trace), 1);
    let after_move = values_of(&trace, "x-pigeon-session-id");
    assert_eq!(after_move.len(), 1, "{after_move:?}");
    assert_ne!(after_move, pigeons, "a new client after the proxy changed");

    // The session is replaced elsewhere (here: an admin imports one): the next publish
    // sends what the database now holds, not what the kept client remembers.
    let path = format!("/api/accounts/{id}/session");
    let (status, mut session) = app.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_ne!(session["mid"], "kept-elsewhere-mid");
    session["mid"] = json!("kept-elsewhere-mid");
    let (status, body) = app
        .call(Method::PUT, &path, Some(&admin), Some(session))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ex = publish(&app, &admin, &group, "Four").await;
    assert_eq!(ex["status"], "success", "{ex}");
    let trace = sim.take_trace();
    assert_eq!(configures(&trace), 1);
    assert_eq!(
        values_of(&trace, "x-mid"),
        ["kept-elsewhere-mid"],
        "the imported session's values are sent"
    );
    assert_ne!(values_of(&trace, "x-pigeon-session-id"), after_move);
    drop(second);
}
