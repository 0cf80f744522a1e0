//! A distinct copy for every account (`[originality]`, issue #22), end to end on both
//! engines through a real SOCKS5 proxy: what the Instagram simulator received from each
//! account (its files' SHA-256 and perceptual hashes, and the bytes themselves), the
//! measures icf recorded, the settings on groups and posts, and captions with alternatives
//! resolved and translated per account.

use std::collections::{BTreeSet, HashMap};

use icf_instagram::sim::{Faults, SimAccount, SimMedia, Simulator};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Engine, TestApp, app_with_simulator, files_under, sim_account};
use crate::post_options::{FAST, executions, form, refused};
use crate::posts::mp4;
use crate::realproxy::{ProxyProcess, microsocks_on};

engine_tests!(
    media_variants_are_set_on_groups_and_posts,
    five_accounts_get_five_copies_of_a_photo_a_carousel_and_a_reel,
    with_variants_off_every_account_gets_the_same_file,
    a_failed_copy_is_made_again_byte_for_byte,
    captions_with_alternatives_reach_each_account_resolved_and_translated,
);

const PW: &str = "ig-original-pw";

/// A detailed test picture (`testsrc2`), as a JPEG of `size`.
fn picture(dir: &std::path::Path, size: &str, source: &str) -> Vec<u8> {
    let path = dir.join(format!("{source}-{size}.jpg"));
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("{source}=size={size}:rate=1"))
        .args(["-frames:v", "1", "-q:v", "2"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A group with `media_variants` (absent: the server's default) holding `accounts`, each
/// behind the proxy from its own address.
async fn group_with(
    app: &TestApp,
    admin: &str,
    variants: Option<&str>,
    accounts: &[(&str, &str)],
    proxy: &ProxyProcess,
) -> String {
    let mut body = json!({"name": format!("Copies {}", uuid::Uuid::new_v4().simple())});
    if let Some(v) = variants {
        body["media_variants"] = json!(v);
    }
    let group = app.post_created(admin, "/api/groups/", body).await;
    let id = group["id"].as_str().unwrap().to_owned();
    for (i, (username, language)) in accounts.iter().enumerate() {
        let proxy_url = format!("socks5://op:pw@127.0.0.{}:{}", i + 2, proxy.port);
        app.new_account(
            admin,
            // Grown accounts: three posts in a day are within their allowance.
            json!({"username": username, "password": PW, "language": language,
                "group_id": id, "proxy_url": proxy_url, "registered_at": "2019-04-01"}),
        )
        .await;
    }
    id
}

/// Waits (longer than most tests: a video's copies are re-encodes, and a debug build makes
/// photo copies slower) until every execution and first comment of `post` has ended.
async fn ended(app: &TestApp, token: &str, post: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let ex = executions(app, token, post).await;
        let done = ex.iter().all(|e| {
            let media = e["status"] == "success" || e["status"] == "failed";
            let comment = e["comment_status"].as_str();
            media
                && (e["status"] == "failed" || matches!(comment, None | Some("success" | "failed")))
        });
        if done {
            return ex;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not ended in time: {ex:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Uploads `form`, publishes it now and waits for its end: the post's id and executions.
async fn publish_slowly(app: &TestApp, admin: &str, form: Form) -> (String, Vec<Value>) {
    let (status, post) = app.upload(admin, form).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    app.publish_now(admin, &id).await;
    (id.clone(), ended(app, admin, &id).await)
}

/// The simulator with `names` (all in English, grown), the app with a worker, and a group
/// of them asking for `variants`: the simulator, the app, an admin token and the
/// group's ids as the upload form names them.
async fn world(
    engine: Engine,
    names: &[&str],
    variants: &str,
    proxy: &ProxyProcess,
) -> (Simulator, TestApp, String, String) {
    let (sim, mut app) = app_with_simulator(engine, seeds(names), FAST).await;
    let admin = app.admin_token().await;
    let accounts: Vec<(&str, &str)> = names.iter().map(|n| (*n, "en")).collect();
    let group = group_with(&app, &admin, Some(variants), &accounts, proxy).await;
    app.run_worker();
    (sim, app, admin, json!([group]).to_string())
}

fn seeds(names: &[&str]) -> Vec<SimAccount> {
    names
        .iter()
        .map(|u| sim_account(u, PW, Faults::default()))
        .collect()
}

async fn media_variants_are_set_on_groups_and_posts(engine: Engine) {
    // The product's default for new groups is `light` (the tests' harness says `off`).
    let app = TestApp::spawn_with(engine, &[("ICF_MEDIA_VARIANTS_DEFAULT", "light")]).await;
    let admin = app.admin_token().await;
    let plain = app
        .post_created(&admin, "/api/groups/", json!({"name": "Plain"}))
        .await;
    assert_eq!(plain["media_variants"], "light", "{plain}");
    let strong = app
        .post_created(
            &admin,
            "/api/groups/",
            json!({"name": "Strong", "media_variants": "strong"}),
        )
        .await;
    assert_eq!(strong["media_variants"], "strong", "{strong}");
    let id = strong["id"].as_str().unwrap();
    let off = app
        .put_ok(
            &admin,
            &format!("/api/groups/{id}"),
            json!({"media_variants": "off"}),
        )
        .await;
    assert_eq!(off["media_variants"], "off", "{off}");
    // Other fields of the group are left as they were.
    assert_eq!(off["name"], "Strong", "{off}");
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/groups/{id}"),
            &admin,
            json!({"media_variants": "medium"}),
        )
        .await;
    assert_eq!(err["field"], "media_variants", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("light"),
        "{err}"
    );
    let got = app.get_ok(&admin, &format!("/api/groups/{id}")).await;
    assert_eq!(
        got["media_variants"], "off",
        "unchanged by the refusal: {got}"
    );

    // A group an import names and icf lacks is new too: the default.
    let (status, report) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            "imported.one:secret-pw:en:Imported News".into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let groups = app.get_ok(&admin, "/api/groups/").await;
    let imported = groups["items"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == "Imported News"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(imported["media_variants"], "light", "{groups}");

    // A post's own value: refused when unknown, kept, and cleared with null.
    let picture = crate::helpers::square_jpeg(1080);
    refused(
        &app,
        &admin,
        form(
            &[
                ("caption", "c"),
                ("original_language", "en"),
                ("media_variants", "max"),
            ],
            vec![picture.clone()],
        ),
        "media_variants",
    )
    .await;
    let (status, post) = app
        .upload(
            &admin,
            form(
                &[
                    ("caption", "c"),
                    ("original_language", "en"),
                    ("media_variants", "strong"),
                ],
                vec![picture],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["options"]["media_variants"], "strong", "{post}");
    let pid = post["id"].as_str().unwrap();
    let cleared = app
        .put_ok(
            &admin,
            &format!("/api/posts/{pid}"),
            json!({"media_variants": null}),
        )
        .await;
    assert!(
        cleared["options"].get("media_variants").is_none(),
        "{cleared}"
    );
    let off = app
        .put_ok(
            &admin,
            &format!("/api/posts/{pid}"),
            json!({"media_variants": "off"}),
        )
        .await;
    assert_eq!(off["options"]["media_variants"], "off", "{off}");
}

/// Each of `names`' one media, measured by the simulator.
async fn received(sim: &Simulator, names: &[&str]) -> Vec<SimMedia> {
    let mut out = Vec::new();
    for name in names {
        let mut media = sim.media_measured(Some(name)).await;
        assert_eq!(media.len(), 1, "{name}: one media");
        out.push(media.remove(0));
    }
    out
}

fn phash(m: &SimMedia, i: usize) -> u64 {
    let text = m.files[i]
        .phash
        .as_deref()
        .expect("the simulator measured the file");
    u64::from_str_radix(text, 16).unwrap()
}

/// The copies of each media item: distinct files, pairwise `min_bits` apart; each one
/// what icf recorded for the account (SHA-256, and a similarity of at least `min_ssim`).
fn assert_apart(
    got: &[SimMedia],
    executions: &[Value],
    items: usize,
    min_bits: u32,
    min_ssim: f64,
) {
    for i in 0..items {
        let shas: BTreeSet<&str> = got.iter().map(|m| m.files[i].sha256.as_str()).collect();
        assert_eq!(
            shas.len(),
            got.len(),
            "item {i}: one file per account: {shas:?}"
        );
        for (a, ma) in got.iter().enumerate() {
            for mb in &got[a + 1..] {
                let d = (phash(ma, i) ^ phash(mb, i)).count_ones();
                assert!(
                    d >= min_bits,
                    "item {i}: {} and {} are {d} bits apart (< {min_bits})",
                    ma.username,
                    mb.username
                );
            }
        }
    }
    let by_user: HashMap<&str, &Value> = executions
        .iter()
        .map(|e| (e["username"].as_str().unwrap(), e))
        .collect();
    for m in got {
        let e = by_user[m.username.as_str()];
        let records = e["variants"].as_array().cloned().unwrap_or_default();
        assert_eq!(records.len(), items, "{e}");
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r["index"], i, "{r}");
            assert_eq!(
                r["sha256"], m.files[i].sha256,
                "what Instagram got is what icf recorded"
            );
            assert_eq!(r["phash"], json!(m.files[i].phash), "{r}");
            let ssim = r["ssim"].as_f64().unwrap();
            assert!(
                ssim >= min_ssim,
                "{}: item {i} SSIM {ssim} < {min_ssim}",
                m.username
            );
            assert_eq!(r["width"], m.files[i].width, "{r}");
            assert_eq!(r["height"], m.files[i].height, "{r}");
        }
    }
}

async fn five_accounts_get_five_copies_of_a_photo_a_carousel_and_a_reel(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let names = ["copy.a", "copy.b", "copy.c", "copy.d", "copy.e"];
    let (sim, app, admin, groups) = world(engine, &names, "light", &proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let base = [
        ("original_language", "en"),
        ("target_groups", groups.as_str()),
    ];

    // A photo.
    let photo = picture(dir.path(), "1080x1350", "testsrc2");
    let mut fields = base.to_vec();
    fields.push(("caption", "One photo"));
    let (post, ex) = publish_slowly(&app, &admin, form(&fields, vec![photo])).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    let got = received(&sim, &names).await;
    assert_apart(&got, &ex, 1, 6, 0.97);
    let totals = app
        .get_ok(&admin, &format!("/api/posts/{post}/executions"))
        .await;
    let closest = totals["closest_pair"].as_u64().unwrap();
    assert!(closest >= 6, "{totals}");
    // The post page shows each copy's distance and the closest two accounts.
    let password = app
        .create_user("viewer", icf_core::enums::Role::Editor)
        .await;
    let cookie = crate::ui::ui_cookie(&app, "viewer", &password).await;
    let (status, html) = crate::ui::page(&app, &cookie, &format!("/posts/{post}/executions")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("closest two accounts: <b>{closest}</b> bits")),
        "{html}"
    );
    let first = &ex[0]["variants"][0];
    assert!(
        html.contains(&format!("{} bits from the original", first["distance"])),
        "{html}"
    );
    // The bytes Instagram kept are the file listed.
    let m = &got[0];
    let bytes = reqwest::get(format!(
        "{}/__sim/media/{}/files/0",
        sim.base_url(),
        m.media_id
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(sha256(&bytes), m.files[0].sha256);
    // The worker kept no copy once the post ended.
    let copies = files_under(&app.settings.media.dir.join(".variants"));
    assert!(copies.is_empty(), "copies left behind: {copies:?}");
    for name in names {
        sim.add_account(sim_account(name, PW, Faults::default()));
    }

    // A carousel of two photos: each item its own copies.
    let mut fields = base.to_vec();
    fields.push(("caption", "Two photos"));
    let files = vec![
        picture(dir.path(), "1080x1080", "testsrc2"),
        picture(dir.path(), "1080x1080", "smptehdbars"),
    ];
    let (_, ex) = publish_slowly(&app, &admin, form(&fields, files)).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    let got: Vec<SimMedia> = {
        let mut all = Vec::new();
        for name in names {
            let media = sim.media_measured(Some(name)).await;
            all.push(
                media
                    .into_iter()
                    .find(|m| m.caption == "Two photos")
                    .unwrap(),
            );
        }
        all
    };
    assert_apart(&got, &ex, 2, 6, 0.97);

    // A reel: the video and its cover are both the account's own.
    let video = mp4(dir.path(), "720x1280", 3);
    let upload = Form::new()
        .text("caption", "A reel")
        .text("original_language", "en")
        .text("target_groups", groups.clone())
        .text("media_type", "reel")
        .part("media", Part::bytes(video).file_name("reel.mp4"));
    let (_, ex) = publish_slowly(&app, &admin, upload).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    let mut got = Vec::new();
    for name in names {
        let media = sim.media_measured(Some(name)).await;
        got.push(media.into_iter().find(|m| m.caption == "A reel").unwrap());
    }
    assert_apart(&got, &ex, 1, 6, 0.97);
    let covers: BTreeSet<String> = got
        .iter()
        .map(|m| m.cover.as_ref().expect("a cover").sha256.clone())
        .collect();
    assert_eq!(covers.len(), names.len(), "each account its own cover");
    for e in &ex {
        assert_eq!(
            e["variants"][0]["cover_sha256"].as_str(),
            got.iter()
                .find(|m| m.username == e["username"].as_str().unwrap())
                .and_then(|m| m.cover.as_ref())
                .map(|c| c.sha256.as_str()),
            "{e}"
        );
    }
    drop(proxy);
}

async fn with_variants_off_every_account_gets_the_same_file(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let names = ["same.a", "same.b", "same.c"];
    // The group asks for copies; the post says no.
    let (sim, app, admin, groups) = world(engine, &names, "strong", &proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let fields = [
        ("caption", "The same for all"),
        ("original_language", "en"),
        ("target_groups", groups.as_str()),
        ("media_variants", "off"),
    ];
    let photo = picture(dir.path(), "1080x1350", "testsrc2");
    let (post, ex) = publish_slowly(&app, &admin, form(&fields, vec![photo])).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    assert!(ex.iter().all(|e| e.get("variants").is_none()), "{ex:?}");
    let stored = app.get_ok(&admin, &format!("/api/posts/{post}")).await;
    let original = stored["media"][0]["sha256"].as_str().unwrap().to_owned();
    let got = received(&sim, &names).await;
    for m in &got {
        assert_eq!(
            m.files[0].sha256, original,
            "{}: the stored file itself",
            m.username
        );
    }
    let totals = app
        .get_ok(&admin, &format!("/api/posts/{post}/executions"))
        .await;
    assert!(totals["closest_pair"].is_null(), "{totals}");
    drop(proxy);
}

async fn a_failed_copy_is_made_again_byte_for_byte(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let mut seed = seeds(&["again.ok"]);
    let broken = Faults {
        configure_error: true,
        ..Faults::default()
    };
    seed.push(sim_account("again.fail", PW, broken));
    let (sim, mut app) = app_with_simulator(engine, seed, FAST).await;
    let admin = app.admin_token().await;
    let group = group_with(
        &app,
        &admin,
        Some("light"),
        &[("again.ok", "en"), ("again.fail", "en")],
        &proxy,
    )
    .await;
    app.run_worker();
    let dir = tempfile::tempdir().unwrap();
    let groups = json!([group]).to_string();
    let fields = [
        ("caption", "Again"),
        ("original_language", "en"),
        ("target_groups", groups.as_str()),
    ];
    let photo = picture(dir.path(), "1080x1350", "testsrc2");
    let (post, ex) = publish_slowly(&app, &admin, form(&fields, vec![photo])).await;
    let failed = ex.iter().find(|e| e["username"] == "again.fail").unwrap();
    assert_eq!(failed["status"], "failed", "{failed}");
    let first_copy = failed["variants"][0]["sha256"].as_str().unwrap().to_owned();
    // Its copy was removed with its end; the retry makes it again, the same bytes.
    sim.add_account(sim_account("again.fail", PW, Faults::default()));
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/retry-failed"),
            Some(&admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{body}");
    let ex = ended(&app, &admin, &post).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    let got = sim.media_measured(Some("again.fail")).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].files[0].sha256, first_copy,
        "a retry sends the same copy"
    );
    let other = sim.media_measured(Some("again.ok")).await;
    assert_ne!(other[0].files[0].sha256, first_copy);
    drop(proxy);
}

async fn captions_with_alternatives_reach_each_account_resolved_and_translated(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let deepl_url = deepl.url();
    let names = [
        "spin.en1", "spin.en2", "spin.es1", "spin.es2", "spin.es3", "spin.es4",
    ];
    let mut vars = FAST.to_vec();
    vars.extend([
        ("DEEPL_API_KEY", "test-key:fx"),
        ("DEEPL_API_URL", deepl_url.as_str()),
    ]);
    let (sim, mut app) = app_with_simulator(engine, seeds(&names), &vars).await;
    let admin = app.admin_token().await;
    let accounts: Vec<(&str, &str)> = names
        .iter()
        .map(|n| (*n, if n.contains(".es") { "es" } else { "en" }))
        .collect();
    let group = group_with(&app, &admin, Some("off"), &accounts, &proxy).await;
    let groups = json!([group]).to_string();
    let caption = "{Hello|Hi|Hey} {friends|folks}, coffee at 9";
    let all: BTreeSet<String> = ["Hello", "Hi", "Hey"]
        .iter()
        .flat_map(|a| ["friends", "folks"].map(|b| format!("{a} {b}, coffee at 9")))
        .collect();

    // An unclosed group is refused, naming the field.
    let message = refused(
        &app,
        &admin,
        form(
            &[
                ("caption", "{Hello|Hi friends"),
                ("original_language", "en"),
            ],
            vec![crate::helpers::square_jpeg(1080)],
        ),
        "caption",
    )
    .await;
    assert!(message.contains("never closed"), "{message}");

    let (status, post) = app
        .upload(
            &admin,
            form(
                &[
                    ("caption", caption),
                    ("original_language", "en"),
                    ("target_groups", groups.as_str()),
                    ("first_comment", "{More|Details} soon"),
                ],
                vec![crate::helpers::square_jpeg(1080)],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    // The preview: how many variants each language's accounts get, with samples.
    let preview = app
        .send_expecting(
            StatusCode::OK,
            Method::POST,
            &format!("/api/posts/{id}/translate"),
            &admin,
            json!({}),
        )
        .await;
    let items = preview["items"].as_array().cloned().unwrap_or_default();
    let es = items.iter().find(|i| i["language"] == "es").unwrap();
    let count = es["variants"]["count"].as_u64().unwrap();
    assert!((1..=4).contains(&count), "{es}");
    for s in es["variants"]["samples"].as_array().unwrap() {
        let s = s.as_str().unwrap();
        assert!(s.starts_with("[ES] ") && all.contains(&s[5..]), "{s}");
    }

    // Planned, then planned again after an edit: each account keeps its variant.
    deepl.clear_requests();
    app.publish_now(&admin, &id).await;
    let captions = async |app: &TestApp| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = executions(app, &admin, &id)
            .await
            .iter()
            .map(|e| {
                (
                    e["username"].as_str().unwrap().to_owned(),
                    e["caption"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let first = captions(&app).await;
    assert_eq!(first.len(), names.len());
    app.put_ok(
        &admin,
        &format!("/api/posts/{id}"),
        json!({"priority": "high"}),
    )
    .await;
    assert_eq!(
        captions(&app).await,
        first,
        "the same account, the same variant"
    );
    app.run_worker();
    let ex = ended(&app, &admin, &id).await;
    assert!(ex.iter().all(|e| e["status"] == "success"), "{ex:?}");
    let mut es_variants = BTreeSet::new();
    for e in &ex {
        let name = e["username"].as_str().unwrap();
        let got = sim.media(Some(name));
        let caption = &got[0].caption;
        assert_eq!(caption, e["caption"].as_str().unwrap(), "{name}");
        let plain = caption.strip_prefix("[ES] ").unwrap_or(caption);
        assert!(all.contains(plain), "{name}: {caption}");
        assert_eq!(
            name.contains(".es"),
            caption.starts_with("[ES] "),
            "{name}: {caption}"
        );
        let comment = &got[0].comments[0].text;
        let plain = comment.strip_prefix("[ES] ").unwrap_or(comment);
        assert!(
            ["More soon", "Details soon"].contains(&plain),
            "{name}: {comment}"
        );
        if name.contains(".es") {
            es_variants.insert(plain_caption(caption));
        }
    }
    // Each distinct variant was translated once at most: the preview already translated
    // (and cached) some; publishing asked DeepL only for the others, each once.
    let sent: Vec<String> = deepl
        .requests()
        .iter()
        .flat_map(|r| r.body["text"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let distinct: BTreeSet<&String> = sent.iter().collect();
    assert_eq!(
        distinct.len(),
        sent.len(),
        "a text translated twice: {sent:?}"
    );
    assert!(
        sent.iter().all(|t| all.contains(t) || t.ends_with(" soon")),
        "{sent:?}"
    );
    assert!(!es_variants.is_empty());
    drop(proxy);
}

fn plain_caption(caption: &str) -> String {
    caption.strip_prefix("[ES] ").unwrap_or(caption).to_owned()
}
