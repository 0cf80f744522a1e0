//! The web UI in a real headless Chromium (chromedriver + fantoccini), against icf with
//! the Instagram and DeepL simulators, every account behind its own real SOCKS5 proxy.
//! Without chromium/chromedriver the tests are skipped, unless `ICF_REQUIRE_BROWSER=1`
//! (CI). Screenshots of each step go to `target/ui-screenshots/`.

#[allow(dead_code, unused_macros)]
#[path = "../api/helpers.rs"]
#[macro_use]
mod helpers;
mod glossaries;
mod import;
#[allow(dead_code)]
#[path = "../api/realproxy.rs"]
mod realproxy;
mod review;
mod snippets;

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use icf_instagram::sim::{Faults, SimAccount, Simulator};
use icf_translate::ProviderKind;
use icf_translate::sim::Sim;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use helpers::{Engine, TestApp};

const IG_PASSWORD: &str = "ig-pass-123";
const CAPTION_RU: &str = "Новый курс по Python! Скидка 50% #python @icf_school";
const CAPTION_ES: &str = "¡Nuevo curso de Python! 50% de descuento #python @icf_school";

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromium and chromedriver, or `None` (skip) when they are not installed.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = tool("chromium").or_else(|| tool("chromium-browser"));
    let driver = tool("chromedriver");
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            assert!(
                !std::env::var("ICF_REQUIRE_BROWSER").is_ok_and(|v| v == "1"),
                "ICF_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
            );
            eprintln!("skipped: chromium and chromedriver are not installed");
            None
        }
    }
}

async fn start_driver(driver: &PathBuf) -> Driver {
    let port = realproxy::free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let d = Driver { child, url };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{}/status", d.url)).send().await
            && r.status().is_success()
        {
            return d;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn browser(driver: &Driver, chromium: &std::path::Path) -> Client {
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=en-US", "--no-proxy-server"],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// chromedriver's browser console log (entries since the last call).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

async fn console_errors(c: &Client) -> Vec<String> {
    let logs = c.issue_cmd(BrowserLog).await.unwrap_or(Value::Null);
    logs.as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

struct Shots {
    dir: PathBuf,
    prefix: &'static str,
    n: u32,
}

impl Shots {
    fn new(prefix: &'static str) -> Self {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/ui-screenshots"
        ));
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        // Old shots of this test would mix with the new ones.
        for entry in std::fs::read_dir(&dir).expect("screenshot dir").flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{prefix}-"))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Shots { dir, prefix, n: 0 }
    }

    /// Saves a screenshot and fails on console errors since the last step.
    async fn step(&mut self, c: &Client, name: &str) {
        self.n += 1;
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(
            self.dir
                .join(format!("{}-{:02}-{name}.png", self.prefix, self.n)),
            png,
        )
        .expect("write screenshot");
        let errors = console_errors(c).await;
        assert!(errors.is_empty(), "console errors at {name}: {errors:#?}");
    }
}

async fn wait_for(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// Waits until the element's text is `want`; returns the last text seen otherwise.
async fn wait_text(c: &Client, css: &str, want: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.trim() == want || Instant::now() > deadline {
            return text.trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn sign_in(c: &Client, app: &TestApp, user: &str, password: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    wait_for(c, "#username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "#sign-out").await;
}

fn jpeg_file(dir: &std::path::Path) -> PathBuf {
    let img = image::RgbImage::from_fn(1080, 1080, |x, y| {
        image::Rgb([(x / 5) as u8, (y / 5) as u8, 160])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    let path = dir.join("photo.jpg");
    std::fs::write(&path, out).unwrap();
    path
}

fn language(i: usize) -> &'static str {
    match i {
        0..10 => "en",
        10..15 => "ru",
        _ => "es",
    }
}

/// A real worker, as `icf worker` runs it, until the sender is dropped or fires.
fn run_worker(app: &TestApp) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let db = app.db.clone();
    let settings = app.settings.clone();
    let handle = tokio::spawn(async move {
        icf::startup::run_worker(db, &settings, 8, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (tx, handle)
}

/// Creates a draft in the composer: one photo, a caption, a language, maybe a group.
async fn compose(
    c: &Client,
    app: &TestApp,
    photo: &std::path::Path,
    caption: &str,
    lang: &str,
    group: Option<&str>,
) -> String {
    c.goto(&app.url("/posts/new")).await.unwrap();
    wait_for(c, "#media")
        .await
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    wait_for(c, "#previews li img").await;
    c.find(Locator::Css("#caption"))
        .await
        .unwrap()
        .send_keys(caption)
        .await
        .unwrap();
    c.find(Locator::Css(&format!(
        "#original_language option[value={lang}]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    if let Some(name) = group {
        c.find(Locator::Css(&format!("input[data-group-name='{name}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    String::new()
}

async fn submit_draft(c: &Client) -> String {
    c.find(Locator::Css("#create-draft"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = c.current_url().await.unwrap();
        if let Some(id) = url.path().strip_prefix("/posts/")
            && id.len() == 36
        {
            return id.to_owned();
        }
        let err = match c.find(Locator::Css("#err-form")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        assert!(
            Instant::now() < deadline,
            "the draft was not created: {err}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_publishes_to_twenty_accounts_from_the_browser() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let mut proxies = Vec::new();
    let mut lines = Vec::new();
    let mut seed = Vec::new();
    for i in 0..20 {
        let lang = language(i);
        let (user, pass) = (format!("u{i}"), format!("p{i}"));
        let Some(proxy) = realproxy::microsocks(&user, &pass) else {
            return;
        };
        let name = format!("it_{lang}_{i}");
        lines.push(format!(
            "{name}:{IG_PASSWORD}:{lang}:IT:socks5://{user}:{pass}@127.0.0.1:{}",
            proxy.port
        ));
        seed.push(SimAccount {
            username: name,
            password: IG_PASSWORD.into(),
            totp_secret: None,
            faults: Faults::default(),
        });
        proxies.push(proxy);
    }
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), seed)
        .await
        .unwrap();
    let deepl = Sim::start(ProviderKind::DeepL, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let deepl_url = deepl.url();
    let app = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("INSTAGRAM_API_URL", &sim.base_url()),
            ("DEEPL_API_KEY", "test-key:fx"),
            ("DEEPL_API_URL", &deepl_url),
            ("ICF_PACING_SPEED", "600"),
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
        ],
    )
    .await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let (stop, worker) = run_worker(&app);
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let dir = tempfile::tempdir().unwrap();
    let photo = jpeg_file(dir.path());
    let mut shots = Shots::new("admin");

    // Signed out: the sign-in page.
    c.goto(&app.url("/posts")).await.unwrap();
    wait_for(&c, "#username").await;
    shots.step(&c, "sign-in").await;
    sign_in(&c, &app, "root", &password).await;
    shots.step(&c, "dashboard-empty").await;

    // Group IT.
    c.goto(&app.url("/groups")).await.unwrap();
    wait_for(&c, "#g-name").await.send_keys("IT").await.unwrap();
    c.find(Locator::Css("#create-group"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#groups-table").await;
    shots.step(&c, "group-created").await;

    // Twenty accounts with their proxies, pasted into the import dialog.
    c.goto(&app.url("/accounts/import")).await.unwrap();
    let area = wait_for(&c, "#lines").await;
    c.execute(
        "document.getElementById('lines').value = arguments[0];",
        vec![json!(lines.join("\n"))],
    )
    .await
    .unwrap();
    drop(area);
    c.find(Locator::Css("#import-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let created = wait_text(&c, "#import-created", "20", Duration::from_secs(60)).await;
    assert_eq!(created, "20", "import created 20 accounts");
    shots.step(&c, "accounts-imported").await;
    c.goto(&app.url("/accounts?per_page=50")).await.unwrap();
    let rows = wait_for(&c, "#accounts-table").await;
    let n = rows.find_all(Locator::Css("tbody tr")).await.unwrap().len();
    assert_eq!(n, 20);
    shots.step(&c, "accounts").await;

    // The composer: a photo and a Russian caption for IT.
    compose(&c, &app, &photo, CAPTION_RU, "ru", Some("IT")).await;
    let counter = c
        .find(Locator::Css("#caption-counter"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Instagram's limits as the server has them (5 hashtags since December 2025).
    assert!(counter.contains("1/5 "), "hashtag counter: {counter}");
    assert!(counter.contains("1/20 "), "mention counter: {counter}");
    shots.step(&c, "composer").await;
    let post = submit_draft(&c).await;

    // Translate, then correct the Spanish by hand.
    wait_for(&c, "#translate").await.click().await.unwrap();
    wait_for(&c, "#text-es").await;
    for lang in ["en", "es"] {
        let text = c
            .find(Locator::Css(&format!("#text-{lang}")))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(!text.trim().is_empty(), "{lang} has a machine translation");
    }
    shots.step(&c, "translated").await;
    let es = c.find(Locator::Css("#text-es")).await.unwrap();
    es.clear().await.unwrap();
    es.send_keys(CAPTION_ES).await.unwrap();
    c.find(Locator::Css("#save-es"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#lang-es .ok").await;
    shots.step(&c, "spanish-edited").await;

    // The plan, then publish.
    c.find(Locator::Css("#preview-plan"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let plan = wait_for(&c, "#plan-result").await.text().await.unwrap();
    assert!(plan.contains("20"), "the plan covers 20 accounts: {plan}");
    shots.step(&c, "plan").await;
    c.find(Locator::Css("#publish"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let total = wait_text(&c, "#t-total", "20", Duration::from_secs(20)).await;
    assert_eq!(total, "20", "20 executions");
    shots.step(&c, "publishing").await;
    // The page is not reloaded: the count rises through the live event stream.
    let done = wait_text(&c, "#t-success", "20", Duration::from_secs(180)).await;
    wait_text(&c, "#post-status", "completed", Duration::from_secs(5)).await;
    shots.step(&c, "published").await;
    assert_eq!(done, "20", "the post page reached 20/20");

    // What went out: the hand-edited Spanish on the Spanish accounts.
    let admin = app.login("root", &password).await;
    let (_, ex) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/executions"),
            Some(&admin),
            None,
        )
        .await;
    for e in ex["items"].as_array().unwrap() {
        if e["language"] == "es" {
            assert_eq!(e["caption"], CAPTION_ES, "{e}");
        }
        if e["language"] == "ru" {
            assert_eq!(e["caption"], CAPTION_RU, "{e}");
        }
    }

    // The dashboard counts them.
    c.goto(&app.url("/")).await.unwrap();
    let counted = wait_text(&c, "td[data-published='IT']", "20", Duration::from_secs(5)).await;
    assert_eq!(counted, "20");
    assert_eq!(
        c.find(Locator::Css("#published-total"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "20"
    );
    wait_for(&c, "#chart canvas").await;
    shots.step(&c, "dashboard").await;

    // The other screens render without console errors.
    for (path, shot) in [
        ("/groups", "groups"),
        ("/proxies", "proxies"),
        ("/logs", "logs"),
        ("/users", "users"),
        ("/calendar", "calendar"),
        ("/calendar?view=week", "calendar-week"),
        ("/posts", "posts"),
    ] {
        c.goto(&app.url(path)).await.unwrap();
        wait_for(&c, "main h1").await;
        shots.step(&c, shot).await;
    }
    // Swagger UI works under the same Content-Security-Policy (a violation is a console
    // error, which the step fails on).
    c.goto(&app.url("/docs/")).await.unwrap();
    wait_for(&c, "#swagger-ui .opblock").await;
    shots.step(&c, "docs").await;
    // The policy is in force and its violations do reach the console: an inline style
    // is refused, so the clean steps above mean something.
    c.goto(&app.url("/posts")).await.unwrap();
    wait_for(&c, "main h1").await;
    c.execute(
        "document.querySelector('main').setAttribute('style', 'color: red'); return null;",
        vec![],
    )
    .await
    .unwrap();
    let refused = console_errors(&c).await;
    assert!(
        refused
            .iter()
            .any(|e| e.contains("Content Security Policy")),
        "an inline style was not refused: {refused:#?}"
    );
    c.goto(&app.url("/accounts?search=it_es_15")).await.unwrap();
    wait_for(&c, "#accounts-table a")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#edit-account").await;
    shots.step(&c, "account").await;

    // In Russian.
    c.goto(&app.url("/")).await.unwrap();
    wait_for(&c, "#chart").await;
    c.find(Locator::Css("#ui-language option[value=ru]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let heading = wait_text(&c, "main h1", "Обзор", Duration::from_secs(10)).await;
    assert_eq!(heading, "Обзор");
    shots.step(&c, "dashboard-ru").await;

    // On a phone.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&app.url(&format!("/posts/{post}"))).await.unwrap();
    wait_text(&c, "#t-success", "20", Duration::from_secs(5)).await;
    shots.step(&c, "phone-post-ru").await;

    c.close().await.unwrap();
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_sees_posting_screens_only_and_captions_stay_text() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let password = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let dir = tempfile::tempdir().unwrap();
    let photo = jpeg_file(dir.path());
    let mut shots = Shots::new("editor");

    sign_in(&c, &app, "writer", &password).await;
    assert!(
        c.find(Locator::Css("nav a[href='/accounts']"))
            .await
            .is_err(),
        "no Accounts tab for an editor"
    );
    c.goto(&app.url("/accounts")).await.unwrap();
    let title = wait_for(&c, "main h1").await.text().await.unwrap();
    assert_eq!(title, "You may not open this page");
    // The 403 itself is a console error in Chromium; read it so the next step starts clean.
    let _ = console_errors(&c).await;
    shots.n += 1;
    std::fs::write(
        shots.dir.join("editor-01-accounts-forbidden.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    let caption = "<script>window.__icf_xss = 1</script> <b>bold?</b>";
    compose(&c, &app, &photo, caption, "en", None).await;
    let _post = submit_draft(&c).await;
    let shown = wait_for(&c, "#post-caption").await.text().await.unwrap();
    assert_eq!(shown, caption, "the caption is shown as text");
    let ran = c
        .execute("return window.__icf_xss === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(ran, json!(true), "the script in the caption did not run");
    assert!(
        c.find(Locator::Css("#post-caption b")).await.is_err(),
        "no markup from the caption"
    );
    shots.step(&c, "script-caption").await;

    c.find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#username").await;
    c.goto(&app.url("/posts")).await.unwrap();
    wait_for(&c, "#username").await;
    c.close().await.unwrap();
}

/// `[post-options]`: the composer offers every option and previews the files (with an alt
/// text under each); the post page shows the media strip and the options, and the
/// translations panel a field for the first comment and each alt text; the list shows the
/// post's thumbnail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sets_post_options_and_sees_the_media() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let password = app
        .create_user("planner", icf_core::enums::Role::Editor)
        .await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let dir = tempfile::tempdir().unwrap();
    let photo = jpeg_file(dir.path());
    let mut shots = Shots::new("options");

    sign_in(&c, &app, "planner", &password).await;
    compose(&c, &app, &photo, "Coffee time", "en", None).await;
    let fill = async |css: &str, text: &str| {
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("{css} is on the page"))
            .send_keys(text)
            .await
            .unwrap();
    };
    fill("#previews li input.alt-text", "A cup of coffee").await;
    fill("#first_comment", "Menu in the link").await;
    fill("#location_name", "Cafe X").await;
    fill("#location_lat", "40.7").await;
    fill("#location_lng", "-74").await;
    fill("#usertags", "anna 0.5 0.5 0").await;
    fill("#collaborators", "bob").await;
    for css in ["#pin_first_comment", "#hide_like_counts"] {
        c.find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    // Each account its own copy of the photo, more visibly changed than the default.
    c.find(Locator::Css("#media_variants"))
        .await
        .unwrap()
        .select_by_value("strong")
        .await
        .unwrap();
    shots.step(&c, "composer").await;
    let post = submit_draft(&c).await;

    // The media strip shows the stored photo, with the alt text as its alt.
    let img = wait_for(&c, "#media-strip img").await;
    assert_eq!(
        img.attr("alt").await.unwrap().as_deref(),
        Some("A cup of coffee")
    );
    let loaded = async || {
        c.execute(
            "const i = document.querySelector('#media-strip img'); return i.complete && i.naturalWidth;",
            vec![],
        )
        .await
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while loaded().await.as_u64().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the preview did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let options = wait_for(&c, "#post-options").await.text().await.unwrap();
    for want in [
        "Menu in the link (pinned)",
        "Cafe X",
        "@anna",
        "@bob",
        "hidden",
        "Media copies",
        "strong",
    ] {
        assert!(options.contains(want), "{want} in {options}");
    }
    // The source card edits the first comment and the alt text beside the caption.
    let comment = wait_for(&c, "#fc-en").await;
    assert_eq!(
        comment.prop("value").await.unwrap().as_deref(),
        Some("Menu in the link")
    );
    let alt = wait_for(&c, "#alt-en-0").await;
    assert_eq!(
        alt.prop("value").await.unwrap().as_deref(),
        Some("A cup of coffee")
    );
    comment.clear().await.unwrap();
    comment.send_keys("Menu: see bio").await.unwrap();
    c.find(Locator::Css("#save-en"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let saved = wait_for(&c, "#lang-en .ok").await.text().await.unwrap();
    assert!(saved.starts_with("Saved"), "{saved}");
    shots.step(&c, "post-page").await;
    let token = app.login("planner", &password).await;
    let stored = app.get_ok(&token, &format!("/api/posts/{post}")).await;
    assert_eq!(
        stored["options"]["first_comment"], "Menu: see bio",
        "{stored}"
    );
    assert_eq!(
        stored["options"]["collaborators"],
        json!(["bob"]),
        "{stored}"
    );
    assert_eq!(stored["options"]["media_variants"], "strong", "{stored}");

    // The list shows the post's thumbnail.
    c.goto(&app.url("/posts")).await.unwrap();
    let thumb = wait_for(&c, "img.thumb").await;
    assert_eq!(
        thumb.attr("src").await.unwrap(),
        Some(format!("/posts/{post}/media/0"))
    );
    shots.step(&c, "list").await;
    assert!(console_errors(&c).await.is_empty(), "no console errors");
    c.close().await.unwrap();
}
