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

#[derive(Clone)]
struct Env {
    vars: Vec<(String, String)>,
    dir: std::path::PathBuf,
}

impl Env {
    fn new(db: &TestDb) -> Env {
        Env::on(&db.url, db.dir.path())
    }

    fn on(url: &str, dir: &std::path::Path) -> Env {
        let vars = [
            ("DATABASE_URL", url.to_owned()),
            ("ICF_DATA_DIR", dir.join("data").display().to_string()),
            ("SECRET_KEY", TEST_SECRET.to_owned()),
            ("ENCRYPTION_KEY", fernet::Fernet::generate_key()),
            // Short leases and polls so that a killed worker's jobs come back quickly.
            ("ICF_JOB_LEASE_SECS", "2".to_owned()),
            ("ICF_WORKER_POLL_SECS", "1".to_owned()),
            ("ICF_WORKER_SHUTDOWN_GRACE_SECS", "5".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
            // What these tests count is publishes, not copies: one file for every account.
            ("ICF_MEDIA_VARIANTS_DEFAULT", "off".to_owned()),
        ];
        Env {
            vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            dir: dir.to_owned(),
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
        let port = crate::realproxy::free_port();
        let mut env_with_port = env.clone();
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

/// SIGKILLs one of `workers` at random and starts it again as `spawn(its index, its next
/// generation)`, counting its generations in `generations`.
fn kill_one(workers: &mut [Child], generations: &mut [u32], spawn: impl Fn(usize, u32) -> Child) {
    let victim = rand::rng().random_range(0..workers.len());
    let child = &mut workers[victim];
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    generations[victim] += 1;
    *child = spawn(victim, generations[victim]);
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
            &["worker", "--concurrency", "25"],
            &format!("worker-{i}-{generation}.log"),
        )
    };
    let mut workers: Vec<Child> = (0..3).map(|i| spawn(i, 0)).collect();
    let mut generations = [0u32; 3];
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
        kill_one(&mut workers, &mut generations, spawn);
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
    for child in &mut workers {
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

/// A publishing campaign run by real processes: `icf serve --no-worker` on a free port,
/// `n` simulated accounts (a slow Instagram) behind real microsocks proxies, imported
/// through the API, and one post published to all of them. Workers are the test's to run.
struct Campaign {
    env: Env,
    sim: icf_instagram::sim::Simulator,
    server: Child,
    api: Api,
    post: String,
    n: usize,
    _proxies: Vec<crate::realproxy::ProxyProcess>,
}

/// An operator signed in to a server the test runs as a process: its address, a client,
/// and the operator's token.
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// Waits up to 10 s for the server at `base` to answer, then signs in.
    async fn sign_in(base: String, username: &str, password: &str) -> Api {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..100 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let login = json_of(
            client
                .post(format!("{base}/api/auth/login"))
                .json(&serde_json::json!({"username": username, "password": password})),
        )
        .await;
        let token = login["access_token"].as_str().unwrap().to_owned();
        Api {
            client,
            base,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the operator's token.
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    /// `POST path` with the operator's token.
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }
}

/// Sends `req` and reads the answer's JSON body, whatever its status.
async fn json_of(req: reqwest::RequestBuilder) -> serde_json::Value {
    req.send().await.unwrap().json().await.unwrap()
}

impl Campaign {
    /// `None` when microsocks is missing (and CI does not demand it).
    async fn start(url: &str, dir: &std::path::Path, n: usize) -> Option<Campaign> {
        use icf_instagram::sim::Faults;
        use serde_json::{Value, json};

        // Each microsocks process is reached at 20 loopback addresses: 20 distinct proxies.
        const HOSTS: usize = 20;
        let mut proxies = Vec::new();
        for i in 0..n.div_ceil(HOSTS) {
            proxies.push(crate::realproxy::microsocks_on(
                "0.0.0.0",
                &format!("k{i}"),
                "pw",
            )?);
        }
        let slow = Faults {
            slow_ms: Some(60),
            ..Faults::default()
        };
        let sim = crate::helpers::simulator(
            (0..n)
                .map(|i| {
                    crate::helpers::sim_account(&format!("kill.{i}"), "ig-kill-pw", slow.clone())
                })
                .collect(),
        )
        .await;
        let mut env = Env::on(url, dir);
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
        let server = env.spawn(&["serve", "--no-worker"], "serve.log");
        let api = Api::sign_in(
            format!("http://127.0.0.1:{port}"),
            "boss",
            "Kill-Test-Admin-1",
        )
        .await;
        let lines: Vec<String> = (0..n)
            .map(|i| {
                let (p, host) = (i / HOSTS, 1 + i % HOSTS);
                format!(
                    "kill.{i}:ig-kill-pw:ru:News:socks5://k{p}:pw@127.0.0.{host}:{}",
                    proxies[p].port
                )
            })
            .collect();
        let report = json_of(
            api.post("/api/accounts/import")
                .header("content-type", "text/plain")
                .body(lines.join("\n")),
        )
        .await;
        assert_eq!(report["created"], n, "{report}");
        let groups = json_of(api.get("/api/groups/")).await;
        let group = groups["items"][0]["id"].as_str().unwrap();
        let group = json!([group]).to_string();
        let form = crate::helpers::post_form(
            &[
                ("caption", "Пост, который выйдет ровно один раз"),
                ("original_language", "ru"),
                ("target_groups", &group),
            ],
            ("a.jpg", crate::posts::jpeg(1080, 1080)),
        );
        let resp = api
            .post("/api/posts/")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let post = resp.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let published = json_of(
            api.post(&format!("/api/posts/{post}/publish"))
                .json(&json!({})),
        )
        .await;
        assert_eq!(published["created"], n, "{published}");
        Some(Campaign {
            env,
            sim,
            server,
            api,
            post,
            n,
            _proxies: proxies,
        })
    }

    fn spawn_worker(&self, name: &str) -> Child {
        self.env
            .spawn(&["worker", "--concurrency", "25"], &format!("{name}.log"))
    }

    fn executions(&self) -> reqwest::RequestBuilder {
        self.api
            .get(&format!("/api/posts/{}/executions", self.post))
    }

    /// Executions ended (success or failed), as the operator's API reports them; `None`
    /// while the server cannot answer.
    async fn ended(&self) -> Option<i64> {
        let resp = self.executions().send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body: serde_json::Value = resp.json().await.ok()?;
        Some(body["totals"]["success"].as_i64()? + body["totals"]["failed"].as_i64()?)
    }

    /// Waits for every execution to end, up to `limit`.
    async fn wait_all_ended(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let ended = self.ended().await;
            if ended == Some(self.n as i64) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "only {ended:?} of {} executions ended",
                self.n
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every account published the post, exactly once on the simulator — or, where a
    /// worker died in the instant between recording the upload and sending configure, the
    /// execution says "unconfirmed" (for a person to check) and the account truly has no
    /// post: never a silent loss, never a lie, never twice.
    async fn assert_each_published_once(&self) {
        let body = json_of(self.executions()).await;
        let mut per_account: HashMap<String, usize> = HashMap::new();
        for m in self.sim.media(None) {
            *per_account.entry(m.username).or_default() += 1;
        }
        let twice: Vec<_> = per_account.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "posts went out twice: {twice:?}");
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), self.n);
        let mut unconfirmed = 0;
        for e in items {
            let user = e["username"].as_str().unwrap();
            let on_instagram = per_account.get(user).copied().unwrap_or(0);
            match (e["status"].as_str(), e["error_class"].as_str()) {
                (Some("success"), _) => assert_eq!(on_instagram, 1, "{e}"),
                (Some("failed"), Some("unconfirmed")) => {
                    assert_eq!(on_instagram, 0, "unconfirmed, yet published: {e}");
                    unconfirmed += 1;
                }
                _ => panic!("not published: {e}"),
            }
        }
        eprintln!("{unconfirmed} of {} executions unconfirmed", self.n);
        // The simulator is slow on purpose (60 ms before it acts on each request) and, like a
        // server whose client vanished mid-request, drops a configure whose worker was killed
        // while it waited: 1–3 % of the executions a kill lands on end so, and up to 6 % when
        // the two cores are busy with other work (the sleeps between kills stay the same while
        // every request takes longer). Each kill takes a whole process with up to 50
        // executions in flight, so the count varies a lot from run to run: 3, 6 and 12 % were
        // seen on one machine with the same build (the last during a full CI run). Far more
        // would mean the marker is written too early (before the upload, a kill would leave
        // most of them so).
        assert!(
            unconfirmed * 5 <= self.n,
            "{unconfirmed} of {} unconfirmed: the crash window is too wide",
            self.n
        );
    }

    fn stop_server(&mut self) {
        terminate(&mut self.server, Duration::from_secs(15));
    }
}

impl Drop for Campaign {
    /// A failed assertion must not leave the server running after the test.
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Worker processes killed when the test ends, however it ends.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.0 {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

/// The publishing guarantee under fire: a 500-account campaign behind real proxies, a slow
/// Instagram, two `icf worker` processes killed with SIGKILL at random moments throughout
/// and restarted (a kill can land between configure and the commit of its result). Every
/// account ends with the post exactly once on the simulator: nothing lost, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_publish_every_post_exactly_once_on_postgres() {
    if !postgres_available() {
        return;
    }
    const N: usize = 500;
    let test_db = TestDb::new(Engine::Postgres).await;
    let Some(mut campaign) = Campaign::start(&test_db.url, test_db.dir.path(), N).await else {
        return;
    };
    let spawn =
        |i: usize, generation: u32| campaign.spawn_worker(&format!("publisher-{i}-{generation}"));
    let mut workers = Workers((0..2).map(|i| spawn(i, 0)).collect());
    let mut generations = [0u32; 2];
    let started = Instant::now();
    let mut kills = 0;
    while kills < 30 && campaign.ended().await.unwrap_or(0) < N as i64 * 9 / 10 {
        let pause = rand::rng().random_range(300..1500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        kill_one(&mut workers.0, &mut generations, spawn);
        kills += 1;
    }
    campaign.wait_all_ended(Duration::from_secs(400)).await;
    for child in &mut workers.0 {
        terminate(child, Duration::from_secs(15));
    }
    eprintln!(
        "publishing kill test: {kills} workers killed, {N} executions ended in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 2, "the workers were killed only {kills} times");
    campaign.assert_each_published_once().await;
    campaign.stop_server();
}

/// A PostgreSQL server of the test's own (initdb in a temp dir, run as the `postgres`
/// user), so that restarting it does not touch the rest of the suite.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        let data = dir.path().join("pg");
        std::fs::create_dir(&data).ok()?;
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .ok()?
            .success();
        if !owned {
            return None;
        }
        let init = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !init.success() {
            return None;
        }
        let pg = PrivatePostgres {
            dir,
            bin,
            port: crate::realproxy::free_port(),
        };
        pg.ctl(&["start", "-w"]).then_some(pg)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl` as the postgres user, listening on the loopback port only.
    fn ctl(&self, args: &[&str]) -> bool {
        let data = self.dir.path().join("pg");
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(args)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(self.dir.path().join("pg.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {}",
                self.port,
                self.dir.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl(&["stop", "-m", "immediate", "-w"]);
    }
}

/// PostgreSQL goes away mid-campaign and comes back 3 s later: the server and both workers
/// reconnect by themselves, and the campaign completes with every post published once
/// (attempts cut off by the outage are reconciled, not repeated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_campaign_loses_and_repeats_nothing() {
    if !postgres_available() {
        return;
    }
    let Some(pg) = PrivatePostgres::start() else {
        if std::env::var("ICF_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!(
                "ICF_REQUIRE_POSTGRES=1 but a private PostgreSQL server could not be started \
                 (needs root, runuser and /usr/lib/postgresql/*/bin/initdb)"
            );
        }
        eprintln!("skipped: cannot start a private PostgreSQL server");
        return;
    };
    const N: usize = 80;
    let dir = tempfile::tempdir().unwrap();
    let Some(mut campaign) = Campaign::start(&pg.url(), dir.path(), N).await else {
        return;
    };
    let mut workers = Workers(
        (0..2)
            .map(|i| campaign.spawn_worker(&format!("worker-{i}")))
            .collect(),
    );
    let started = Instant::now();
    while campaign.ended().await.unwrap_or(0) < N as i64 / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the campaign did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pg.ctl(&["stop", "-m", "fast", "-w"]), "stop PostgreSQL");
    let ended_at_stop = campaign.ended().await;
    assert_eq!(
        ended_at_stop, None,
        "the API reports the outage, not stale numbers"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(pg.ctl(&["start", "-w"]), "start PostgreSQL again");
    campaign.wait_all_ended(Duration::from_secs(300)).await;
    let ready = campaign
        .api
        .client
        .get(campaign.api.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert!(
        ready.status().is_success(),
        "ready again: {}",
        ready.status()
    );
    for w in &mut workers.0 {
        let status = terminate(w, Duration::from_secs(15));
        assert!(
            status.success(),
            "a worker survived the outage and stopped cleanly"
        );
    }
    campaign.assert_each_published_once().await;
    campaign.stop_server();
}
