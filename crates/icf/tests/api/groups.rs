//! Groups: unique names regardless of case, live counts, and deletion that never loses
//! accounts by accident.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::accounts::create_account;
use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    groups_count_their_accounts,
    group_input_is_validated,
    deleting_a_group_says_what_happens_to_its_accounts
);

async fn groups_count_their_accounts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let (status, g) = app
        .call(
            Method::POST,
            "/api/groups/",
            Some(&admin),
            Some(json!({"name": " Finance ", "description": "money"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    assert_eq!(g["name"], "Finance");
    assert_eq!(g["accounts_count"], 0);
    let gid = g["id"].as_str().unwrap().to_owned();
    for (name, lang) in [("f1", "en"), ("f2", "en"), ("f3", "ru")] {
        create_account(
            &app,
            &admin,
            json!({"username": name, "password": "pw", "language": lang, "group_id": gid}),
        )
        .await;
    }
    let (_, f3) = app
        .call(Method::GET, "/api/accounts?search=f3", Some(&admin), None)
        .await;
    let f3_id = f3["items"][0]["id"].as_str().unwrap().to_owned();
    app.call(
        Method::PUT,
        &format!("/api/accounts/{f3_id}"),
        Some(&admin),
        Some(json!({"status": "banned"})),
    )
    .await;

    let (status, got) = app
        .call(
            Method::GET,
            &format!("/api/groups/{gid}"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["accounts_count"], 3);
    assert_eq!(got["languages"], json!({"en": 2, "ru": 1}));
    assert_eq!(got["statuses"], json!({"active": 2, "banned": 1}));
    let (_, list) = app
        .call(Method::GET, "/api/groups", Some(&editor), None)
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["accounts_count"], 3);

    let (status, body) = app
        .call(
            Method::POST,
            "/api/groups",
            Some(&admin),
            Some(json!({"name": "FINANCE"})),
        )
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "name");

    let (status, up) = app
        .call(
            Method::PUT,
            &format!("/api/groups/{gid}"),
            Some(&admin),
            Some(json!({"name": "Finances"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(up["name"], "Finances");
    assert_eq!(up["description"], "money");
    let (_, accounts) = app
        .call(
            Method::GET,
            &format!("/api/groups/{gid}/accounts"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(accounts["total"], 3);
    assert_eq!(accounts["items"][0]["group_name"], "Finances");
}

async fn group_input_is_validated(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(2001)}),
            "description",
        ),
        (json!({"description": "no name"}), "name"),
        (json!({"name": ["list"]}), "name"),
    ] {
        let (status, resp) = app
            .call(
                Method::POST,
                "/api/groups",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        let err = assert_error(
            status,
            &resp,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{body}");
    }
    let missing = uuid::Uuid::now_v7();
    for (method, path) in [
        (Method::GET, format!("/api/groups/{missing}")),
        (Method::PUT, format!("/api/groups/{missing}")),
        (Method::DELETE, format!("/api/groups/{missing}")),
        (Method::GET, format!("/api/groups/{missing}/accounts")),
    ] {
        let (status, resp) = app
            .call(method, &path, Some(&admin), Some(json!({"name": "n"})))
            .await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, resp) = app
        .call(Method::GET, "/api/groups/nope", Some(&admin), None)
        .await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, "bad_request");
}

async fn deleting_a_group_says_what_happens_to_its_accounts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C", "Empty"] {
        let (_, g) = app
            .call(
                Method::POST,
                "/api/groups",
                Some(&admin),
                Some(json!({"name": name})),
            )
            .await;
        ids.push(g["id"].as_str().unwrap().to_owned());
    }
    for (i, user) in ["in_a", "in_b", "in_c"].iter().enumerate() {
        create_account(
            &app,
            &admin,
            json!({"username": user, "password": "pw", "language": "en", "group_id": ids[i]}),
        )
        .await;
    }
    let path = |i: usize, q: &str| format!("/api/groups/{}{q}", ids[i]);
    let (status, body) = app
        .call(Method::DELETE, &path(0, ""), Some(&admin), None)
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app
        .call(
            Method::DELETE,
            &path(0, "?on_accounts=explode"),
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
    assert_eq!(err["field"], "on_accounts");
    let (status, body) = app
        .call(
            Method::DELETE,
            &path(0, "?on_accounts=move"),
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
    assert_eq!(err["field"], "target_group_id");

    let target = format!("?on_accounts=move&target_group_id={}", ids[1]);
    let (status, _) = app
        .call(Method::DELETE, &path(0, &target), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, b) = app
        .call(Method::GET, &path(1, ""), Some(&admin), None)
        .await;
    assert_eq!(b["accounts_count"], 2, "in_a moved to B");

    let (status, _) = app
        .call(
            Method::DELETE,
            &path(1, "?on_accounts=ungroup"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(
            Method::DELETE,
            &path(2, "?on_accounts=delete"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(Method::DELETE, &path(3, ""), Some(&admin), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "an empty group goes without a question"
    );

    let (_, list) = app
        .call(
            Method::GET,
            "/api/accounts?sort=username",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(list["total"], 2, "in_c was deleted with its group: {list}");
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["group_id"].is_null())
    );
    let (_, groups) = app
        .call(Method::GET, "/api/groups", Some(&admin), None)
        .await;
    assert_eq!(groups["total"], 0);
}
