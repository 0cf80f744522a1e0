//! The proxy pool: admins only, credentials never shown, real checks through real proxies.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};
use crate::realproxy::{check_target, free_port, microsocks, tinyproxy};

engine_tests!(
    role_matrix_for_proxies,
    proxies_are_managed_and_shown_masked,
    proxy_input_is_validated,
    an_assigned_proxy_is_deleted_only_when_forced,
    checks_go_through_a_real_http_proxy,
    checks_go_through_a_real_socks5_proxy,
    checks_trust_the_ca_icf_trusts_for_instagram,
    a_silent_proxy_times_out,
    concurrent_accounts_never_share_a_free_proxy,
);

async fn role_matrix_for_proxies(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let id = uuid::Uuid::now_v7();
    let routes = [
        (Method::GET, "/api/proxies".to_owned()),
        (Method::GET, "/api/proxies/".to_owned()),
        (Method::POST, "/api/proxies".to_owned()),
        (Method::POST, "/api/proxies/".to_owned()),
        (Method::POST, "/api/proxies/import".to_owned()),
        (Method::GET, format!("/api/proxies/{id}")),
        (Method::PUT, format!("/api/proxies/{id}")),
        (Method::DELETE, format!("/api/proxies/{id}")),
        (Method::POST, format!("/api/proxies/{id}/check")),
    ];
    for (method, path) in &routes {
        let body = Some(json!({}));
        let (status, _) = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        let (status, _) = app
            .call(method.clone(), path, Some(&editor), body.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "editor {method} {path}");
        let (status, _) = app.call(method.clone(), path, Some(&admin), body).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "admin {method} {path} got {status}"
        );
    }
}

fn assert_no_secret(body: &Value, secrets: &[&str]) {
    let text = body.to_string();
    for s in secrets {
        assert!(!text.contains(s), "secret {s} in response: {text}");
    }
}

async fn proxies_are_managed_and_shown_masked(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (status, created) = app
        .call(
            Method::POST,
            "/api/proxies/",
            Some(&admin),
            Some(json!({"url": "socks5://alice:S3cret-pw@10.1.2.3:1080", "country": "de"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["url"], "socks5://10.1.2.3:1080");
    assert_eq!(created["proxy_type"], "socks5");
    assert_eq!(created["country"], "DE");
    assert_eq!(created["status"], "active");
    assert_eq!(created["has_credentials"], true);
    assert!(created["assigned_account_id"].is_null());
    assert_no_secret(&created, &["S3cret-pw", "alice"]);
    let id = created["id"].as_str().unwrap().to_owned();

    // The colon form with a type.
    let (status, second) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(&admin),
            Some(json!({"url": "10.1.2.4:8080:bob:pw2", "proxy_type": "http"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["url"], "http://10.1.2.4:8080");

    // The same address and user again is a duplicate.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(&admin),
            Some(json!({"url": "socks5://alice:other@10.1.2.3:1080"})),
        )
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "url");

    // Filters and pagination.
    let (_, list) = app
        .call(
            Method::GET,
            "/api/proxies?proxy_type=socks5",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (_, page) = app
        .call(
            Method::GET,
            "/api/proxies?per_page=1&page=2",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["url"], "http://10.1.2.4:8080");
    let (_, free) = app
        .call(
            Method::GET,
            "/api/proxies?assigned=false&country=DE",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(free["total"], 1);

    let (status, updated) = app
        .call(
            Method::PUT,
            &format!("/api/proxies/{id}"),
            Some(&admin),
            Some(json!({"country": null, "status": "failed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(updated["country"].is_null());
    assert_eq!(updated["status"], "failed");
    assert_eq!(updated["url"], "socks5://10.1.2.3:1080");

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/proxies/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/proxies/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn proxy_input_is_validated(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let cases = [
        (json!({"url": "ftp://h:1"}), "url"),
        (json!({"url": "http://h:99999"}), "url"),
        (json!({"url": "http://h"}), "url"),
        (
            json!({"url": format!("http://{}:1", "h".repeat(600))}),
            "url",
        ),
        (
            json!({"url": "http://h:1", "country": "Germany"}),
            "country",
        ),
        (
            json!({"url": "http://h:1", "proxy_type": "socks4"}),
            "proxy_type",
        ),
        (json!({"url": 5}), "url"),
        (json!({}), "url"),
    ];
    for (body, field) in cases {
        let (status, resp) = app
            .call(
                Method::POST,
                "/api/proxies",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        let err = assert_error(
            status,
            &resp,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{body}: {resp}");
    }
    let (status, resp) = app
        .call(
            Method::GET,
            "/api/proxies?status=broken",
            Some(&admin),
            None,
        )
        .await;
    let err = assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "status");
    let (status, resp) = app
        .call(Method::GET, "/api/proxies/not-a-uuid", Some(&admin), None)
        .await;
    let err = assert_error(status, &resp, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(err["field"], "id");
    let resp = app
        .request(Method::POST, "/api/proxies", Some(&admin))
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let missing = uuid::Uuid::now_v7();
    let (status, resp) = app
        .call(
            Method::POST,
            &format!("/api/proxies/{missing}/check"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, "not_found");
    let (_, list) = app
        .call(Method::GET, "/api/proxies", Some(&admin), None)
        .await;
    assert_eq!(list["total"], 0, "nothing was created by refused requests");
}

async fn an_assigned_proxy_is_deleted_only_when_forced(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (_, proxy) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(&admin),
            Some(json!({"url": "http://u:p@10.0.0.9:3128"})),
        )
        .await;
    let pid = proxy["id"].as_str().unwrap().to_owned();
    let (status, account) = app
        .call(
            Method::POST,
            "/api/accounts",
            Some(&admin),
            Some(json!({"username": "shop.one", "password": "Ig-pass-1", "language": "en", "proxy_id": pid})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let (_, proxy) = app
        .call(
            Method::GET,
            &format!("/api/proxies/{pid}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(proxy["assigned_account"], "shop.one");
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/proxies/{pid}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/proxies/{pid}?force=true"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let aid = account["id"].as_str().unwrap();
    let (_, account) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{aid}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(
        account["proxy_id"].is_null() && account["proxy"].is_null(),
        "{account}"
    );
}

async fn add_proxy(app: &TestApp, admin: &str, url: &str) -> String {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(admin),
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn check(app: &TestApp, admin: &str, id: &str) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/proxies/{id}/check"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn checks_go_through_a_real_http_proxy(engine: Engine) {
    let Some(proxy) = tinyproxy("puser", "ppass-secret") else {
        return;
    };
    let target = check_target().await;
    let app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_PROXY_CHECK_URL", &target.url),
            ("ICF_PROXY_CHECK_TIMEOUT_SECS", "5"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let port = proxy.port;

    let good = add_proxy(
        &app,
        &admin,
        &format!("http://puser:ppass-secret@127.0.0.1:{port}"),
    )
    .await;
    let body = check(&app, &admin, &good).await;
    assert_eq!(body["status"], "active", "{body}");
    assert!(body["last_error"].is_null());
    assert!(body["last_latency_ms"].as_i64().is_some());
    assert!(body["last_check_at"].is_string());
    assert_eq!(body["success_rate"], 1.0);
    assert_eq!(body["checks_total"], 1);
    assert_eq!(
        target.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the request reached the target"
    );
    assert_no_secret(&body, &["ppass-secret"]);

    let wrong = add_proxy(
        &app,
        &admin,
        &format!("http://puser2:wrong-pass@127.0.0.1:{port}"),
    )
    .await;
    let body = check(&app, &admin, &wrong).await;
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["last_error"], "authentication failed");
    assert_eq!(body["success_rate"], 0.0);
    assert_no_secret(&body, &["wrong-pass"]);
    assert_eq!(
        target.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "refused by the proxy"
    );

    let dead = add_proxy(
        &app,
        &admin,
        &format!("http://puser:ppass-secret@127.0.0.1:{}", free_port()),
    )
    .await;
    let body = check(&app, &admin, &dead).await;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["last_error"], "connection refused");

    // The rate follows the recent checks: a failure after a success lowers it.
    drop(proxy);
    let body = check(&app, &admin, &good).await;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["checks_total"], 2);
    assert_eq!(body["checks_ok"], 1);
    let rate = body["success_rate"].as_f64().unwrap();
    assert!(rate > 0.0 && rate < 1.0, "{rate}");
}

async fn checks_go_through_a_real_socks5_proxy(engine: Engine) {
    let Some(proxy) = microsocks("suser", "spass-secret") else {
        return;
    };
    let target = check_target().await;
    let app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_PROXY_CHECK_URL", &target.url),
            ("ICF_PROXY_CHECK_TIMEOUT_SECS", "5"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let port = proxy.port;
    let good = add_proxy(
        &app,
        &admin,
        &format!("127.0.0.1:{port}:suser:spass-secret"),
    )
    .await;
    // The colon form defaults to http; make it socks5.
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/proxies/{good}"),
            Some(&admin),
            Some(json!({"url": format!("socks5://suser:spass-secret@127.0.0.1:{port}")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let body = check(&app, &admin, &good).await;
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(body["url"], format!("socks5://127.0.0.1:{port}"));
    assert_eq!(target.hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    let wrong = add_proxy(
        &app,
        &admin,
        &format!("socks5://intruder:bad-pass@127.0.0.1:{port}"),
    )
    .await;
    let body = check(&app, &admin, &wrong).await;
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["last_error"], "authentication failed");
    assert_no_secret(&body, &["bad-pass", "spass-secret"]);

    let dead = add_proxy(
        &app,
        &admin,
        &format!("socks5://suser:spass-secret@127.0.0.1:{}", free_port()),
    )
    .await;
    let body = check(&app, &admin, &dead).await;
    assert_eq!(body["last_error"], "connection refused", "{body}");
}

async fn a_silent_proxy_times_out(engine: Engine) {
    // Accepts connections and never answers, like a proxy that hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let target = check_target().await;
    let app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_PROXY_CHECK_URL", &target.url),
            ("ICF_PROXY_CHECK_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let id = add_proxy(&app, &admin, &format!("http://u:p@127.0.0.1:{port}")).await;
    let body = check(&app, &admin, &id).await;
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["last_error"], "timeout");
    holder.abort();
}

async fn concurrent_accounts_never_share_a_free_proxy(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    for i in 0..3 {
        add_proxy(&app, &admin, &format!("http://10.0.0.{i}:3128")).await;
    }
    let creates = (0..8).map(|i| {
        let app = &app;
        let admin = &admin;
        async move {
            let (status, body) = app
                .call(
                    Method::POST,
                    "/api/accounts",
                    Some(admin),
                    Some(json!({"username": format!("racer{i}"), "password": "pw", "language": "en"})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["proxy_id"].as_str().map(str::to_owned)
        }
    });
    let proxies: Vec<String> = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .flatten()
        .collect();
    let distinct: std::collections::HashSet<&String> = proxies.iter().collect();
    assert_eq!(
        proxies.len(),
        3,
        "every free proxy was handed out: {proxies:?}"
    );
    assert_eq!(
        distinct.len(),
        3,
        "no proxy serves two accounts: {proxies:?}"
    );
}

/// `INSTAGRAM_API_CA` (an Instagram reached through a TLS-inspecting gateway, or the
/// simulator over https) was trusted by the accounts' clients but not by the proxy check,
/// which fetches from that same Instagram: every check failed, and every account went to
/// `proxy_error` before its first login.
async fn checks_trust_the_ca_icf_trusts_for_instagram(engine: Engine) {
    let Some(proxy) = microsocks("causer", "ca-pass") else {
        return;
    };
    let sim = icf_instagram::sim::Simulator::start_tls(([127, 0, 0, 1], 0).into(), vec![])
        .await
        .unwrap();
    let mut ca = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut ca, sim.cert_pem().unwrap().as_bytes()).unwrap();
    let url = sim.base_url();
    assert!(url.starts_with("https://"), "{url}");
    let app = TestApp::spawn_with(
        engine,
        &[
            ("INSTAGRAM_API_URL", &url),
            ("INSTAGRAM_API_CA", &ca.path().display().to_string()),
            ("ICF_PROXY_CHECK_TIMEOUT_SECS", "5"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let id = add_proxy(
        &app,
        &admin,
        &format!("socks5://causer:ca-pass@127.0.0.1:{}", proxy.port),
    )
    .await;
    let body = check(&app, &admin, &id).await;
    assert_eq!(body["status"], "active", "{body}");
}
