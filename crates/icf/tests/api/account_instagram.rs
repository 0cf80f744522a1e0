//! An account's Instagram sign-in through the API (issue 5): login now through the
//! account's own REAL proxy against the in-process simulator, a challenge answered with
//! the emailed code, the cheap session check (a job of the account, never beside its
//! publishing), and instagrapi session import/export.

use icf_instagram::sim::{Faults, SimAccount, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, assert_error, socks5_url};
use crate::realproxy::{ProxyProcess, microsocks};

engine_tests!(
    periodic_status_checks_reach_every_account_with_a_session,
    login_challenge_and_status_go_through_the_accounts_proxy,
    sessions_are_imported_and_exported_by_admins_only,
    a_login_is_a_job_that_can_be_waited_for_or_read_later,
    an_account_behind_a_german_proxy_logs_in_with_a_german_phone,
    a_status_check_is_a_job_that_can_be_waited_for_or_read_later,
    a_status_check_waits_for_the_accounts_publish,
);

const FIXTURE: &str = include_str!("../../../instagram/tests/instagrapi-3.2.2-settings.json");
const PASSWORD: &str = "Ig-Login-Pw-7";

fn sim_account(name: &str, faults: Faults) -> SimAccount {
    crate::helpers::sim_account(name, PASSWORD, faults)
}

/// A simulator that knows `accounts`, and an app that talks to it with every anti-ban
/// wait a thousand times shorter.
async fn start(engine: Engine, accounts: Vec<SimAccount>) -> (Simulator, TestApp) {
    app_with_simulator(engine, accounts, &[("ICF_PACING_SPEED", "1000")]).await
}

/// Creates the account `name`, behind `proxy` (a SOCKS5 proxy and its user and password)
/// when given; returns its id.
async fn create(
    app: &TestApp,
    admin: &str,
    name: &str,
    proxy: Option<(&ProxyProcess, &str, &str)>,
) -> String {
    let mut body = json!({"username": name, "password": PASSWORD, "language": "en"});
    if let Some((p, user, pass)) = proxy {
        body["proxy_url"] = json!(socks5_url(p.port, user, pass));
    }
    app.new_account(admin, body).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(Method::POST, path, Some(token), body).await
}

async fn login_challenge_and_status_go_through_the_accounts_proxy(engine: Engine) {
    let (Some(p1), Some(p2)) = (microsocks("u1", "p1"), microsocks("u2", "p2")) else {
        return;
    };
    let challenge = Faults {
        challenge: Some("email".into()),
        ..Faults::default()
    };
    // The periodic session and proxy checks are off (`app_with_simulator`): this test
    // counts the requests it sends.
    let (sim, mut app) = start(
        engine,
        vec![
            sim_account("alice.ig", Faults::default()),
            sim_account("bob.ig", challenge),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let alice = create(&app, &admin, "alice.ig", Some((&p1, "u1", "p1"))).await;
    let bob = create(&app, &admin, "bob.ig", Some((&p2, "u2", "p2"))).await;
    let carol = create(&app, &admin, "carol.ig", None).await;

    // Only admins log accounts in.
    let (status, body) = post(&app, &editor, &format!("/api/accounts/{alice}/login"), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // No session yet: nothing to check, no request to Instagram.
    let before = sim.request_count();
    let st = app
        .get_ok(&editor, &format!("/api/accounts/{alice}/status"))
        .await;
    assert_eq!(st["session"], "none");
    assert_eq!(sim.request_count(), before);

    let (status, r) = post(&app, &admin, &format!("/api/accounts/{alice}/login"), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "logged_in", "{r}");
    assert_eq!(r["details"]["username"], "alice.ig");
    assert_eq!(r["status"], "active");
    assert_eq!(r["has_session"], true);
    assert!(r["last_login_at"].is_string());
    assert!(!r.to_string().contains(PASSWORD));

    let st = app
        .get_ok(&editor, &format!("/api/accounts/{alice}/status"))
        .await;
    assert_eq!(st["session"], "valid", "{st}");

    // A live session is kept: logging in again sends no password.
    let logins_before: i64 = count_logs(&app, "login").await;
    let (_, r) = post(&app, &admin, &format!("/api/accounts/{alice}/login"), None).await;
    assert_eq!(r["outcome"], "logged_in");
    assert_eq!(count_logs(&app, "login").await, logins_before);

    // Nothing pending for alice; a code must be digits.
    let (status, body) = post(
        &app,
        &admin,
        &format!("/api/accounts/{alice}/challenge"),
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = post(
        &app,
        &admin,
        &format!("/api/accounts/{bob}/challenge"),
        Some(json!({"code": "abc"})),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(body["error"]["field"], "code");

    // Bob meets a challenge: the account waits for a person, saying what is asked.
    let (status, r) = post(&app, &admin, &format!("/api/accounts/{bob}/login"), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "challenge_required", "{r}");
    assert_eq!(r["details"]["asks"], "email_code");
    assert_eq!(r["status"], "login_required");
    assert_eq!(r["pending_challenge"]["kind"], "challenge");
    let (status, r) = post(
        &app,
        &admin,
        &format!("/api/accounts/{bob}/challenge"),
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "logged_in", "{r}");
    assert_eq!(r["status"], "active");
    assert!(r["pending_challenge"].is_null(), "{r}");
    // The code was answered by a job of bob's, queued like his other Instagram work, and
    // is not kept in plain text; the login's last outcome is the code's.
    let job = icf_store::jobs::get(&app.db, r["job_id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(job.kind, "login_account");
    assert_eq!(job.concurrency_key.as_deref(), Some(bob.as_str()));
    assert!(
        !job.payload.to_string().contains("123456"),
        "{}",
        job.payload
    );
    let last = app
        .get_ok(&editor, &format!("/api/accounts/{bob}/login"))
        .await;
    assert_eq!(last["job_id"], r["job_id"]);
    let history: i64 = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM account_status_history h JOIN accounts a ON a.id = h.account_id \
         WHERE a.username = 'bob.ig'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(history, 2, "active → login_required → active");

    // No proxy: a proxy error, never a direct connection.
    let before = sim.request_count();
    let (status, r) = post(&app, &admin, &format!("/api/accounts/{carol}/login"), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "failed");
    assert_eq!(r["error_class"], "proxy");
    assert_eq!(r["status"], "proxy_error");
    assert_eq!(sim.request_count(), before);
    drop((p1, p2));
}

async fn count_logs(app: &TestApp, action: &str) -> i64 {
    icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM activity_logs WHERE action = $1"
    )
    .bind(action)
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn sessions_are_imported_and_exported_by_admins_only(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let id = create(&app, &admin, "imported.ig", None).await;
    let path = format!("/api/accounts/{id}/session");
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();

    let (status, body) = app.call(Method::GET, &path, Some(&admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app
        .call(Method::PUT, &path, Some(&editor), Some(fixture.clone()))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    for bad in [json!([1, 2]), json!({"uuids": 5})] {
        let (status, body) = app.call(Method::PUT, &path, Some(&admin), Some(bad)).await;
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(body["error"]["field"], "session");
    }

    let (status, acc) = app
        .call(Method::PUT, &path, Some(&admin), Some(fixture.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{acc}");
    assert_eq!(acc["has_session"], true);
    let sessionid = fixture["authorization_data"]["sessionid"].as_str().unwrap();
    assert!(!acc.to_string().contains(sessionid));
    // At rest it is a Fernet token, not the JSON.
    let stored: String = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT session_data_enc FROM accounts WHERE username = 'imported.ig'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(!stored.contains(sessionid) && !stored.contains("uuids"));

    let (status, body) = app.call(Method::GET, &path, Some(&editor), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, exported) = app.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{exported}");
    // instagrapi reads it back: the same ids, login and device.
    for key in [
        "uuids",
        "authorization_data",
        "device_settings",
        "user_agent",
        "mid",
    ] {
        assert_eq!(exported[key], fixture[key], "{key}");
    }
    // Both moves are in the activity log, without the session.
    let logs: Vec<(String, sqlx::types::Json<Value>)> = icf_store::on_pool!(&app.db, |pool| {
        sqlx::query_as(
        "SELECT action, details FROM activity_logs WHERE action LIKE 'session_%' ORDER BY created_at"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    let actions: Vec<&str> = logs.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["session_import", "session_export"]);
    assert!(
        logs.iter()
            .all(|(_, d)| !d.0.to_string().contains(sessionid))
    );
}

/// The periodic scheduler enqueues one `check_account_status` per account with a session;
/// each check goes through the account's proxy, and what Instagram says (here: a ban) moves
/// the account's status.
async fn periodic_status_checks_reach_every_account_with_a_session(engine: Engine) {
    let (Some(p1), Some(p2)) = (microsocks("c1", "q1"), microsocks("c2", "q2")) else {
        return;
    };
    // The periodic checks are off (`app_with_simulator`): they are scheduled by hand
    // below, once eve is banned.
    let (sim, mut app) = start(
        engine,
        vec![
            sim_account("dana.ig", Faults::default()),
            sim_account("eve.ig", Faults::default()),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let dana = create(&app, &admin, "dana.ig", Some((&p1, "c1", "q1"))).await;
    let eve = create(&app, &admin, "eve.ig", Some((&p2, "c2", "q2"))).await;
    create(&app, &admin, "frank.ig", None).await; // no session: not checked
    for id in [&dana, &eve] {
        let (status, body) = post(&app, &admin, &format!("/api/accounts/{id}/login"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Instagram bans eve after her login.
    sim.add_account(sim_account(
        "eve.ig",
        Faults {
            banned: true,
            ..Faults::default()
        },
    ));

    icf_store::jobs::enqueue_now(
        &app.db,
        &icf_store::jobs::NewJob::new("schedule_account_checks", json!({})),
    )
    .await
    .unwrap();
    let done = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let rows: Vec<(String,)> = icf_store::on_pool!(&db, |pool| sqlx::query_as(
                "SELECT state FROM jobs WHERE kind = 'check_account_status'"
            )
            .fetch_all(pool)
            .await
            .unwrap());
            rows
        }
    };
    let mut states = Vec::new();
    for _ in 0..200 {
        states = done(&app).await;
        if states.len() == 2 && states.iter().all(|(s,)| s == "succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        states.len(),
        2,
        "one check per account with a session: {states:?}"
    );
    assert!(states.iter().all(|(s,)| s == "succeeded"), "{states:?}");
    for (id, status) in [(&dana, "active"), (&eve, "banned")] {
        let a = app.get_ok(&admin, &format!("/api/accounts/{id}")).await;
        assert_eq!(a["status"], status, "{a}");
    }
    assert!(count_logs(&app, "check_session").await >= 2);
}

/// The login runs as a job in a worker: a client that cannot wait gets 202 and reads the
/// outcome later; asking twice while it waits joins the same job.
async fn a_login_is_a_job_that_can_be_waited_for_or_read_later(engine: Engine) {
    let Some(p1) = microsocks("j1", "k1") else {
        return;
    };
    let (sim, mut app) = start(engine, vec![sim_account("gina.ig", Faults::default())]).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let gina = create(&app, &admin, "gina.ig", Some((&p1, "j1", "k1"))).await;
    let path = format!("/api/accounts/{gina}/login");

    let (status, body) = app.call(Method::GET, &path, Some(&editor), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = post(&app, &admin, &format!("{path}?wait=500"), None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(body["error"]["field"], "wait");

    // No worker yet: the login waits in the queue, and a second request joins it.
    let (status, first) = post(&app, &admin, &format!("{path}?wait=0"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["state"], "queued");
    assert_eq!(first["status_url"], path);
    let (status, second) = post(&app, &admin, &format!("{path}?wait=1"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    assert_eq!(second["job_id"], first["job_id"]);
    assert_eq!(sim.request_count(), 0, "nothing reached Instagram yet");
    let (status, body) = app.call(Method::GET, &path, Some(&editor), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    app.run_worker();
    let mut done = Value::Null;
    for _ in 0..100 {
        let (status, body) = app.call(Method::GET, &path, Some(&editor), None).await;
        if status == StatusCode::OK {
            done = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(done["outcome"], "logged_in", "{done}");
    assert_eq!(done["job_id"], first["job_id"]);
    assert_eq!(done["status"], "active");
    assert_eq!(done["has_session"], true);
    assert_eq!(
        count_logs(&app, "login").await,
        1,
        "one login for both requests"
    );
    drop(p1);
}

/// Creates a proxy in `country` for the SOCKS5 proxy `p` and an account `name` behind it;
/// returns the account's id.
async fn create_in(
    app: &TestApp,
    admin: &str,
    name: &str,
    proxy: (&ProxyProcess, &str, &str),
    country: &str,
) -> String {
    let (p, user, pass) = proxy;
    let (status, created) = post(
        app,
        admin,
        "/api/proxies/",
        Some(json!({"url": socks5_url(p.port, user, pass), "country": country})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    app.new_account(
        admin,
        json!({"username": name, "password": PASSWORD, "language": "en", "proxy_id": created["id"]}),
    )
    .await
}

/// The stored device of `id`.
async fn stored_device(app: &TestApp, id: &str) -> icf_core::device::Device {
    let wire = icf_store::publishing::account_wire(&app.db, id.parse().unwrap())
        .await
        .unwrap();
    serde_json::from_value(wire.device).unwrap()
}

/// The SIM carrier (MCC+MNC, name) of the account's last CAA login, as the simulator saw
/// it: instagrapi's nested `si_device_param_network_info`.
fn sim_carrier(sim: &Simulator, username: &str) -> (String, String) {
    let info = sim
        .network_info(username)
        .unwrap_or_else(|| panic!("{username} sent no network info"));
    let sub = &info["default_subscription_info"];
    (
        sub["sim_operator"].as_str().unwrap_or_default().to_owned(),
        sub["sim_operator_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Issue 16 item 6: the phone's SIM, locale and clock are those of the proxy's country, on
/// the wire and in the session; a device stored before carriers existed gets a derived
/// one, written into it on first use.
async fn an_account_behind_a_german_proxy_logs_in_with_a_german_phone(engine: Engine) {
    let (Some(p1), Some(p2)) = (microsocks("de1", "pw1"), microsocks("de2", "pw2")) else {
        return;
    };
    let (sim, mut app) = start(
        engine,
        vec![
            sim_account("hans.ig", Faults::default()),
            sim_account("greta.ig", Faults::default()),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let german = icf_core::device::carriers("DE");

    let hans = create_in(&app, &admin, "hans.ig", (&p1, "de1", "pw1"), "DE").await;
    let device = stored_device(&app, &hans).await;
    let carrier = device
        .network
        .clone()
        .expect("a carrier chosen at creation");
    assert!(german.contains(&carrier), "{carrier:?}");
    assert_eq!(
        (device.locale.as_str(), device.timezone_offset),
        ("en_DE", 3600)
    );

    let (status, r) = post(&app, &admin, &format!("/api/accounts/{hans}/login"), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "logged_in", "{r}");
    let (op, name) = sim_carrier(&sim, "hans.ig");
    assert!(op.starts_with("262"), "{op} is not a German network");
    assert_eq!((op, name), (carrier.mcc_mnc.clone(), carrier.name.clone()));

    // The session follows the device: locale, country, calling code, clock.
    let (status, session) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{hans}/session"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["locale"], "en_DE");
    assert_eq!(session["country"], "DE");
    assert_eq!(session["country_code"], 49);
    assert_eq!(session["timezone_offset"], 3600);
    assert_eq!(session["timezone_name"], "GMT+01:00");
    // Kept for life: the device after the login is the device before it.
    assert_eq!(stored_device(&app, &hans).await, device);

    // A device stored before carriers existed: it gets the carrier derived from its ids,
    // sends it, and keeps it from then on.
    let greta = create_in(&app, &admin, "greta.ig", (&p2, "de2", "pw2"), "DE").await;
    let mut old = stored_device(&app, &greta).await;
    old.network = None;
    let mut json = serde_json::to_value(&old).unwrap();
    json.as_object_mut().unwrap().remove("network");
    icf_store::publishing::set_device(&app.db, greta.parse().unwrap(), &json)
        .await
        .unwrap();
    let derived = old.carrier().expect("DE has carriers");
    let (status, r) = post(&app, &admin, &format!("/api/accounts/{greta}/login"), None).await;
    assert_eq!(r["outcome"], "logged_in", "{status} {r}");
    assert_eq!(
        sim_carrier(&sim, "greta.ig"),
        (derived.mcc_mnc.clone(), derived.name.clone())
    );
    assert_eq!(stored_device(&app, &greta).await.network, Some(derived));
    drop((p1, p2));
}

/// The status check runs as a `check_account_status` job: a client that cannot wait gets
/// 202 and reads the outcome later; asking again while it waits joins the same job; the
/// answer, once there, is the one the endpoint always gave.
async fn a_status_check_is_a_job_that_can_be_waited_for_or_read_later(engine: Engine) {
    let Some(p1) = microsocks("s1", "t1") else {
        return;
    };
    let (sim, mut app) = start(engine, vec![sim_account("ivy.ig", Faults::default())]).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let ivy = create(&app, &admin, "ivy.ig", Some((&p1, "s1", "t1"))).await;
    let status = format!("/api/accounts/{ivy}/status");
    let check = format!("/api/accounts/{ivy}/status/check");

    // Never checked; a wait is bounded.
    let (code, body) = app.call(Method::GET, &check, Some(&editor), None).await;
    assert_error(code, &body, StatusCode::NOT_FOUND, "not_found");
    let (code, body) = app
        .call(
            Method::GET,
            &format!("{status}?wait=121"),
            Some(&editor),
            None,
        )
        .await;
    assert_error(code, &body, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(body["error"]["field"], "wait");

    // A session Instagram does not know (instagrapi's fixture): there is something to
    // check. No worker yet: the check waits in the queue, and asking again joins it.
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    app.put_ok(&admin, &format!("/api/accounts/{ivy}/session"), fixture)
        .await;
    let (code, first) = app
        .call(
            Method::GET,
            &format!("{status}?wait=0"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["state"], "queued");
    assert_eq!(first["status_url"], check);
    let (code, second) = post(&app, &editor, &format!("{check}?wait=1"), None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{second}");
    assert_eq!(second["job_id"], first["job_id"]);
    let (code, body) = app.call(Method::GET, &check, Some(&editor), None).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["job_id"], first["job_id"]);
    assert_eq!(sim.request_count(), 0, "nothing reached Instagram yet");
    let job = icf_store::jobs::get(&app.db, first["job_id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(job.kind, "check_account_status");
    assert_eq!(job.concurrency_key.as_deref(), Some(ivy.as_str()));

    app.run_worker();
    let mut done = Value::Null;
    for _ in 0..100 {
        let (code, body) = app.call(Method::GET, &check, Some(&editor), None).await;
        if code == StatusCode::OK {
            done = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Instagram does not know the session: expired, the account still active (the next
    // action logs in again).
    assert_eq!(done["session"], "expired", "{done}");
    assert_eq!(done["job_id"], first["job_id"]);
    assert_eq!(done["status"], "active");
    assert_eq!(done["has_session"], true);
    assert!(done["error"].is_null(), "{done}");
    assert_eq!(
        count_logs(&app, "check_session").await,
        1,
        "one check for three asks"
    );

    // Asked again once it has ended: a new check, waited for (the default).
    let (code, again) = app.call(Method::GET, &status, Some(&editor), None).await;
    assert_eq!(code, StatusCode::OK, "{again}");
    assert_eq!(again["session"], "expired", "{again}");
    assert_ne!(again["job_id"], first["job_id"]);
    // The first check dropped the dead login from the session: nothing to ask Instagram.
    assert_eq!(count_logs(&app, "check_session").await, 1);
    drop(p1);
}

/// How many publish jobs are in `state`.
async fn publish_jobs(app: &TestApp, state: &str) -> i64 {
    icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'post_to_instagram' AND state = $1"
    )
    .bind(state)
    .fetch_one(pool)
    .await
    .unwrap())
}

/// Issue 17 item 6: the status check is one more action of the account, queued behind
/// its publishing. Asked for while a slow publish holds the account, it meets Instagram
/// only once the publish has ended; the answer is the one it always was.
async fn a_status_check_waits_for_the_accounts_publish(engine: Engine) {
    let Some(p1) = microsocks("w1", "x1") else {
        return;
    };
    // Every request of the account takes a while: the publish holds it for seconds.
    let slow = Faults {
        slow_ms: Some(400),
        ..Faults::default()
    };
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("jade.ig", slow)],
        &[
            ("ICF_PACING_SPEED", "3600"),
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
        ],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app.new_group(&admin, "Slow").await;
    let jade = app
        .new_account(
            &admin,
            json!({"username": "jade.ig", "password": PASSWORD, "language": "en",
                   "group_id": group, "proxy_url": socks5_url(p1.port, "w1", "x1")}),
        )
        .await;
    let (code, r) = post(&app, &admin, &format!("/api/accounts/{jade}/login"), None).await;
    assert_eq!(code, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"], "logged_in", "{r}");

    let post_id = app
        .new_photo_post(&admin, &group, "Slow and steady #icf", "en")
        .await;
    app.publish_now(&admin, &post_id).await;
    // The publish holds the account.
    crate::helpers::wait_for(
        async || publish_jobs(&app, "running").await == 1,
        "the publish to start",
    )
    .await;

    let (code, st) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{jade}/status"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{st}");
    assert_eq!(st["session"], "valid", "{st}");
    assert_eq!(st["status"], "active");
    assert_eq!(st["has_session"], true);
    assert!(st["error"].is_null() && st["error_class"].is_null(), "{st}");
    crate::helpers::wait_for(
        async || publish_jobs(&app, "succeeded").await == 1,
        "the publish to end",
    )
    .await;
    assert_eq!(sim.media(Some("jade.ig")).len(), 1, "the post went out");

    // What Instagram saw, from the activity log: the check began after configure ended.
    let logs: Vec<(String, i32, chrono::DateTime<chrono::Utc>)> =
        icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
            "SELECT action, duration_ms, created_at FROM activity_logs \
             WHERE action IN ('upload', 'configure', 'check_session') ORDER BY created_at"
        )
        .fetch_all(pool)
        .await
        .unwrap());
    let at = |action: &str| {
        let found: Vec<_> = logs.iter().filter(|(a, _, _)| a == action).collect();
        assert_eq!(found.len(), 1, "one {action}: {logs:?}");
        let (_, took, logged) = found[0];
        (
            *logged - chrono::Duration::milliseconds(i64::from(*took)),
            *logged,
        )
    };
    let (_, configured) = at("configure");
    let (check_began, _) = at("check_session");
    assert!(
        check_began >= configured,
        "the status check met Instagram at {check_began} while the publish held the account \
         (configure ended at {configured}): {logs:?}"
    );
    drop(p1);
}
