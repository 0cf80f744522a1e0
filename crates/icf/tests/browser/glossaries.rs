//! Glossaries in the browser (`[workflow]`, issue #23).

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use super::helpers::{Engine, TestApp};
use super::*;

/// The element's first non-empty text within `limit` (empty when none came).
async fn some_text(c: &Client, css: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if !text.trim().is_empty() || Instant::now() > deadline {
            return text.trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `[workflow]` glossaries: an admin creates one from `term = translation` lines, edits it,
/// imports a TSV file and deletes a glossary; an editor reads them without any form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_keeps_glossaries_and_an_editor_reads_them() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let editor = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let dir = tempfile::tempdir().unwrap();
    let mut shots = Shots::new("glossaries");

    sign_in(&c, &app, "root", &password).await;
    c.find(Locator::Css("nav a[href='/glossaries']"))
        .await
        .expect("a Glossaries tab")
        .click()
        .await
        .unwrap();
    wait_for(&c, "#new-glossary").await;
    let type_in = async |css: &str, text: &str| {
        let e = wait_for(&c, css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    };
    type_in("#gl-name", "Brand EN-DE").await;
    type_in(
        "#gl-entries",
        "machine learning = maschinelles Lernen\nCloud = Wolke\n",
    )
    .await;
    shots.step(&c, "new").await;
    c.find(Locator::Css("#create-glossary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let pair = wait_for(&c, "#glossary-pair").await.text().await.unwrap();
    assert_eq!(pair, "en → de");
    let terms = wait_for(&c, "#terms-table").await.text().await.unwrap();
    assert!(
        terms.contains("machine learning maschinelles Lernen"),
        "{terms}"
    );

    // A duplicate term is refused next to the text box.
    type_in("#gl-entries", "Cloud = Wolke\ncloud = Wolken\n").await;
    c.find(Locator::Css("#save-glossary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = some_text(&c, "#err-entries", Duration::from_secs(10)).await;
    assert!(err.contains("twice"), "{err}");
    // htmx answers the 422 in place; Chromium logs it as a failed request.
    let _ = console_errors(&c).await;
    type_in("#gl-entries", "Cloud = Wolke\nicf = ICF\n").await;
    c.find(Locator::Css("#save-glossary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let terms = wait_text(
        &c,
        "#terms-table tbody",
        "Cloud Wolke\nicf ICF",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(terms, "Cloud Wolke\nicf ICF");
    shots.step(&c, "edited").await;

    // A TSV file for another pair.
    let tsv = dir.path().join("fr.tsv");
    std::fs::write(&tsv, "term\ttranslation\ncloud\tnuage\n").unwrap();
    c.goto(&app.url("/glossaries")).await.unwrap();
    type_in("#gi-name", "French").await;
    c.find(Locator::Css("#gi-target"))
        .await
        .unwrap()
        .select_by_value("fr")
        .await
        .unwrap();
    wait_for(&c, "#gi-file")
        .await
        .send_keys(&tsv.display().to_string())
        .await
        .unwrap();
    c.find(Locator::Css("#import-glossary-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = wait_for(&c, "tr[data-glossary='French']")
        .await
        .text()
        .await
        .unwrap();
    assert!(row.contains("en → fr") && row.contains(" 1 "), "{row}");
    shots.step(&c, "imported").await;

    // Delete it again.
    c.find(Locator::Css("tr[data-glossary='French'] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#delete-glossary").await;
    c.execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    c.find(Locator::Css("#delete-glossary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#new-glossary").await;
    assert!(
        c.find(Locator::Css("tr[data-glossary='French']"))
            .await
            .is_err(),
        "the French glossary is gone"
    );
    shots.step(&c, "deleted").await;

    // An editor reads the glossaries and their terms, and gets no form.
    c.find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sign_in(&c, &app, "writer", &editor).await;
    c.goto(&app.url("/glossaries")).await.unwrap();
    wait_for(&c, "tr[data-glossary='Brand EN-DE'] a")
        .await
        .click()
        .await
        .unwrap();
    let terms = wait_for(&c, "#terms-table tbody")
        .await
        .text()
        .await
        .unwrap();
    assert!(terms.contains("icf ICF"), "{terms}");
    assert!(c.find(Locator::Css("#edit-glossary")).await.is_err());
    assert!(c.find(Locator::Css("#delete-glossary")).await.is_err());
    shots.step(&c, "editor").await;
    c.close().await.unwrap();
}
