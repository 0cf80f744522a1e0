//! The whole system keeps its secrets: a real `icf serve` process (debug logging) with
//! planted secrets — Instagram passwords, a TOTP secret, a proxy password, a DeepL key, a
//! session cookie — logs in (with a generated two-factor code), fails a login, checks a
//! proxy, translates and publishes; then every API response, the process's whole output
//! and the database (SQLite's files byte for byte, every PostgreSQL row) are searched for
//! the secrets in plain text. None may be there.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use icf_instagram::sim::{Faults, SimAccount, Simulator};
use icf_translate::ProviderKind;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TEST_SECRET, TestDb};
use crate::realproxy::{free_port, microsocks};

engine_tests!(no_secret_is_ever_written_in_plain_text);

const PW_ONE: &str = "Planted-IG-Pass-One-71";
const PW_TWO: &str = "Planted-IG-Pass-Two-72";
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DP";
const PROXY_PASS: &str = "Planted-Proxy-Pass-73";
const DEEPL_KEY: &str = "planted-deepl-key-74:fx";
const ADMIN_PW: &str = "Planted-Admin-Pass-75";
const FIXTURE: &str = include_str!("../../../instagram/tests/instagrapi-3.2.2-settings.json");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn no_secret_is_ever_written_in_plain_text(engine: Engine) {
    let Some(proxy) = microsocks("planted", PROXY_PASS) else {
        return;
    };
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let cookie = fixture["authorization_data"]["sessionid"]
        .as_str()
        .unwrap()
        .to_owned();
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![SimAccount {
            username: "sec.one".into(),
            password: PW_ONE.into(),
            totp_secret: Some(TOTP.into()),
            faults: Faults::default(),
        }],
    )
    .await
    .unwrap();
    let deepl = icf_translate::sim::Sim::start(ProviderKind::DeepL, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let db = TestDb::new(engine).await;
    let port = free_port();
    let log_path = db.dir.path().join("serve.log");
    let vars: Vec<(&str, String)> = vec![
        ("DATABASE_URL", db.url.clone()),
        (
            "ICF_DATA_DIR",
            db.dir.path().join("data").display().to_string(),
        ),
        ("ICF_LISTEN", format!("127.0.0.1:{port}")),
        ("SECRET_KEY", TEST_SECRET.to_owned()),
        ("ENCRYPTION_KEY", fernet::Fernet::generate_key()),
        ("INSTAGRAM_API_URL", sim.base_url()),
        ("DEEPL_API_KEY", DEEPL_KEY.to_owned()),
        ("DEEPL_API_URL", deepl.url()),
        ("ICF_PACING_SPEED", "1000".to_owned()),
        ("MIN_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("MAX_DELAY_BETWEEN_POSTS_SEC", "0".to_owned()),
        ("ICF_WORKER_POLL_SECS", "1".to_owned()),
        ("RUST_LOG", "debug".to_owned()),
    ];
    let icf = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_icf"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(db.dir.path());
        cmd
    };
    let out = icf(&["migrate"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = icf(&[
        "user",
        "create",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--role",
        "admin",
        "--password",
        ADMIN_PW,
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server(
        icf(&["serve"])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder().no_proxy().build().unwrap();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut responses: Vec<String> = Vec::new();
    let (status, body) = call(
        &client,
        &base,
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"username": "root", "password": ADMIN_PW})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    let mut go = async |method: Method, path: &str, body: Option<Value>| {
        let (status, v) = call(&client, &base, method, path, t, body).await;
        responses.push(v.to_string());
        (status, v)
    };
    let (_, group) = go(Method::POST, "/api/groups/", Some(json!({"name": "IT"}))).await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let proxy_url = format!("socks5://planted:{PROXY_PASS}@127.0.0.1:{}", proxy.port);
    let (status, one) = go(
        Method::POST,
        "/api/accounts/",
        Some(json!({"username": "sec.one",
        "password": PW_ONE, "language": "ru", "group_id": gid, "proxy_url": proxy_url})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{one}");
    let one = one["id"].as_str().unwrap().to_owned();
    let (status, two) = go(
        Method::POST,
        "/api/accounts/",
        Some(json!({"username": "sec.two",
        "password": PW_TWO, "language": "en", "auto_proxy": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{two}");
    let two = two["id"].as_str().unwrap().to_owned();
    let (status, body) = go(
        Method::PUT,
        &format!("/api/accounts/{one}/totp"),
        Some(json!({"secret": "not base32 at all!"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "secret");
    let (status, body) = go(
        Method::PUT,
        &format!("/api/accounts/{one}/totp"),
        Some(json!({"secret": TOTP.to_lowercase()})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["has_totp"], true);
    let (status, body) = go(
        Method::PUT,
        &format!("/api/accounts/{two}/session"),
        Some(fixture),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A login answered with a code icf generates; a login that fails (no proxy).
    let (status, body) = go(Method::POST, &format!("/api/accounts/{one}/login"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "logged_in", "{body}");
    let (_, body) = go(Method::POST, &format!("/api/accounts/{two}/login"), None).await;
    assert_eq!(body["outcome"], "failed", "{body}");
    let (_, proxies) = go(Method::GET, "/api/proxies/", None).await;
    let pid = proxies["items"][0]["id"].as_str().unwrap().to_owned();
    go(Method::POST, &format!("/api/proxies/{pid}/check"), None).await;

    // Translate with the planted DeepL key, publish, and wait for the post to go out.
    let form = Form::new()
        .text("caption", "Секретов тут нет")
        .text("original_language", "ru")
        .text("target_groups", json!([gid]).to_string())
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
    assert_eq!(resp.status(), StatusCode::CREATED);
    let post = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    go(
        Method::POST,
        "/api/translate",
        Some(json!({"text": "Привет", "source_lang": "ru",
        "target_langs": ["en", "es"]})),
    )
    .await;
    let (status, body) = go(Method::POST, &format!("/api/posts/{post}/publish"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for _ in 0..200 {
        let (_, p) = go(Method::GET, &format!("/api/posts/{post}"), None).await;
        if p["status"] == "completed" || p["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sim.media(None).len(), 1, "the post went out");
    for path in [
        "/api/accounts/".to_owned(),
        format!("/api/accounts/{one}"),
        format!("/api/accounts/{two}"),
        format!("/api/accounts/{one}/status"),
        format!("/api/accounts/{one}/history"),
        format!("/api/accounts/{one}/login"),
        "/api/proxies/".to_owned(),
        format!("/api/proxies/{pid}"),
        "/api/logs/?limit=200".to_owned(),
        "/api/posts/".to_owned(),
        format!("/api/posts/{post}/executions"),
        format!("/api/posts/{post}/translations"),
        "/api/queue/".to_owned(),
        "/api/stats/overview".to_owned(),
        "/api/stats/accounts".to_owned(),
        "/api/translate/stats".to_owned(),
        "/api/users/".to_owned(),
        "/api/auth/me".to_owned(),
        "/metrics".to_owned(),
        "/openapi.json".to_owned(),
    ] {
        let resp = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if !resp.status().is_success() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
            panic!("{path}: {}\n{}", resp.status(), tail.join("\n"));
        }
        responses.push(resp.text().await.unwrap());
    }
    drop(server);
    output.push_str(&std::fs::read_to_string(&log_path).unwrap());
    assert!(output.contains("DEBUG"), "the server logged at debug level");

    let stored: Vec<u8> = match engine {
        Engine::Sqlite => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(db.dir.path()).unwrap().chain(
                std::fs::read_dir(db.dir.path().join("data"))
                    .into_iter()
                    .flatten(),
            ) {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.contains(".db") || name.contains(".sqlite") {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            assert!(!bytes.is_empty(), "found the SQLite files");
            bytes
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut text = String::new();
            for t in tables {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT row_to_json(x)::text FROM \"{t}\" x"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                text.push_str(&rows.join("\n"));
            }
            pool.close().await;
            assert!(text.contains("sec.one"), "read the rows");
            text.into_bytes()
        }
    };
    let secrets = [
        PW_ONE,
        PW_TWO,
        TOTP,
        PROXY_PASS,
        DEEPL_KEY,
        ADMIN_PW,
        cookie.as_str(),
    ];
    for secret in secrets {
        let needle = secret.as_bytes();
        assert!(
            !stored.windows(needle.len()).any(|w| w == needle),
            "{secret} is stored in plain text"
        );
        assert!(!output.contains(secret), "{secret} in the server's output");
        for r in &responses {
            assert!(!r.contains(secret), "{secret} in an API response: {r}");
        }
    }
    drop(proxy);
}

async fn call(
    client: &Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
