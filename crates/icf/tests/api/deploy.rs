//! Deployment: the shipped nginx site file, compose file, systemd units and Dockerfile,
//! checked with the real tools where they are installed; `icf doctor` on a good and on a
//! broken setup; and the native smoke test, the compose topology on loopback: PostgreSQL,
//! `icf serve --no-worker`, two `icf worker`, Debian's nginx with the shipped site file in
//! front, publishing a 20 MB video to the Instagram simulator.
//!
//! nginx missing is a skip, unless `ICF_REQUIRE_NGINX=1` (CI), where it is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TEST_SECRET, TestDb, postgres_available};
use crate::realproxy::{free_port, have_tool, microsocks};

engine_tests!(
    doctor_passes_on_a_good_setup,
    doctor_fails_on_a_wrong_key_and_a_stuck_queue_and_prints_no_secret,
    sigterm_on_serve_finishes_the_request_in_flight_and_refuses_new_ones,
    shutdown_cancels_the_token_long_lived_responses_end_on,
);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn installed(binary: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {binary}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn nginx_available() -> bool {
    if installed("nginx") {
        return true;
    }
    assert!(
        !std::env::var("ICF_REQUIRE_NGINX").is_ok_and(|v| v == "1"),
        "ICF_REQUIRE_NGINX=1 but nginx is not installed"
    );
    eprintln!("skipped: nginx is not installed");
    false
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The shipped site file in a minimal nginx.conf in `dir`, its upstream pointed at
/// `upstream` and its listen address at `listen` on loopback, as compose does with `web`.
fn nginx_conf(dir: &Path, upstream: u16, listen: u16) -> PathBuf {
    let site = read("deploy/nginx/icf.conf");
    assert!(
        site.contains("server 127.0.0.1:8000;"),
        "upstream line moved"
    );
    assert!(site.contains("listen 80;"), "listen line moved");
    let site = site
        .replace(
            "server 127.0.0.1:8000;",
            &format!("server 127.0.0.1:{upstream};"),
        )
        .replace("listen 80;", &format!("listen 127.0.0.1:{listen};"));
    std::fs::write(dir.join("icf.conf"), site).unwrap();
    let d = dir.display();
    let conf = dir.join("nginx.conf");
    // One process: killing it leaves no orphaned worker holding the port.
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  default_type application/octet-stream;\n  access_log {d}/access.log;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
             scgi_temp_path {d}/scgi;\n  include {d}/icf.conf;\n}}\n"
        ),
    )
    .unwrap();
    conf
}

fn nginx_test(dir: &Path, conf: &Path) -> Output {
    Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(conf)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .output()
        .expect("run nginx -t")
}

#[test]
fn the_nginx_site_file_passes_nginx_t() {
    if !nginx_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = nginx_conf(dir.path(), 8000, free_port());
    let out = nginx_test(dir.path(), &conf);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("test is successful"), "{}", text(&out));

    // The same check refuses a broken site file, so the pass above means something.
    let site = dir.path().join("icf.conf");
    let broken = std::fs::read_to_string(&site)
        .unwrap()
        .replace("proxy_buffering off;", "proxy_buffering sometimes;");
    std::fs::write(&site, broken).unwrap();
    let out = nginx_test(dir.path(), &conf);
    assert!(!out.status.success(), "{}", text(&out));
}

#[test]
fn nginx_lets_icf_s_largest_upload_through_and_streams_events_unbuffered() {
    let site = read("deploy/nginx/icf.conf");
    let limit_mb: u64 = site
        .lines()
        .find_map(|l| l.trim().strip_prefix("client_max_body_size "))
        .and_then(|v| v.trim_end_matches(';').strip_suffix('m'))
        .and_then(|v| v.parse().ok())
        .expect("client_max_body_size in megabytes");
    let defaults = icf::config::Settings::from_lookup(|_| None).unwrap();
    assert!(
        limit_mb >= defaults.media.max_upload_mb,
        "nginx refuses uploads icf accepts: {limit_mb} MB < ICF_MAX_UPLOAD_MB {}",
        defaults.media.max_upload_mb
    );
    let events = site
        .split("location /api/events {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("a location for /api/events");
    assert!(events.contains("proxy_buffering off;"), "{events}");
    assert!(events.contains("proxy_read_timeout 24h;"), "{events}");
}

/// `docker compose` or `docker-compose`, whichever works here.
fn compose() -> Option<Vec<&'static str>> {
    for cmd in [&["docker", "compose"][..], &["docker-compose"][..]] {
        let works = Command::new(cmd[0])
            .args(&cmd[1..])
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            return Some(cmd.to_vec());
        }
    }
    eprintln!("skipped: no docker client with compose (docker compose / docker-compose)");
    None
}

#[test]
fn docker_compose_config_accepts_the_compose_file() {
    let Some(cmd) = compose() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("docker-compose.yml"),
        dir.path().join("docker-compose.yml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("deploy/nginx")).unwrap();
    std::fs::copy(
        repo().join("deploy/nginx/icf.conf"),
        dir.path().join("deploy/nginx/icf.conf"),
    )
    .unwrap();
    let run = |env: &str, args: &[&str]| {
        std::fs::write(dir.path().join(".env"), env).unwrap();
        Command::new(cmd[0])
            .args(&cmd[1..])
            .args(args)
            .current_dir(dir.path())
            .env_remove("POSTGRES_PASSWORD")
            .env_remove("SECRET_KEY")
            .env_remove("ENCRYPTION_KEY")
            .output()
            .expect("run compose")
    };
    // DEPLOY.md's way: .env.example with the three required values filled in.
    let key = fernet::Fernet::generate_key();
    let good: String = read(".env.example")
        .lines()
        .map(|l| match l {
            "POSTGRES_PASSWORD=" => "POSTGRES_PASSWORD=pg-pass-1".to_owned(),
            "SECRET_KEY=" => format!("SECRET_KEY={TEST_SECRET}"),
            "ENCRYPTION_KEY=" => format!("ENCRYPTION_KEY={key}"),
            other => other.to_owned(),
        })
        .map(|l| l + "\n")
        .collect();
    let out = run(&good, &["config"]);
    assert!(out.status.success(), "{}", text(&out));
    let config = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "postgres://icf:pg-pass-1@postgres:5432/icf",
        "0.0.0.0:8000",
        "--no-worker",
        "service_completed_successfully",
        "service_healthy",
        "unless-stopped",
    ] {
        assert!(config.contains(expected), "{expected} missing:\n{config}");
    }
    // The topology's own values win over the single-machine defaults of .env.example.
    assert!(!config.contains("ICF_LISTEN: 127.0.0.1:8000"), "{config}");
    assert!(!config.contains("ICF_DATA_DIR: ./data"), "{config}");
    let out = run(&good, &["--profile", "s3", "config", "--services"]);
    assert!(out.status.success(), "{}", text(&out));
    let services = String::from_utf8_lossy(&out.stdout);
    for s in ["postgres", "migrate", "web", "worker", "nginx", "minio"] {
        assert!(services.lines().any(|l| l == s), "{s} missing: {services}");
    }
    // Without a database password the file refuses to start anything, and says why.
    let out = run(
        &good.replace("POSTGRES_PASSWORD=pg-pass-1", ""),
        &["config"],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("POSTGRES_PASSWORD"), "{}", text(&out));
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    if !installed("systemd-analyze") {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for unit in ["icf.service", "icf-worker@.service"] {
        let text = read(&format!("deploy/systemd/{unit}"))
            .replace("/usr/local/bin/icf", env!("CARGO_BIN_EXE_icf"));
        let path = dir.path().join(unit);
        std::fs::write(&path, text).unwrap();
        units.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    // verify exits 0 on some problems too; anything it says is one.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out)
    );
}

#[test]
fn the_dockerfile_caches_every_crate_and_its_dependency_stage_resolves() {
    let dockerfile = read("Dockerfile");
    let dir = tempfile::tempdir().unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(repo().join(file), dir.path().join(file)).unwrap();
    }
    let mut crates: Vec<String> = std::fs::read_dir(repo().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    for c in &crates {
        let line = format!("COPY crates/{c}/Cargo.toml crates/{c}/Cargo.toml");
        assert!(
            dockerfile.lines().any(|l| l.trim() == line),
            "the Dockerfile does not copy crates/{c}/Cargo.toml before its dependency build"
        );
        // What the dependency stage builds: the manifest and an empty crate.
        let src = dir.path().join("crates").join(c).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::copy(
            repo().join("crates").join(c).join("Cargo.toml"),
            dir.path().join("crates").join(c).join("Cargo.toml"),
        )
        .unwrap();
        std::fs::write(src.join("lib.rs"), "").unwrap();
    }
    std::fs::write(dir.path().join("crates/icf/src/main.rs"), "fn main() {}\n").unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let ignore = read(".dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target"),
        "the build context must leave target/ out"
    );
}

// --- icf doctor -------------------------------------------------------------------------

const IG_PASSWORD: &str = "ig-secret-pass-1";
const PROXY_PASSWORD: &str = "proxy-secret-pw";
const DEEPL_KEY: &str = "doctor-deepl-key:fx";

fn icf(vars: &[(String, String)], dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icf"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run icf")
}

/// A migrated database holding one account with a password and a proxy credential,
/// encrypted under the returned key; a DeepL simulator as the translation provider.
async fn seeded(
    engine: Engine,
) -> (
    TestDb,
    Vec<(String, String)>,
    String,
    icf_translate::sim::Sim,
) {
    let db = TestDb::new(engine).await;
    let deepl = icf_translate::sim::Sim::start(
        icf_translate::ProviderKind::DeepL,
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let key = fernet::Fernet::generate_key();
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", db.url.clone()),
        (
            "ICF_DATA_DIR",
            db.dir.path().join("data").display().to_string(),
        ),
        ("SECRET_KEY", TEST_SECRET.to_owned()),
        ("ENCRYPTION_KEY", key.clone()),
        ("DEEPL_API_KEY", DEEPL_KEY.to_owned()),
        ("DEEPL_API_URL", deepl.url()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let out = icf(&vars, db.dir.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let file = db.dir.path().join("accounts.csv");
    std::fs::write(
        &file,
        format!(
            "username,password,language,proxy_url\n\
             doctor_one,{IG_PASSWORD},en,socks5://puser:{PROXY_PASSWORD}@127.0.0.1:1080\n"
        ),
    )
    .unwrap();
    let out = icf(
        &vars,
        db.dir.path(),
        &["accounts", "import", file.to_str().unwrap()],
    );
    assert!(
        out.status.success() && text(&out).contains("1 created"),
        "{}",
        text(&out)
    );
    (db, vars, key, deepl)
}

async fn doctor_passes_on_a_good_setup(engine: Engine) {
    if !have_tool("ffmpeg") {
        return;
    }
    let (db, vars, _, _deepl) = seeded(engine).await;
    let out = icf(&vars, db.dir.path(), &["doctor"]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let checks: Vec<&str> = report
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.contains(" checks: "))
        .collect();
    assert_eq!(checks.len(), 11, "{report}");
    assert!(checks.iter().all(|l| l.starts_with("OK ")), "{report}");
    for expected in [
        "OK   database:",
        "OK   migrations: all",
        "OK   encryption key: 2 sampled secrets decrypt with ENCRYPTION_KEY",
        "OK   ffprobe:",
        "OK   media storage:",
        "characters used this period",
        "OK   proxies: 1 in the pool: 1 active",
        "OK   workers: 0 live workers",
        "OK   instagram app profile: default",
    ] {
        assert!(report.contains(expected), "{expected}:\n{report}");
    }
    // The storage probe cleans up after itself.
    let uploads = db.dir.path().join("data/uploads");
    assert!(
        !uploads.join("doctor").exists(),
        "the probe left its folder behind"
    );
    assert!(
        report.ends_with("11 checks: 0 failed, 0 warnings\n"),
        "{report}"
    );
}

async fn doctor_fails_on_a_wrong_key_and_a_stuck_queue_and_prints_no_secret(engine: Engine) {
    let (db, mut vars, right_key, _deepl) = seeded(engine).await;
    // And a job due ten minutes ago that no worker has taken.
    let store = icf_store::Db::connect(&db.url, &icf_store::PoolSettings::default())
        .await
        .unwrap();
    icf_store::jobs::enqueue_now(
        &store,
        &icf_store::jobs::NewJob::new("selftest", json!({"batch": "doctor", "work_ms": 0}))
            .run_at(chrono::Utc::now() - chrono::Duration::minutes(10)),
    )
    .await
    .unwrap();
    store.close().await;
    let wrong_key = fernet::Fernet::generate_key();
    for (k, v) in &mut vars {
        if k == "ENCRYPTION_KEY" {
            *v = wrong_key.clone();
        }
    }
    let out = icf(&vars, db.dir.path(), &["doctor"]);
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("FAIL encryption key: 2 of 2 sampled secrets do not decrypt"))
        .unwrap_or_else(|| panic!("no FAIL line for the key:\n{report}"));
    assert!(
        lines[at + 1].starts_with("     fix: ") && lines[at + 1].contains("ENCRYPTION_KEY"),
        "{report}"
    );
    let at = lines
        .iter()
        .position(|l| l.starts_with("FAIL workers: 0 live workers"))
        .unwrap_or_else(|| panic!("no FAIL line for the stuck queue:\n{report}"));
    assert!(lines[at + 1].contains("icf worker"), "{report}");
    for secret in [
        IG_PASSWORD,
        PROXY_PASSWORD,
        DEEPL_KEY,
        TEST_SECRET,
        &right_key,
        &wrong_key,
    ] {
        assert!(
            !report.contains(secret),
            "a secret in the report:\n{report}"
        );
    }

    // The old key after the new one: everything decrypts, and rotation is advised.
    for (k, v) in &mut vars {
        if k == "ENCRYPTION_KEY" {
            *v = format!("{wrong_key},{right_key}");
        }
    }
    let out = icf(&vars, db.dir.path(), &["doctor"]);
    let report = text(&out);
    assert!(
        report.contains(
            "WARN encryption key: 2 sampled secrets decrypt; 2 are still under an older key"
        ),
        "{report}"
    );
    assert!(report.contains("icf rotate-keys"), "{report}");
}

// --- graceful shutdown ------------------------------------------------------------------

async fn sigterm_on_serve_finishes_the_request_in_flight_and_refuses_new_ones(engine: Engine) {
    let db = TestDb::new(engine).await;
    let dir = db.dir.path().to_owned();
    let port = free_port();
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", db.url.clone()),
        ("ICF_DATA_DIR", dir.join("data").display().to_string()),
        ("ICF_LISTEN", format!("127.0.0.1:{port}")),
        ("SECRET_KEY", TEST_SECRET.to_owned()),
        ("ENCRYPTION_KEY", fernet::Fernet::generate_key()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let out = icf(&vars, &dir, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = icf(
        &vars,
        &dir,
        &[
            "user",
            "create",
            "--username",
            "admin",
            "--email",
            "a@example.com",
            "--role",
            "admin",
            "--password",
            "drain-admin-pw-1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut procs = Procs {
        dir: dir.clone(),
        children: Vec::new(),
    };
    let mut serve = Command::new(env!("CARGO_BIN_EXE_icf"));
    serve
        .args(["serve", "--no-worker"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(&dir);
    let web = procs.spawn("serve", serve);
    procs.wait_port(web, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "admin", "password": "drain-admin-pw-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();

    // A live event stream is open: it must end at shutdown, not hold the server up.
    let mut events = client
        .get(format!("{base}/api/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let first = events.chunk().await.unwrap().unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&first).contains("queue"),
        "{first:?}"
    );

    // A request whose body is still arriving when SIGTERM comes.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let request = tokio::spawn(
        client
            .post(format!("{base}/api/groups/"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    tx.send(Ok(bytes::Bytes::from_static(b"{\"name\": ")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = procs.children[web].1.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    // New connections are refused while the old one is still served.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        procs.children[web].1.try_wait().unwrap().is_none(),
        "serve exited with a request in flight:\n{}",
        procs.log("serve")
    );
    tx.send(Ok(bytes::Bytes::from_static(b"\"Drained\"}")))
        .await
        .unwrap();
    drop(tx);
    let resp = request
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let group: Value = resp.json().await.unwrap();
    assert_eq!(group["name"], "Drained");
    // The event stream ends by itself, and the server exits.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream outlived the shutdown");
    let status = procs.terminate(web, Duration::from_secs(15));
    assert!(status.success(), "{status:?}\n{}", procs.log("serve"));
}

async fn shutdown_cancels_the_token_long_lived_responses_end_on(engine: Engine) {
    let db = TestDb::new(engine).await;
    let settings = crate::helpers::test_settings(&db, &[]);
    let app = icf::startup::App::build(&settings, true).await.unwrap();
    let token = app.shutdown_token();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!token.is_cancelled());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), token.cancelled())
        .await
        .expect("cancelled at shutdown");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

// --- the native smoke test --------------------------------------------------------------

/// Background processes, killed when the test ends however it ends.
struct Procs {
    dir: PathBuf,
    children: Vec<(String, Child)>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Procs {
    fn spawn(&mut self, name: &str, mut cmd: Command) -> usize {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.children.push((name.to_owned(), child));
        self.children.len() - 1
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    fn wait_port(&mut self, index: usize, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            let (name, child) = &mut self.children[index];
            if let Ok(Some(status)) = child.try_wait() {
                let name = name.clone();
                panic!("{name} exited ({status}):\n{}", self.log(&name));
            }
            assert!(
                Instant::now() < deadline,
                "{name} does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status within `within`.
    fn terminate(&mut self, index: usize, within: Duration) -> std::process::ExitStatus {
        let (name, child) = &mut self.children[index];
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// An H.264/AAC MP4 of about 20 MB that Instagram accepts for the feed: square, 6 s.
/// Noise keeps the encoder from compressing it below the asked bitrate.
fn video_20mb(dir: &Path) -> Vec<u8> {
    let path = dir.join("smoke.mp4");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=720x720:rate=30:duration=6,noise=alls=30:allf=t")
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=6"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-b:v", "24M", "-maxrate", "24M", "-bufsize", "48M"])
        .args([
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            "-shortest",
        ])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    let bytes = std::fs::read(path).unwrap();
    assert!(
        (18..=26).contains(&(bytes.len() / 1_000_000)),
        "the video is {} bytes",
        bytes.len()
    );
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_the_compose_topology_natively_publishes_a_20_mb_video_through_nginx() {
    if !postgres_available() {
        eprintln!("skipped: the smoke test runs on PostgreSQL only");
        return;
    }
    if !nginx_available() || !have_tool("ffmpeg") {
        return;
    }
    let Some(proxy) = microsocks("smoke", "smoke-proxy-pw") else {
        return;
    };
    let db = TestDb::new(Engine::Postgres).await;
    let dir = db.dir.path().to_owned();
    let video = video_20mb(&dir);
    let mut procs = Procs {
        dir: dir.clone(),
        children: Vec::new(),
    };

    // The Instagram simulator, as a process of its own.
    let sim_port = free_port();
    std::fs::write(
        dir.join("seed.json"),
        json!([{"username": "smoke_ig", "password": IG_PASSWORD}]).to_string(),
    )
    .unwrap();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_icf"));
    sim.args(["sim", "instagram", "--listen"])
        .arg(format!("127.0.0.1:{sim_port}"))
        .arg("--seed")
        .arg(dir.join("seed.json"))
        .env("RUST_LOG", "warn");
    let i = procs.spawn("sim", sim);
    procs.wait_port(i, sim_port);
    let sim_url = format!("http://127.0.0.1:{sim_port}");

    let web_port = free_port();
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", db.url.clone()),
        ("ICF_DATA_DIR", dir.join("data").display().to_string()),
        ("ICF_LISTEN", format!("127.0.0.1:{web_port}")),
        ("ICF_AUTO_MIGRATE", "false".to_owned()),
        ("SECRET_KEY", TEST_SECRET.to_owned()),
        ("ENCRYPTION_KEY", fernet::Fernet::generate_key()),
        ("INSTAGRAM_API_URL", sim_url.clone()),
        ("ICF_PACING_SPEED", "60".to_owned()),
        ("MIN_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("MAX_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("ICF_WORKER_POLL_SECS", "1".to_owned()),
        ("ICF_WORKER_SHUTDOWN_GRACE_SECS", "10".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let command = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_icf"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&dir);
        cmd
    };
    let out = command(&["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let admin_password = "smoke-admin-pw-1";
    let out = command(&[
        "user",
        "create",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
        "--role",
        "admin",
        "--password",
        admin_password,
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    let web = procs.spawn("web", command(&["serve", "--no-worker", "--no-migrate"]));
    procs.wait_port(web, web_port);
    let workers = [
        procs.spawn("worker-1", command(&["worker", "--no-migrate"])),
        procs.spawn("worker-2", command(&["worker", "--no-migrate"])),
    ];

    let nginx_dir = dir.join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let nginx_port = free_port();
    let conf = nginx_conf(&nginx_dir, web_port, nginx_port);
    let mut nginx = Command::new("nginx");
    nginx
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(&nginx_dir)
        .arg("-e")
        .arg(nginx_dir.join("error.log"));
    let n = procs.spawn("nginx", nginx);
    procs.wait_port(n, nginx_port);

    // From here on, everything goes through nginx.
    let base = format!("http://127.0.0.1:{nginx_port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let call = |method: Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let mut req = client.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.expect("request through nginx");
            let status = resp.status();
            // Each security header once (icf's and nginx's do not pile up), CSP from icf.
            let once = |name: &str, want: &str| {
                let values: Vec<_> = resp.headers().get_all(name).iter().collect();
                values.len() == 1 && values[0] == want
            };
            let headers_ok = once("x-content-type-options", "nosniff")
                && once("x-frame-options", "DENY")
                && once("referrer-policy", "same-origin")
                && resp
                    .headers()
                    .get_all("content-security-policy")
                    .iter()
                    .count()
                    == 1;
            let headers = format!("{:?}", resp.headers());
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(
                headers_ok,
                "security headers missing or doubled: {headers} {body}"
            );
            (status, body)
        }
    };
    let (status, _) = call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, login) = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"username": "admin", "password": admin_password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let bearer = login["access_token"].as_str().unwrap().to_owned();
    let token = Some(bearer.as_str());
    let (status, group) = call(
        Method::POST,
        "/api/groups/",
        token,
        Some(json!({"name": "Smoke"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let (status, account) = call(
        Method::POST,
        "/api/accounts/",
        token,
        Some(json!({
            "username": "smoke_ig", "password": IG_PASSWORD, "language": "en", "group_id": gid,
            "proxy_url": format!("socks5://smoke:smoke-proxy-pw@127.0.0.1:{}", proxy.port),
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");

    let form = Form::new()
        .text("caption", "Smoke test through nginx 🚀")
        .text("original_language", "en")
        .text("target_groups", json!([gid]).to_string())
        .part(
            "media",
            Part::bytes(video)
                .file_name("smoke.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        );
    let resp = client
        .post(format!("{base}/api/posts/"))
        .bearer_auth(&bearer)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let post: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["media_type"], "video", "{post}");
    let post_id = post["id"].as_str().unwrap().to_owned();

    let out = command(&["jobs", "status"]).output().unwrap();
    assert!(text(&out).contains("live workers: 2"), "{}", text(&out));

    let (status, published) = call(
        Method::POST,
        &format!("/api/posts/{post_id}/publish"),
        token,
        Some(json!({"when": "now"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["created"], 1, "{published}");

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, ex) = call(
            Method::GET,
            &format!("/api/posts/{post_id}/executions"),
            token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{ex}");
        assert_eq!(ex["totals"]["failed"], 0, "{ex:#}");
        if ex["totals"]["success"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not published: {ex:#}\nworker-1:\n{}\nworker-2:\n{}",
            procs.log("worker-1"),
            procs.log("worker-2")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let media: Value = client
        .get(format!("{sim_url}/__sim/media"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = media["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "exactly one media on Instagram: {media}");
    assert_eq!(items[0]["username"], "smoke_ig");
    assert_eq!(items[0]["media_type"], "video", "{media}");
    assert_eq!(items[0]["caption"], "Smoke test through nginx 🚀");

    // SIGTERM stops every icf process cleanly, as `docker compose stop` would.
    for i in [web, workers[0], workers[1]] {
        let status = procs.terminate(i, Duration::from_secs(30));
        assert!(status.success(), "exit {status:?}");
    }
}
