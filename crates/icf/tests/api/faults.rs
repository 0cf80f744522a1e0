//! Instagram failing at each step of a publish in turn (issue #12): one account per step, each
//! behind its own real proxy, one post published to all of them. Every step must end with the
//! right execution status, error class and account status, and never with a second media.
//! Also: a full media disk, and arbitrary multipart uploads.

use std::time::{Duration, Instant};

use icf_instagram::sim::Faults;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Engine, TestApp, app_with_simulator, files_under, post_form, sim_account, socks5_url,
};
use crate::realproxy::microsocks;

engine_tests!(
    every_step_of_a_publish_failing_ends_right_and_never_posts_twice,
    a_full_media_disk_refuses_the_upload_cleanly_and_recovers,
    arbitrary_uploads_get_a_4xx_naming_the_field_or_a_stored_file,
);

const IG_PASSWORD: &str = "ig-fault-pw-9";

/// One row of the table: a fault and how the publish must end.
struct Step {
    name: &'static str,
    faults: Faults,
    end: Outcome,
}

/// How a publish ends.
#[derive(Clone, Copy)]
struct Outcome {
    /// The execution's status once the worker is done with it (`queued`: moved to later).
    status: &'static str,
    error_class: Option<&'static str>,
    account_status: &'static str,
    /// Media of the account on Instagram.
    media: usize,
}

impl Outcome {
    const fn new(
        status: &'static str,
        error_class: Option<&'static str>,
        account_status: &'static str,
        media: usize,
    ) -> Outcome {
        Outcome {
            status,
            error_class,
            account_status,
            media,
        }
    }
}

const PUBLISHED: Outcome = Outcome::new("success", None, "active", 1);
const BAD_CREDENTIALS: Outcome = Outcome::new("failed", Some("credentials"), "login_required", 0);
/// The account pauses and the post is moved to after the pause.
const PAUSED: Outcome = Outcome::new("queued", None, "cooldown", 0);
const RETRYABLE: Outcome = Outcome::new("failed", Some("retryable"), "active", 0);
/// Whether Instagram published is not known: left to a person, never posted blindly.
const UNCONFIRMED: Outcome = Outcome::new("failed", Some("unconfirmed"), "active", 0);

/// The step `name`: the faults `set` turns on, and how the publish must end.
fn step(name: &'static str, set: impl FnOnce(&mut Faults), end: Outcome) -> Step {
    let mut faults = Faults::default();
    set(&mut faults);
    Step { name, faults, end }
}

fn steps() -> Vec<Step> {
    vec![
        step("no_fault", |_| {}, PUBLISHED),
        step(
            "login_bad_password",
            |f| f.bad_password = true,
            BAD_CREDENTIALS,
        ),
        step("login_please_wait", |f| f.please_wait = true, PAUSED),
        step("login_server_error", |f| f.server_error = true, RETRYABLE),
        step("upload_server_error", |f| f.upload_error = true, RETRYABLE),
        step("upload_dropped", |f| f.drop_during_upload = true, RETRYABLE),
        // A 500 from configure may hide a publish: the next attempt looks, finds
        // nothing, and refuses to post blindly.
        step(
            "configure_server_error",
            |f| f.configure_error = true,
            UNCONFIRMED,
        ),
        step(
            "configure_feedback_required",
            |f| f.feedback_required = true,
            PAUSED,
        ),
        step(
            "drop_before_configure",
            |f| f.drop_before_configure = true,
            UNCONFIRMED,
        ),
        step(
            "drop_after_configure",
            |f| f.drop_after_configure = true,
            PUBLISHED,
        ),
    ]
}

async fn every_step_of_a_publish_failing_ends_right_and_never_posts_twice(engine: Engine) {
    let steps = steps();
    let mut proxies = Vec::new();
    for i in 0..steps.len() {
        let Some(p) = microsocks(&format!("fu{i}"), &format!("fp{i}")) else {
            return;
        };
        proxies.push(p);
    }
    // Instagram names are at most 30 characters: the step's place in the table.
    let username = |s: &Step| {
        let i = steps.iter().position(|x| x.name == s.name).unwrap();
        format!("fault.step{i}")
    };
    let seed = steps
        .iter()
        .map(|s| sim_account(&username(s), IG_PASSWORD, s.faults.clone()))
        .collect();
    let (sim, mut app) = app_with_simulator(
        engine,
        seed,
        &[
            // Retries after 60/300/900 s become milliseconds.
            ("ICF_PACING_SPEED", "3600"),
            ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
            ("ICF_WORKER_POLL_SECS", "1"),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Faults").await;
    for (i, (s, p)) in steps.iter().zip(&proxies).enumerate() {
        app.new_account(
            &admin,
            json!({"username": username(s), "password": IG_PASSWORD, "language": "en",
                   "group_id": group, "proxy_url": socks5_url(p.port, &format!("fu{i}"), &format!("fp{i}"))}),
        )
        .await;
    }
    let post = app
        .new_photo_post(&admin, &group, "Fault table #icf", "en")
        .await;
    let published = app.publish_now(&admin, &post).await;
    assert_eq!(published["created"], steps.len(), "{published}");
    app.run_worker();

    let executions = async || {
        app.get_ok(&admin, &format!("/api/posts/{post}/executions"))
            .await["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let accounts = async || {
        app.get_ok(&admin, "/api/accounts/?per_page=100").await["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let find = |items: &[Value], name: &str| {
        items
            .iter()
            .find(|e| e["username"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing: {items:?}"))
    };
    // Done when every execution reached its end, and every moved one's account has paused
    // and no attempt is running any more.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (ex, acc) = loop {
        let (ex, acc) = (executions().await, accounts().await);
        let running: i64 = icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'post_to_instagram' \
             AND (state = 'running' OR (state = 'queued' AND run_at <= $1))"
        )
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap());
        let done = steps.iter().all(|s| {
            let name = username(s);
            find(&ex, &name)["status"] == s.end.status
                && (s.end.status != "queued" || find(&acc, &name)["status"] == s.end.account_status)
        });
        if done && running == 0 {
            break (ex, acc);
        }
        assert!(
            Instant::now() < deadline,
            "not every step ended as expected (running {running}): {ex:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let media = sim.media(None);
    let mut wrong = Vec::new();
    for s in &steps {
        let name = username(s);
        let e = find(&ex, &name);
        let a = find(&acc, &name);
        let got = (
            e["status"].as_str().unwrap_or("?").to_owned(),
            e["error_class"].as_str().map(str::to_owned),
            a["status"].as_str().unwrap_or("?").to_owned(),
            media.iter().filter(|m| m.username == name).count(),
        );
        let want = (
            s.end.status.to_owned(),
            s.end.error_class.map(str::to_owned),
            s.end.account_status.to_owned(),
            s.end.media,
        );
        if got != want {
            wrong.push(format!("{}: got {got:?}, want {want:?}; {e}", s.name));
        }
        // Whatever happened, the password never shows in what the API says.
        assert!(!e.to_string().contains(IG_PASSWORD), "{e}");
        assert!(!a.to_string().contains(IG_PASSWORD), "{a}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A published post's execution names the media Instagram holds.
    for s in steps.iter().filter(|s| s.end.media == 1) {
        let name = username(s);
        let m = media.iter().find(|m| m.username == name).unwrap();
        assert_eq!(find(&ex, &name)["instagram_media_id"], m.media_id.as_str());
    }
}

/// A small tmpfs mounted for the test and unmounted when dropped, even after a panic.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with a message) when mounting is not possible here, unless
    /// `ICF_REQUIRE_TMPFS=1` demands it.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !std::env::var("ICF_REQUIRE_TMPFS").is_ok_and(|v| v == "1"),
                    "ICF_REQUIRE_TMPFS=1 but a tmpfs cannot be mounted: {why}"
                );
                eprintln!("skipped: cannot mount a tmpfs ({why})");
                None
            }
        }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy, so a file still open somewhere cannot keep the mount behind.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A photo of noise: JPEG cannot compress it, so it is large for its size in pixels.
fn noise_jpeg(side: u32) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let [a, b, c, _] = x.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

async fn upload(
    app: &TestApp,
    token: &str,
    group: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let groups = json!([group]).to_string();
    let texts = [
        ("caption", "Disk test"),
        ("original_language", "en"),
        ("target_groups", groups.as_str()),
    ];
    app.upload(token, post_form(&texts, (name, bytes))).await
}

async fn post_count(app: &TestApp) -> i64 {
    icf_store::on_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn a_full_media_disk_refuses_the_upload_cleanly_and_recovers(engine: Engine) {
    let Some(disk) = Tmpfs::mount("2m") else {
        return;
    };
    let media_dir = disk.path().join("media");
    let app = TestApp::spawn_with(
        engine,
        &[("ICF_MEDIA_DIR", &media_dir.display().to_string())],
    )
    .await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Disk").await;

    let big = noise_jpeg(1600);
    assert!(
        big.len() > 2 * 1024 * 1024,
        "the photo must not fit: {} bytes",
        big.len()
    );
    let (status, body) = upload(&app, &admin, &group, "big.jpg", big).await;
    let err = crate::helpers::assert_error(
        status,
        &body,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    );
    assert_eq!(err["field"], "media[0]", "{body}");
    assert!(err["message"].as_str().unwrap().contains("full"), "{body}");
    // Nothing half-written stays behind, and no post points at missing media.
    assert_eq!(files_under(&media_dir), Vec::<std::path::PathBuf>::new());
    assert_eq!(post_count(&app).await, 0);

    // The space came back: the next upload that fits is stored.
    let (status, body) = upload(
        &app,
        &admin,
        &group,
        "small.jpg",
        crate::helpers::square_jpeg(1080),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(post_count(&app).await, 1);
    let stored = files_under(&media_dir);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let key = body["media"][0]["key"].as_str().unwrap();
    assert!(stored[0].ends_with(key), "{stored:?} vs {key}");
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK
    );
}

/// One generated upload.
#[derive(Debug, Clone)]
enum Upload {
    /// A well-formed multipart form with these parts: (field name, file name, bytes).
    Form {
        files: Vec<(String, Option<String>, Vec<u8>)>,
        texts: Vec<(String, String)>,
    },
    /// A multipart body cut short, or bytes that are not multipart at all.
    Raw(Vec<u8>),
}

/// `head` followed by up to 511 random bytes.
fn with_random_tail(head: Vec<u8>) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    proptest::collection::vec(any::<u8>(), 0..512).prop_map(move |tail| {
        let mut b = head.clone();
        b.extend(tail);
        b
    })
}

/// One of `words` or a string matching `pattern`, each as likely: what
/// `prop_oneof![Just(word.to_owned()), …, pattern]` makes, with the words as a list. It
/// draws as that does, so the deterministic runner's cases are the same.
fn word_or_match(
    words: &[&'static str],
    pattern: &'static str,
) -> proptest::strategy::Union<proptest::strategy::BoxedStrategy<String>> {
    use proptest::prelude::*;
    proptest::strategy::Union::new(
        words
            .iter()
            .map(|w| Just((*w).to_owned()).boxed())
            .chain([pattern.boxed()]),
    )
}

fn arb_upload() -> impl proptest::strategy::Strategy<Value = Upload> {
    use proptest::prelude::*;
    let photo = crate::helpers::square_jpeg(320);
    let jpeg = photo.clone();
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        Just(photo.clone()),
        (0..photo.len()).prop_map(move |n| jpeg[..n].to_vec()),
        with_random_tail(b"\x89PNG\r\n\x1a\n".to_vec()),
        with_random_tail(photo),
    ];
    let field = prop_oneof![
        8 => Just("media".to_owned()),
        1 => "[a-z_\\[\\]0-9]{0,12}",
    ];
    let file_name = proptest::option::of(word_or_match(
        &["../../etc/passwd", "photo.jpg"],
        // Anything a header may carry (no control characters, DEL, quote or backslash).
        "[^\u{0}-\u{1f}\u{7f}\"\\\\]{0,40}",
    ));
    let text_name = word_or_match(
        &[
            "caption",
            "original_language",
            "target_groups",
            "scheduled_at",
            "media_type",
            "fit",
        ],
        "[a-z_]{1,10}",
    );
    let text_value = word_or_match(&["en", "[]", "reel", "crop"], ".{0,40}");
    prop_oneof![
        6 => (
            proptest::collection::vec((field, file_name, bytes), 0..4),
            proptest::collection::vec((text_name, text_value), 0..5),
        )
            .prop_map(|(files, texts)| Upload::Form { files, texts }),
        1 => proptest::collection::vec(any::<u8>(), 0..600).prop_map(Upload::Raw),
    ]
}

const BOUNDARY: &str = "icf-fuzz-boundary-7MA4YWxkTrZu0gW";

/// The form's bytes, written by hand so a file name arrives exactly as generated.
fn multipart_body(
    files: &[(String, Option<String>, Vec<u8>)],
    texts: &[(String, String)],
) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in texts {
        b.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .bytes(),
        );
        b.extend(value.bytes());
        b.extend(b"\r\n");
    }
    for (name, file_name, bytes) in files {
        let fname = file_name
            .as_ref()
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        b.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{fname}\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        b.extend(bytes);
        b.extend(b"\r\n");
    }
    b.extend(format!("--{BOUNDARY}--\r\n").bytes());
    b
}

async fn arbitrary_uploads_get_a_4xx_naming_the_field_or_a_stored_file(engine: Engine) {
    use proptest::strategy::{Strategy, ValueTree};
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = arb_upload();
    let (mut created, mut created_media) = (0, 0);
    for case in 0..96 {
        let upload = strategy.new_tree(&mut runner).unwrap().current();
        let (body, well_formed) = match &upload {
            Upload::Form { files, texts } => (multipart_body(files, texts), true),
            Upload::Raw(bytes) if case % 2 == 0 => (bytes.clone(), false),
            // A real form, cut off somewhere in the middle.
            Upload::Raw(bytes) => {
                let full = multipart_body(
                    &[(
                        "media".into(),
                        Some("a.jpg".into()),
                        crate::helpers::square_jpeg(320),
                    )],
                    &[("original_language".into(), "en".into())],
                );
                let cut = bytes.len() * full.len() / 600;
                (full[..cut.min(full.len() - 1)].to_vec(), false)
            }
        };
        let resp = app
            .request(Method::POST, "/api/posts/", Some(&admin))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("case {case}: not JSON ({status}): {text}\n{upload:?}"));
        if status == StatusCode::CREATED {
            created += 1;
            created_media += json["media"].as_array().unwrap().len();
            for m in json["media"].as_array().unwrap() {
                let key = m["key"].as_str().unwrap();
                assert!(
                    app.settings.media.dir.join(key).is_file(),
                    "case {case}: {json}"
                );
            }
            continue;
        }
        assert!(
            status.is_client_error(),
            "case {case}: {status} {json}\n{upload:?}"
        );
        assert!(json["error"]["code"].is_string(), "case {case}: {json}");
        if well_formed {
            assert!(
                json["error"]["field"].is_string(),
                "case {case}: a refused form names the field: {json}\n{upload:?}"
            );
        }
    }
    // Refused uploads leave nothing behind; stored files all belong to posts.
    let staged = files_under(&app.settings.media.dir.join(".staging"));
    assert!(staged.is_empty(), "{staged:?}");
    let stored = files_under(&app.settings.media.dir.join("posts")).len();
    assert_eq!(post_count(&app).await, created);
    // Generated uploads are photos: one stored file each.
    assert_eq!(
        stored, created_media,
        "{stored} files for {created_media} photos"
    );
}
