use reqwest::{Method, StatusCode};

use crate::helpers::{Engine, TestApp, TestDb, assert_error, test_settings};

engine_tests!(
    alive_and_ready,
    not_ready_before_migrations,
    unknown_routes_answer_json
);

async fn alive_and_ready(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (status, body) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");

    let resp = app
        .request(Method::GET, "/readyz", None)
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

async fn not_ready_before_migrations(engine: Engine) {
    let db = TestDb::new(engine).await;
    let settings = test_settings(&db, &[]);
    let app = TestApp::start(db, settings, false).await;
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    );
    assert!(
        err["message"].as_str().unwrap().contains("icf migrate"),
        "{err}"
    );
    // Alive all the same.
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn unknown_routes_answer_json(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (status, body) = app.call(Method::GET, "/api/nothing-here", None, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}
