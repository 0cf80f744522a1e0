//! The periodic upkeep and the account lifecycle rules around it: cooldowns end by
//! themselves, warm-up stages follow age, old sessions and old logs go, and failed
//! actions in a row pause an account.

use std::time::Duration;

use icf_instagram::sim::Faults;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, sim_account, socks5_url, wait_for};
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

/// `UPDATE accounts SET {set} WHERE username = '{username}'`.
async fn update_account(app: &TestApp, username: &str, set: &str) {
    sql(
        app,
        &format!("UPDATE accounts SET {set} WHERE username = '{username}'"),
    )
    .await;
}

/// The time `offset` from now as an SQL timestamp of the app's database.
fn timestamp(app: &TestApp, offset: chrono::Duration) -> String {
    let cast = if app.engine == Engine::Postgres {
        "::timestamptz"
    } else {
        ""
    };
    format!("'{}'{cast}", (chrono::Utc::now() + offset).to_rfc3339())
}

/// An admin publishes a photo post now to a new group `group` holding one account made
/// from `account` (the body of `POST /api/accounts/`, less the group), and a worker starts.
/// Returns the admin's token, the account's id and the post's id.
async fn publish_to_one_account(
    app: &mut TestApp,
    group: &str,
    mut account: Value,
    caption: &str,
) -> (String, String, String) {
    let admin = app.admin_token().await;
    let gid = app.new_group(&admin, group).await;
    account["group_id"] = json!(gid);
    let account = app.new_account(&admin, account).await;
    let post = app.new_photo_post(&admin, &gid, caption, "en").await;
    app.publish_now(&admin, &post).await;
    app.run_worker();
    (admin, account, post)
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
        let a = app
            .post_created(
                &admin,
                "/api/accounts/",
                json!({"username": name, "password": "pw-12345", "language": "en",
                    "auto_proxy": false}),
            )
            .await;
        assert_eq!(a["warmup_stage"], 0, "{a}");
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    for id in &ids[3..] {
        app.put_ok(
            &admin,
            &format!("/api/accounts/{id}/session"),
            fixture.clone(),
        )
        .await;
    }
    let past = timestamp(&app, -chrono::Duration::minutes(1));
    let future = timestamp(&app, chrono::Duration::hours(3));
    let long_ago = timestamp(&app, -chrono::Duration::days(45));
    let ancient = timestamp(&app, -chrono::Duration::days(90));
    let registered = timestamp(&app, -chrono::Duration::days(20));
    for (username, set) in [
        (
            "cool.down",
            format!("status = 'cooldown', cooldown_until = {past}"),
        ),
        (
            "still.cool",
            format!("status = 'cooldown', cooldown_until = {future}"),
        ),
        ("veteran", format!("registered_at = {registered}")),
        ("old.session", format!("last_login_at = {long_ago}")),
        ("new.session", format!("last_login_at = {past}")),
    ] {
        update_account(&app, username, &set).await;
    }
    let details = if engine == Engine::Postgres {
        "'{}'::jsonb"
    } else {
        "'{}'"
    };
    let uuid = |n: u8| format!("0190a000-0000-7000-8000-0000000000{n:02}");
    for (n, created_at) in [(1, &ancient), (2, &long_ago)] {
        sql(&app, &format!("INSERT INTO activity_logs (id, action, status, details, duration_ms, created_at) VALUES ('{}', 'login', 'success', {details}, 1, {created_at})", uuid(n))).await;
    }

    run_job_to_the_end(&app, "maintain_accounts").await;

    let get = async |i: usize| {
        app.get_ok(&admin, &format!("/api/accounts/{}", ids[i]))
            .await
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
    let history = app
        .get_ok(&admin, &format!("/api/accounts/{}/history", ids[0]))
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
    let faults = Faults {
        server_error: true,
        ..Faults::default()
    };
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("flaky.one", "pw-12345", faults)],
        &[
            ("ICF_PACING_SPEED", "600"),
            ("ICF_WORKER_POLL_SECS", "1"),
            ("ICF_MAX_FAILED_ATTEMPTS", "2"),
            ("ICF_FAILED_ATTEMPTS_COOLDOWN_MINUTES", "90"),
        ],
    )
    .await;
    let (admin, account, post) = publish_to_one_account(
        &mut app,
        "News",
        json!({"username": "flaky.one", "password": "pw-12345", "language": "en",
            "proxy_url": socks5_url(proxy.port, "f1", "g1")}),
        "Breaking news",
    )
    .await;

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
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("busy.one", "pw-12345", Faults::default())],
        &[
            ("ICF_PACING_SPEED", "600"),
            ("ICF_WORKER_POLL_SECS", "1"),
            ("ICF_ALERT_WEBHOOK_URLS", &hook),
            ("ICF_ALERT_POST_COMPLETED", "true"),
            ("ICF_ALERT_GROUP_SECS", "1"),
        ],
    )
    .await;
    let (admin, account, post) = publish_to_one_account(
        &mut app,
        "Finance",
        json!({"username": "busy.one", "password": "pw-12345", "language": "en",
            "posts_limit_per_day": 1, "proxy_url": socks5_url(proxy.port, "l1", "m1")}),
        "Markets today",
    )
    .await;

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
    let past = timestamp(&app, -chrono::Duration::seconds(1));
    update_account(&app, "busy.one", &format!("cooldown_until = {past}")).await;
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
