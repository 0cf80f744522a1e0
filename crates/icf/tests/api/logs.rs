use icf_core::activity::NewActivity;
use icf_core::enums::ActivityStatus;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    logs_page_newest_first_with_filters,
    secrets_never_reach_the_log
);

async fn insert_account(app: &TestApp, username: &str) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(
        "INSERT INTO accounts (id, username, password_enc, language, status, device_id, user_agent, device, created_at, updated_at) \
         VALUES ($1, $2, 'x', 'en', 'active', 'android-0', 'ua', '{}', $3, $3)"
    )
    .bind(icf_store::DbUuid(id))
    .bind(username)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });
    id
}

fn entry(account: Option<uuid::Uuid>, action: &str, ok: bool) -> NewActivity {
    NewActivity {
        account_id: account.map(Into::into),
        action: action.into(),
        status: if ok {
            ActivityStatus::Success
        } else {
            ActivityStatus::Failed
        },
        details: json!({"endpoint": "media/configure/", "http_status": if ok { 200 } else { 400 }}),
        error_message: (!ok).then(|| "feedback_required".to_owned()),
        duration_ms: 120,
    }
}

async fn logs_page_newest_first_with_filters(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let anna = insert_account(&app, "anna").await;
    for i in 0..120 {
        let (account, action) = if i % 3 == 0 {
            (Some(anna), "login")
        } else {
            (None, "check_proxy")
        };
        icf_store::activity::record(&app.db, entry(account, action, i % 4 != 0))
            .await
            .unwrap();
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/logs/?limit=50&cursor={c}"),
            None => "/api/logs/?limit=50".to_owned(),
        };
        let (status, page) = app.call(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push((
                item["created_at"].as_str().unwrap().to_owned(),
                item["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 120, "every entry exactly once");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 120);
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        seen.iter().map(|(t, _)| t.parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (_, page) = app
        .call(
            Method::GET,
            &format!("/api/logs?account_id={anna}&limit=200"),
            Some(&admin),
            None,
        )
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 40);
    assert!(
        items
            .iter()
            .all(|i| i["account_username"] == "anna" && i["action"] == "login")
    );
    let (_, page) = app
        .call(
            Method::GET,
            "/api/logs?action=check_proxy&status=failed&limit=200",
            Some(&admin),
            None,
        )
        .await;
    let failed = (0..120).filter(|i| i % 3 != 0 && i % 4 == 0).count();
    assert_eq!(page["items"].as_array().unwrap().len(), failed);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    let (_, page) = app
        .call(
            Method::GET,
            &format!("/api/logs?from={future}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(page["items"].as_array().unwrap().is_empty());

    let (status, body) = app
        .call(Method::GET, "/api/logs?cursor=garbage", Some(&admin), None)
        .await;
    assert_eq!(
        assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request")["field"],
        "cursor"
    );
    let (status, body) = app
        .call(Method::GET, "/api/logs?limit=0", Some(&admin), None)
        .await;
    assert_eq!(
        assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request")["field"],
        "limit"
    );
    let editor = app.editor_token().await;
    let (status, _) = app
        .call(Method::GET, "/api/logs", Some(&editor), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(Method::GET, "/api/logs", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn secrets_never_reach_the_log(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let secrets = [
        "Pa55-w0rd-x",
        "77%3Asess10n",
        "pr0xy-pass",
        "JBSWY3DPEHPK3PXP",
        "deepl-key-123:fx",
    ];
    icf_store::activity::record(
        &app.db,
        NewActivity {
            account_id: None,
            action: "login".into(),
            status: ActivityStatus::Failed,
            details: json!({
                "request": {"username": "anna", "password": secrets[0], "headers": {"Cookie": format!("sessionid={}", secrets[1])}},
                "proxy": format!("http://user:{}@127.0.0.1:3128", secrets[2]),
                "totp_secret": secrets[3],
                "translator": {"auth_key": secrets[4]},
            }),
            error_message: Some(format!("login via socks5://user:{}@10.1.1.1:1080 failed; sessionid={}", secrets[2], secrets[1])),
            duration_ms: 10,
        },
    )
    .await
    .unwrap();
    let (_, page) = app.call(Method::GET, "/api/logs", Some(&admin), None).await;
    let text = page.to_string();
    assert!(text.contains("anna"), "the useful part is kept: {text}");
    for s in secrets {
        assert!(!text.contains(s), "{s} reached the API: {text}");
    }
    // And the stored row itself.
    let raw: Vec<(String,)> = icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT CAST(details AS TEXT) || COALESCE(error_message, '') FROM activity_logs"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    for s in secrets {
        assert!(!raw[0].0.contains(s), "{s} stored: {}", raw[0].0);
    }
}
