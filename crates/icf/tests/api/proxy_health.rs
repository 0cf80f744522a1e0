//! Proxy health with real proxies: a proxy killed before its account posts is replaced
//! from the reserve (same country first) and the post still goes out once; with no reserve
//! the account waits in `proxy_error` and comes back when a proxy is added.

use icf_instagram::sim::{Faults, SimAccount};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, socks5_url, wait_for};
use crate::realproxy::{ProxyProcess, microsocks, tinyproxy};

engine_tests!(
    a_killed_proxy_is_replaced_from_the_reserve_and_the_post_goes_out_once,
    with_no_reserve_the_account_waits_in_proxy_error_until_a_proxy_is_added,
    an_account_in_proxy_error_takes_a_proxy_imported_in_the_web_ui,
);

const PASSWORD: &str = "ig-pass-proxy";

fn sim_account(name: &str) -> SimAccount {
    crate::helpers::sim_account(name, PASSWORD, Faults::default())
}

/// Adds a proxy (`body`, the body of `POST /api/proxies/`); returns its id.
async fn add_proxy(app: &TestApp, admin: &str, body: Value) -> String {
    let p = app.post_created(admin, "/api/proxies/", body).await;
    p["id"].as_str().unwrap().to_owned()
}

fn socks(p: &ProxyProcess, user: &str, pass: &str) -> String {
    socks5_url(p.port, user, pass)
}

async fn account(app: &TestApp, admin: &str, id: &str) -> Value {
    app.get_ok(admin, &format!("/api/accounts/{id}")).await
}

async fn device_of(app: &TestApp) -> String {
    icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar::<_, String>(
        "SELECT device_id || user_agent FROM accounts WHERE username = 'px.one'"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn a_killed_proxy_is_replaced_from_the_reserve_and_the_post_goes_out_once(engine: Engine) {
    let (Some(p0), Some(p1), Some(reserve_us), Some(reserve_de)) = (
        microsocks("a0", "s0"),
        tinyproxy("a1", "s1"),
        microsocks("r1", "t1"),
        microsocks("r2", "t2"),
    ) else {
        return;
    };
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("px.zero"), sim_account("px.one")],
        &[
            ("ICF_PACING_SPEED", "60"),
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
            // Checked a moment ago: the dead proxy is found by the Instagram request itself.
            ("ICF_PROXY_RECHECK_MINUTES", "60"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let gid = app.new_group(&admin, "IT").await;
    let in_country = |url: String, country: &str| json!({"url": url, "country": country});
    let proxy0 = add_proxy(&app, &admin, in_country(socks(&p0, "a0", "s0"), "US")).await;
    let http = format!("http://a1:s1@127.0.0.1:{}", p1.port);
    let proxy1 = add_proxy(&app, &admin, in_country(http, "DE")).await;
    let mut ids = Vec::new();
    for (name, proxy) in [("px.zero", &proxy0), ("px.one", &proxy1)] {
        let id = app
            .new_account(
                &admin,
                json!({"username": name, "password": PASSWORD, "language": "ru",
                    "group_id": gid, "proxy_id": proxy}),
            )
            .await;
        ids.push(id);
    }
    let device_before = device_of(&app).await;
    // The reserve: free proxies, one in the failing proxy's country.
    let reserve = in_country(socks(&reserve_us, "r1", "t1"), "US");
    let us = add_proxy(&app, &admin, reserve).await;
    let reserve = in_country(socks(&reserve_de, "r2", "t2"), "DE");
    let de = add_proxy(&app, &admin, reserve).await;
    for p in [&proxy0, &proxy1, &us, &de] {
        let (status, c) = app
            .call(
                Method::POST,
                &format!("/api/proxies/{p}/check"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "active", "{c}");
    }

    let post = app
        .new_photo_post(&admin, &gid, "Новый курс по Python!", "ru")
        .await;
    app.publish_now(&admin, &post).await;

    // px.one's proxy dies before its account posts.
    drop(p1);
    app.run_worker();
    let path = format!("/api/posts/{post}/executions");
    let mut ex = Value::Null;
    wait_for(
        async || {
            ex = app.call(Method::GET, &path, Some(&admin), None).await.1;
            ex["items"]
                .as_array()
                .is_some_and(|items| items.iter().all(|e| e["status"] == "success"))
        },
        "both executions to succeed",
    )
    .await;

    let media = sim.media(None);
    assert_eq!(media.len(), 2, "one media per account");
    let moved = account(&app, &admin, &ids[1]).await;
    assert_eq!(
        moved["proxy_id"],
        de.as_str(),
        "same country first: {moved}"
    );
    assert_eq!(moved["status"], "active");
    assert_eq!(device_of(&app).await, device_before, "the device stays");
    assert_eq!(
        account(&app, &admin, &ids[0]).await["proxy_id"],
        proxy0.as_str()
    );
    let switches: Vec<(String, String)> = icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT status, CAST(details AS TEXT) FROM activity_logs WHERE action = 'proxy_switch'"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(switches.len(), 1, "{switches:?}");
    assert_eq!(switches[0].0, "success");
    assert!(switches[0].1.contains(&de), "{switches:?}");
    let old = app.get_ok(&admin, &format!("/api/proxies/{proxy1}")).await;
    assert_eq!(old["status"], "failed", "{old}");
    drop((p0, reserve_us, reserve_de));
}

/// How the proxy that ends the wait reaches the pool.
#[derive(Clone, Copy)]
enum AddedBy {
    Api,
    /// The web UI's import form: the same use case as the API's, so the account does not
    /// wait for the next periodic check either.
    UiImport,
}

async fn with_no_reserve_the_account_waits_in_proxy_error_until_a_proxy_is_added(engine: Engine) {
    waits_in_proxy_error_until_a_proxy_comes(engine, AddedBy::Api).await;
}

async fn an_account_in_proxy_error_takes_a_proxy_imported_in_the_web_ui(engine: Engine) {
    waits_in_proxy_error_until_a_proxy_comes(engine, AddedBy::UiImport).await;
}

async fn waits_in_proxy_error_until_a_proxy_comes(engine: Engine, by: AddedBy) {
    let Some(dying) = microsocks("d1", "e1") else {
        return;
    };
    // The simulator must outlive the app that talks to it.
    let (_sim, mut app) = app_with_simulator(engine, vec![sim_account("px.alone")], &[]).await;
    app.run_worker();
    let admin = app.admin_token().await;
    let a = app
        .post_created(
            &admin,
            "/api/accounts/",
            json!({"username": "px.alone", "password": PASSWORD, "language": "en",
                "proxy_url": socks(&dying, "d1", "e1")}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    let old_proxy = a["proxy_id"].as_str().unwrap().to_owned();
    drop(dying);

    // The periodic check finds it dead; there is nothing to move to.
    icf_store::jobs::enqueue_now(
        &app.db,
        &icf_store::jobs::NewJob::new("schedule_proxy_checks", json!({})),
    )
    .await
    .unwrap();
    wait_for(
        async || account(&app, &admin, &id).await["status"] == "proxy_error",
        "the account to wait in proxy_error",
    )
    .await;
    let waiting = account(&app, &admin, &id).await;
    assert_eq!(waiting["proxy_id"], old_proxy.as_str());
    let history = app
        .get_ok(&admin, &format!("/api/accounts/{id}/history"))
        .await;
    assert!(
        history.to_string().contains("no free working proxy"),
        "{history}"
    );

    // A new proxy in the pool: the account takes it by itself.
    let Some(fresh) = microsocks("n1", "o1") else {
        return;
    };
    let url = socks(&fresh, "n1", "o1");
    match by {
        AddedBy::Api => {
            add_proxy(&app, &admin, json!({ "url": url })).await;
        }
        AddedBy::UiImport => {
            let resp = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .post(app.url("/proxies/import"))
                .header("cookie", format!("icf_session={admin}"))
                .form(&[("lines", url.as_str()), ("proxy_type", "socks5")])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let html = resp.text().await.unwrap();
            assert!(html.contains("id=\"import-created\">1<"), "{html}");
        }
    }
    wait_for(
        async || account(&app, &admin, &id).await["status"] == "active",
        "the account to recover",
    )
    .await;
    let now = account(&app, &admin, &id).await;
    let proxy = app
        .get_ok(
            &admin,
            &format!("/api/proxies/{}", now["proxy_id"].as_str().unwrap()),
        )
        .await;
    assert!(
        proxy["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{}", fresh.port)),
        "{proxy}"
    );
    drop(fresh);
}
