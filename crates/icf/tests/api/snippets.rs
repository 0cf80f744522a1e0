//! Caption snippets and hashtag sets (`[workflow]`, issue #23) on both engines: kept per
//! group and language, checked against Instagram's caption rules on their own, and never a
//! way past the hashtag limit: a caption they would overfill is refused on save and publish.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    snippets_are_kept_per_group_and_language,
    bad_snippets_are_refused_naming_the_field,
    a_snippet_cannot_push_a_caption_past_the_hashtag_limit,
);

async fn refused(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
    status: StatusCode,
    field: &str,
) {
    let (got, resp) = app.call(method, path, Some(token), Some(body)).await;
    let code = if status == StatusCode::CONFLICT {
        "conflict"
    } else {
        "validation_failed"
    };
    let err = assert_error(got, &resp, status, code);
    assert_eq!(err["field"], field, "{resp}");
}

async fn snippets_are_kept_per_group_and_language(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let it = app.new_group(&admin, "IT").await;
    let finance = app.new_group(&admin, "Finance").await;
    // Editors write them too: they are drafting material.
    let tech = app
        .post_created(
            &editor,
            "/api/snippets/",
            json!({"name": "Tech tags", "group_id": it, "language": "es", "text": " #tecnologia #python "}),
        )
        .await;
    assert_eq!(tech["text"], "#tecnologia #python");
    assert_eq!(tech["hashtags"], 2);
    let sign = app
        .post_created(
            &admin,
            "/api/snippets/",
            json!({"name": "Signature", "language": "es", "text": "Síguenos para más"}),
        )
        .await;
    assert_eq!(sign["group_id"], Value::Null);
    app.post_created(
        &admin,
        "/api/snippets/",
        json!({"name": "Money tags", "group_id": finance, "language": "es", "text": "#finanzas"}),
    )
    .await;
    app.post_created(
        &admin,
        "/api/snippets/",
        json!({"name": "Tech tags", "group_id": it, "language": "en", "text": "#tech"}),
    )
    .await;

    // IT in Spanish: its own set and the one for every group, not Finance's, not English.
    let list = app
        .get_ok(
            &editor,
            &format!("/api/snippets/?group_id={it}&language=es"),
        )
        .await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Signature", "Tech tags"], "{list}");
    assert_eq!(app.get_ok(&editor, "/api/snippets/").await["total"], 4);

    // Edit: the text and the group; null offers it to every group.
    let id = tech["id"].as_str().unwrap();
    let changed = app
        .put_ok(
            &editor,
            &format!("/api/snippets/{id}"),
            json!({"text": "#tecnologia #rust #python", "group_id": null}),
        )
        .await;
    assert_eq!(changed["hashtags"], 3);
    assert_eq!(changed["group_id"], Value::Null);
    assert_eq!(changed["name"], "Tech tags");
    let one = app.get_ok(&editor, &format!("/api/snippets/{id}")).await;
    assert_eq!(one["text"], "#tecnologia #rust #python");

    // A group's snippets go with the group.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/groups/{finance}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(app.get_ok(&editor, "/api/snippets/").await["total"], 3);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/snippets/{id}"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/snippets/{id}"),
            Some(&editor),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _) = app.call(Method::GET, "/api/snippets/", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn bad_snippets_are_refused_naming_the_field(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "IT").await;
    let ok = json!({"name": "Tags", "group_id": group, "language": "en", "text": "#rust"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("name", json!("  ")), "name"),
        (with("name", json!("n".repeat(101))), "name"),
        (with("text", json!("")), "text"),
        // Six hashtags could never go into a caption (Instagram allows five since Dec 2025).
        (with("text", json!("#a1 #b2 #c3 #d4 #e5 #f6")), "text"),
        (with("text", json!("x".repeat(2201))), "text"),
        (with("language", json!("xx")), "language"),
        (
            with("group_id", json!("0192f000-0000-7000-8000-000000000000")),
            "group_id",
        ),
    ];
    for (body, field) in cases {
        refused(
            &app,
            &admin,
            Method::POST,
            "/api/snippets/",
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
        )
        .await;
    }
    let (status, body) = app
        .call(
            Method::POST,
            "/api/snippets/",
            Some(&admin),
            Some(with("colour", json!("red"))),
        )
        .await;
    assert!(status.is_client_error(), "{body}");
    app.post_created(&admin, "/api/snippets/", ok.clone()).await;
    // The same name for the same group and language, whatever its case: a conflict.
    refused(
        &app,
        &admin,
        Method::POST,
        "/api/snippets/",
        with("name", json!("TAGS")),
        StatusCode::CONFLICT,
        "name",
    )
    .await;
    // The same name for another language is another snippet.
    app.post_created(&admin, "/api/snippets/", with("language", json!("de")))
        .await;
    let (status, body) = app
        .call(
            Method::GET,
            "/api/snippets/?language=xx",
            Some(&admin),
            None,
        )
        .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "language");
}

async fn a_snippet_cannot_push_a_caption_past_the_hashtag_limit(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_MAX_HASHTAGS", "4")]).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "IT").await;
    // The limit is data: with 4 allowed, a set of 5 is refused, a set of 3 is kept.
    refused(
        &app,
        &admin,
        Method::POST,
        "/api/snippets/",
        json!({"name": "Five", "language": "en", "text": "#a1 #b2 #c3 #d4 #e5"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "text",
    )
    .await;
    let set = app
        .post_created(
            &admin,
            "/api/snippets/",
            json!({"name": "Three", "group_id": group, "language": "en", "text": "#rust #python #go"}),
        )
        .await;
    let set = set["text"].as_str().unwrap();
    let post = app
        .new_photo_post(&admin, &group, "New course #coding #learn", "en")
        .await;
    // The caption with the set would hold 5 hashtags: saving it is refused, naming the caption.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&admin),
            Some(json!({"caption": format!("New course #coding #learn\n\n{set}")})),
        )
        .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "caption", "{body}");
    assert!(
        err["message"].as_str().unwrap().contains("5 hashtags"),
        "{body}"
    );
    // With one hashtag fewer it fits.
    let ok = app
        .put_ok(
            &admin,
            &format!("/api/posts/{post}"),
            json!({"caption": format!("New course #coding\n\n{set}")}),
        )
        .await;
    assert!(ok["caption_original"].as_str().unwrap().ends_with(set));
}
