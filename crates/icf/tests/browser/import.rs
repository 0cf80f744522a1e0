//! Importing posts in the browser (`[workflow]`, issue #23): the template downloads, a dry
//! run shows a bad row by row and column, a clean file is checked, then imported.

use std::io::Write;
use std::path::{Path, PathBuf};

use fantoccini::Client;
use serde_json::json;

use super::helpers::{Engine, TestApp, square_jpeg};
use super::{Shots, browser, browser_tools, console_errors, sign_in, start_driver, wait_for};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// Chooses the files, sets the dry-run box and submits; returns the summary's text.
async fn submit(c: &Client, csv: &Path, zip: &Path, dry_run: bool) -> String {
    c.goto(c.current_url().await.unwrap().as_ref())
        .await
        .unwrap();
    wait_for(c, "#csv")
        .await
        .send_keys(&csv.display().to_string())
        .await
        .unwrap();
    wait_for(c, "#zip")
        .await
        .send_keys(&zip.display().to_string())
        .await
        .unwrap();
    let box_ = wait_for(c, "#import-dry-run").await;
    if box_.is_selected().await.unwrap() != dry_run {
        box_.click().await.unwrap();
    }
    wait_for(c, "#import-posts").await.click().await.unwrap();
    wait_for(c, "#import-summary").await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_checks_then_imports_a_spreadsheet() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "IT").await;
    app.new_account(
        &admin,
        json!({"username": "import.ui", "password": "ig-pass-123", "language": "en",
            "group_id": group, "proxy_url": "socks5://u:p@127.0.0.2:20000"}),
    )
    .await;
    let password = app.create_user("chief", icf_core::enums::Role::Admin).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = write(
        dir.path(),
        "media.zip",
        &zip_of(&[("a.jpg", square_jpeg(1080))]),
    );
    let bad = write(
        dir.path(),
        "bad.csv",
        b"media,caption,original_language,groups\na.jpg,Hi,en,Sport\n",
    );
    let good = write(
        dir.path(),
        "good.csv",
        b"media,caption,original_language,groups,when\na.jpg,Hello from a sheet,en,IT,now\n",
    );
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let mut shots = Shots::new("import");
    sign_in(&c, &app, "chief", &password).await;

    c.goto(&app.url("/posts")).await.unwrap();
    wait_for(&c, "#import-posts-link")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#template-csv").await;
    // The template downloads as CSV with every column in its header.
    let template = c
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/posts/import/template.csv').then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let template = template.as_str().unwrap_or_default();
    assert!(
        template.starts_with("media,media_type,caption,original_language,groups,when"),
        "{template}"
    );
    assert_eq!(template.lines().count(), 4, "{template}");

    // A bad row is shown by row and column; nothing is created.
    let summary = submit(&c, &bad, &zip, true).await;
    assert!(summary.contains("nothing was imported"), "{summary}");
    let cell = wait_for(&c, "#import-errors tr[data-row='2'][data-column='groups']").await;
    assert!(cell.text().await.unwrap().contains("Sport"));
    shots.step(&c, "bad-row").await;

    // The clean file: checked, then imported.
    let summary = submit(&c, &good, &zip, true).await;
    assert!(summary.contains("1 post(s) checked"), "{summary}");
    let summary = submit(&c, &good, &zip, false).await;
    assert!(summary.contains("1 post(s) imported"), "{summary}");
    shots.step(&c, "imported").await;
    wait_for(&c, "#import-posts-table a[href^='/posts/']")
        .await
        .click()
        .await
        .unwrap();
    let caption = wait_for(&c, "#post-caption").await.text().await.unwrap();
    assert_eq!(caption, "Hello from a sheet");
    let _ = console_errors(&c).await;
    c.close().await.unwrap();
}
