use base64::Engine as _;
use chrono::Utc;
use icf_core::enums::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Engine, TEST_SECRET, TestApp, assert_error};

engine_tests!(
    login_returns_a_bearer_token_that_me_accepts,
    wrong_password_unknown_user_and_disabled_user_are_refused,
    bad_tokens_are_refused,
    expired_tokens_are_refused,
    repeated_failures_are_throttled,
    behind_a_trusted_proxy_each_client_is_throttled_alone,
    concurrent_guesses_check_no_more_passwords_than_the_budget,
    signing_out_revokes_that_token_on_the_api_and_the_ui,
    password_and_role_changes_revoke_old_tokens,
    malformed_login_bodies_name_the_problem,
);

async fn login_returns_a_bearer_token_that_me_accepts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let pw = app.create_user("alice", Role::Editor).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "Alice", "password": pw})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 720 * 60);
    let token = body["access_token"].as_str().unwrap();

    let (status, me) = app
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["role"], "editor");
    assert!(
        me["last_login_at"].is_string(),
        "sign-in time recorded: {me}"
    );
    assert!(
        me.get("password_hash").is_none(),
        "no hash in responses: {me}"
    );
}

async fn wrong_password_unknown_user_and_disabled_user_are_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let pw = app.create_user("bob", Role::Admin).await;
    for (user, pass) in [("bob", "wrong-password"), ("nobody", "whatever123")] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": user, "password": pass})),
            )
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Disable bob through the store; the right password no longer signs in.
    let creds = icf_store::users::find_by_username(&app.db, "bob")
        .await
        .unwrap()
        .unwrap();
    icf_store::users::update(
        &app.db,
        creds.user.id,
        icf_store::users::UserChanges {
            is_active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "bob", "password": pw})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

fn forge(claims: serde_json::Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

async fn bad_tokens_are_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.admin_token().await;
    let (status, _) = app
        .call(Method::GET, "/api/users/", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "the genuine token works");

    let creds = icf_store::users::find_by_username(&app.db, "root")
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now().timestamp();
    let claims =
        json!({"sub": creds.user.id, "role": "admin", "ver": 0, "iat": now, "exp": now + 600});

    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let parts: Vec<&str> = token.split('.').collect();
    let tampered_payload = {
        let mut c = claims.clone();
        c["role"] = json!("admin");
        c["sub"] = json!(uuid::Uuid::now_v7());
        format!("{}.{}.{}", parts[0], b64(&c), parts[2])
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let wrong_key = forge(
        claims.clone(),
        "another-secret-key-0123456789abcdef0123456789",
    );

    let cases = [
        ("no header", None),
        (
            "not bearer",
            Some(format!("Basic {}", b64(&json!("root:pw")))),
        ),
        ("garbage", Some("Bearer not.a.token".to_owned())),
        (
            "tampered payload",
            Some(format!("Bearer {tampered_payload}")),
        ),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("wrong key", Some(format!("Bearer {wrong_key}"))),
    ];
    for (what, header) in cases {
        let mut req = app.request(Method::GET, "/api/auth/me", None);
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer", "{what}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    // A correctly signed token for a user that does not exist.
    let ghost = forge(
        json!({"sub": uuid::Uuid::now_v7(), "role": "admin", "ver": 0, "iat": now, "exp": now + 600}),
        TEST_SECRET,
    );
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&ghost), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn expired_tokens_are_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.admin_token().await;
    let creds = icf_store::users::find_by_username(&app.db, "root")
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now().timestamp();
    let expired = forge(
        json!({"sub": creds.user.id, "role": "admin", "ver": 0, "iat": now - 7200, "exp": now - 60}),
        TEST_SECRET,
    );
    let (status, body) = app
        .call(Method::GET, "/api/auth/me", Some(&expired), None)
        .await;
    let err = assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        err["message"].as_str().unwrap().contains("expired"),
        "{err}"
    );

    let fresh = forge(
        json!({"sub": creds.user.id, "role": "admin", "ver": 0, "iat": now, "exp": now + 60}),
        TEST_SECRET,
    );
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&fresh), None)
        .await;
    assert_eq!(status, StatusCode::OK, "same claims, not expired");
}

async fn repeated_failures_are_throttled(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let pw = app.create_user("carol", Role::Editor).await;
    for _ in 0..5 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": "carol", "password": "guess-1234"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let resp = app
        .request(Method::POST, "/api/auth/login", None)
        .json(&json!({"username": "carol", "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
}

/// Behind nginx every request comes from nginx's address: with `ICF_TRUST_PROXY_HEADERS`
/// one client guessing is throttled by its own `X-Real-IP`, not everyone behind the proxy;
/// without it the header is ignored (a client could otherwise pick its own address).
async fn behind_a_trusted_proxy_each_client_is_throttled_alone(engine: Engine) {
    for trusted in [true, false] {
        let value = if trusted { "true" } else { "false" };
        let app = TestApp::spawn_with(engine, &[("ICF_TRUST_PROXY_HEADERS", value)]).await;
        let pw = app.create_user("dave", Role::Editor).await;
        let attempt = async |who: &str, username: &str, password: &str| {
            app.request(Method::POST, "/api/auth/login", None)
                .header("x-real-ip", who)
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        };
        // Five wrong guesses from one client, spread over usernames.
        for i in 0..5 {
            let status = attempt("203.0.113.7", &format!("nobody{i}"), "guess-1234").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(
            attempt("203.0.113.7", "dave", &pw).await,
            StatusCode::TOO_MANY_REQUESTS,
            "the guessing address waits"
        );
        let other = attempt("198.51.100.9", "dave", &pw).await;
        if trusted {
            assert_eq!(other, StatusCode::OK, "another client signs in");
        } else {
            assert_eq!(
                other,
                StatusCode::TOO_MANY_REQUESTS,
                "the header is not trusted"
            );
        }
    }
}

/// Sixty wrong passwords at once from one address: the attempt is reserved before the
/// password is checked, so no more than the address's five free attempts are checked (401)
/// and the rest wait (429). The attack does not lock the operator out: the right password
/// from another address signs in, on the API and on the sign-in form.
async fn concurrent_guesses_check_no_more_passwords_than_the_budget(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_TRUST_PROXY_HEADERS", "true")]).await;
    let pw = app.create_user("admin", Role::Admin).await;
    let attempt = async |who: &str, password: &str| {
        app.request(Method::POST, "/api/auth/login", None)
            .header("x-real-ip", who)
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    };
    let guesses = (0..60).map(|_| attempt("203.0.113.7", "guess-1234"));
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        statuses
            .iter()
            .all(|s| matches!(*s, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)),
        "{statuses:?}"
    );
    assert_eq!(checked, 5, "passwords checked: {statuses:?}");

    assert_eq!(
        attempt("203.0.113.7", &pw).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address waits"
    );
    assert_eq!(
        attempt("198.51.100.9", &pw).await,
        StatusCode::OK,
        "the operator elsewhere is not locked out"
    );
    let form = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("x-real-ip", "198.51.100.10")
        .form(&[("username", "admin"), ("password", pw.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::SEE_OTHER, "the sign-in form too");
}

/// `POST /api/auth/logout` revokes the token it is given, server-side: the API and the UI
/// refuse it from then on, while the user's other sessions go on.
async fn signing_out_revokes_that_token_on_the_api_and_the_ui(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let pw = app.create_user("erin", Role::Editor).await;
    let gone = app.login("erin", &pw).await;
    let kept = app.login("erin", &pw).await;

    let (status, body) = app
        .call(Method::POST, "/api/auth/logout", Some(&gone), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .call(Method::GET, "/api/auth/me", Some(&gone), None)
        .await;
    let err = assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        err["message"].as_str().unwrap().contains("signed out"),
        "{err}"
    );
    let ui = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/posts"))
        .header("cookie", format!("icf_session={gone}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::SEE_OTHER);
    assert_eq!(ui.headers()["location"], "/login", "the UI refuses it too");
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&gone), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signing out twice");

    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&kept), None)
        .await;
    assert_eq!(status, StatusCode::OK, "another session goes on");

    // A token from before tokens had a `jti` cannot be revoked alone: signing it out
    // revokes all of the user's tokens.
    let creds = icf_store::users::find_by_username(&app.db, "erin")
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now().timestamp();
    let old = forge(
        json!({"sub": creds.user.id, "role": "editor", "ver": creds.token_version, "iat": now, "exp": now + 600}),
        TEST_SECRET,
    );
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&old), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for token in [&old, &kept] {
        let (status, _) = app
            .call(Method::GET, "/api/auth/me", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

async fn password_and_role_changes_revoke_old_tokens(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&editor), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, list) = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await;
    let writer = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "writer")
        .unwrap();
    let id = writer["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"password": "a-new-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&editor), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old token died with the old password"
    );
    let editor = app.login("writer", "a-new-password").await;

    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&editor), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a role change needs a new token"
    );
}

async fn malformed_login_bodies_name_the_problem(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let resp = app
        .request(Method::POST, "/api/auth/login", None)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");

    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "x"})),
        )
        .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "password");

    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": 5, "password": "x"})),
        )
        .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "username");
}
