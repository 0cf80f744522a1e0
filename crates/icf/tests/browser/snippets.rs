//! Snippets in the browser (`[workflow]`, issue #23): an editor adds and edits a hashtag
//! set on the Snippets page, the composer offers it for its group and language and inserts
//! it, and refuses (with a warning) a set that would pass Instagram's hashtag limit.

use fantoccini::{Client, Locator};
use serde_json::json;

use super::helpers::{Engine, TestApp};
use super::{Shots, browser, browser_tools, sign_in, start_driver, wait_for};

async fn fill(c: &Client, css: &str, text: &str) {
    let el = wait_for(c, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn pick(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap();
}

async fn caption(c: &Client) -> String {
    c.execute("return document.getElementById('caption').value;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_keeps_hashtag_sets_and_inserts_them_in_the_composer() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let admin = app.admin_token().await;
    let it = app.new_group(&admin, "IT").await;
    app.new_group(&admin, "News").await;
    // A set for another group, which the composer must not offer for IT.
    app.post_created(
        &admin,
        "/api/snippets/",
        json!({"name": "News tags", "group_id": app.new_group(&admin, "Sport").await,
            "language": "en", "text": "#sport"}),
    )
    .await;
    let password = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let mut shots = Shots::new("snippets");
    sign_in(&c, &app, "writer", &password).await;

    // Add a set on the Snippets page: a bad one first (six hashtags), then a good one.
    pick(&c, "nav a[href='/snippets']").await;
    fill(&c, "#s-name", "Dev tags").await;
    pick(&c, &format!("#s-group option[value='{it}']")).await;
    pick(&c, "#s-language option[value=en]").await;
    fill(&c, "#s-text", "#a1 #b2 #c3 #d4 #e5 #f6").await;
    pick(&c, "#save-snippet").await;
    let err = wait_for(&c, "#err-text:not(:empty)")
        .await
        .text()
        .await
        .unwrap();
    assert!(err.contains("6 hashtags"), "{err}");
    let _ = super::console_errors(&c).await; // the 422 itself
    fill(&c, "#s-text", "#rust #python").await;
    pick(&c, "#save-snippet").await;
    wait_for(&c, "tr[data-snippet='Dev tags']").await;
    shots.step(&c, "list").await;
    // Edit it: one more tag.
    pick(&c, "tr[data-snippet='Dev tags'] a.edit-snippet").await;
    fill(&c, "#s-text", "#rust #python #go").await;
    pick(&c, "#save-snippet").await;
    // The page reloads after the save: read the row afresh each time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let shown = match c
            .find(Locator::Css("tr[data-snippet='Dev tags'] td.caption"))
            .await
        {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown == "#rust #python #go" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edit was not saved"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The composer offers it once IT is chosen, in English, and not Sport's.
    c.goto(&app.url("/posts/new")).await.unwrap();
    pick(&c, "#original_language option[value=en]").await;
    let dev = wait_for(&c, "button.snippet[title='#rust #python #go']").await;
    let sport = wait_for(&c, "button.snippet[title='#sport']").await;
    assert!(
        !dev.is_displayed().await.unwrap(),
        "not offered before IT is chosen"
    );
    pick(&c, "input[data-group-name='IT']").await;
    assert!(dev.is_displayed().await.unwrap());
    assert!(
        !sport.is_displayed().await.unwrap(),
        "another group's set is not offered"
    );
    fill(&c, "#caption", "Rust course #coding").await;
    dev.click().await.unwrap();
    assert_eq!(
        caption(&c).await,
        "Rust course #coding\n\n#rust #python #go"
    );
    let counter = wait_for(&c, "#caption-counter").await.text().await.unwrap();
    assert!(counter.contains("4/5"), "{counter}");
    // Once more would make 7 hashtags: refused with a warning, the caption unchanged.
    dev.click().await.unwrap();
    let warning = wait_for(&c, "#snippet-warning:not(:empty)")
        .await
        .text()
        .await
        .unwrap();
    assert!(warning.contains("7") && warning.contains("5"), "{warning}");
    assert_eq!(
        caption(&c).await,
        "Rust course #coding\n\n#rust #python #go"
    );
    shots.step(&c, "composer").await;
    c.close().await.unwrap();
}
