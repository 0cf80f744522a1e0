//! Approvals in the browser (`[workflow]`, issue #23): an editor submits from the post page,
//! the admin finds it behind the nav's review badge, rejects it with a comment the editor
//! then reads, and approves it after the editor's fix.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use super::helpers::{Engine, TestApp};
use super::{
    Shots, browser, browser_tools, console_errors, sign_in, start_driver, wait_for, wait_text,
};

async fn click(c: &Client, css: &str) {
    wait_for(c, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn sign_out(c: &Client) {
    click(c, "#sign-out").await;
    wait_for(c, "#username").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_submits_and_an_admin_rejects_then_approves() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let app = TestApp::spawn_with(Engine::Sqlite, &[("ICF_REQUIRE_APPROVAL", "true")]).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Desk").await;
    app.new_account(
        &admin,
        json!({"username": "desk.ui", "password": "ig-pass-123", "language": "en",
            "group_id": group, "proxy_url": "socks5://op:pw@127.0.0.2:20000"}),
    )
    .await;
    let editor_pw = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let editor = app.login("writer", &editor_pw).await;
    let post = app
        .new_photo_post(&editor, &group, "Spring sale: 30% off", "en")
        .await;
    let chief_pw = app.create_user("chief", icf_core::enums::Role::Admin).await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium).await;
    let mut shots = Shots::new("review");

    // The editor's schedule form submits for review; there is no publish button.
    sign_in(&c, &app, "writer", &editor_pw).await;
    c.goto(&app.url(&format!("/posts/{post}"))).await.unwrap();
    wait_for(&c, "#submit-review").await;
    assert!(c.find(Locator::Css("#publish")).await.is_err());
    shots.step(&c, "editor-post").await;
    click(&c, "#submit-review").await;
    let status = wait_text(&c, "#post-status", "in review", Duration::from_secs(15)).await;
    assert_eq!(status, "in review");
    assert!(
        c.find(Locator::Css("#schedule")).await.is_err(),
        "no schedule form while it waits"
    );
    let history = wait_for(&c, "#review-history").await.text().await.unwrap();
    assert!(
        history.contains("submitted") && history.contains("writer"),
        "{history}"
    );
    assert!(
        c.find(Locator::Css("#approve")).await.is_err(),
        "editors do not approve"
    );
    shots.step(&c, "editor-submitted").await;
    sign_out(&c).await;

    // The admin sees one post waiting, behind the nav's badge.
    sign_in(&c, &app, "chief", &chief_pw).await;
    let badge = wait_for(&c, "#nav-review .count-badge")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "1");
    click(&c, "#nav-review").await;
    wait_for(&c, &format!("a[href='/posts/{post}']")).await;
    shots.step(&c, "admin-queue").await;
    click(&c, &format!("a[href='/posts/{post}']")).await;
    // A rejection needs a comment.
    click(&c, "#reject").await;
    let err = wait_for(&c, "#err-comment:not(:empty)")
        .await
        .text()
        .await
        .unwrap();
    assert!(err.contains("editor"), "{err}");
    let _ = console_errors(&c).await; // the 422 itself
    wait_for(&c, "#comment")
        .await
        .send_keys("The sale is 25%, not 30%.")
        .await
        .unwrap();
    click(&c, "#reject").await;
    let status = wait_text(&c, "#post-status", "rejected", Duration::from_secs(15)).await;
    assert_eq!(status, "rejected");
    shots.step(&c, "admin-rejected").await;
    sign_out(&c).await;

    // The editor reads the comment and fixes the caption (through the API, as the
    // translation cards' own test covers that form): back in review.
    sign_in(&c, &app, "writer", &editor_pw).await;
    c.goto(&app.url(&format!("/posts/{post}"))).await.unwrap();
    let comment = wait_for(&c, ".review-comment").await.text().await.unwrap();
    assert_eq!(comment, "The sale is 25%, not 30%.");
    shots.step(&c, "editor-reads-comment").await;
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&editor),
            Some(json!({"caption": "Spring sale: 25% off"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in_review");
    sign_out(&c).await;

    // The admin approves it: it is queued, and the badge is gone.
    sign_in(&c, &app, "chief", &chief_pw).await;
    c.goto(&app.url(&format!("/posts/{post}"))).await.unwrap();
    click(&c, "#approve").await;
    let status = wait_text(&c, "#post-status", "scheduled", Duration::from_secs(15)).await;
    assert_eq!(status, "scheduled");
    let history = wait_for(&c, "#review-history").await.text().await.unwrap();
    for word in [
        "submitted",
        "rejected",
        "edited, back in review",
        "approved",
    ] {
        assert!(history.contains(word), "{word} in {history}");
    }
    assert!(
        c.find(Locator::Css("#nav-review .count-badge"))
            .await
            .is_err(),
        "nothing waits any more"
    );
    shots.step(&c, "admin-approved").await;
    c.close().await.unwrap();
}
