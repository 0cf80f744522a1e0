//! A throw-away icf for one benchmark: a fresh database (a SQLite file in a temp dir, or a
//! new PostgreSQL database dropped afterwards), the real HTTP server on a free port, an
//! admin signed in, and the environment a worker process needs to join it.

use std::collections::HashMap;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::startup;

/// Where a benchmark's database lives.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite,
    /// A PostgreSQL server URL; each fixture creates (and drops) a database of its own.
    Postgres(String),
}

impl Store {
    pub fn name(&self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::Postgres(_) => "PostgreSQL",
        }
    }
}

pub struct Fixture {
    pub settings: Settings,
    pub db: icf_store::Db,
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    vars: HashMap<String, String>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    worker: Option<JoinHandle<anyhow::Result<()>>>,
    pg_drop: Option<(String, String)>,
    // Last: the data dir outlives everything that writes into it.
    _dir: tempfile::TempDir,
}

/// `postgres://u@h:5432/postgres?x` with the database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn pg_admin(url: &str, sql: String) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("cannot connect to the PostgreSQL server for benchmarks")?;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    Ok(())
}

impl Fixture {
    /// Starts icf on a fresh database with `extra` settings (and no worker).
    pub async fn start(store: &Store, extra: &[(&str, String)]) -> anyhow::Result<Fixture> {
        let dir = tempfile::Builder::new().prefix("icf-bench-").tempdir()?;
        let mut pg_drop = None;
        let url = match store {
            Store::Sqlite => format!("sqlite://{}", dir.path().join("icf.db").display()),
            Store::Postgres(server) => {
                let name = format!("icf_bench_{}", uuid::Uuid::new_v4().simple());
                pg_admin(server, format!("CREATE DATABASE {name}")).await?;
                pg_drop = Some((server.clone(), name.clone()));
                with_database(server, &name)
            }
        };
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("DATABASE_URL".into(), url);
        vars.insert("ICF_DATA_DIR".into(), dir.path().display().to_string());
        vars.insert("ICF_LISTEN".into(), "127.0.0.1:0".into());
        vars.insert(
            "SECRET_KEY".into(),
            format!("bench-{}", uuid::Uuid::new_v4().simple()),
        );
        vars.insert("ENCRYPTION_KEY".into(), fernet::Fernet::generate_key());
        // Background upkeep would send its own requests to the simulators mid-measurement.
        vars.insert("ICF_ACCOUNT_CHECK_HOURS".into(), "0".into());
        vars.insert("ICF_PROXY_CHECK_MINUTES".into(), "0".into());
        // B1–B7 measure one file sent to every account, as before media variants (and
        // stay comparable with their earlier figures); B8 asks for copies itself.
        vars.insert("ICF_MEDIA_VARIANTS_DEFAULT".into(), "off".into());
        for (k, v) in extra {
            vars.insert((*k).to_owned(), v.clone());
        }
        let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
        let app = startup::App::build(&settings, true).await?;
        let base = format!("http://{}", app.addr());
        let db = app.db().clone();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(app.run(async move {
            let mut rx = stopped;
            let _ = rx.wait_for(|s| *s).await;
        }));
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        icf_store::users::create(
            &db,
            icf_store::users::NewUser {
                username: "bench".into(),
                email: "bench@bench.local".into(),
                password_hash: icf_core::password::hash(&password)?,
                role: icf_core::enums::Role::Admin,
            },
        )
        .await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(64)
            .build()?;
        let login: Value = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": "bench", "password": password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["access_token"]
            .as_str()
            .context("no token from /api/auth/login")?
            .to_owned();
        Ok(Fixture {
            settings,
            db,
            base,
            client,
            token,
            vars,
            stop,
            server: Some(server),
            worker: None,
            pg_drop,
            _dir: dir,
        })
    }

    /// The environment of an `icf worker` process that joins this fixture.
    pub fn worker_env(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(k, _)| k.as_str() != "ICF_LISTEN")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// An `icf serve --no-worker` process on this fixture's database and a free port, ready:
    /// the process and its base URL.
    pub async fn spawn_serve(&self) -> anyhow::Result<(tokio::process::Child, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--no-worker"])
            .envs(self.worker_env())
            .env("ICF_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start icf serve")?;
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if self
                .client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok()
            {
                return Ok((child, base));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        bail!("icf serve did not start on port {port}")
    }

    /// Runs a worker inside this process, as `icf serve` does.
    pub fn run_worker(&mut self, concurrency: u32) {
        let (db, settings) = (self.db.clone(), self.settings.clone());
        let mut rx = self.stop.subscribe();
        self.worker = Some(tokio::spawn(async move {
            startup::run_worker(db, &settings, concurrency, async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
        }));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends JSON (or nothing), expects a 2xx, returns the JSON answer.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// Sends a text file body (imports).
    pub async fn post_text(&self, path: &str, text: String) -> anyhow::Result<Value> {
        let resp = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "text/plain")
            .body(text)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("POST {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// Imports `lines` (`username:password:language:group:proxy`) in files of 5,000 lines.
    pub async fn import_accounts(&self, lines: &[String]) -> anyhow::Result<()> {
        for chunk in lines.chunks(5_000) {
            let report = self
                .post_text("/api/accounts/import", chunk.join("\n"))
                .await?;
            let created = report["created"].as_u64().unwrap_or(0);
            if created != chunk.len() as u64 {
                let first = report["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|l| l["result"] != "created");
                bail!(
                    "the import created {created} of {} accounts; the first refused line: {}",
                    chunk.len(),
                    first.unwrap_or(&Value::Null)
                );
            }
        }
        Ok(())
    }

    /// The id of the group called `name`.
    pub async fn group_id(&self, name: &str) -> anyhow::Result<String> {
        let groups = self
            .call(reqwest::Method::GET, "/api/groups/", None)
            .await?;
        let items = groups["items"].as_array().or(groups.as_array());
        items
            .into_iter()
            .flatten()
            .find(|g| g["name"] == name)
            .and_then(|g| g["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no group {name}"))
    }

    /// Creates a one-photo post for `groups`, returns its id.
    pub async fn photo_post(
        &self,
        groups: &[&str],
        caption: &str,
        language: &str,
    ) -> anyhow::Result<String> {
        self.photo_post_of(groups, caption, language, square_jpeg(1080)?)
            .await
    }

    /// A draft photo post of `jpeg` (a photo of the caller's).
    pub async fn photo_post_of(
        &self,
        groups: &[&str],
        caption: &str,
        language: &str,
        jpeg: Vec<u8>,
    ) -> anyhow::Result<String> {
        let form = reqwest::multipart::Form::new()
            .text("caption", caption.to_owned())
            .text("original_language", language.to_owned())
            .text("target_groups", json!(groups).to_string())
            .part(
                "media",
                reqwest::multipart::Part::bytes(jpeg).file_name("photo.jpg"),
            );
        let resp = self
            .client
            .post(self.url("/api/posts/"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        if !status.is_success() {
            bail!("creating a post answered {status}: {body}");
        }
        body["id"].as_str().map(str::to_owned).context("no post id")
    }

    /// Stops the server (and worker), and drops the PostgreSQL database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        if let Some(w) = self.worker.take() {
            let _ = w.await;
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        self.db.close().await;
        if let Some((server, name)) = self.pg_drop.take() {
            pg_admin(
                &server,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }
}

impl Drop for Fixture {
    /// A benchmark that failed half-way still removes its PostgreSQL database (on a thread
    /// of its own: this runs outside async code).
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some((server, name)) = self.pg_drop.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(pg_admin(
                    &server,
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ))
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

/// The DeepL simulator, and the settings that point icf at it.
pub async fn deepl() -> anyhow::Result<(icf_translate::sim::Sim, [(&'static str, String); 2])> {
    let sim = icf_translate::sim::Sim::start(
        icf_translate::ProviderKind::DeepL,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let settings = [
        ("DEEPL_API_KEY", "bench-key:fx".to_owned()),
        ("DEEPL_API_URL", sim.url()),
    ];
    Ok((sim, settings))
}

/// A plain square JPEG, as a phone would send.
pub fn square_jpeg(side: u32) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )?;
    Ok(out)
}

/// The `q`-th quantile (0..=1) of `sorted`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
