//! Bulk scheduling (`[workflow]`, issue #23) on both engines: a spreadsheet and a ZIP of
//! its files, checked row by row (the dry run reports every kind of bad row by row and
//! column) and imported all or nothing, with captions translated by the DeepL simulator.

use std::io::Write;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, files_under, square_jpeg};

engine_tests!(
    a_spreadsheet_is_checked_then_imported_whole,
    every_kind_of_bad_row_is_reported_and_nothing_is_created,
    an_editors_rows_are_submitted_where_approval_is_required,
);

/// A ZIP of `files` (name, bytes), as a spreadsheet user would make it.
pub(crate) fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

pub(crate) async fn import(
    app: &TestApp,
    token: &str,
    csv: &str,
    zip: Vec<u8>,
    dry_run: bool,
) -> (StatusCode, Value) {
    let form = Form::new()
        .part(
            "csv",
            Part::bytes(csv.as_bytes().to_vec()).file_name("posts.csv"),
        )
        .part("media", Part::bytes(zip).file_name("media.zip"));
    let path = if dry_run {
        "/api/posts/bulk?dry_run=true"
    } else {
        "/api/posts/bulk"
    };
    app.upload_to(path, token, form).await
}

/// IT: two English accounts and a Spanish one; News: one English. Each with a proxy no
/// worker dials (none runs here).
async fn groups(app: &TestApp, admin: &str) {
    let mut n = 0;
    for (group, accounts) in [
        ("IT", vec![("it.a", "en"), ("it.b", "en"), ("it.c", "es")]),
        ("News", vec![("news.a", "en")]),
    ] {
        let id = app.new_group(admin, group).await;
        for (name, lang) in accounts {
            n += 1;
            app.new_account(
                admin,
                json!({"username": name, "password": "ig-pass-123", "language": lang, "group_id": id,
                    "registered_at": "2019-04-01",
                    "proxy_url": format!("socks5://u:p@127.0.0.{}:20000", n + 1)}),
            )
            .await;
        }
    }
}

async fn post_total(app: &TestApp, token: &str) -> u64 {
    app.get_ok(token, "/api/posts/").await["total"]
        .as_u64()
        .unwrap()
}

fn tomorrow() -> String {
    (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

async fn a_spreadsheet_is_checked_then_imported_whole(engine: Engine) {
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let app = crate::translate::app_with_deepl(engine, &deepl, &[]).await;
    let admin = app.admin_token().await;
    groups(&app, &admin).await;
    let zip = zip_of(&[
        ("a.jpg", square_jpeg(1080)),
        ("week 2/b.jpg", square_jpeg(900)),
        ("c.jpg", square_jpeg(640)),
        ("__MACOSX/._a.jpg", b"junk".to_vec()),
    ]);
    let when = tomorrow();
    let csv = format!(
        "media,caption,original_language,groups,when,first_comment,alt_text\n\
         a.jpg,Hello #one,en,IT,now,,\n\
         b.jpg;c.jpg,\"Two photos, one post\",en,IT; News,{when},More soon,first;second\n\
         c.jpg,Draft for later,en,it,,,\n"
    );
    // The dry run checks everything and keeps nothing.
    let (status, report) = import(&app, &admin, &csv, zip.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["rows"], 3);
    assert_eq!(report["created"], 0);
    assert_eq!(report["errors"], json!([]));
    let posts = report["posts"].as_array().unwrap();
    assert_eq!(posts[0]["row"], 2);
    assert_eq!(posts[0]["languages"], json!(["en", "es"]));
    assert_eq!(posts[1]["media_type"], "carousel");
    assert_eq!(posts[1]["media_count"], 2);
    assert_eq!(posts[2]["when"], Value::Null);
    assert_eq!(post_total(&app, &admin).await, 0);
    assert_eq!(
        files_under(&app.settings.media.dir),
        Vec::<std::path::PathBuf>::new()
    );
    // The Spanish captions were translated once, into the cache the import reads.
    let asked = deepl.requests().len();
    assert!(asked > 0);

    let (status, report) = import(&app, &admin, &csv, zip, false).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["created"], 3);
    assert_eq!(
        deepl.requests().len(),
        asked,
        "the import translated nothing again"
    );
    let posts = report["posts"].as_array().unwrap().clone();
    let statuses: Vec<&str> = posts
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "pending", "draft"]);
    assert_eq!(post_total(&app, &admin).await, 3);
    let id = |i: usize| posts[i]["post_id"].as_str().unwrap().to_owned();
    // Row 2 goes out now to IT's three accounts, the Spanish one in Spanish.
    let ex = app
        .get_ok(&admin, &format!("/api/posts/{}/executions", id(0)))
        .await;
    assert_eq!(ex["items"].as_array().unwrap().len(), 3, "{ex}");
    let es = ex["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["language"] == "es")
        .unwrap();
    assert!(es["caption"].as_str().unwrap().starts_with("[ES]"), "{es}");
    // Row 3: a carousel for IT and News, scheduled for tomorrow, with its options.
    let carousel = app.get_ok(&admin, &format!("/api/posts/{}", id(1))).await;
    assert_eq!(carousel["media_type"], "carousel");
    assert_eq!(carousel["options"]["alt_text"], json!(["first", "second"]));
    assert_eq!(carousel["options"]["first_comment"], "More soon");
    let scheduled =
        chrono::DateTime::parse_from_rfc3339(carousel["scheduled_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        scheduled,
        chrono::DateTime::parse_from_rfc3339(&when).unwrap()
    );
    assert_eq!(carousel["target_groups"].as_array().unwrap().len(), 2);
    // Row 4: a draft, its group named in another case.
    let draft = app.get_ok(&admin, &format!("/api/posts/{}", id(2))).await;
    assert_eq!(draft["status"], "draft");
    assert!(draft["created_by"].is_string());
}

async fn every_kind_of_bad_row_is_reported_and_nothing_is_created(engine: Engine) {
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let app = crate::translate::app_with_deepl(engine, &deepl, &[]).await;
    let admin = app.admin_token().await;
    groups(&app, &admin).await;
    let zip = zip_of(&[
        ("a.jpg", square_jpeg(1080)),
        ("notes.jpg", b"not a photo at all".to_vec()),
    ]);
    // 2,198 characters: fine in English, too long once the translator marks it [ES].
    let long = "ab ".repeat(733).trim_end().to_owned();
    let eleven = ["a.jpg"; 11].join(";");
    let past = "2020-01-01T09:00:00+01:00";
    let rows = [
        ("a.jpg,Fine,en,IT,now,,,,", ""),
        ("a.jpg,Hi,en,Sport,now,,,,", "groups"),
        ("missing.jpg,Hi,en,IT,,,,,", "media"),
        ("notes.jpg,Hi,en,IT,,,,,", "media"),
        ("a.jpg,Hi,en,IT,tomorrow,,,,", "when"),
        (&format!("a.jpg,Hi,en,IT,{past},,,,"), "when"),
        ("a.jpg,Hi,xx,IT,,,,,", "original_language"),
        ("a.jpg,#a1 #b2 #c3 #d4 #e5 #f6,en,IT,,,,,", "caption"),
        (&format!("a.jpg,\"{long}\",en,IT,now,,,,"), "caption"),
        ("a.jpg,Hi,en,IT,,reel,,,", "media_type"),
        ("a.jpg,Hi,en,IT,,,one;two,,", "alt_text"),
        ("a.jpg,Hi,en,IT,,,,maybe,", "disable_comments"),
        ("a.jpg,Hi,en,IT,,,,,anna left", "usertags"),
        (&format!("{eleven},Hi,en,IT,,,,,"), "media"),
        (",Hi,en,IT,,,,,", "media"),
    ];
    let mut csv = String::from(
        "media,caption,original_language,groups,when,media_type,alt_text,disable_comments,usertags\n",
    );
    for (row, _) in &rows {
        csv.push_str(row);
        csv.push('\n');
    }
    for dry_run in [true, false] {
        let (status, report) = import(&app, &admin, &csv, zip.clone(), dry_run).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
        assert_eq!(report["error"]["code"], "validation_failed", "{report}");
        assert_eq!(report["created"], 0);
        let errors = report["errors"].as_array().unwrap();
        for (i, (_, column)) in rows.iter().enumerate() {
            let line = i + 2;
            let found: Vec<&Value> = errors.iter().filter(|e| e["row"] == line).collect();
            if column.is_empty() {
                assert!(found.is_empty(), "row {line} is fine: {found:?}");
            } else {
                assert_eq!(found.len(), 1, "row {line}: {report}");
                assert_eq!(found[0]["column"], *column, "row {line}: {}", found[0]);
                assert!(!found[0]["message"].as_str().unwrap().is_empty());
            }
        }
        let translated = errors.iter().find(|e| e["row"] == 10).unwrap();
        assert!(
            translated["message"].as_str().unwrap().contains("es"),
            "{translated}"
        );
        assert_eq!(post_total(&app, &admin).await, 0);
        assert_eq!(
            files_under(&app.settings.media.dir),
            Vec::<std::path::PathBuf>::new()
        );
    }

    // The file's shape: an unknown column and a missing required one, on row 1.
    let (status, report) =
        import(&app, &admin, "media,colour\na.jpg,red\n", zip.clone(), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let columns: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["colour", "original_language"], "{report}");
    // No spreadsheet, a ZIP that is not one, an unknown part.
    let form = Form::new().part("media", Part::bytes(zip.clone()).file_name("m.zip"));
    let (status, body) = app.upload_to("/api/posts/bulk", &admin, form).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("csv")),
        "{body}"
    );
    let (status, body) = import(
        &app,
        &admin,
        "media,original_language\na.jpg,en\n",
        b"PK no zip".to_vec(),
        true,
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("media")),
        "{body}"
    );
    let form = Form::new().text("colour", "red");
    let (status, body) = app.upload_to("/api/posts/bulk", &admin, form).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("colour")),
        "{body}"
    );
    // Files sent one by one instead of a ZIP.
    let form = Form::new()
        .part(
            "csv",
            Part::bytes(b"media,original_language,groups\nsolo.jpg,en,News\n".to_vec())
                .file_name("p.csv"),
        )
        .part("files", Part::bytes(square_jpeg(800)).file_name("solo.jpg"));
    let (status, body) = app.upload_to("/api/posts/bulk", &admin, form).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["posts"][0]["status"], "draft");
}

async fn an_editors_rows_are_submitted_where_approval_is_required(engine: Engine) {
    let deepl = crate::translate::sim(icf_translate::ProviderKind::DeepL).await;
    let app =
        crate::translate::app_with_deepl(engine, &deepl, &[("ICF_REQUIRE_APPROVAL", "true")]).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    groups(&app, &admin).await;
    let zip = zip_of(&[("a.jpg", square_jpeg(1080))]);
    let csv = format!(
        "media,caption,original_language,groups,when\na.jpg,Now please,en,IT,now\na.jpg,Later,en,News,{}\n",
        tomorrow()
    );
    let (status, report) = import(&app, &editor, &csv, zip, false).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let posts = report["posts"].as_array().unwrap();
    assert!(posts.iter().all(|p| p["status"] == "in_review"), "{report}");
    let id = posts[1]["post_id"].as_str().unwrap();
    let review = app.get_ok(&admin, &format!("/api/posts/{id}/review")).await;
    assert_eq!(review["history"][0]["decision"], "submitted");
    assert!(review["history"][0]["requested_at"].is_string(), "{review}");
    let queue = app.get_ok(&admin, "/api/posts/?status=in_review").await;
    assert_eq!(queue["total"], 2);
}
