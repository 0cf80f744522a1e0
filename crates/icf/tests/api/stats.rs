//! `/api/stats/*` against a known data set, on both engines.

use chrono::{Duration, Utc};
use icf_store::{DbUuid, on_pool};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::helpers::{Engine, TestApp};

engine_tests!(figures_match_a_known_data_set);

async fn exec(app: &TestApp, sql: &str, binds: Vec<Bind>) {
    let sql = sql.to_owned();
    on_pool!(&app.db, |pool| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for b in &binds {
            q = match b {
                Bind::Id(u) => q.bind(DbUuid(*u)),
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Time(t) => q.bind(*t),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q.execute(pool).await.map(|_| ()).unwrap()
    });
}

enum Bind {
    Id(Uuid),
    Text(String),
    Time(chrono::DateTime<Utc>),
    Int(i32),
}
use Bind::{Id, Int, Text, Time};

async fn figures_match_a_known_data_set(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let now = Utc::now();
    let group = Uuid::now_v7();
    exec(&app, "INSERT INTO groups (id, name, name_key, created_at, updated_at) VALUES ($1, 'IT', 'it', $2, $2)", vec![Id(group), Time(now)]).await;
    let mut accounts = Vec::new();
    for (name, status, lang) in [
        ("a1", "active", "en"),
        ("a2", "active", "ru"),
        ("a3", "banned", "en"),
        ("a4", "cooldown", "es"),
    ] {
        let id = Uuid::now_v7();
        exec(&app,
            "INSERT INTO accounts (id, username, password_enc, group_id, language, status, device_id, user_agent, device, created_at, updated_at) \
             VALUES ($1, $2, 'x', $3, $4, $5, 'android-0', 'ua', '{}', $6, $6)",
            vec![Id(id), Text(name.into()), Id(group), Text(lang.into()), Text(status.into()), Time(now)]).await;
        accounts.push((id, lang));
    }
    let post = Uuid::now_v7();
    exec(&app,
        "INSERT INTO posts (id, media_paths, media_type, caption_original, original_language, target_groups, status, created_at, updated_at) \
         VALUES ($1, '[]', 'photo', 'c', 'en', '[]', 'posting', $2, $2)", vec![Id(post), Time(now)]).await;
    // (account index, status, hours ago, error)
    let executions: [(usize, &str, i64, Option<&str>); 7] = [
        (0, "success", 1, None),
        (0, "success", 2, None),
        (0, "success", 72, None),
        (1, "success", 30, None),
        (1, "failed", 1, Some("feedback_required")),
        (1, "failed", 50, Some("please wait")),
        (2, "failed", 10, Some("account banned")),
    ];
    for (i, (acc, status, hours, error)) in executions.iter().enumerate() {
        let at = now - Duration::hours(*hours);
        // One post per account and execution row: reuse the post with distinct fake posts.
        let p = if i == 0 {
            post
        } else {
            let p = Uuid::now_v7();
            exec(&app,
                "INSERT INTO posts (id, media_paths, media_type, caption_original, original_language, target_groups, status, created_at, updated_at) \
                 VALUES ($1, '[]', 'photo', 'c', 'en', '[]', 'completed', $2, $2)", vec![Id(p), Time(now)]).await;
            p
        };
        exec(&app,
            "INSERT INTO post_executions (id, post_id, account_id, language, caption_translated, status, error_message, posted_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'c', $5, $6, $7, $8, $8)",
            vec![Id(Uuid::now_v7()), Id(p), Id(accounts[*acc].0), Text(accounts[*acc].1.into()), Text((*status).into()),
                 Text(error.unwrap_or("").into()), Time(at), Time(at)]).await;
    }
    // Queue: 2 waiting, 1 retrying, 1 running, 1 failed; two successful publish attempts (1 s, 3 s).
    for (state, attempts) in [
        ("queued", 0),
        ("queued", 0),
        ("queued", 1),
        ("running", 1),
        ("failed", 3),
    ] {
        let job = Uuid::now_v7();
        exec(&app,
            "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at) \
             VALUES ($1, 'post_to_instagram', '{}', $2, $3, $4, 3, $3, $3)",
            vec![Id(job), Text(state.into()), Time(now), Int(attempts)]).await;
        if attempts == 1 && state == "running" {
            for ms in [1000, 3000] {
                exec(&app,
                    "INSERT INTO job_attempts (id, job_id, attempt, worker, started_at, finished_at, duration_ms, outcome) \
                     VALUES ($1, $2, 1, 'w', $3, $3, $4, 'succeeded')",
                    vec![Id(Uuid::now_v7()), Id(job), Time(now), Int(ms)]).await;
            }
        }
    }

    let (status, o) = app
        .call(Method::GET, "/api/stats/overview", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(
        o["accounts_by_status"],
        serde_json::json!({"active": 2, "banned": 1, "cooldown": 1})
    );
    assert_eq!(
        o["posts_by_status"],
        serde_json::json!({"completed": 6, "posting": 1})
    );
    assert_eq!(
        (
            o["last_24h"]["success"].as_i64(),
            o["last_24h"]["failed"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(o["last_24h"]["success_rate"], 0.5);
    assert_eq!(
        (
            o["last_7d"]["success"].as_i64(),
            o["last_7d"]["failed"].as_i64()
        ),
        (Some(4), Some(3))
    );
    assert!((o["last_7d"]["success_rate"].as_f64().unwrap() - 4.0 / 7.0).abs() < 1e-9);
    assert_eq!(o["avg_publish_ms"], 2000.0);
    assert_eq!(
        o["queue"],
        serde_json::json!({"waiting": 2, "running": 1, "retrying": 1, "failed": 1})
    );

    let (_, a) = app
        .call(Method::GET, "/api/stats/accounts", Some(&token), None)
        .await;
    let order: Vec<&str> = a
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["a3", "a4", "a2", "a1"],
        "the most troubled first: {a}"
    );
    assert_eq!(a[0]["last_error"], "account banned");
    assert_eq!(
        (a[2]["posts"].as_i64(), a[2]["failures"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(a[3]["success_rate"], 1.0);
    let (_, top) = app
        .call(
            Method::GET,
            "/api/stats/accounts?limit=2",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(top.as_array().unwrap().len(), 2);

    let (_, p) = app
        .call(Method::GET, "/api/stats/posts", Some(&token), None)
        .await;
    assert_eq!(p["by_language"], serde_json::json!({"en": 3, "ru": 1}));
    assert_eq!(p["by_group"], serde_json::json!({"IT": 4}));
    assert_eq!(
        p["by_day"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        4
    );
    assert_eq!(
        p["by_hour"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        3,
        "within 48 h: {p}"
    );

    let (status, _) = app
        .call(Method::GET, "/api/stats/overview", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
