//! The test harness: fresh databases, a running app, a signed-in client.

use std::collections::HashMap;

use icf::config::Settings;
use icf::startup::App;
use icf_store::Db;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// Runs an `async fn NAME(engine: Engine)` once per database engine, as the tests
/// `NAME::sqlite` and `NAME::postgres`.
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_available() {
                    super::$name($crate::helpers::Engine::Postgres).await
                }
            }
        }
    )*};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Whether PostgreSQL tests can run; panics when CI demands them and they cannot.
pub fn postgres_available() -> bool {
    let set = std::env::var("ICF_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    if !set {
        if std::env::var("ICF_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("ICF_REQUIRE_POSTGRES=1 but ICF_TEST_DATABASE_URL is not set");
        }
        eprintln!("skipped: ICF_TEST_DATABASE_URL is not set");
    }
    set
}

/// A database of its own for one test, removed when dropped (even after a panic).
pub struct TestDb {
    pub url: String,
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match engine {
            Engine::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("icf.db").display()),
                engine,
                dir,
                pg_drop: None,
            },
            Engine::Postgres => {
                let admin_url =
                    std::env::var("ICF_TEST_DATABASE_URL").expect("ICF_TEST_DATABASE_URL");
                let name = format!("icf_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .expect("connect to ICF_TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                TestDb {
                    url: with_database(&admin_url, &name),
                    engine,
                    dir,
                    pg_drop: Some((admin_url, name)),
                }
            }
        }
    }
}

/// `postgres://u@h:5432/postgres?x=y` with the database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the work.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await?;
                    Ok::<_, sqlx::Error>(())
                })
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

/// Settings for a test app: the given database, a temp data dir, a random port, fixed keys.
pub fn test_settings(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("ICF_DATA_DIR".into(), db.dir.path().display().to_string());
    vars.insert("ICF_LISTEN".into(), "127.0.0.1:0".into());
    vars.insert("SECRET_KEY".into(), TEST_SECRET.into());
    vars.insert("ENCRYPTION_KEY".into(), fernet::Fernet::generate_key());
    vars.insert("ICF_DB_MAX_CONNECTIONS".into(), "5".into());
    // New groups send every account the uploaded file itself, as before media variants:
    // tests of other things keep asserting on what they upload, at a debug build's speed.
    // The variants tests ask for them (and check the product's default) themselves.
    vars.insert("ICF_MEDIA_VARIANTS_DEFAULT".into(), "off".into());
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings")
}

/// The JWT signing key of every test app, so tests can forge tokens on purpose.
pub const TEST_SECRET: &str = "test-secret-key-0123456789abcdef0123456789abcdef";

/// A running icf on a random port with its own database.
#[allow(dead_code)] // not every test module reads every field
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: Db,
    pub settings: Settings,
    pub engine: Engine,
    server: tokio::task::JoinHandle<()>,
    worker: Option<tokio::task::JoinHandle<()>>,
    // Last: dropped after the server stops.
    pub test_db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(w) = &self.worker {
            w.abort();
        }
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        Self::spawn_with(engine, &[]).await
    }

    pub async fn spawn_with(engine: Engine, extra: &[(&str, &str)]) -> TestApp {
        let test_db = TestDb::new(engine).await;
        let settings = test_settings(&test_db, extra);
        Self::start(test_db, settings, true).await
    }

    pub async fn start(test_db: TestDb, settings: Settings, migrate: bool) -> TestApp {
        let app = App::build(&settings, migrate).await.expect("app builds");
        let base = format!("http://{}", app.addr());
        let db = app.db().clone();
        let server = tokio::spawn(async move {
            let _ = app.run(std::future::pending()).await;
        });
        TestApp {
            base,
            client: Client::builder().no_proxy().build().expect("client"),
            db,
            settings,
            engine: test_db.engine,
            server,
            worker: None,
            test_db,
        }
    }

    /// Creates a group; returns its id.
    pub async fn new_group(&self, token: &str, name: &str) -> String {
        let (status, group) = self
            .call(
                Method::POST,
                "/api/groups/",
                Some(token),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        group["id"].as_str().expect("group id").to_owned()
    }

    /// Creates an account from `body` (`POST /api/accounts/`); returns its id.
    pub async fn new_account(&self, token: &str, body: Value) -> String {
        let (status, account) = self
            .call(Method::POST, "/api/accounts/", Some(token), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{account}");
        account["id"].as_str().expect("account id").to_owned()
    }

    /// Creates a one-photo post for `group` with `caption` in `language`; returns its id.
    pub async fn new_photo_post(
        &self,
        token: &str,
        group: &str,
        caption: &str,
        language: &str,
    ) -> String {
        let form = reqwest::multipart::Form::new()
            .text("caption", caption.to_owned())
            .text("original_language", language.to_owned())
            .text("target_groups", json!([group]).to_string())
            .part(
                "media",
                reqwest::multipart::Part::bytes(square_jpeg(1080)).file_name("photo.jpg"),
            );
        let resp = self
            .request(Method::POST, "/api/posts/", Some(token))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.expect("post")["id"]
            .as_str()
            .expect("post id")
            .to_owned()
    }

    /// Publishes the post now.
    pub async fn publish_now(&self, token: &str, post: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/posts/{post}/publish"),
                Some(token),
                Some(json!({"when": "now"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// `GET path`, expecting 200.
    pub async fn get_ok(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Runs an in-process worker with the registry `icf serve` runs, until the app drops.
    pub fn run_worker(&mut self) {
        let db = self.db.clone();
        let settings = self.settings.clone();
        self.worker = Some(tokio::spawn(async move {
            let _ = icf::startup::run_worker(db, &settings, 4, std::future::pending()).await;
        }));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a JSON request and returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.request(method, path, token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, json)
    }

    /// Sends a raw body (an import file) and returns the status and the JSON body.
    pub async fn post_text(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let resp = self
            .request(Method::POST, path, Some(token))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, json)
    }

    /// Creates an operator straight in the store and returns their password.
    pub async fn create_user(&self, username: &str, role: icf_core::enums::Role) -> String {
        let password = format!("pw-{username}-1234");
        icf_store::users::create(
            &self.db,
            icf_store::users::NewUser {
                username: username.into(),
                email: format!("{username}@example.com"),
                password_hash: icf_core::password::hash(&password).expect("hash"),
                role,
            },
        )
        .await
        .expect("create user");
        password
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// A new admin and their token.
    pub async fn admin_token(&self) -> String {
        let pw = self.create_user("root", icf_core::enums::Role::Admin).await;
        self.login("root", &pw).await
    }

    /// A new editor and their token.
    pub async fn editor_token(&self) -> String {
        let pw = self
            .create_user("writer", icf_core::enums::Role::Editor)
            .await;
        self.login("writer", &pw).await
    }
}

/// Asserts the API's error shape and returns the error object.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Value {
    assert_eq!(status, expected, "unexpected status, body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    body["error"].clone()
}

#[test]
fn database_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://h/db?sslmode=disable", "x"),
        "postgres://h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

/// Polls `ok` every 100 ms for up to 30 s.
pub async fn wait_for(mut ok: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..300 {
        if ok().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A plain square JPEG photo.
pub fn square_jpeg(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(side, side, image::Rgb([10, 120, 200]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .expect("encode a JPEG");
    out
}

/// Every file under `dir`, recursively (none when `dir` does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The status and the JSON body of an answer; a body that is not JSON fails the test,
/// showing it.
pub async fn status_and_json(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

/// A post's upload form: the text fields in order, then one file as `media`.
pub fn post_form(
    texts: &[(&str, &str)],
    (file_name, bytes): (&str, Vec<u8>),
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in texts {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    form.part(
        "media",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
    )
}

impl TestApp {
    /// `POST /api/posts/` with `form`: the status and the JSON body, whatever they are.
    pub async fn upload(&self, token: &str, form: reqwest::multipart::Form) -> (StatusCode, Value) {
        self.upload_to("/api/posts/", token, form).await
    }

    /// A multipart request to `path`; the status and the JSON body.
    pub async fn upload_to(
        &self,
        path: &str,
        token: &str,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, Value) {
        let resp = self
            .request(Method::POST, path, Some(token))
            .multipart(form)
            .send()
            .await
            .expect("request");
        status_and_json(resp).await
    }

    /// `method path` with a JSON body, expecting `expected`; returns the body.
    pub async fn send_expecting(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> Value {
        let (status, answer) = self
            .call(method.clone(), path, Some(token), Some(body))
            .await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// Sends `body` expecting a 422 field error; returns the error object (`field`,
    /// `message`).
    pub async fn refused(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = self.call(method, path, Some(token), Some(body)).await;
        assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
    }

    /// `POST path` with a JSON body, expecting 201; returns what was created.
    pub async fn post_created(&self, token: &str, path: &str, body: Value) -> Value {
        self.send_expecting(StatusCode::CREATED, Method::POST, path, token, body)
            .await
    }

    /// `PUT path` with a JSON body, expecting 200; returns the body.
    pub async fn put_ok(&self, token: &str, path: &str, body: Value) -> Value {
        self.send_expecting(StatusCode::OK, Method::PUT, path, token, body)
            .await
    }
}

/// An account the Instagram simulator knows, without two-factor sign-in.
pub fn sim_account(
    username: &str,
    password: &str,
    faults: icf_instagram::sim::Faults,
) -> icf_instagram::sim::SimAccount {
    icf_instagram::sim::SimAccount {
        username: username.into(),
        password: password.into(),
        totp_secret: None,
        faults,
    }
}

/// An Instagram simulator on a free loopback port that knows `accounts`.
pub async fn simulator(
    accounts: Vec<icf_instagram::sim::SimAccount>,
) -> icf_instagram::sim::Simulator {
    icf_instagram::sim::Simulator::start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), accounts)
        .await
        .expect("the Instagram simulator starts")
}

/// A simulator that knows `accounts`, and an app whose Instagram it is, with `extra`
/// settings. The periodic account and proxy checks are off: they would talk to the
/// simulator at moments of their own.
pub async fn app_with_simulator(
    engine: Engine,
    accounts: Vec<icf_instagram::sim::SimAccount>,
    extra: &[(&str, &str)],
) -> (icf_instagram::sim::Simulator, TestApp) {
    let sim = simulator(accounts).await;
    let url = sim.base_url();
    let mut settings = vec![
        ("INSTAGRAM_API_URL", url.as_str()),
        ("ICF_ACCOUNT_CHECK_HOURS", "0"),
        ("ICF_PROXY_CHECK_MINUTES", "0"),
    ];
    settings.extend_from_slice(extra);
    let app = TestApp::spawn_with(engine, &settings).await;
    (sim, app)
}

/// The address of a SOCKS5 proxy on loopback `port` that wants `user` and `pass`.
pub fn socks5_url(port: u16, user: &str, pass: &str) -> String {
    format!("socks5://{user}:{pass}@127.0.0.1:{port}")
}
