//! Everything a post can carry (`[post-options]`, issue #21), end to end on both engines:
//! the upload form's fields and their errors, the first comment and alt texts translated
//! and edited per language, and each option arriving at the Instagram simulator through a
//! real SOCKS5 proxy, in each account's language.

use std::time::Duration;

use icf_instagram::sim::{Faults, SimAccount};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Engine, TestApp, app_with_simulator, assert_error, sim_account, square_jpeg, wait_for,
};
use crate::posts::{jpeg, mp4};
use crate::realproxy::{ProxyProcess, microsocks_on};

engine_tests!(
    bad_options_get_a_field_error,
    texts_beside_the_caption_are_translated_and_edited_per_language,
    every_option_reaches_instagram_in_each_accounts_language,
    a_reel_with_its_cover_stays_out_of_the_grid,
    a_story_is_one_photo_or_video,
    a_failed_first_comment_is_retried_without_publishing_again,
    a_comment_whose_answer_was_lost_is_found_not_posted_again,
    a_carousel_carries_alt_text_and_tags_per_item,
    stories_may_be_kept_out_of_the_daily_allowance,
);

const PW: &str = "ig-options-pw";

/// The upload form: `texts` in order, then each of `files` as `media`.
pub(crate) fn form(texts: &[(&str, &str)], files: Vec<Vec<u8>>) -> Form {
    let mut form = Form::new();
    for (name, value) in texts {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    for (i, bytes) in files.into_iter().enumerate() {
        form = form.part(
            "media",
            Part::bytes(bytes).file_name(format!("file{i}.jpg")),
        );
    }
    form
}

/// Expects the upload refused with a 422 naming `field`; returns the message.
pub(crate) async fn refused(app: &TestApp, token: &str, form: Form, field: &str) -> String {
    let (status, body) = app.upload(token, form).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], field, "{body}");
    err["message"].as_str().unwrap_or_default().to_owned()
}

/// An upload refused: its extra fields, how many photos, the field named, a piece of the
/// message.
type BadCase = (
    &'static [(&'static str, &'static str)],
    usize,
    &'static str,
    &'static str,
);

async fn bad_options_get_a_field_error(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let two = || vec![square_jpeg(1080), square_jpeg(1080)];
    let base = [("caption", "Hello"), ("original_language", "en")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };

    let cases: &[BadCase] = &[
        (
            &[("usertags", r#"[{"username":"anna","x":1.5,"y":0.5}]"#)],
            1,
            "usertags",
            "from 0 to 1",
        ),
        (
            &[(
                "usertags",
                r#"[{"username":"anna","x":0.5,"y":0.5,"media_index":2}]"#,
            )],
            2,
            "usertags",
            "media_index 2",
        ),
        (
            &[("collaborators", r#"["a1","b2","c3","d4"]"#)],
            1,
            "collaborators",
            "at most 3",
        ),
        (&[("cover_offset_ms", "500")], 1, "cover_offset_ms", ""),
        (
            &[("media_type", "story")],
            2,
            "media",
            "a story is one photo or one video",
        ),
        (&[("alt_text", "only one")], 2, "alt_text", "1 for 2 items"),
        (
            &[("first_comment", "Hi"), ("disable_comments", "true")],
            1,
            "first_comment",
            "",
        ),
        (
            &[("first_comment", "#a #b #c #d #e #f")],
            1,
            "first_comment",
            "6 hashtags",
        ),
        (&[("location", "Cafe X")], 1, "location", ""),
        (&[("share_to_feed", "false")], 1, "share_to_feed", ""),
    ];
    for (extra, files, field, says) in cases {
        let files = (0..*files).map(|_| square_jpeg(1080)).collect();
        let m = refused(&app, &token, form(&with(extra), files), field).await;
        assert!(m.contains(says), "{field}: {m}");
    }
    // A cover on a photo post.
    let cover_on_photo = form(&base, vec![square_jpeg(1080)]).part(
        "cover",
        Part::bytes(jpeg(1080, 1920)).file_name("cover.jpg"),
    );
    refused(&app, &token, cover_on_photo, "cover").await;
    // Nothing was created by any of them.
    let list = app.get_ok(&token, "/api/posts/?limit=50").await;
    assert_eq!(list["total"], 0, "{list}");

    // The same rules on an edit.
    let (status, post) = app
        .upload(&token, form(&with(&[("first_comment", "First!")]), two()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["options"]["first_comment"], "First!", "{post}");
    let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
    let err = app
        .refused(
            Method::PUT,
            &path,
            &token,
            json!({"usertags": [{"username": "anna", "x": 0.5, "y": 0.5, "media_index": 5}]}),
        )
        .await;
    assert_eq!(err["field"], "usertags", "{err}");
    let edited = app
        .put_ok(
            &token,
            &path,
            json!({"first_comment": null, "hide_like_counts": true, "alt_text": ["a", "b"]}),
        )
        .await;
    assert!(edited["options"].get("first_comment").is_none(), "{edited}");
    assert_eq!(edited["options"]["hide_like_counts"], true);
    assert_eq!(edited["options"]["alt_text"], json!(["a", "b"]));
}

async fn texts_beside_the_caption_are_translated_and_edited_per_language(engine: Engine) {
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let app = crate::translate::app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    let (status, post) = app
        .upload(
            &token,
            form(
                &[
                    ("caption", "Summer sale"),
                    ("original_language", "en"),
                    ("first_comment", "Link in bio #sale"),
                    ("alt_text", "A red square"),
                    ("alt_text", ""),
                ],
                vec![square_jpeg(1080), square_jpeg(1080)],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap();
    let preview = app
        .send_expecting(
            StatusCode::OK,
            Method::POST,
            &format!("/api/posts/{id}/translate"),
            &token,
            json!({"languages": ["es", "de"]}),
        )
        .await;
    let es = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["language"] == "es")
        .cloned()
        .unwrap_or_else(|| panic!("{preview}"));
    assert_eq!(es["text"], "[ES] Summer sale", "{es}");
    assert_eq!(es["first_comment"], "[ES] Link in bio #sale", "{es}");
    assert_eq!(es["alt_text"], json!(["[ES] A red square", ""]), "{es}");

    // A person's first comment for Spanish is kept; the German one stays the machine's.
    let edited = app
        .put_ok(
            &token,
            &format!("/api/posts/{id}/translations/es"),
            json!({"first_comment": "Enlace en la bio #rebajas"}),
        )
        .await;
    assert_eq!(edited["origin"], "edited", "{edited}");
    assert_eq!(edited["first_comment"], "Enlace en la bio #rebajas");
    assert_eq!(edited["text"], "[ES] Summer sale", "the caption kept");
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{id}/translations/es"),
            &token,
            json!({"alt_text": ["only one"]}),
        )
        .await;
    assert_eq!(err["field"], "alt_text", "{err}");
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{id}/translations/de"),
            &token,
            json!({"first_comment": "#a #b #c #d #e #f"}),
        )
        .await;
    assert_eq!(err["field"], "first_comment", "{err}");
    let all = app
        .get_ok(&token, &format!("/api/posts/{id}/translations"))
        .await;
    let de = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["language"] == "de")
        .cloned()
        .unwrap();
    assert_eq!(de["first_comment"], "[DE] Link in bio #sale", "{de}");
    assert_eq!(de["origin"], "machine");

    // A new first comment on the post: machine texts go, the edit is kept but stale.
    app.put_ok(
        &token,
        &format!("/api/posts/{id}"),
        json!({"first_comment": "New link"}),
    )
    .await;
    let all = app
        .get_ok(&token, &format!("/api/posts/{id}/translations"))
        .await;
    let langs: Vec<(&str, bool)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["language"].as_str().unwrap(), t["stale"] == true))
        .collect();
    assert!(langs.contains(&("es", true)), "{all}");
    assert!(
        !langs.iter().any(|(l, _)| *l == "de") || all.to_string().contains("[DE] New link"),
        "the German machine texts were made again or removed: {all}"
    );
}

/// A group of simulator accounts, one per `(username, language)`, each behind its own
/// address of one real SOCKS5 proxy.
async fn group_of(
    app: &TestApp,
    admin: &str,
    accounts: &[(&str, &str)],
    proxy: &ProxyProcess,
) -> String {
    let group = app.new_group(admin, "Options").await;
    for (i, (username, language)) in accounts.iter().enumerate() {
        let proxy_url = format!("socks5://op:pw@127.0.0.{}:{}", i + 2, proxy.port);
        app.new_account(
            admin,
            json!({"username": username, "password": PW, "language": language,
                "group_id": group, "proxy_url": proxy_url}),
        )
        .await;
    }
    group
}

pub(crate) async fn executions(app: &TestApp, token: &str, post: &str) -> Vec<Value> {
    app.get_ok(token, &format!("/api/posts/{post}/executions"))
        .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until every execution (and its first comment, if any) has ended.
pub(crate) async fn until_done(app: &TestApp, token: &str, post: &str) -> Vec<Value> {
    wait_for(
        async || {
            executions(app, token, post).await.iter().all(|e| {
                let media_done = e["status"] == "success" || e["status"] == "failed";
                let comment = e["comment_status"].as_str();
                media_done
                    && (comment.is_none()
                        || e["status"] == "failed"
                        || matches!(comment, Some("success" | "failed")))
            })
        },
        "every execution and first comment ended",
    )
    .await;
    executions(app, token, post).await
}

/// Uploads `form` as a post, publishes it now and waits until every execution and first
/// comment has ended (a worker must run): the post's id and its executions.
pub(crate) async fn publish_upload(app: &TestApp, admin: &str, form: Form) -> (String, Vec<Value>) {
    let (status, post) = app.upload(admin, form).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    app.publish_now(admin, &id).await;
    let ex = until_done(app, admin, &id).await;
    (id, ex)
}

/// Fast pacing: the spacing and the comment's wait in milliseconds.
pub(crate) const FAST: &[(&str, &str)] = &[
    ("ICF_PACING_SPEED", "3600"),
    ("ICF_WORKER_POLL_SECS", "1"),
    ("MIN_DELAY_BETWEEN_POSTS_SEC", "0"),
    ("MAX_DELAY_BETWEEN_POSTS_SEC", "0"),
];

async fn sim_post(sim: &icf_instagram::sim::Simulator, path: &str, body: Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("simulator reachable");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
}

async fn every_option_reaches_instagram_in_each_accounts_language(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let deepl_url = deepl.url();
    let seed: Vec<SimAccount> = ["opt.en", "opt.es", "tagged.anna", "collab.bob"]
        .iter()
        .map(|u| sim_account(u, PW, Faults::default()))
        .collect();
    // The accounts a second apart (as minutes apart in production), so the second finds
    // what the first resolved.
    let mut vars: Vec<(&str, &str)> = FAST
        .iter()
        .copied()
        .filter(|(k, _)| !k.ends_with("_DELAY_BETWEEN_POSTS_SEC"))
        .collect();
    vars.extend([
        ("MIN_DELAY_BETWEEN_POSTS_SEC", "3600"),
        ("MAX_DELAY_BETWEEN_POSTS_SEC", "3600"),
        ("DEEPL_API_KEY", "test-key:fx"),
        ("DEEPL_API_URL", deepl_url.as_str()),
    ]);
    let (sim, mut app) = app_with_simulator(engine, seed, &vars).await;
    sim_post(
        &sim,
        "/__sim/venues",
        json!({"name": "Cafe Options", "address": "1 Main St", "lat": 40.7128, "lng": -74.006}),
    )
    .await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("opt.en", "en"), ("opt.es", "es")], &proxy).await;
    app.run_worker();
    let (_, ex) = publish_upload(
        &app,
        &admin,
        form(
            &[
                ("caption", "Morning coffee"),
                ("original_language", "en"),
                ("target_groups", &json!([group]).to_string()),
                ("first_comment", "Menu in the link"),
                ("pin_first_comment", "true"),
                ("alt_text", "A cup on a table"),
                (
                    "location",
                    r#"{"name":"cafe options","lat":40.7128,"lng":-74.006}"#,
                ),
                (
                    "usertags",
                    r#"[{"username":"tagged.anna","x":0.25,"y":0.75,"media_index":0}]"#,
                ),
                ("collaborators", r#"["collab.bob"]"#),
                ("hide_like_counts", "true"),
            ],
            vec![square_jpeg(1080)],
        ),
    )
    .await;
    for e in &ex {
        assert_eq!(e["status"], "success", "{e}");
        assert_eq!(e["comment_status"], "success", "{e}");
    }
    for (username, prefix) in [("opt.en", ""), ("opt.es", "[ES] ")] {
        let media = sim.media(Some(username));
        assert_eq!(media.len(), 1, "{username}: one media");
        let m = serde_json::to_value(&media[0]).unwrap();
        assert_eq!(m["caption"], format!("{prefix}Morning coffee"), "{m}");
        let comments = m["comments"].as_array().cloned().unwrap_or_default();
        assert_eq!(comments.len(), 1, "{m}");
        assert_eq!(comments[0]["username"], username, "{m}");
        assert_eq!(
            comments[0]["text"],
            format!("{prefix}Menu in the link"),
            "{m}"
        );
        assert_eq!(comments[0]["pinned"], true, "{m}");
        assert_eq!(
            m["accessibility_captions"],
            json!([format!("{prefix}A cup on a table")]),
            "{m}"
        );
        assert_eq!(m["location"]["name"], "Cafe Options", "{m}");
        assert_eq!(m["usertags"][0]["username"], "tagged.anna", "{m}");
        assert_eq!(m["usertags"][0]["x"], 0.25, "{m}");
        assert_eq!(m["coauthors"], json!(["collab.bob"]), "{m}");
        assert_eq!(m["like_and_view_counts_disabled"], true, "{m}");
        assert_eq!(m["comments_disabled"], false, "{m}");
    }
    // The venue and the ids were asked for once for the whole post.
    let (_, logs) = app
        .call(
            Method::GET,
            "/api/logs?action=location_search&limit=50",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(logs["items"].as_array().map(Vec::len), Some(1), "{logs}");
    drop(proxy);
}

async fn a_reel_with_its_cover_stays_out_of_the_grid(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let seed = vec![sim_account("reel.one", PW, Faults::default())];
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("reel.one", "en")], &proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let video = mp4(dir.path(), "720x1280", 4);
    let upload = Form::new()
        .text("caption", "Reel")
        .text("original_language", "en")
        .text("target_groups", json!([group]).to_string())
        .text("media_type", "reel")
        .text("share_to_feed", "false")
        .text("disable_comments", "true")
        .part("media", Part::bytes(video).file_name("reel.mp4"))
        .part(
            "cover",
            Part::bytes(jpeg(1080, 1080)).file_name("cover.jpg"),
        );
    let (status, post) = app.upload(&admin, upload).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["media_type"], "reel");
    let id = post["id"].as_str().unwrap().to_owned();
    // The cover is the uploaded image made the video's size; the post page's preview
    // shows it.
    // The UI's own cookie carries the same token.
    let cover = reqwest::Client::new()
        .get(app.url(&format!("/posts/{id}/media/0")))
        .header("cookie", format!("icf_session={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cover.status(), StatusCode::OK);
    let bytes = cover.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (720, 1280));

    app.run_worker();
    app.publish_now(&admin, &id).await;
    let ex = until_done(&app, &admin, &id).await;
    assert_eq!(ex[0]["status"], "success", "{ex:?}");
    let m = serde_json::to_value(&sim.media(Some("reel.one"))[0]).unwrap();
    assert_eq!(m["media_type"], "reel", "{m}");
    assert_eq!(m["share_to_feed"], false, "{m}");
    assert_eq!(m["comments_disabled"], true, "{m}");
    assert_eq!(m["cover"]["width"], 720, "{m}");
    assert_eq!(m["cover"]["height"], 1280, "{m}");
    use sha2::Digest;
    let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
    assert_eq!(m["cover"]["sha256"], sha, "the very cover stored: {m}");

    // A frame later in the video as the cover, set on the draft of a second reel.
    let video = mp4(dir.path(), "720x1280", 4);
    let (status, second) = app
        .upload(
            &admin,
            Form::new()
                .text("caption", "Reel 2")
                .text("original_language", "en")
                .text("media_type", "reel")
                .part("media", Part::bytes(video).file_name("reel.mp4")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let path = format!("/api/posts/{}", second["id"].as_str().unwrap());
    let before = second["media"][0]["cover_key"].clone();
    let edited = app
        .put_ok(&admin, &path, json!({"cover_offset_ms": 3000}))
        .await;
    assert_ne!(edited["media"][0]["cover_key"], before, "a new cover frame");
    let err = app
        .refused(Method::PUT, &path, &admin, json!({"cover_offset_ms": 9000}))
        .await;
    assert_eq!(err["field"], "cover_offset_ms", "{err}");
    drop(proxy);
}

async fn a_story_is_one_photo_or_video(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let seed = vec![sim_account("story.one", PW, Faults::default())];
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("story.one", "en")], &proxy).await;
    // 9:16, which a feed photo could not be.
    app.run_worker();
    let (_, ex) = publish_upload(
        &app,
        &admin,
        form(
            &[
                ("caption", "Story time"),
                ("original_language", "en"),
                ("target_groups", &json!([group]).to_string()),
                ("media_type", "story"),
            ],
            vec![jpeg(1080, 1920)],
        ),
    )
    .await;
    assert_eq!(ex[0]["status"], "success", "{ex:?}");
    let m = serde_json::to_value(&sim.media(Some("story.one"))[0]).unwrap();
    assert_eq!(m["media_type"], "story", "{m}");
    assert_eq!(m["story_kind"], "photo", "{m}");

    // A video story: the vertical video as it is.
    let dir = tempfile::tempdir().unwrap();
    let video = mp4(dir.path(), "720x1280", 4);
    let (_, ex) = publish_upload(
        &app,
        &admin,
        Form::new()
            .text("caption", "Video story")
            .text("original_language", "en")
            .text("target_groups", json!([group]).to_string())
            .text("media_type", "story")
            .part("media", Part::bytes(video).file_name("story.mp4")),
    )
    .await;
    assert_eq!(ex[0]["status"], "success", "{ex:?}");
    let stories: Vec<Value> = sim
        .media(Some("story.one"))
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect();
    assert!(
        stories
            .iter()
            .any(|m| m["media_type"] == "story" && m["story_kind"] == "video"),
        "{stories:?}"
    );
    drop(proxy);
}

async fn a_failed_first_comment_is_retried_without_publishing_again(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let faults = Faults {
        comment_failures: 2,
        ..Faults::default()
    };
    let seed = vec![sim_account("flaky.comment", PW, faults)];
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("flaky.comment", "en")], &proxy).await;
    app.run_worker();
    let (_, ex) = publish_upload(
        &app,
        &admin,
        form(
            &[
                ("caption", "Comment me"),
                ("original_language", "en"),
                ("target_groups", &json!([group]).to_string()),
                ("first_comment", "First!"),
            ],
            vec![square_jpeg(1080)],
        ),
    )
    .await;
    assert_eq!(ex[0]["status"], "success", "{ex:?}");
    assert_eq!(ex[0]["comment_status"], "success", "{ex:?}");
    assert_eq!(ex[0]["attempts"], 1, "the media went once: {ex:?}");
    let media = sim.media(Some("flaky.comment"));
    assert_eq!(media.len(), 1, "published once");
    let m = serde_json::to_value(&media[0]).unwrap();
    assert_eq!(
        m["comments"].as_array().map(Vec::len),
        Some(1),
        "commented once: {m}"
    );
    // Both failures are in the activity log, the success after them.
    let (_, logs) = app
        .call(
            Method::GET,
            "/api/logs?action=comment&limit=50",
            Some(&admin),
            None,
        )
        .await;
    let statuses: Vec<&str> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses.len(), 3, "{logs}");
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(proxy);
}

/// A worker that died after sending the comment (its state still `posting`): the next
/// attempt finds the account's comment on the media and records it, never a second one.
async fn a_comment_whose_answer_was_lost_is_found_not_posted_again(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let seed = vec![sim_account("lost.answer", PW, Faults::default())];
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("lost.answer", "en")], &proxy).await;
    app.run_worker();
    let (id, ex) = publish_upload(
        &app,
        &admin,
        form(
            &[
                ("caption", "Once"),
                ("original_language", "en"),
                ("target_groups", &json!([group]).to_string()),
                ("first_comment", "Only once"),
            ],
            vec![square_jpeg(1080)],
        ),
    )
    .await;
    assert_eq!(ex[0]["comment_status"], "success", "{ex:?}");
    let execution: icf_core::ids::ExecutionId = ex[0]["id"].as_str().unwrap().parse().unwrap();

    // As if the answer had been lost: the step is `posting` again, and runs once more.
    icf_store::first_comments::mark_posting(&app.db, execution)
        .await
        .unwrap();
    let job = icf_store::jobs::NewJob::of(&icf_core::jobs::FirstComment {
        execution_id: execution,
    })
    .unique_key(format!("first_comment:{execution}:again"));
    icf_store::jobs::enqueue_now(&app.db, &job).await.unwrap();
    wait_for(
        async || executions(&app, &admin, &id).await[0]["comment_status"] == "success",
        "the comment found again",
    )
    .await;
    let m = serde_json::to_value(&sim.media(Some("lost.answer"))[0]).unwrap();
    assert_eq!(
        m["comments"].as_array().map(Vec::len),
        Some(1),
        "still one comment: {m}"
    );
    let (_, logs) = app
        .call(
            Method::GET,
            "/api/logs?action=media_comments&limit=10",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        logs["items"].as_array().map(Vec::len),
        Some(1),
        "the comments were read: {logs}"
    );
    drop(proxy);
}

async fn a_carousel_carries_alt_text_and_tags_per_item(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let seed: Vec<SimAccount> = ["carousel.one", "tagged.on.two"]
        .iter()
        .map(|u| sim_account(u, PW, Faults::default()))
        .collect();
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_of(&app, &admin, &[("carousel.one", "en")], &proxy).await;
    app.run_worker();
    let (_, ex) = publish_upload(
        &app,
        &admin,
        form(
            &[
                ("caption", "Two views"),
                ("original_language", "en"),
                ("target_groups", &json!([group]).to_string()),
                ("alt_text", "The front"),
                ("alt_text", "The back"),
                (
                    "usertags",
                    r#"[{"username":"tagged.on.two","x":0.1,"y":0.9,"media_index":1}]"#,
                ),
                ("disable_comments", "true"),
            ],
            vec![square_jpeg(1080), square_jpeg(1080)],
        ),
    )
    .await;
    assert_eq!(ex[0]["status"], "success", "{ex:?}");
    let m = serde_json::to_value(&sim.media(Some("carousel.one"))[0]).unwrap();
    assert_eq!(m["media_type"], "carousel", "{m}");
    assert_eq!(
        m["accessibility_captions"],
        json!(["The front", "The back"]),
        "{m}"
    );
    assert_eq!(
        m["usertags"],
        json!([{"username": "tagged.on.two", "x": 0.1, "y": 0.9, "media_index": 1}]),
        "{m}"
    );
    assert_eq!(m["comments_disabled"], true, "{m}");
    drop(proxy);
}

/// `ICF_STORIES_COUNT=false`: a story is published but does not use up the account's daily
/// allowance (by default it does, like a post).
async fn stories_may_be_kept_out_of_the_daily_allowance(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    for counts in [true, false] {
        let name = if counts { "story.counts" } else { "story.free" };
        let seed = vec![sim_account(name, PW, Faults::default())];
        let mut vars = FAST.to_vec();
        vars.push(("ICF_STORIES_COUNT", if counts { "true" } else { "false" }));
        let (sim, mut app) = app_with_simulator(engine, seed, &vars).await;
        let admin = app.admin_token().await;
        let group = group_of(&app, &admin, &[(name, "en")], &proxy).await;
        app.run_worker();
        let (_, ex) = publish_upload(
            &app,
            &admin,
            form(
                &[
                    ("caption", "Story"),
                    ("original_language", "en"),
                    ("target_groups", &json!([group]).to_string()),
                    ("media_type", "story"),
                ],
                vec![jpeg(1080, 1920)],
            ),
        )
        .await;
        assert_eq!(ex[0]["status"], "success", "{ex:?}");
        assert_eq!(sim.media(Some(name)).len(), 1);
        let account = app
            .get_ok(
                &admin,
                &format!("/api/accounts/{}", ex[0]["account_id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            account["posts_today"],
            if counts { 1 } else { 0 },
            "ICF_STORIES_COUNT={counts}: {account}"
        );
    }
    drop(proxy);
}
