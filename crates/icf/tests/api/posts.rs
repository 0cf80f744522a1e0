//! Posts: uploads through the real media pipeline (image crate, ffmpeg), on both engines.

use std::io::Cursor;
use std::path::Path;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    a_photo_post_is_stored_as_a_jpeg,
    carousels_and_reels_keep_order_and_covers,
    bad_uploads_are_refused_and_leave_nothing_behind,
    posts_are_listed_edited_and_deleted,
    one_posts_files_together_stay_within_the_upload_limit,
    a_caption_with_six_hashtags_is_refused_on_save,
    the_hashtag_limit_is_icf_max_hashtags,
);

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 120, 200]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    out
}

pub fn mp4(dir: &Path, size: &str, seconds: u32) -> Vec<u8> {
    let path = dir.join(format!("v-{size}-{seconds}.mp4"));
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate=30:duration={seconds}"))
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

pub async fn create_group(app: &TestApp, name: &str) -> String {
    let id = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(
        "INSERT INTO groups (id, name, name_key, description, created_at, updated_at) VALUES ($1, $2, $3, '', $4, $4)"
    )
    .bind(icf_store::DbUuid(id))
    .bind(name)
    .bind(name.to_lowercase())
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });
    id.to_string()
}

fn form(files: Vec<(&str, Vec<u8>)>, fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part("media", Part::bytes(bytes).file_name(name.to_string()));
    }
    form
}

async fn upload(app: &TestApp, token: &str, form: Form) -> (StatusCode, Value) {
    let resp = app
        .request(Method::POST, "/api/posts/", Some(token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

/// Files in the media dir, staging folder excluded.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.settings.media.dir, &mut out);
    out
}

async fn a_photo_post_is_stored_as_a_jpeg(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let group = create_group(&app, "IT").await;
    let groups = json!([group]).to_string();
    let caption = "Новый курс по Python! Скидка 50% 🔥 #python @school";
    let (status, post) = upload(
        &app,
        &token,
        form(
            vec![("image.png", png(1600, 1200))],
            &[
                ("caption", caption),
                ("original_language", "ru"),
                ("target_groups", &groups),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["media_type"], "photo");
    assert_eq!(post["status"], "draft");
    assert_eq!(post["caption_original"], caption);
    assert_eq!(post["target_groups"], json!([group]));
    let media = &post["media"][0];
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(1440), Some(1080))
    );
    let path = app.settings.media.dir.join(media["key"].as_str().unwrap());
    let bytes = std::fs::read(&path).expect("stored in the media dir");
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "stored as JPEG");

    let (status, got) = app
        .call(
            Method::GET,
            &format!("/api/posts/{}", post["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, post);
}

async fn carousels_and_reels_keep_order_and_covers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let dir = tempfile::tempdir().unwrap();
    let files = vec![
        ("1.jpg", jpeg(1080, 1080)),
        ("2.png", png(1080, 1350)),
        ("3.mp4", mp4(dir.path(), "640x640", 4)),
        ("4.jpg", jpeg(1200, 800)),
    ];
    let (status, post) = upload(
        &app,
        &token,
        form(files, &[("caption", "four"), ("original_language", "en")]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["media_type"], "carousel");
    let kinds: Vec<&str> = post["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["photo", "photo", "video", "photo"],
        "upload order kept"
    );
    let video = &post["media"][2];
    assert!(video["duration_s"].as_f64().unwrap() > 3.5);
    let cover = app
        .settings
        .media
        .dir
        .join(video["cover_key"].as_str().unwrap());
    assert!(image::open(&cover).is_ok(), "the cover is a readable JPEG");

    let (status, reel) = upload(
        &app,
        &token,
        form(
            vec![("clip.mov", mp4(dir.path(), "360x640", 5))],
            &[
                ("caption", "reel"),
                ("original_language", "en"),
                ("media_type", "reel"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reel}");
    assert_eq!(reel["media_type"], "reel");

    // The same 9:16 video is refused as a feed video, with the reason.
    let (status, body) = upload(
        &app,
        &token,
        form(
            vec![("clip.mp4", mp4(dir.path(), "360x640", 5))],
            &[("original_language", "en")],
        ),
    )
    .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "media[0]");
    assert!(err["message"].as_str().unwrap().contains("aspect"), "{err}");
}

async fn bad_uploads_are_refused_and_leave_nothing_behind(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let lang = [("original_language", "en")];
    let good = jpeg(800, 800);
    let long = "x".repeat(2201);
    let long_caption = [("original_language", "en"), ("caption", long.as_str())];
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, Vec<u8>)>,
        &'a [(&'a str, &'a str)],
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "text named .jpg",
            vec![("photo.jpg", b"just some text, not a photo".to_vec())],
            &lang,
            "media[0]",
        ),
        (
            "truncated JPEG",
            vec![("cut.jpg", good[..good.len() / 3].to_vec())],
            &lang,
            "media[0]",
        ),
        (
            "empty file",
            vec![("empty.jpg", Vec::new())],
            &lang,
            "media[0]",
        ),
        ("no file", vec![], &lang, "media"),
        (
            "eleven files",
            (0..11).map(|_| ("x.jpg", jpeg(100, 100))).collect(),
            &lang,
            "media",
        ),
        (
            "no language",
            vec![("ok.jpg", good.clone())],
            &[],
            "original_language",
        ),
        (
            "unknown group",
            vec![("ok.jpg", good.clone())],
            &[
                ("original_language", "en"),
                (
                    "target_groups",
                    "[\"0192f1d2-0000-7000-8000-000000000000\"]",
                ),
            ],
            "target_groups",
        ),
        (
            "groups not JSON",
            vec![("ok.jpg", good.clone())],
            &[("original_language", "en"), ("target_groups", "IT")],
            "target_groups",
        ),
        (
            "long caption",
            vec![("ok.jpg", good.clone())],
            &long_caption,
            "caption",
        ),
        (
            "too tall",
            vec![("tall.png", png(300, 900))],
            &lang,
            "media[0]",
        ),
        (
            "bad schedule",
            vec![("ok.jpg", good.clone())],
            &[("original_language", "en"), ("scheduled_at", "tomorrow")],
            "scheduled_at",
        ),
    ];
    for (what, files, fields, field) in cases {
        let (status, body) = upload(&app, &token, form(files, fields)).await;
        assert!(status.is_client_error(), "{what}: {status} {body}");
        assert_eq!(body["error"]["field"], field, "{what}: {body}");
    }
    assert!(
        stored_files(&app).is_empty(),
        "refused uploads left files: {:?}",
        stored_files(&app)
    );
    let (_, list) = app
        .call(Method::GET, "/api/posts", Some(&token), None)
        .await;
    assert_eq!(list["total"], 0, "refused uploads created posts");

    // A hostile file name is ignored: the file is stored under a generated name inside the media dir.
    let (status, post) = upload(
        &app,
        &token,
        form(vec![("../../../../tmp/evil.jpg", good.clone())], &lang),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let key = post["media"][0]["key"].as_str().unwrap();
    assert!(key.starts_with("posts/") && !key.contains(".."), "{key}");
    let files = stored_files(&app);
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with(&app.settings.media.dir));

    // Anonymous uploads are refused before anything is read.
    let resp = app
        .request(Method::POST, "/api/posts/", None)
        .multipart(form(vec![("ok.jpg", good)], &lang))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

async fn posts_are_listed_edited_and_deleted(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.admin_token().await;
    let (_, post) = upload(
        &app,
        &token,
        form(
            vec![("a.jpg", jpeg(500, 500))],
            &[("original_language", "en"), ("caption", "first")],
        ),
    )
    .await;
    let id = post["id"].as_str().unwrap().to_owned();

    let (status, edited) = app
        .call(Method::PUT, &format!("/api/posts/{id}"), Some(&token),
              Some(json!({"caption": "second", "scheduled_at": "2030-01-01T10:00:00+03:00", "priority": "high"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["caption_original"], "second");
    assert_eq!(edited["scheduled_at"], "2030-01-01T07:00:00Z");
    assert_eq!(edited["priority"], "high");
    let (status, cleared) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{id}"),
            Some(&token),
            Some(json!({"scheduled_at": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cleared["scheduled_at"].is_null());
    assert_eq!(
        cleared["caption_original"], "second",
        "absent fields are kept"
    );

    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{id}"),
            Some(&token),
            Some(json!({"caption": 5})),
        )
        .await;
    assert_eq!(
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed"
        )["field"],
        "caption"
    );

    let (status, list) = app
        .call(
            Method::GET,
            "/api/posts?status=draft&limit=10",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 1);
    let (status, body) = app
        .call(Method::GET, "/api/posts?status=lost", Some(&token), None)
        .await;
    assert_eq!(
        assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request")["field"],
        "status"
    );

    assert_eq!(stored_files(&app).len(), 1);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(stored_files(&app).is_empty(), "media removed with the post");
    let (status, body) = app
        .call(Method::GET, &format!("/api/posts/{id}"), Some(&token), None)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

/// A photo of noise: JPEG cannot squeeze it, so its size is predictable.
fn noisy_jpeg(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    out
}

/// `ICF_MAX_UPLOAD_MB` bounds one post's files together too: ten large files cannot fill the
/// disk. The refusal is a 413 naming `media`, and nothing is left behind.
async fn one_posts_files_together_stay_within_the_upload_limit(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_MAX_UPLOAD_MB", "1")]).await;
    let token = app.editor_token().await;
    let lang = [("original_language", "en")];
    let (a, b) = (noisy_jpeg(720, 720, 1), noisy_jpeg(720, 720, 2));
    let mib = 1024 * 1024;
    assert!(
        a.len() < mib && b.len() < mib && a.len() + b.len() > mib,
        "{} {}",
        a.len(),
        b.len()
    );

    let (status, body) = upload(
        &app,
        &token,
        form(vec![("a.jpg", a.clone()), ("b.jpg", b)], &lang),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["field"], "media", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("total"),
        "{body}"
    );
    assert!(stored_files(&app).is_empty());

    let (status, body) = upload(&app, &token, form(vec![("a.jpg", a)], &lang)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "one file within the limit: {body}"
    );
}

const FIVE_TAGS: &str = "Summer sale #a #b #c #d #e";
const SIX_TAGS: &str = "Summer sale #a #b #c #d #e #f";

/// Since December 2025 Instagram allows 5 hashtags per caption: a sixth is refused in every
/// language, on the post's caption and on a hand-written translation, naming the language.
async fn a_caption_with_six_hashtags_is_refused_on_save(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let photo = || vec![("ok.jpg", jpeg(800, 800))];
    let (status, body) = upload(
        &app,
        &token,
        form(
            photo(),
            &[("original_language", "es"), ("caption", SIX_TAGS)],
        ),
    )
    .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "caption");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("the es caption has 6 hashtags; Instagram allows at most 5"),
        "{err}"
    );
    let (_, list) = app
        .call(Method::GET, "/api/posts", Some(&token), None)
        .await;
    assert_eq!(list["total"], 0, "the refused post was not created");

    let (status, post) = upload(
        &app,
        &token,
        form(
            photo(),
            &[("original_language", "es"), ("caption", FIVE_TAGS)],
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "five hashtags are allowed: {post}"
    );
    let id = post["id"].as_str().unwrap();

    // Editing the caption.
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{id}"),
            &token,
            json!({"caption": SIX_TAGS}),
        )
        .await;
    assert_eq!(err["field"], "caption");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("es caption has 6 hashtags"),
        "{err}"
    );
    let post = app.get_ok(&token, &format!("/api/posts/{id}")).await;
    assert_eq!(post["caption_original"], FIVE_TAGS);

    // A hand-written caption for another language.
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{id}/translations/en"),
            &token,
            json!({"text": SIX_TAGS}),
        )
        .await;
    assert_eq!(err["field"], "text");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("en caption has 6 hashtags"),
        "{err}"
    );
    let translations = app
        .get_ok(&token, &format!("/api/posts/{id}/translations"))
        .await;
    assert!(
        !translations
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["language"] == "en"),
        "{translations}"
    );
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{id}/translations/en"),
            Some(&token),
            Some(json!({"text": FIVE_TAGS})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// `ICF_MAX_HASHTAGS` moves the limit (Instagram may change it again).
async fn the_hashtag_limit_is_icf_max_hashtags(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_MAX_HASHTAGS", "6")]).await;
    let token = app.editor_token().await;
    let caption = |extra: &str| format!("{SIX_TAGS}{extra}");
    let (status, body) = upload(
        &app,
        &token,
        form(
            vec![("ok.jpg", jpeg(800, 800))],
            &[("original_language", "en"), ("caption", &caption(""))],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap();
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{id}"),
            &token,
            json!({"caption": caption(" #g")}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("7 hashtags; Instagram allows at most 6"),
        "{err}"
    );
}
