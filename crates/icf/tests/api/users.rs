use icf_core::enums::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    role_matrix_for_user_management,
    admins_manage_users,
    user_input_is_validated,
    the_last_admin_cannot_be_removed,
);

async fn role_matrix_for_user_management(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let some_id = uuid::Uuid::now_v7().to_string();
    let routes = [
        (Method::GET, "/api/users".to_owned()),
        (Method::GET, "/api/users/".to_owned()),
        (Method::POST, "/api/users/".to_owned()),
        (Method::GET, format!("/api/users/{some_id}")),
        (Method::PUT, format!("/api/users/{some_id}")),
        (Method::DELETE, format!("/api/users/{some_id}")),
    ];
    for (method, path) in &routes {
        let body = Some(json!({}));
        let (status, _) = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        let (status, _) = app
            .call(method.clone(), path, Some(&editor), body.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "editor {method} {path}");
        let (status, _) = app.call(method.clone(), path, Some(&admin), body).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "admin {method} {path} got {status}"
        );
    }
    // Both roles may read who they are.
    for token in [&admin, &editor] {
        let (status, _) = app
            .call(Method::GET, "/api/auth/me", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

async fn admins_manage_users(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (status, created) = app
        .call(
            Method::POST,
            "/api/users/",
            Some(&admin),
            Some(json!({"username": "Dave", "email": "Dave@Example.com", "password": "dave-password", "role": "editor"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["username"], "dave");
    assert_eq!(created["email"], "dave@example.com");
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());
    let id = created["id"].as_str().unwrap().to_owned();

    // The new user can sign in.
    let dave = app.login("dave", "dave-password").await;

    let (status, list) = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 2);

    let (status, got) = app
        .call(Method::GET, &format!("/api/users/{id}"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["id"], id.as_str());

    let (status, body) = app
        .call(Method::POST, "/api/users/", Some(&admin),
              Some(json!({"username": "dave", "email": "other@example.com", "password": "x-password", "role": "editor"})))
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "username");

    let (status, updated) = app
        .call(
            Method::PUT,
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["is_active"], false);
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&dave), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled user's token stops working"
    );

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/users/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .call(Method::GET, &format!("/api/users/{id}"), Some(&admin), None)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn user_input_is_validated(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let base = json!({"username": "erin", "email": "erin@example.com", "password": "erin-password", "role": "editor"});
    let cases = [
        ("username", json!("x")),
        ("username", json!("'; DROP TABLE users; --")),
        ("email", json!("not-an-email")),
        ("password", json!("short")),
        ("role", json!("superuser")),
        ("role", json!(3)),
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        let (status, resp) = app
            .call(Method::POST, "/api/users", Some(&admin), Some(body))
            .await;
        let err = assert_error(
            status,
            &resp,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{field}={value}: {resp}");
    }
    let mut unknown = base.clone();
    unknown["is_superuser"] = json!(true);
    let (status, resp) = app
        .call(Method::POST, "/api/users", Some(&admin), Some(unknown))
        .await;
    assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let (status, resp) = app
        .call(Method::GET, "/api/users/not-a-uuid", Some(&admin), None)
        .await;
    let err = assert_error(status, &resp, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(err["field"], "id");
    // Nothing was created by the refused requests.
    let (_, list) = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await;
    assert_eq!(list["total"], 1);
}

async fn the_last_admin_cannot_be_removed(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (_, me) = app
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    let my_id = me["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/users/{my_id}"),
            Some(&admin),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/users/{my_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    // With a second admin, the first may step down.
    app.create_user("second", Role::Admin).await;
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/users/{my_id}"),
            Some(&admin),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
