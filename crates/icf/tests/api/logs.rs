use icf_core::activity::NewActivity;
use icf_core::enums::ActivityStatus;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    logs_page_newest_first_with_filters,
    secrets_never_reach_the_log,
    a_million_log_rows_are_paged_through_the_indexes,
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

/// 1,000,000 log rows: pages come from the indexes (the query plan says so), never from a
/// scan and sort of the whole table, and the cursor walks on.
async fn a_million_log_rows_are_paged_through_the_indexes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let busy = insert_account(&app, "busy.logs").await;
    let rare = insert_account(&app, "rare.logs").await;
    // Every thousandth row is the rare account's.
    let fill = match engine {
        Engine::Postgres => {
            "INSERT INTO activity_logs (id, account_id, action, status, details, duration_ms, created_at) \
             SELECT gen_random_uuid(), CASE WHEN g % 1000 = 0 THEN $2 ELSE $1 END, 'upload', \
             'success', '{}'::jsonb, 10, now() - make_interval(secs => g) \
             FROM generate_series(1, 1000000) g"
        }
        Engine::Sqlite => {
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000000) \
             INSERT INTO activity_logs (id, account_id, action, status, details, duration_ms, created_at) \
             SELECT printf('00000000-0000-7000-8000-%012d', n), \
             CASE WHEN n % 1000 = 0 THEN $2 ELSE $1 END, 'upload', 'success', '{}', 10, \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || n || ' seconds') FROM g"
        }
    };
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(fill)
            .bind(icf_store::DbUuid(busy))
            .bind(icf_store::DbUuid(rare))
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    });

    let plan = |account: Option<uuid::Uuid>| {
        let db = app.db.clone();
        async move {
            let filter = icf_store::activity::LogFilter {
                account_id: account.map(icf_core::ids::AccountId::from),
                ..Default::default()
            };
            let page = icf_store::activity::page_sql(&filter, false);
            let sql = match engine {
                Engine::Postgres => format!("EXPLAIN {page}"),
                Engine::Sqlite => format!("EXPLAIN QUERY PLAN {page}"),
            };
            let account = account.map(icf_store::DbUuid);
            let lines: Vec<String> = match &db {
                icf_store::Db::Postgres(pool) => {
                    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                    if let Some(a) = account {
                        q = q.bind(a);
                    }
                    q.bind(51i64).fetch_all(pool).await.unwrap()
                }
                icf_store::Db::Sqlite(pool) => {
                    let mut q =
                        sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(sql));
                    if let Some(a) = account {
                        q = q.bind(a);
                    }
                    let rows = q.bind(51i64).fetch_all(pool).await.unwrap();
                    rows.into_iter().map(|r| r.3).collect()
                }
            };
            lines.join("\n")
        }
    };
    let all = plan(None).await;
    match engine {
        Engine::Postgres => {
            assert!(all.contains("activity_logs_time"), "{all}");
            assert!(!all.contains("Seq Scan on activity_logs"), "{all}");
            let one = plan(Some(rare)).await;
            assert!(one.contains("activity_logs_account"), "{one}");
            assert!(!one.contains("Seq Scan on activity_logs"), "{one}");
        }
        Engine::Sqlite => {
            assert!(all.contains("activity_logs_time"), "{all}");
            assert!(!all.contains("TEMP B-TREE"), "no sort of the table: {all}");
            let one = plan(Some(rare)).await;
            assert!(one.contains("activity_logs_account"), "{one}");
            // Ties of the same instant are ordered by id ("LAST TERM"), never the whole set.
            assert!(
                !one.contains("TEMP B-TREE FOR ORDER BY"),
                "no sort of the account's rows: {one}"
            );
        }
    }

    // Through the API: a page of 50, the next one by its cursor, one account's page.
    let (status, first) = app
        .call(Method::GET, "/api/logs/?limit=50", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (status, second) = app
        .call(
            Method::GET,
            &format!("/api/logs/?limit=50&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
    assert!(second["items"][0]["created_at"].as_str() <= first["items"][49]["created_at"].as_str());
    let (status, mine) = app
        .call(
            Method::GET,
            &format!("/api/logs/?limit=50&account_id={rare}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|i| i["account_username"] == "rare.logs"));
}
