//! Approvals (`[workflow]`, issue #23) on both engines: where `ICF_REQUIRE_APPROVAL` is on,
//! an editor's post goes out only once an admin approves it. The round trip ends on the
//! Instagram simulator, through a real SOCKS5 proxy.

use icf_instagram::sim::Faults;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, app_with_simulator, assert_error, sim_account, wait_for};
use crate::post_options::{FAST, executions};
use crate::realproxy::microsocks_on;

engine_tests!(
    an_editors_post_is_rejected_edited_approved_and_published,
    approvals_refuse_what_does_not_fit,
    an_editors_edit_of_an_approved_post_sends_it_back_to_review,
    without_approvals_editors_publish_and_nothing_is_submitted,
);

const PW: &str = "ig-review-pw";
const REQUIRED: (&str, &str) = ("ICF_REQUIRE_APPROVAL", "true");

/// `accounts` English accounts in one group, each behind the SOCKS5 proxy on `proxy_port`
/// (one address per account), or a proxy nobody dials when no worker runs.
async fn app_with_group(
    app: &TestApp,
    admin: &str,
    accounts: &[&str],
    proxy_port: Option<u16>,
) -> String {
    let group = app.new_group(admin, "Review desk").await;
    for (i, name) in accounts.iter().enumerate() {
        let mut body = json!({"username": name, "password": PW, "language": "en",
            "group_id": group, "registered_at": "2019-04-01"});
        // Without a worker the proxy is never dialled, but an account without one is left
        // out of every plan.
        let port = proxy_port.unwrap_or(20000);
        body["proxy_url"] = json!(format!("socks5://op:pw@127.0.0.{}:{port}", i + 2));
        app.new_account(admin, body).await;
    }
    group
}

async fn post_json(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(Method::POST, path, Some(token), body).await
}

fn decisions(review: &Value) -> Vec<String> {
    review["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|r| r["decision"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn an_editors_post_is_rejected_edited_approved_and_published(engine: Engine) {
    let Some(proxy) = microsocks_on("0.0.0.0", "op", "pw") else {
        return;
    };
    let names = ["desk.one", "desk.two"];
    let seeds = names
        .iter()
        .map(|n| sim_account(n, PW, Faults::default()))
        .collect();
    let mut settings = FAST.to_vec();
    settings.push(REQUIRED);
    let (sim, mut app) = app_with_simulator(engine, seeds, &settings).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app_with_group(&app, &admin, &names, Some(proxy.port)).await;
    app.run_worker();

    let post = app
        .new_photo_post(&editor, &group, "Launch day: 50% off", "en")
        .await;
    // The editor may not publish it…
    let (status, body) =
        post_json(&app, &editor, &format!("/api/posts/{post}/publish"), None).await;
    let err = assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("submit"),
        "{body}"
    );
    // …but submits it, to go out as soon as it is approved.
    let (status, review) = post_json(
        &app,
        &editor,
        &format!("/api/posts/{post}/submit"),
        Some(json!({"when": "now"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["status"], "in_review", "{review}");
    assert_eq!(review["approval_required"], true);
    assert_eq!(decisions(&review), ["submitted"]);
    assert_eq!(review["history"][0]["username"], "writer", "{review}");
    // Waiting for review, nothing is queued and the editor cannot approve it.
    assert!(executions(&app, &admin, &post).await.is_empty());
    let (status, body) =
        post_json(&app, &editor, &format!("/api/posts/{post}/approve"), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let queue = app.get_ok(&admin, "/api/posts/?status=in_review").await;
    assert_eq!(queue["total"], 1, "{queue}");

    // The admin rejects it, saying why.
    let path = format!("/api/posts/{post}/reject");
    let (status, body) = post_json(&app, &admin, &path, Some(json!({}))).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "comment", "{body}");
    let (status, review) = post_json(
        &app,
        &admin,
        &path,
        Some(json!({"comment": "The discount is 40%, not 50%."})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["status"], "rejected");
    assert_eq!(
        review["history"][1]["comment"],
        "The discount is 40%, not 50%."
    );
    assert_eq!(review["history"][1]["username"], "root");

    // The editor fixes the caption: the post is back in review.
    let edited = app
        .put_ok(
            &editor,
            &format!("/api/posts/{post}"),
            json!({"caption": "Launch day: 40% off"}),
        )
        .await;
    assert_eq!(edited["status"], "in_review", "{edited}");
    let review = app
        .get_ok(&editor, &format!("/api/posts/{post}/review"))
        .await;
    assert_eq!(decisions(&review), ["submitted", "rejected", "returned"]);

    // The admin approves: it goes out now, as submitted, to both accounts.
    let (status, review) =
        post_json(&app, &admin, &format!("/api/posts/{post}/approve"), None).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["status"], "pending", "{review}");
    assert_eq!(review["plan"]["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        decisions(&review),
        ["submitted", "rejected", "returned", "approved"]
    );
    wait_for(
        async || {
            executions(&app, &admin, &post)
                .await
                .iter()
                .all(|e| e["status"] == "success")
        },
        "both accounts published",
    )
    .await;
    let media = sim.media(None);
    assert_eq!(media.len(), 2, "{media:?}");
    assert!(
        media.iter().all(|m| m.caption == "Launch day: 40% off"),
        "{media:?}"
    );
    // Approving again is refused: it is no longer waiting.
    let (status, body) = post_json(&app, &admin, &format!("/api/posts/{post}/approve"), None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    // Every decision is in the activity log with who made it.
    let logs = app.get_ok(&admin, "/api/logs/?limit=200").await;
    let lines: Vec<&Value> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["details"]["post_id"] == json!(post))
        .collect();
    for (action, who) in [
        ("post_submitted", "writer"),
        ("post_rejected", "root"),
        ("post_returned", "writer"),
        ("post_approved", "root"),
    ] {
        let line = lines
            .iter()
            .find(|l| l["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {logs}"));
        assert_eq!(line["details"]["username"], who, "{line}");
    }
    let rejected = lines
        .iter()
        .find(|l| l["action"] == "post_rejected")
        .unwrap();
    assert_eq!(
        rejected["details"]["comment"],
        "The discount is 40%, not 50%."
    );
}

async fn approvals_refuse_what_does_not_fit(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[REQUIRED]).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app_with_group(&app, &admin, &["fit.en"], None).await;
    let post = app.new_photo_post(&editor, &group, "Hello", "en").await;
    let path = |verb: &str| format!("/api/posts/{post}/{verb}");

    // A draft is neither approved nor rejected.
    let (status, body) = post_json(&app, &admin, &path("approve"), None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = post_json(
        &app,
        &admin,
        &path("reject"),
        Some(json!({"comment": "no"})),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    // A time in the past, a bad time, an unknown field.
    for (body, field) in [
        (json!({"when": "2020-01-01T00:00:00Z"}), "when"),
        (json!({"when": "tomorrow"}), "when"),
    ] {
        let (status, err) = post_json(&app, &editor, &path("submit"), Some(body)).await;
        let err = assert_error(
            status,
            &err,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{err}");
    }
    let (status, body) =
        post_json(&app, &editor, &path("submit"), Some(json!({"at": "now"}))).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "at", "{body}");
    // A post without groups cannot be submitted: the admin would get a post that cannot go out.
    let bare = app
        .upload(
            &editor,
            crate::post_options::form(
                &[("caption", "No groups"), ("original_language", "en")],
                vec![crate::helpers::square_jpeg(640)],
            ),
        )
        .await
        .1;
    let bare = bare["id"].as_str().unwrap();
    let (status, body) = post_json(&app, &editor, &format!("/api/posts/{bare}/submit"), None).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "target_groups", "{body}");
    let state = app
        .get_ok(&editor, &format!("/api/posts/{bare}/review"))
        .await;
    assert_eq!(state["status"], "draft", "{state}");

    // Scheduled for tomorrow: submitted twice is refused once.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, review) = post_json(
        &app,
        &editor,
        &path("submit"),
        Some(json!({"when": tomorrow})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(
        review["history"][0]["requested_at"],
        json!(tomorrow),
        "{review}"
    );
    let (status, body) = post_json(&app, &editor, &path("submit"), None).await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(
        err["message"].as_str().unwrap().contains("already"),
        "{body}"
    );
    // Rejection comments are bounded; editors may not reject.
    let long = "x".repeat(2001);
    let (status, body) = post_json(
        &app,
        &admin,
        &path("reject"),
        Some(json!({"comment": long})),
    )
    .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "comment");
    let (status, body) = post_json(
        &app,
        &editor,
        &path("reject"),
        Some(json!({"comment": "no"})),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // Approved, it is scheduled for the time the editor asked.
    let (status, review) = post_json(&app, &admin, &path("approve"), None).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let stored = app.get_ok(&admin, &format!("/api/posts/{post}")).await;
    assert_eq!(stored["status"], "pending");
    assert_eq!(stored["scheduled_at"], json!(tomorrow), "{stored}");
    let (status, body) = app
        .call(
            Method::GET,
            "/api/posts/00000000-0000-0000-0000-000000000000/review",
            Some(&admin),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn an_editors_edit_of_an_approved_post_sends_it_back_to_review(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[REQUIRED]).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app_with_group(&app, &admin, &["back.a", "back.b"], None).await;
    let post = app
        .new_photo_post(&editor, &group, "Webinar at 5", "en")
        .await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(6))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, _) = post_json(
        &app,
        &editor,
        &format!("/api/posts/{post}/submit"),
        Some(json!({"when": later, "priority": "high"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_json(&app, &admin, &format!("/api/posts/{post}/approve"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(executions(&app, &admin, &post).await.len(), 2);

    // The editor changes the time of the webinar: the plan is withdrawn, the post waits again.
    let edited = app
        .put_ok(
            &editor,
            &format!("/api/posts/{post}"),
            json!({"caption": "Webinar at 6"}),
        )
        .await;
    assert_eq!(edited["status"], "in_review", "{edited}");
    assert!(executions(&app, &admin, &post).await.is_empty());
    let review = app
        .get_ok(&admin, &format!("/api/posts/{post}/review"))
        .await;
    assert_eq!(decisions(&review), ["submitted", "approved", "returned"]);
    // It asks for what was asked before.
    assert_eq!(
        review["history"][2]["requested_at"],
        json!(later),
        "{review}"
    );
    assert_eq!(review["history"][2]["priority"], "high", "{review}");

    // An admin's own edit of an approved post needs no second look: it is re-planned.
    let (status, _) = post_json(&app, &admin, &format!("/api/posts/{post}/approve"), None).await;
    assert_eq!(status, StatusCode::OK);
    let edited = app
        .put_ok(
            &admin,
            &format!("/api/posts/{post}"),
            json!({"caption": "Webinar at 6 pm"}),
        )
        .await;
    assert_eq!(edited["status"], "pending", "{edited}");
    assert_eq!(executions(&app, &admin, &post).await.len(), 2);

    // An admin publishing a post waiting for review approves it by doing so.
    let second = app.new_photo_post(&editor, &group, "Second", "en").await;
    let (status, _) = post_json(&app, &editor, &format!("/api/posts/{second}/submit"), None).await;
    assert_eq!(status, StatusCode::OK);
    app.publish_now(&admin, &second).await;
    let review = app
        .get_ok(&admin, &format!("/api/posts/{second}/review"))
        .await;
    assert_eq!(decisions(&review), ["submitted", "approved"]);
    assert_eq!(review["status"], "pending");
}

async fn without_approvals_editors_publish_and_nothing_is_submitted(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app_with_group(&app, &admin, &["free.a"], None).await;
    let post = app
        .new_photo_post(&editor, &group, "Straight out", "en")
        .await;
    let (status, body) = post_json(&app, &editor, &format!("/api/posts/{post}/submit"), None).await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("ICF_REQUIRE_APPROVAL"),
        "{body}"
    );
    app.publish_now(&editor, &post).await;
    let review = app
        .get_ok(&editor, &format!("/api/posts/{post}/review"))
        .await;
    assert_eq!(review["approval_required"], false);
    assert_eq!(review["status"], "pending");
    assert!(decisions(&review).is_empty(), "{review}");
}
