//! Real `icf worker` and `icf serve` processes on a shared database: the selftest
//! command, graceful SIGTERM, and workers killed with SIGKILL at random moments.

use std::collections::HashMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use icf_store::{Db, DbUuid, PoolSettings, on_pool};
use rand::Rng;

use crate::helpers::{Engine, TEST_SECRET, TestDb, postgres_available};

engine_tests!(
    a_worker_process_runs_the_selftest_and_stops_gracefully_on_sigterm,
    serve_runs_an_in_process_worker_unless_told_not_to,
);

struct Env {
    vars: Vec<(String, String)>,
    dir: std::path::PathBuf,
}

impl Env {
    fn new(db: &TestDb) -> Env {
        let vars = [
            ("DATABASE_URL", db.url.clone()),
            (
                "ICF_DATA_DIR",
                db.dir.path().join("data").display().to_string(),
            ),
            ("SECRET_KEY", TEST_SECRET.to_owned()),
            ("ENCRYPTION_KEY", fernet::Fernet::generate_key()),
            // Short leases and polls so that a killed worker's jobs come back quickly.
            ("ICF_JOB_LEASE_SECS", "2".to_owned()),
            ("ICF_WORKER_POLL_SECS", "1".to_owned()),
            ("ICF_WORKER_SHUTDOWN_GRACE_SECS", "5".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        Env {
            vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            dir: db.dir.path().to_owned(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_icf"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run icf")
    }

    /// A background process whose output goes to a log file in the test's directory.
    fn spawn(&self, args: &[&str], log: &str) -> Child {
        let file = std::fs::File::create(self.dir.join(log)).expect("log file");
        self.command(args)
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("spawn icf")
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// SIGTERM, then the exit status within `within`.
fn terminate(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(ok.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("icf did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn a_worker_process_runs_the_selftest_and_stops_gracefully_on_sigterm(engine: Engine) {
    let db = TestDb::new(engine).await;
    let env = Env::new(&db);
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut worker = env.spawn(&["worker", "--concurrency", "4"], "worker.log");

    let out = env.run(&["jobs", "selftest", "--count", "40", "--timeout", "60"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("all 40 jobs completed"),
        "{}",
        text(&out)
    );
    let out = env.run(&["jobs", "status"]);
    let status = text(&out);
    assert!(status.contains("live workers: 1"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("selftest") && l.contains("succeeded") && l.ends_with(" 40")),
        "{status}"
    );

    let exit = terminate(&mut worker, Duration::from_secs(15));
    assert!(exit.success(), "worker exit: {exit:?}");
    let out = env.run(&["jobs", "status"]);
    assert!(text(&out).contains("live workers: 0"), "{}", text(&out));
}

async fn serve_runs_an_in_process_worker_unless_told_not_to(engine: Engine) {
    let db = TestDb::new(engine).await;
    let env = Env::new(&db);
    // Migrated up front: two processes must not migrate one fresh SQLite file at once.
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    for (flags, runs_jobs) in [(&["--no-worker"][..], false), (&[][..], true)] {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut env_with_port = Env {
            vars: env.vars.clone(),
            dir: env.dir.clone(),
        };
        env_with_port
            .vars
            .push(("ICF_LISTEN".into(), format!("127.0.0.1:{port}")));
        let mut args = vec!["serve"];
        args.extend_from_slice(flags);
        let mut server = env_with_port.spawn(&args, "serve.log");
        let out = env.run(&["jobs", "selftest", "--count", "5", "--timeout", "4"]);
        let exit = terminate(&mut server, Duration::from_secs(15));
        assert!(exit.success(), "serve exit: {exit:?}");
        if runs_jobs {
            assert!(out.status.success(), "{}", text(&out));
        } else {
            assert!(!out.status.success(), "{}", text(&out));
            assert!(text(&out).contains("are workers running"), "{}", text(&out));
        }
    }
}

/// A worker process learns of a job enqueued by another process through PostgreSQL's
/// NOTIFY, long before its (here very slow) safety-net poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_is_woken_by_notify_on_postgres() {
    if !postgres_available() {
        return;
    }
    let test_db = TestDb::new(Engine::Postgres).await;
    let mut env = Env::new(&test_db);
    env.vars.push(("ICF_WORKER_POLL_SECS".into(), "120".into()));
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut worker = env.spawn(&["worker", "--concurrency", "2"], "worker.log");
    std::thread::sleep(Duration::from_secs(1)); // let it start and go idle
    let out = env.run(&["jobs", "selftest", "--count", "3", "--timeout", "20"]);
    let exit = terminate(&mut worker, Duration::from_secs(15));
    assert!(out.status.success(), "{}", text(&out));
    assert!(exit.success());
}

/// Three `icf worker` processes on 2,000 jobs; workers are killed with SIGKILL at
/// random moments and restarted. Every job must complete exactly once: a job runs again
/// only when the attempt that died had not committed its completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_no_job_and_complete_none_twice_on_postgres() {
    if !postgres_available() {
        return;
    }
    const JOBS: i64 = 2000;
    let test_db = TestDb::new(Engine::Postgres).await;
    let env = Env::new(&test_db);
    let out = env.run(&[
        "jobs",
        "selftest",
        "--count",
        "2000",
        "--work-ms",
        "25",
        "--batch",
        "kill-test",
        "--no-wait",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let db = Db::connect(&test_db.url, &PoolSettings::default())
        .await
        .unwrap();

    let spawn = |i: usize, generation: u32| {
        env.spawn(
            &["worker", "--concurrency", "8"],
            &format!("worker-{i}-{generation}.log"),
        )
    };
    let mut workers: Vec<(Child, u32)> = (0..3).map(|i| (spawn(i, 0), 0)).collect();
    let started = Instant::now();
    let mut kills = 0;
    while kills < 8 {
        let pause = rand::rng().random_range(300..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if icf_store::jobs::selftest::completed(&db, "kill-test")
            .await
            .unwrap()
            > JOBS * 9 / 10
        {
            break;
        }
        let victim = rand::rng().random_range(0..workers.len());
        let (child, generation) = &mut workers[victim];
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        *generation += 1;
        *child = spawn(victim, *generation);
        kills += 1;
    }
    loop {
        let done = icf_store::jobs::selftest::completed(&db, "kill-test")
            .await
            .unwrap();
        if done == JOBS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(100),
            "only {done} of {JOBS} jobs completed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (child, _) in &mut workers {
        let exit = terminate(child, Duration::from_secs(15));
        assert!(exit.success(), "worker exit: {exit:?}");
    }
    eprintln!(
        "kill test: {kills} workers killed, all jobs done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 3, "the workers were killed only {kills} times");

    let states: Vec<(String, i64)> = on_pool!(&db, |pool| sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs WHERE kind = 'selftest' GROUP BY state"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(states, [("succeeded".to_owned(), JOBS)], "no job lost");

    // Every attempt of every job, and the attempt that wrote the job's run row.
    let attempts: Vec<(DbUuid, i32, Option<String>)> = on_pool!(&db, |pool| sqlx::query_as(
        "SELECT a.job_id, a.attempt, a.outcome FROM job_attempts a \
         JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'selftest'"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let runs = icf_store::jobs::selftest::runs(&db, "kill-test")
        .await
        .unwrap();
    assert_eq!(runs.len() as i64, JOBS, "one completion row per job");
    let ran_in: HashMap<DbUuid, i32> = runs.iter().map(|r| (r.job_id, r.attempt)).collect();
    let mut by_job: HashMap<DbUuid, Vec<(i32, Option<String>)>> = HashMap::new();
    for (job, attempt, outcome) in attempts {
        by_job.entry(job).or_default().push((attempt, outcome));
    }
    let mut repeated = 0;
    let mut lost = 0;
    for (job, list) in &by_job {
        let succeeded: Vec<i32> = list
            .iter()
            .filter(|(_, o)| o.as_deref() == Some("succeeded"))
            .map(|(a, _)| *a)
            .collect();
        assert_eq!(succeeded.len(), 1, "job {job:?} completed {list:?}");
        assert_eq!(
            ran_in.get(job),
            Some(&succeeded[0]),
            "the completing attempt wrote the row"
        );
        // Any other attempt of this job died before its completion committed.
        for (attempt, outcome) in list {
            if *attempt != succeeded[0] {
                assert_eq!(outcome.as_deref(), Some("lost"), "job {job:?}: {list:?}");
                lost += 1;
            }
        }
        if list.len() > 1 {
            repeated += 1;
        }
    }
    assert_eq!(by_job.len() as i64, JOBS);
    eprintln!("kill test: {repeated} jobs ran again after {lost} lost attempts");
    assert!(lost > 0, "the kills interrupted no running job");
    db.close().await;
}

/// The publishing guarantee under fire: 30 accounts behind real proxies, a slow Instagram,
/// two `icf worker` processes killed with SIGKILL at random moments and restarted (a kill
/// can land between configure and the commit of its result). Every account ends with the
/// post exactly once on the simulator: nothing lost, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_publish_every_post_exactly_once_on_postgres() {
    use icf_instagram::sim::{Faults, SimAccount, Simulator};
    use reqwest::multipart::{Form, Part};
    use serde_json::{Value, json};

    if !postgres_available() {
        return;
    }
    const N: usize = 30;
    let mut proxies = Vec::new();
    for i in 0..N {
        let Some(p) = crate::realproxy::microsocks(&format!("k{i}"), "pw") else {
            return;
        };
        proxies.push(p);
    }
    let sim = Simulator::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        (0..N)
            .map(|i| SimAccount {
                username: format!("kill.{i}"),
                password: "ig-kill-pw".into(),
                totp_secret: None,
                faults: Faults {
                    slow_ms: Some(60),
                    ..Faults::default()
                },
            })
            .collect(),
    )
    .await
    .unwrap();
    let test_db = TestDb::new(Engine::Postgres).await;
    let mut env = Env::new(&test_db);
    let port = crate::realproxy::free_port();
    for (k, v) in [
        ("INSTAGRAM_API_URL", sim.base_url()),
        ("ICF_LISTEN", format!("127.0.0.1:{port}")),
        ("ICF_PACING_SPEED", "3600".to_owned()),
        ("MIN_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("MAX_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("ICF_ACCOUNT_CHECK_HOURS", "0".to_owned()),
        ("ICF_PROXY_CHECK_MINUTES", "0".to_owned()),
    ] {
        env.vars.push((k.to_owned(), v));
    }
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = env.run(&[
        "user",
        "create",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--role",
        "admin",
        "--password",
        "Kill-Test-Admin-1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut server = env.spawn(&["serve", "--no-worker"], "serve.log");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post_json = async |path: &str, token: Option<&str>, body: Value| -> Value {
        let mut req = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    };
    let token = post_json(
        "/api/auth/login",
        None,
        json!({"username": "boss", "password": "Kill-Test-Admin-1"}),
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = Some(token.as_str());
    let group = post_json("/api/groups/", t, json!({"name": "News"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (i, p) in proxies.iter().enumerate() {
        post_json(
            "/api/accounts/",
            t,
            json!({"username": format!("kill.{i}"), "password": "ig-kill-pw", "language": "ru",
                "group_id": group, "proxy_url": format!("socks5://k{i}:pw@127.0.0.1:{}", p.port)}),
        )
        .await;
    }
    let form = Form::new()
        .text("caption", "Пост, который выйдет ровно один раз")
        .text("original_language", "ru")
        .text("target_groups", json!([group]).to_string())
        .part(
            "media",
            Part::bytes(crate::posts::jpeg(1080, 1080)).file_name("a.jpg"),
        );
    let resp = client
        .post(format!("{base}/api/posts/"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let post = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = post_json(&format!("/api/posts/{post}/publish"), t, json!({})).await;
    assert_eq!(published["created"], N, "{published}");

    let db = Db::connect(&test_db.url, &PoolSettings::default())
        .await
        .unwrap();
    let ended = async || -> i64 {
        on_pool!(&db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM post_executions WHERE status IN ('success', 'failed')"
        )
        .fetch_one(pool)
        .await
        .unwrap())
    };
    let spawn = |i: usize, generation: u32| {
        env.spawn(
            &["worker", "--concurrency", "8"],
            &format!("publisher-{i}-{generation}.log"),
        )
    };
    let mut workers: Vec<(Child, u32)> = (0..2).map(|i| (spawn(i, 0), 0)).collect();
    let started = Instant::now();
    let mut kills = 0;
    while kills < 10 && ended().await < N as i64 * 9 / 10 {
        let pause = rand::rng().random_range(200..700);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let victim = rand::rng().random_range(0..workers.len());
        let (child, generation) = &mut workers[victim];
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        *generation += 1;
        *child = spawn(victim, *generation);
        kills += 1;
    }
    while ended().await < N as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "only {} of {N} executions ended",
            ended().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (child, _) in &mut workers {
        terminate(child, Duration::from_secs(15));
    }
    terminate(&mut server, Duration::from_secs(15));
    eprintln!(
        "publishing kill test: {kills} workers killed, {N} executions ended in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 2, "the workers were killed only {kills} times");

    let statuses: Vec<(String, i64)> = on_pool!(&db, |pool| sqlx::query_as(
        "SELECT status, COUNT(*) FROM post_executions GROUP BY status"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(
        statuses,
        [("success".to_owned(), N as i64)],
        "every account published"
    );
    let media = sim.media(None);
    let mut per_account: HashMap<String, usize> = HashMap::new();
    for m in &media {
        *per_account.entry(m.username.clone()).or_default() += 1;
    }
    assert_eq!(per_account.len(), N, "every account got the post");
    assert!(
        per_account.values().all(|&n| n == 1),
        "a post went out twice: {per_account:?}"
    );
    drop(proxies);
}
