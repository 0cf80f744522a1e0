//! The periodic upkeep and the account lifecycle rules around it: cooldowns end by
//! themselves, warm-up stages follow age, old sessions and old logs go, and failed
//! actions in a row pause an account.

use std::net::SocketAddr;
use std::time::Duration;

use icf_instagram::sim::{Faults, SimAccount, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, wait_for};
use crate::realproxy::microsocks;

engine_tests!(
    the_upkeep_ends_cooldowns_steps_warm_up_and_drops_old_sessions_and_logs,
    failed_actions_in_a_row_pause_the_account_and_move_the_post,
    an_account_at_its_daily_limit_cools_down_and_comes_back,
);

const FIXTURE: &str = include_str!("../../../instagram/tests/instagrapi-3.2.2-settings.json");

async fn run_job_to_the_end(app: &TestApp, kind: &str) {
    let id = icf_store::jobs::enqueue_now(&app.db, &icf_store::jobs::NewJob::new(kind, json!({})))
        .await
        .unwrap()
        .unwrap();
    for _ in 0..300 {
        let job = icf_store::jobs::get(&app.db, id).await.unwrap();
        if job.state == icf_core::enums::JobState::Succeeded {
            return;
        }
        assert_ne!(job.state, icf_core::enums::JobState::Failed, "{job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{kind} did not finish");
}

async fn sql(app: &TestApp, statement: &str) {
    let statement = statement.to_owned();
    icf_store::on_pool!(&app.db, |pool| sqlx::query(sqlx::AssertSqlSafe(
        statement.clone()
    ))
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
}

async fn the_upkeep_ends_cooldowns_steps_warm_up_and_drops_old_sessions_and_logs(engine: Engine) {
    let mut app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_ACCOUNT_CHECK_HOURS", "0"),
            ("ICF_PROXY_CHECK_MINUTES", "0"),
            ("INSTAGRAM_SESSION_LIFETIME_DAYS", "30"),
            ("ICF_LOG_RETENTION_DAYS", "60"),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for name in [
        "cool.down",
        "still.cool",
        "veteran",
        "old.session",
        "new.session",
    ] {
        let (status, a) = app
            .call(
                Method::POST,
                "/api/accounts/",
                Some(&admin),
                Some(
                    json!({"username": name, "password": "pw-12345", "language": "en",
                    "auto_proxy": false}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
        assert_eq!(a["warmup_stage"], 0, "{a}");
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    for id in &ids[3..] {
        let (status, body) = app
            .call(
                Method::PUT,
                &format!("/api/accounts/{id}/session"),
                Some(&admin),
                Some(fixture.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let future = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(45)).to_rfc3339();
    let ancient = (chrono::Utc::now() - chrono::Duration::days(90)).to_rfc3339();
    let registered = (chrono::Utc::now() - chrono::Duration::days(20)).to_rfc3339();
    let cast = if engine == Engine::Postgres {
        "::timestamptz"
    } else {
        ""
    };
    sql(&app, &format!("UPDATE accounts SET status = 'cooldown', cooldown_until = '{past}'{cast} WHERE username = 'cool.down'")).await;
    sql(&app, &format!("UPDATE accounts SET status = 'cooldown', cooldown_until = '{future}'{cast} WHERE username = 'still.cool'")).await;
    sql(
        &app,
        &format!(
            "UPDATE accounts SET registered_at = '{registered}'{cast} WHERE username = 'veteran'"
        ),
    )
    .await;
    sql(
        &app,
        &format!(
            "UPDATE accounts SET last_login_at = '{long_ago}'{cast} WHERE username = 'old.session'"
        ),
    )
    .await;
    sql(
        &app,
        &format!(
            "UPDATE accounts SET last_login_at = '{past}'{cast} WHERE username = 'new.session'"
        ),
    )
    .await;
    let details = if engine == Engine::Postgres {
        "'{}'::jsonb"
    } else {
        "'{}'"
    };
    let uuid = |n: u8| format!("0190a000-0000-7000-8000-0000000000{n:02}");
    sql(&app, &format!("INSERT INTO activity_logs (id, action, status, details, duration_ms, created_at) VALUES ('{}', 'login', 'success', {details}, 1, '{ancient}'{cast})", uuid(1))).await;
    sql(&app, &format!("INSERT INTO activity_logs (id, action, status, details, duration_ms, created_at) VALUES ('{}', 'login', 'success', {details}, 1, '{long_ago}'{cast})", uuid(2))).await;

    run_job_to_the_end(&app, "maintain_accounts").await;

    let get = async |i: usize| {
        app.call(
            Method::GET,
            &format!("/api/accounts/{}", ids[i]),
            Some(&admin),
            None,
        )
        .await
        .1
    };
    assert_eq!(get(0).await["status"], "active", "the cooldown ran out");
    assert_eq!(get(1).await["status"], "cooldown", "three hours to go");
    assert_eq!(
        get(2).await["warmup_stage"],
        3,
        "twenty days old: fully warmed up"
    );
    assert_eq!(get(3).await["has_session"], false, "older than 30 days");
    assert_eq!(get(4).await["has_session"], true);
    let (_, history) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{}/history", ids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(history["items"][0]["new_status"], "active", "{history}");
    assert_eq!(history["items"][0]["reason"], "the cooldown is over");
    let logs: Vec<(String, String)> = icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT CAST(id AS TEXT), action FROM activity_logs ORDER BY id"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert!(
        !logs.iter().any(|(id, _)| *id == uuid(1)),
        "90 days old: gone"
    );
    assert!(
        logs.iter().any(|(id, _)| *id == uuid(2)),
        "45 days old: kept"
    );
    assert_eq!(
        logs.iter().filter(|(_, a)| a == "cleanup_session").count(),
        1,
        "{logs:?}"
    );
}

async fn failed_actions_in_a_row_pause_the_account_and_move_the_post(engine: Engine) {
    let Some(proxy) = microsocks("f1", "g1") else {
        return;
    };
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![SimAccount {
            username: "flaky.one".into(),
            password: "pw-12345".into(),
            totp_secret: None,
            faults: Faults {
                server_error: true,
                ..Faults::default()
            },
        }],
    )
    .await
    .unwrap();
    let mut app = TestApp::spawn_with(
        engine,
        &[
            ("INSTAGRAM_API_URL", &sim.base_url()),
            ("ICF_PACING_SPEED", "600"),
            ("ICF_ACCOUNT_CHECK_HOURS", "0"),
            ("ICF_PROXY_CHECK_MINUTES", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
            ("ICF_MAX_FAILED_ATTEMPTS", "2"),
            ("ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES", "90"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let gid = app.new_group(&admin, "News").await;
    let account = app
        .new_account(
            &admin,
            json!({"username": "flaky.one", "password": "pw-12345", "language": "en",
                "group_id": gid,
                "proxy_url": format!("socks5://f1:g1@127.0.0.1:{}", proxy.port)}),
        )
        .await;
    let post = app
        .new_photo_post(&admin, &gid, "Breaking news", "en")
        .await;
    app.publish_now(&admin, &post).await;
    app.run_worker();

    let path = format!("/api/accounts/{account}");
    let executions = format!("/api/posts/{post}/executions");
    // The account pauses first, then the attempt ends and moves the post: wait for both.
    wait_for(
        async || {
            app.get_ok(&admin, &path).await["status"] == "cooldown"
                && app.get_ok(&admin, &executions).await["items"][0]["status"] == "queued"
        },
        "the account to pause and the post to move",
    )
    .await;
    let acc = app.get_ok(&admin, &path).await;
    assert_eq!(acc["status_reason"], "2 failed actions in a row", "{acc}");
    assert_eq!(acc["failed_attempts"], 0, "the count starts again: {acc}");
    let until: chrono::DateTime<chrono::Utc> =
        acc["cooldown_until"].as_str().unwrap().parse().unwrap();
    assert!(until > chrono::Utc::now() + chrono::Duration::minutes(80));
    // The post is moved to the end of the pause, not failed.
    let ex = app.get_ok(&admin, &executions).await;
    let e = &ex["items"][0];
    assert_eq!(e["status"], "queued", "{ex}");
    let at: chrono::DateTime<chrono::Utc> = e["planned_at"].as_str().unwrap().parse().unwrap();
    assert!(at >= until - chrono::Duration::seconds(1), "{e}");
    assert!(sim.media(None).is_empty());
    drop(proxy);
}

/// Also: the post's completion reaches the admin's webhook.
async fn an_account_at_its_daily_limit_cools_down_and_comes_back(engine: Engine) {
    let Some(proxy) = microsocks("l1", "m1") else {
        return;
    };
    let (hook_base, calls, receiver) = crate::alerts::receiver().await;
    let hook = format!("{hook_base}/done");
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![SimAccount {
            username: "busy.one".into(),
            password: "pw-12345".into(),
            totp_secret: None,
            faults: Faults::default(),
        }],
    )
    .await
    .unwrap();
    let mut app = TestApp::spawn_with(
        engine,
        &[
            ("INSTAGRAM_API_URL", &sim.base_url()),
            ("ICF_PACING_SPEED", "600"),
            ("ICF_ACCOUNT_CHECK_HOURS", "0"),
            ("ICF_PROXY_CHECK_MINUTES", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
            ("ICF_ALERT_WEBHOOK_URLS", &hook),
            ("ICF_ALERT_POST_COMPLETED", "true"),
            ("ICF_ALERT_GROUP_SECS", "1"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let gid = app.new_group(&admin, "Finance").await;
    let account = app
        .new_account(
            &admin,
            json!({"username": "busy.one", "password": "pw-12345", "language": "en",
                "group_id": gid, "posts_limit_per_day": 1,
                "proxy_url": format!("socks5://l1:m1@127.0.0.1:{}", proxy.port)}),
        )
        .await;
    let post = app
        .new_photo_post(&admin, &gid, "Markets today", "en")
        .await;
    app.publish_now(&admin, &post).await;
    app.run_worker();

    let path = format!("/api/accounts/{account}");
    let get = async || app.get_ok(&admin, &path).await;
    wait_for(
        async || get().await["status"] == "cooldown",
        "the account to cool down",
    )
    .await;
    let acc = get().await;
    assert_eq!(acc["status"], "cooldown", "{acc}");
    assert_eq!(acc["status_reason"], "daily limit reached: 1 in 24 h");
    assert_eq!(sim.media(None).len(), 1);
    let until: chrono::DateTime<chrono::Utc> =
        acc["cooldown_until"].as_str().unwrap().parse().unwrap();
    let posted: chrono::DateTime<chrono::Utc> =
        acc["last_post_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(until, posted + chrono::Duration::hours(24));

    // A day later (moved back in the database), the upkeep brings it back.
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let cast = if engine == Engine::Postgres {
        "::timestamptz"
    } else {
        ""
    };
    sql(
        &app,
        &format!("UPDATE accounts SET cooldown_until = '{past}'{cast} WHERE username = 'busy.one'"),
    )
    .await;
    run_job_to_the_end(&app, "maintain_accounts").await;
    assert_eq!(get().await["status"], "active");

    for _ in 0..100 {
        if !calls.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = calls.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1["event"], "post_completed");
    assert_eq!(sent[0].1["items"][0]["subject"], format!("post {post}"));
    assert_eq!(
        sent[0].1["items"][0]["message"],
        "\"Markets today\": 1/1 published, 0 failed"
    );
    receiver.abort();
    drop(proxy);
}
