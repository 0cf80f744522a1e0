//! The specification's §7 scenario end to end, on both engines: accounts created through
//! the API, each behind its own REAL local proxy (microsocks or tinyproxy), the Instagram
//! simulator in-process, a post with one image and a Russian caption (en/es edited by
//! hand), published and carried out by a real worker until every execution has ended.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use icf_instagram::sim::{Faults, SimAccount, Simulator};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::helpers::{Engine, TestApp};
use crate::realproxy::{ProxyProcess, microsocks, tinyproxy};

engine_tests!(
    twenty_accounts_get_the_post_once_each_in_their_language,
    transient_errors_challenges_and_lost_answers_are_handled,
    an_action_block_moves_the_execution_without_failing_it,
    a_carousel_with_a_video_waits_for_transcoding,
    a_reel_goes_out_as_a_reel,
    a_video_kept_in_an_s3_bucket_goes_out_from_a_local_copy,
    a_scheduled_post_waits_for_its_time_and_survives_a_restart,
    a_dead_session_is_replaced_by_one_login_and_the_post_goes_out_once,
    an_unusable_account_fails_its_execution_and_a_post_with_no_success_fails,
);

const CAPTION_RU: &str = "Новый курс по Python! Скидка 50% 🔥";
const CAPTION_EN: &str = "New Python course! 50% off 🔥";
const CAPTION_ES: &str = "¡Nuevo curso de Python! 50% de descuento 🔥";
const IG_PASSWORD: &str = "ig-pass-123";

fn language(i: usize, n: usize) -> &'static str {
    if i < n / 2 {
        "en"
    } else if i < n * 3 / 4 {
        "ru"
    } else {
        "es"
    }
}

fn caption_for(lang: &str) -> &'static str {
    match lang {
        "en" => CAPTION_EN,
        "es" => CAPTION_ES,
        _ => CAPTION_RU,
    }
}

struct Scenario {
    app: TestApp,
    sim: Simulator,
    admin: String,
    post: String,
    /// username → language
    accounts: Vec<(String, &'static str)>,
    _proxies: Vec<ProxyProcess>,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Scenario {
    /// `n` accounts in group IT, one real proxy each, simulated on Instagram with
    /// `faults(i)`; a published photo post. `None` when the proxies are not installed.
    async fn start(engine: Engine, n: usize, faults: impl Fn(usize) -> Faults) -> Option<Self> {
        let photo = vec![("image.jpg", crate::posts::jpeg(1080, 1080))];
        Self::start_with(engine, n, faults, photo).await
    }

    async fn start_with(
        engine: Engine,
        n: usize,
        faults: impl Fn(usize) -> Faults,
        files: Vec<(&'static str, Vec<u8>)>,
    ) -> Option<Self> {
        Self::start_in(engine, n, faults, files, None, "now", &[]).await
    }

    /// `media_type`: `reel` for a video posted as a reel; otherwise decided by the files.
    /// `when`: `now` or an RFC 3339 time to publish at. `env`: settings of the app beside the
    /// scenario's own.
    async fn start_in(
        engine: Engine,
        n: usize,
        faults: impl Fn(usize) -> Faults,
        files: Vec<(&'static str, Vec<u8>)>,
        media_type: Option<&str>,
        when: &str,
        env: &[(&str, &str)],
    ) -> Option<Self> {
        let mut proxies = Vec::with_capacity(n);
        let mut urls = Vec::with_capacity(n);
        for i in 0..n {
            let (user, pass) = (format!("u{i}"), format!("p{i}"));
            // Mostly SOCKS5, every fourth account behind an HTTP proxy.
            let (proxy, scheme) = if i % 4 == 3 {
                (tinyproxy(&user, &pass)?, "http")
            } else {
                (microsocks(&user, &pass)?, "socks5")
            };
            urls.push(format!("{scheme}://{user}:{pass}@127.0.0.1:{}", proxy.port));
            proxies.push(proxy);
        }
        let accounts: Vec<(String, &'static str)> = (0..n)
            .map(|i| {
                let lang = language(i, n);
                (format!("it_{lang}_{i}"), lang)
            })
            .collect();
        let seed = accounts
            .iter()
            .enumerate()
            .map(|(i, (name, _))| SimAccount {
                username: name.clone(),
                password: IG_PASSWORD.into(),
                totp_secret: None,
                faults: faults(i),
            })
            .collect();
        let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), seed)
            .await
            .unwrap();
        let sim_url = sim.base_url();
        let mut settings = vec![
            ("INSTAGRAM_API_URL", sim_url.as_str()),
            ("ICF_PACING_SPEED", "60"),
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
        ];
        settings.extend_from_slice(env);
        let app = TestApp::spawn_with(engine, &settings).await;
        let admin = app.admin_token().await;
        let (status, group) = app
            .call(
                Method::POST,
                "/api/groups/",
                Some(&admin),
                Some(json!({"name": "IT"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        let gid = group["id"].as_str().unwrap().to_owned();
        for ((name, lang), url) in accounts.iter().zip(&urls) {
            let (status, acc) = app
                .call(
                    Method::POST,
                    "/api/accounts/",
                    Some(&admin),
                    Some(
                        json!({"username": name, "password": IG_PASSWORD, "language": lang,
                        "group_id": gid, "proxy_url": url}),
                    ),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{acc}");
        }
        let post = create_post(&app, &admin, &gid, files, media_type).await;
        for (lang, text) in [("en", CAPTION_EN), ("es", CAPTION_ES)] {
            let (status, t) = app
                .call(
                    Method::PUT,
                    &format!("/api/posts/{post}/translations/{lang}"),
                    Some(&admin),
                    Some(json!({"text": text})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{t}");
        }
        let (status, published) = app
            .call(
                Method::POST,
                &format!("/api/posts/{post}/publish"),
                Some(&admin),
                Some(json!({"when": when})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        assert_eq!(published["created"], n);
        Some(Scenario {
            app,
            sim,
            admin,
            post,
            accounts,
            _proxies: proxies,
            stop: None,
            worker: None,
        })
    }

    /// A real worker with the registry `icf worker` runs.
    fn run_worker(&mut self) {
        let (tx, rx) = oneshot::channel::<()>();
        let db = self.app.db.clone();
        let settings = self.app.settings.clone();
        self.stop = Some(tx);
        self.worker = Some(tokio::spawn(async move {
            icf::startup::run_worker(db, &settings, 8, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        }));
    }

    /// Runs a worker until no execution is open; every one must have succeeded, and the
    /// simulator must hold one media per account. Returns those media.
    async fn publish_all(&mut self, n: usize) -> Vec<Value> {
        self.run_worker();
        let ex = self.wait_all_ended(Duration::from_secs(120)).await;
        self.stop_worker().await;
        assert_eq!(ex["totals"]["success"], n, "{ex:#}");
        let media = self.sim_media().await;
        assert_eq!(media.len(), n, "one media per account: {media:?}");
        media
    }

    async fn stop_worker(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.worker.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), w).await;
        }
    }

    async fn executions(&self) -> Value {
        let (status, ex) = self
            .app
            .call(
                Method::GET,
                &format!("/api/posts/{}/executions", self.post),
                Some(&self.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ex}");
        ex
    }

    /// Waits until no execution is queued or posting.
    async fn wait_all_ended(&self, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let ex = self.executions().await;
            let open = ex["totals"]["queued"].as_u64().unwrap()
                + ex["totals"]["posting"].as_u64().unwrap();
            if open == 0 {
                return ex;
            }
            assert!(Instant::now() < deadline, "executions still open: {ex:#}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn post_status(&self) -> Value {
        let (status, p) = self
            .app
            .call(
                Method::GET,
                &format!("/api/posts/{}", self.post),
                Some(&self.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        p
    }

    /// The simulator's record, through its control endpoint.
    async fn sim_media(&self) -> Vec<Value> {
        let v: Value = reqwest::get(format!("{}/__sim/media", self.sim.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["items"].as_array().unwrap().clone()
    }

    async fn account(&self, username: &str) -> Value {
        let (_, list) = self
            .app
            .call(
                Method::GET,
                "/api/accounts/?per_page=100",
                Some(&self.admin),
                None,
            )
            .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == username)
            .cloned()
            .unwrap_or_else(|| panic!("{username} not listed: {list}"))
    }
}

async fn create_post(
    app: &TestApp,
    token: &str,
    group: &str,
    files: Vec<(&'static str, Vec<u8>)>,
    media_type: Option<&str>,
) -> String {
    let mut form = Form::new()
        .text("caption", CAPTION_RU.to_owned())
        .text("original_language", "ru")
        .text("target_groups", json!([group]).to_string());
    if let Some(t) = media_type {
        form = form.text("media_type", t.to_owned());
    }
    for (name, bytes) in files {
        form = form.part("media", Part::bytes(bytes).file_name(name));
    }
    let resp = app
        .request(Method::POST, "/api/posts/", Some(token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn twenty_accounts_get_the_post_once_each_in_their_language(engine: Engine) {
    let Some(mut s) = Scenario::start(engine, 20, |_| Faults::default()).await else {
        return;
    };
    s.run_worker();
    let ex = s.wait_all_ended(Duration::from_secs(180)).await;
    s.stop_worker().await;
    assert_eq!(ex["totals"]["success"], 20, "{ex:#}");
    assert_eq!(ex["totals"]["failed"], 0);

    let media = s.sim_media().await;
    assert_eq!(media.len(), 20, "exactly one media per account");
    for (name, lang) in &s.accounts {
        let mine: Vec<&Value> = media.iter().filter(|m| m["username"] == *name).collect();
        assert_eq!(mine.len(), 1, "{name}: {mine:?}");
        assert_eq!(mine[0]["caption"], caption_for(lang), "{name}");
        assert_eq!(mine[0]["media_type"], "photo");
        // The execution records what Instagram answered.
        let e = ex["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["username"] == *name)
            .unwrap();
        assert_eq!(e["instagram_media_id"], mine[0]["media_id"], "{e}");
        assert_eq!(e["instagram_code"], mine[0]["code"]);
        assert!(e["posted_at"].is_string());
    }
    let post = s.post_status().await;
    assert_eq!(post["status"], "completed", "{post}");
    assert!(post["posted_at"].is_string(), "{post}");

    // Accounts logged in once and kept their sessions (encrypted) and last post time.
    let a = s.account(&s.accounts[0].0).await;
    assert_eq!(a["status"], "active");
    assert_eq!(a["has_session"], true);
    assert!(a["last_post_at"].is_string(), "{a}");
    assert!(a["last_login_at"].is_string(), "{a}");
    let body = a.to_string();
    assert!(!body.contains(IG_PASSWORD), "no secret in the API");

    // Activity logs tell what happened, without secrets.
    let logs: Vec<(String, String, String)> = icf_store::on_pool!(&s.app.db, |pool| {
        sqlx::query_as(
            "SELECT action, status, COALESCE(error_message, '') || details FROM activity_logs",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    for action in ["login", "upload", "configure"] {
        assert_eq!(
            logs.iter()
                .filter(|(a, st, _)| a == action && st == "success")
                .count(),
            20,
            "{action}: {logs:?}"
        );
    }
    assert!(logs.iter().all(|(_, _, text)| !text.contains(IG_PASSWORD)
        && !text.contains("sessionid")
        && !text.contains("p3:")));
}

async fn transient_errors_challenges_and_lost_answers_are_handled(engine: Engine) {
    // 0, 1: every request fails with a 5xx until the faults are lifted; 2: a challenge at
    // login; 3: configure publishes, then the connection drops before the answer.
    let faults = |i: usize| match i {
        0 | 1 => Faults {
            server_error: true,
            ..Faults::default()
        },
        2 => Faults {
            challenge: Some("email".into()),
            ..Faults::default()
        },
        3 => Faults {
            drop_after_configure: true,
            ..Faults::default()
        },
        _ => Faults::default(),
    };
    let Some(mut s) = Scenario::start(engine, 6, faults).await else {
        return;
    };
    s.run_worker();
    // Once both failing accounts have had an attempt fail, Instagram recovers.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ex = s.executions().await;
        let retried = s.accounts[..2].iter().all(|(name, _)| {
            ex["items"].as_array().unwrap().iter().any(|e| {
                e["username"] == *name && e["error_class"] == "retryable" && e["status"] != "failed"
            })
        });
        if retried {
            break;
        }
        assert!(Instant::now() < deadline, "no retry seen: {ex:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (name, _) in &s.accounts[..2] {
        let resp = reqwest::Client::new()
            .post(format!("{}/__sim/accounts", s.sim.base_url()))
            .json(&json!({"username": name, "password": IG_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
    }
    let ex = s.wait_all_ended(Duration::from_secs(120)).await;
    s.stop_worker().await;
    let by_name = |name: &str| {
        ex["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["username"] == name)
            .cloned()
            .unwrap()
    };
    let media = s.sim_media().await;
    let count = |name: &str| media.iter().filter(|m| m["username"] == name).count();

    // Transient 5xx: published on a retry, once.
    for (name, _) in &s.accounts[..2] {
        let e = by_name(name);
        assert_eq!(e["status"], "success", "{e}");
        assert!(e["attempts"].as_i64().unwrap() >= 2, "{e}");
        assert_eq!(count(name), 1);
    }
    // Challenge: the account waits for a person, the execution failed, nothing posted.
    let (challenged, _) = &s.accounts[2];
    let e = by_name(challenged);
    assert_eq!(e["status"], "failed", "{e}");
    assert_eq!(count(challenged), 0);
    let a = s.account(challenged).await;
    assert_eq!(a["status"], "login_required", "{a}");
    assert_eq!(a["pending_challenge"]["kind"], "challenge", "{a}");
    assert_eq!(
        a["pending_challenge"]["details"]["asks"], "email_code",
        "{a}"
    );
    // Lost answer after configure: the retry finds the media, no duplicate.
    let (dropped, lang) = &s.accounts[3];
    let e = by_name(dropped);
    assert_eq!(e["status"], "success", "{e}");
    assert_eq!(count(dropped), 1, "never twice: {media:?}");
    let mine = media.iter().find(|m| m["username"] == *dropped).unwrap();
    assert_eq!(mine["caption"], caption_for(lang));
    assert_eq!(e["instagram_media_id"], mine["media_id"]);
    // …because the next attempt asked Instagram for the account's recent media first.
    let checks: i64 = icf_store::on_pool!(&s.app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM activity_logs l JOIN accounts a ON a.id = l.account_id \
         WHERE a.username = $1 AND l.action = 'recent_media' AND l.status = 'success'"
    )
    .bind(dropped)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(checks, 1);
    // The others went out normally; one success is enough for the post to complete.
    for (name, _) in &s.accounts[4..] {
        assert_eq!(by_name(name)["status"], "success");
        assert_eq!(count(name), 1);
    }
    assert_eq!(s.post_status().await["status"], "completed");
}

async fn an_action_block_moves_the_execution_without_failing_it(engine: Engine) {
    // configure answers `feedback_required`: Instagram blocks the action for a day.
    let Some(mut s) = Scenario::start(engine, 1, |_| Faults {
        feedback_required: true,
        ..Faults::default()
    })
    .await
    else {
        return;
    };
    let name = s.accounts[0].0.clone();
    s.run_worker();
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.account(&name).await["status"] != "cooldown" {
        assert!(
            Instant::now() < deadline,
            "no cooldown: {:#}",
            s.account(&name).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give the worker a moment to finish the job, then look.
    let jobs = loop {
        let jobs: Vec<(String, chrono::DateTime<chrono::Utc>)> =
            icf_store::on_pool!(&s.app.db, |pool| sqlx::query_as(
                "SELECT state, run_at FROM jobs WHERE kind = 'post_to_instagram' ORDER BY run_at"
            )
            .fetch_all(pool)
            .await
            .unwrap());
        if jobs.len() == 2 || Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    s.stop_worker().await;
    let a = s.account(&name).await;
    let until: chrono::DateTime<chrono::Utc> =
        a["cooldown_until"].as_str().unwrap().parse().unwrap();
    assert!(
        until > chrono::Utc::now() + chrono::Duration::hours(23),
        "{a}"
    );
    let ex = s.executions().await;
    let e = &ex["items"][0];
    assert_eq!(e["status"], "queued", "moved, not failed: {e}");
    let planned: chrono::DateTime<chrono::Utc> = e["planned_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(planned, until);
    // The attempt ended; a new job waits for the end of the cooldown.
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].0, "succeeded");
    assert_eq!(jobs[1].0, "queued");
    assert_eq!(jobs[1].1, until);
    assert!(s.sim_media().await.is_empty());
    assert_eq!(s.post_status().await["status"], "posting");
}

async fn a_carousel_with_a_video_waits_for_transcoding(engine: Engine) {
    if !crate::realproxy::have_tool("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The specification's carousel: three photos and a video.
    let files = vec![
        ("1.jpg", crate::posts::jpeg(1080, 1080)),
        ("2.jpg", crate::posts::jpeg(1080, 1080)),
        ("3.jpg", crate::posts::jpeg(1080, 1080)),
        ("4.mp4", crate::posts::mp4(dir.path(), "640x640", 3)),
    ];
    // Instagram transcodes the video for a while: configure waits for it.
    let faults = |_| Faults {
        transcode_pending: 2,
        ..Faults::default()
    };
    let Some(mut s) = Scenario::start_with(engine, 2, faults, files).await else {
        return;
    };
    for m in &s.publish_all(2).await {
        assert_eq!(m["media_type"], "carousel", "{m}");
        assert_eq!(m["children"], 4);
    }
}

async fn a_reel_goes_out_as_a_reel(engine: Engine) {
    if !crate::realproxy::have_tool("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = vec![("clip.mp4", crate::posts::mp4(dir.path(), "720x1280", 4))];
    let faults = |_| Faults {
        transcode_pending: 1,
        ..Faults::default()
    };
    let Some(mut s) = Scenario::start_in(engine, 2, faults, files, Some("reel"), "now", &[]).await
    else {
        return;
    };
    let media = s.publish_all(2).await;
    for m in &media {
        assert_eq!(m["media_type"], "reel", "{m}");
    }
    let mut names: Vec<&str> = media
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2);
}

/// Media in an S3-compatible bucket (a real S3 server: moto's): the upload goes to the bucket
/// in parts, and the worker streams the video from a copy it downloads once into its cache,
/// never holding it whole in memory.
async fn a_video_kept_in_an_s3_bucket_goes_out_from_a_local_copy(engine: Engine) {
    if !crate::realproxy::have_tool("ffmpeg") {
        return;
    }
    let Some(s3) = crate::s3::S3Server::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::posts::mp4(dir.path(), "640x640", 3);
    let files = vec![
        ("cover.jpg", crate::posts::jpeg(1080, 1080)),
        ("clip.mp4", clip.clone()),
    ];
    let env = s3.settings();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(mut s) =
        Scenario::start_in(engine, 3, |_| Faults::default(), files, None, "now", &env).await
    else {
        return;
    };
    let media_dir = s.app.settings.media.dir.clone();
    let in_bucket = s3.keys().await;
    assert!(
        in_bucket.iter().any(|k| k.ends_with(".mp4")),
        "the video is in the bucket: {in_bucket:?}"
    );
    let local_videos = |folder: &std::path::Path| {
        let mut found = crate::helpers::files_under(folder);
        found.retain(|p| p.extension().is_some_and(|x| x == "mp4"));
        found
    };
    assert!(
        local_videos(&media_dir).is_empty(),
        "no copy on disk before the worker needs one"
    );
    for m in &s.publish_all(3).await {
        assert_eq!(m["media_type"], "carousel", "{m}");
        assert_eq!(m["children"], 2);
    }
    // One copy in the worker's cache for the three uploads, byte for byte the upload.
    let copies = local_videos(&media_dir.join(".cache"));
    assert_eq!(copies.len(), 1, "{copies:?}");
    let stored = s3
        .object(
            in_bucket
                .iter()
                .find(|k| k.ends_with(".mp4"))
                .expect("the video's key"),
        )
        .await;
    assert_eq!(stored, clip);
    assert_eq!(std::fs::read(&copies[0]).unwrap(), clip);
}

/// A post scheduled seconds ahead: nothing goes out early, the worker stops and a
/// new one starts (a restart), and the post goes out at its time with no cron. How late it
/// was is printed (the punctuality goal is measured by the benchmarks, not asserted here).
async fn a_scheduled_post_waits_for_its_time_and_survives_a_restart(engine: Engine) {
    let at = chrono::Utc::now() + chrono::Duration::seconds(8);
    let photo = vec![("image.jpg", crate::posts::jpeg(1080, 1080))];
    let when = at.to_rfc3339();
    let Some(mut s) =
        Scenario::start_in(engine, 2, |_| Faults::default(), photo, None, &when, &[]).await
    else {
        return;
    };
    s.run_worker();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.stop_worker().await;
    // (Setting up may have taken most of the lead on a busy machine.)
    if chrono::Utc::now() < at {
        assert!(s.sim_media().await.is_empty(), "nothing before its time");
        assert_eq!(s.executions().await["totals"]["queued"], 2);
    }
    s.run_worker();
    let ex = s.wait_all_ended(Duration::from_secs(60)).await;
    s.stop_worker().await;
    assert_eq!(ex["totals"]["success"], 2, "{ex:#}");
    for e in ex["items"].as_array().unwrap() {
        let posted: chrono::DateTime<chrono::Utc> =
            e["posted_at"].as_str().unwrap().parse().unwrap();
        assert!(posted >= at, "posted before its time: {e}");
        eprintln!(
            "scheduled post: {} went out {} ms after its time",
            e["username"],
            (posted - at).num_milliseconds()
        );
    }
    assert_eq!(s.sim_media().await.len(), 2);
}

async fn a_dead_session_is_replaced_by_one_login_and_the_post_goes_out_once(engine: Engine) {
    let Some(mut s) = Scenario::start(engine, 1, |_| Faults::default()).await else {
        return;
    };
    // A session brought from instagrapi that Instagram no longer knows.
    let (_, list) = s
        .app
        .call(Method::GET, "/api/accounts/", Some(&s.admin), None)
        .await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../instagram/tests/instagrapi-3.2.2-settings.json"
    ))
    .unwrap();
    let (status, acc) = s
        .app
        .call(
            Method::PUT,
            &format!("/api/accounts/{id}/session"),
            Some(&s.admin),
            Some(fixture),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acc}");
    s.run_worker();
    let ex = s.wait_all_ended(Duration::from_secs(60)).await;
    s.stop_worker().await;
    assert_eq!(ex["totals"]["success"], 1, "{ex:#}");
    assert_eq!(
        ex["items"][0]["attempts"], 1,
        "re-logged in within the attempt"
    );
    assert_eq!(s.sim_media().await.len(), 1);
    let logs: Vec<(String, String)> = icf_store::on_pool!(&s.app.db, |pool| {
        sqlx::query_as(
        "SELECT action, status FROM activity_logs WHERE action IN ('login', 'upload', 'configure') \
         ORDER BY created_at, id"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    let logins = logs.iter().filter(|(a, _)| a == "login").count();
    assert_eq!(logins, 1, "one login, never a loop: {logs:?}");
    assert!(
        logs.iter().any(|(_, st)| st == "failed"),
        "the dead session failed first: {logs:?}"
    );
}

async fn an_unusable_account_fails_its_execution_and_a_post_with_no_success_fails(engine: Engine) {
    let Some(mut s) = Scenario::start(engine, 1, |_| Faults::default()).await else {
        return;
    };
    // The stored device was damaged (a bad manual edit, a botched restore).
    icf_store::on_pool!(&s.app.db, |pool| {
        sqlx::query("UPDATE accounts SET device = '{}'")
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap()
    });
    s.run_worker();
    let ex = s.wait_all_ended(Duration::from_secs(60)).await;
    s.stop_worker().await;
    let e = &ex["items"][0];
    assert_eq!(e["status"], "failed", "never stuck in posting: {e}");
    assert_eq!(e["error_class"], "internal");
    assert!(
        e["error_message"].as_str().unwrap().contains("device"),
        "{e}"
    );
    assert!(s.sim_media().await.is_empty());
    let post = s.post_status().await;
    assert_eq!(post["status"], "failed", "{post}");
}
