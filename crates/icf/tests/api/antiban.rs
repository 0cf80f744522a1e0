//! The anti-ban rules on every path, not only when a post is planned (issue #17): the posting
//! history outlives deleted posts, the spacing holds after downtime, one daily limit caps
//! every account, warm-up follows the account's real age, and a group's posting hours hold.

use std::time::Duration;

use chrono::{DateTime, Utc};
use icf_instagram::sim::{Faults, SimAccount};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, assert_error, sim_account, wait_for};
use crate::realproxy::{ProxyProcess, microsocks_on};

engine_tests!(
    deleting_a_published_post_keeps_the_accounts_posting_history,
    publishes_overdue_after_downtime_go_out_spaced,
    one_daily_limit_caps_every_path,
    warm_up_follows_the_accounts_real_age,
    nothing_is_published_outside_the_groups_posting_hours,
    a_moved_execution_keeps_its_count_of_attempts,
);

const PW: &str = "ig-antiban-pw";

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// A group `name` with one account per simulator account, each behind its own address of
/// one real SOCKS5 proxy. Returns the group id and the account ids, in order.
async fn group_of(
    app: &TestApp,
    admin: &str,
    name: &str,
    accounts: &[SimAccount],
    proxy: &ProxyProcess,
) -> (String, Vec<String>) {
    let group = app.new_group(admin, name).await;
    let mut ids = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        let proxy_url = format!("socks5://ab:pw@127.0.0.{}:{}", i + 2, proxy.port);
        ids.push(
            app.new_account(
                admin,
                json!({"username": a.username, "password": PW, "language": "en",
                    "group_id": group, "proxy_url": proxy_url}),
            )
            .await,
        );
    }
    (group, ids)
}

async fn executions(app: &TestApp, admin: &str, post: &str) -> Vec<Value> {
    app.get_ok(admin, &format!("/api/posts/{post}/executions"))
        .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until no execution of the post is queued or posting.
async fn until_done(app: &TestApp, admin: &str, post: &str) {
    wait_for(
        async || {
            executions(app, admin, post)
                .await
                .iter()
                .all(|e| e["status"] == "success" || e["status"] == "failed")
        },
        "every execution to end",
    )
    .await;
}

/// Deleting a post erased its executions, and with them the accounts' last publishes: the
/// 30-minute gap and the daily limit forgot them. Unconfirmed publishes (configure may have
/// gone through) did not count at all.
async fn deleting_a_published_post_keeps_the_accounts_posting_history(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "ab", "pw") else {
        return;
    };
    let lost = Faults {
        configure_error: true,
        ..Faults::default()
    };
    let seed = vec![
        sim_account("hist.ok", PW, Faults::default()),
        sim_account("hist.unsure", PW, lost),
    ];
    // 60× faster: the gap is 30 s, retries wait a second.
    let (sim, mut app) = app_with_simulator(
        engine,
        seed.clone(),
        &[("ICF_PACING_SPEED", "60"), ("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let (group, ids) = group_of(&app, &admin, "History", &seed, &proxy).await;
    let post = app.new_photo_post(&admin, &group, "First", "en").await;
    app.publish_now(&admin, &post).await;
    until_done(&app, &admin, &post).await;
    let ex = executions(&app, &admin, &post).await;
    let of = |id: &str| ex.iter().find(|e| e["account_id"] == id).cloned().unwrap();
    assert_eq!(of(&ids[0])["status"], "success", "{ex:?}");
    assert_eq!(of(&ids[1])["error_class"], "unconfirmed", "{ex:?}");
    assert_eq!(sim.media(None).len(), 1);

    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{post}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["publishes_kept"], 2, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("posting history"),
        "{body}"
    );
    let acc = app
        .get_ok(&admin, &format!("/api/accounts/{}", ids[0]))
        .await;
    assert_eq!(
        acc["posts_today"], 1,
        "the publish still counts today: {acc}"
    );

    // The next post: both accounts wait for the 30-minute gap (30 s here) after their
    // publish of the deleted post.
    let next = app.new_photo_post(&admin, &group, "Second", "en").await;
    let plan = app.get_ok(&admin, &format!("/api/posts/{next}/plan")).await;
    for (i, id) in ids.iter().enumerate() {
        let item = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["account_id"] == id.as_str())
            .unwrap_or_else(|| panic!("account {i} planned: {plan}"));
        // The account that is free first waits for its gap; the other may then wait for
        // the spacing after it, which is later still.
        assert!(
            ["same_account_gap", "spacing"].contains(&item["waits_for"].as_str().unwrap()),
            "account {i}: {plan}"
        );
        // The unconfirmed attempt counts from its upload, after the time it was planned for.
        let last = match i {
            0 => time(&of(id)["posted_at"]),
            _ => time(&of(id)["planned_at"]),
        };
        assert!(
            time(&item["eta"]) >= last + chrono::Duration::seconds(29),
            "account {i}: {item} after {last}"
        );
    }
    // A post that went nowhere says nothing: 204.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{next}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    drop(proxy);
}

/// The 2–5 minute spacing was applied only by the plan: after downtime every overdue job
/// went out back to back. Here no worker runs until every account of a post is overdue; the
/// publishes Instagram then sees are still at least the minimum spacing apart, and each
/// waiting publish is moved about once (it joins the end of the scope's line), not once per
/// publish ahead of it.
async fn publishes_overdue_after_downtime_go_out_spaced(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "ab", "pw") else {
        return;
    };
    const N: usize = 6;
    let seed: Vec<SimAccount> = (0..N)
        .map(|i| sim_account(&format!("late.{i}"), PW, Faults::default()))
        .collect();
    // 60× faster: 2–5 s between accounts.
    let (sim, mut app) = app_with_simulator(
        engine,
        seed.clone(),
        &[("ICF_PACING_SPEED", "60"), ("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    let admin = app.admin_token().await;
    let (group, _) = group_of(&app, &admin, "Late", &seed, &proxy).await;
    let post = app.new_photo_post(&admin, &group, "Overdue", "en").await;
    let plan = app.publish_now(&admin, &post).await;
    let last = time(&plan["last_eta"]);
    // Every worker is down until all four are overdue.
    let wait = (last - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1);
    tokio::time::sleep(wait).await;
    app.run_worker();
    until_done(&app, &admin, &post).await;

    let mut at: Vec<DateTime<Utc>> = sim.media(None).iter().map(|m| m.created_at).collect();
    assert_eq!(at.len(), N);
    at.sort();
    let min = chrono::Duration::seconds(2);
    for w in at.windows(2) {
        assert!(
            w[1] - w[0] >= min,
            "publishes {:?} apart: {at:?}",
            w[1] - w[0]
        );
    }
    // The moves show in the executions' planned times, as the UI shows them.
    let ex = executions(&app, &admin, &post).await;
    let planned_late = ex.iter().filter(|e| time(&e["planned_at"]) > last).count();
    assert!(
        planned_late >= 2,
        "moved executions show their new time: {ex:?}"
    );
    // Every publish moved to the scope's last start (the old way) met the others there again:
    // about N²/2 moves. In line, N - 1 moves, and one more for a start that the previous
    // publish's end still holds.
    let (_, logs) = app
        .call(
            Method::GET,
            "/api/logs?action=publish_deferred&limit=200",
            Some(&admin),
            None,
        )
        .await;
    let moves = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.to_string().contains("spacing"))
        .count();
    assert!(
        (N - 1..=2 * (N - 1)).contains(&moves),
        "{moves} moves for {N} overdue publishes: {logs}"
    );
    drop(proxy);
}

/// `MAX_POSTS_PER_DAY_PER_ACCOUNT` was read by the CLI import only.
async fn one_daily_limit_caps_every_path(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("MAX_POSTS_PER_DAY_PER_ACCOUNT", "5")]).await;
    let admin = app.admin_token().await;
    let created = app
        .post_created(
            &admin,
            "/api/accounts/",
            json!({"username": "lim.default", "password": PW, "language": "en", "auto_proxy": false}),
        )
        .await;
    assert_eq!(created["posts_limit_per_day"], 5, "the default: {created}");
    let err = app
        .refused(
            Method::POST,
            "/api/accounts/",
            &admin,
            json!({"username": "lim.big", "password": PW, "language": "en",
                "auto_proxy": false, "posts_limit_per_day": 6}),
        )
        .await;
    assert_eq!(err["field"], "posts_limit_per_day", "{err}");
    assert!(err.to_string().contains("from 0 to 5"), "{err}");

    let path = format!("/api/accounts/{}", created["id"].as_str().unwrap());
    let (status, body) = app
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"posts_limit_per_day": 6})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let ok = app
        .put_ok(&admin, &path, json!({"posts_limit_per_day": 3}))
        .await;
    assert_eq!(ok["posts_limit_per_day"], 3);
    assert_eq!(ok["posts_allowed_today"], 2, "a new account warms up: {ok}");

    // The API import: its default is the setting, and a larger limit is refused.
    let (status, body) = app
        .post_text(
            "/api/accounts/import?posts_limit_per_day=6",
            &admin,
            "text/plain",
            "lim.imp1:pw1:en\n".into(),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let (status, body) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            "lim.imp2:pw2:en\n".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = app.get_ok(&admin, "/api/accounts/?search=lim.imp2").await;
    assert_eq!(list["items"][0]["posts_limit_per_day"], 5, "{list}");

    // A limit stored before the setting was lowered is capped by it.
    let old = app
        .put_ok(&admin, &path, json!({"registered_at": "2019-04-01"}))
        .await;
    assert_eq!(old["posts_allowed_today"], 3, "{old}");
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE accounts SET posts_limit_per_day = 50 WHERE username = 'lim.default'"
    )
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    let capped = app.get_ok(&admin, &path).await;
    assert_eq!(capped["posts_limit_per_day"], 50);
    assert_eq!(capped["posts_allowed_today"], 5, "{capped}");
}

/// Every account was treated as new: `registered_at` could not be set anywhere.
async fn warm_up_follows_the_accounts_real_age(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Ages").await;
    let make = async |name: &str, extra: Value| -> (StatusCode, Value) {
        let mut body = json!({"username": name, "password": PW, "language": "en",
            "group_id": group, "proxy_url": format!("http://127.0.0.1:{}", 40_000 + name.len())});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.call(Method::POST, "/api/accounts/", Some(&admin), Some(body))
            .await
    };
    let (status, old) = make("age.old", json!({"registered_at": "2019-04-01"})).await;
    assert_eq!(status, StatusCode::CREATED, "{old}");
    assert_eq!(
        time(&old["registered_at"]).date_naive().to_string(),
        "2019-04-01"
    );
    assert!(old["account_age_days"].as_i64().unwrap() > 2000, "{old}");
    assert_eq!(old["warmup_stage"], 3, "{old}");
    assert_eq!(old["posts_allowed_today"], 10, "{old}");
    let (status, young) = make("age.young1", json!({"age_days": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{young}");
    assert_eq!(young["account_age_days"], 1);
    assert_eq!(young["warmup_stage"], 0);
    assert_eq!(young["posts_allowed_today"], 2);
    let (status, week) = make("age.week", json!({"age_days": 8})).await;
    assert_eq!(status, StatusCode::CREATED, "{week}");
    assert_eq!(week["warmup_stage"], 2);
    assert_eq!(week["posts_allowed_today"], 7);
    for (extra, field) in [
        (json!({"registered_at": "2009-01-01"}), "registered_at"),
        (json!({"registered_at": "tomorrow"}), "registered_at"),
        (
            json!({"registered_at": (Utc::now() + chrono::Duration::days(2)).date_naive().to_string()}),
            "registered_at",
        ),
        (json!({"age_days": -3}), "age_days"),
        (
            json!({"age_days": 1, "registered_at": "2019-04-01"}),
            "age_days",
        ),
    ] {
        let (status, body) = make("age.bad", extra.clone()).await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{extra}: {body}");
    }

    // Changed, and forgotten (unknown: new again).
    let path = format!("/api/accounts/{}", young["id"].as_str().unwrap());
    let aged = app
        .put_ok(
            &admin,
            &path,
            json!({"registered_at": "2020-01-15T10:00:00Z"}),
        )
        .await;
    assert_eq!(aged["warmup_stage"], 3, "{aged}");
    let unknown = app
        .put_ok(&admin, &path, json!({"registered_at": null}))
        .await;
    assert!(unknown["registered_at"].is_null(), "{unknown}");
    assert_eq!(unknown["warmup_stage"], 0, "{unknown}");
    let young = app.put_ok(&admin, &path, json!({"age_days": 1})).await;

    // Both imports take the age: a line's last field, a CSV column.
    let (status, body) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            "age.line:pw1:en:Ages::2018-05-20\n".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/csv",
            "username,password,language,age_days\nage.csv,pw2,en,4\n".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let find = async |name: &str| {
        app.get_ok(&admin, &format!("/api/accounts/?search={name}"))
            .await["items"][0]
            .clone()
    };
    let line = find("age.line").await;
    assert_eq!(
        time(&line["registered_at"]).date_naive().to_string(),
        "2018-05-20"
    );
    assert_eq!(line["warmup_stage"], 3, "{line}");
    let csv = find("age.csv").await;
    assert_eq!(csv["account_age_days"], 4, "{csv}");
    assert_eq!(csv["warmup_stage"], 1, "{csv}");

    // The planner follows the age: two publishes in the last hours fill a one-day-old
    // account's day (2), not an old one's (10).
    for id in [&old["id"], &young["id"]] {
        for hours in [3, 2] {
            let at = Utc::now() - chrono::Duration::hours(hours);
            icf_store::on_pool!(&app.db, |pool| sqlx::query(
                "INSERT INTO account_publishes (execution_id, outcome, account_id, post_id, at) \
                 VALUES ($1, 'success', $2, $3, $4)"
            )
            .bind(icf_store::DbUuid(uuid::Uuid::now_v7()))
            .bind(icf_store::DbUuid(id.as_str().unwrap().parse().unwrap()))
            .bind(icf_store::DbUuid(uuid::Uuid::now_v7()))
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap());
        }
    }
    let post = app.new_photo_post(&admin, &group, "Aged", "en").await;
    let plan = app.get_ok(&admin, &format!("/api/posts/{post}/plan")).await;
    let item = |id: &Value| {
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["account_id"] == *id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} planned: {plan}"))
    };
    assert_eq!(item(&young["id"])["waits_for"], "daily_limit", "{plan}");
    assert!(
        time(&item(&young["id"])["eta"]) > Utc::now() + chrono::Duration::hours(20),
        "{plan}"
    );
    assert_ne!(item(&old["id"])["waits_for"], "daily_limit", "{plan}");
    assert!(
        time(&item(&old["id"])["eta"]) < Utc::now() + chrono::Duration::hours(1),
        "{plan}"
    );
}

/// A window `hours` long opening `ahead` from now on the account's clock, as `HH:MM-HH:MM`.
fn window_from_now(offset_secs: i64, ahead: chrono::Duration, hours: i64) -> String {
    let local = Utc::now() + chrono::Duration::seconds(offset_secs) + ahead;
    let from = local.format("%H:%M").to_string();
    let until = (local + chrono::Duration::hours(hours))
        .format("%H:%M")
        .to_string();
    format!("{from}-{until}")
}

/// Active hours (beyond the specification): nothing of a group is planned, or published,
/// outside its daily window on each account's own clock — neither by the plan nor when a
/// job comes due after the window was changed.
async fn nothing_is_published_outside_the_groups_posting_hours(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "ab", "pw") else {
        return;
    };
    let seed = vec![sim_account("night.owl", PW, Faults::default())];
    let (sim, mut app) = app_with_simulator(
        engine,
        seed.clone(),
        &[("ICF_PACING_SPEED", "60"), ("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    let admin = app.admin_token().await;
    let (group, ids) = group_of(&app, &admin, "Night", &seed, &proxy).await;
    let offset: i64 = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(timezone_offset AS BIGINT) FROM accounts WHERE username = 'night.owl'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let gpath = format!("/api/groups/{group}");

    // Bad windows are refused, naming the field.
    for bad in ["8-23", "08:00-08:00", "25:00-26:00"] {
        let err = app
            .refused(Method::PUT, &gpath, &admin, json!({ "active_hours": bad }))
            .await;
        assert_eq!(err["field"], "active_hours", "{bad}: {err}");
    }

    // Closed now: the plan waits for the window to open, on the account's clock.
    let closed = window_from_now(offset, chrono::Duration::hours(2), 1);
    let g = app
        .put_ok(&admin, &gpath, json!({ "active_hours": closed }))
        .await;
    assert_eq!(g["active_hours"], closed.as_str(), "{g}");
    let post = app.new_photo_post(&admin, &group, "Late show", "en").await;
    let plan = app.get_ok(&admin, &format!("/api/posts/{post}/plan")).await;
    let item = &plan["items"][0];
    assert_eq!(item["waits_for"], "active_hours", "{plan}");
    let eta = time(&item["eta"]);
    let opens = Utc::now() + chrono::Duration::hours(2);
    assert!(
        (eta - opens).num_seconds().abs() <= 90,
        "opens at {opens}, planned {eta}"
    );

    // Open now: planned at once. Then the window moves before the job comes due; the
    // worker must not publish, but move the execution to the new window.
    let open = window_from_now(offset, -chrono::Duration::minutes(5), 3);
    app.put_ok(&admin, &gpath, json!({ "active_hours": open }))
        .await;
    let plan = app.publish_now(&admin, &post).await;
    assert_eq!(plan["items"][0]["waits_for"], "none", "{plan}");
    app.put_ok(&admin, &gpath, json!({ "active_hours": closed }))
        .await;
    app.run_worker();
    wait_for(
        async || {
            executions(&app, &admin, &post).await[0]["error_message"]
                .as_str()
                .is_some_and(|m| m.contains("active_hours"))
        },
        "the worker to move the publish into the window",
    )
    .await;
    let e = &executions(&app, &admin, &post).await[0];
    assert_eq!(e["status"], "queued", "{e}");
    let moved = time(&e["planned_at"]);
    assert!((moved - opens).num_seconds().abs() <= 90, "{e}");
    assert!(
        sim.media(None).is_empty(),
        "nothing published outside the window"
    );
    let acc = app
        .get_ok(&admin, &format!("/api/accounts/{}", ids[0]))
        .await;
    assert_eq!(acc["status"], "active");
    drop(proxy);
}

/// The specification's 3 retries belong to the execution, not to one job: a move (pacing,
/// the spacing, a cooldown) continues in a new job whose attempts start again, so the count
/// is kept on the execution. Here an execution that already used 3 attempts (in jobs before
/// moves) fails for good at its next failure instead of starting 3 more.
async fn a_moved_execution_keeps_its_count_of_attempts(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "ab", "pw") else {
        return;
    };
    let broken = Faults {
        upload_error: true,
        ..Faults::default()
    };
    let seed = vec![sim_account("moved.often", PW, broken)];
    let (_sim, mut app) = app_with_simulator(
        engine,
        seed.clone(),
        &[("ICF_PACING_SPEED", "3600"), ("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    let admin = app.admin_token().await;
    let (group, _) = group_of(&app, &admin, "Moved", &seed, &proxy).await;
    let post = app.new_photo_post(&admin, &group, "Again", "en").await;
    app.publish_now(&admin, &post).await;
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE post_executions SET retry_count = 3"
    )
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    app.run_worker();
    until_done(&app, &admin, &post).await;
    let e = &executions(&app, &admin, &post).await[0];
    assert_eq!(e["status"], "failed", "{e}");
    assert_eq!(e["error_class"], "retryable", "{e}");
    assert_eq!(e["attempts"], 4, "{e}");
    let runs: i64 = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.kind = 'post_to_instagram'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(runs, 1, "one attempt was left, not a new job's four");
    drop(proxy);
}
