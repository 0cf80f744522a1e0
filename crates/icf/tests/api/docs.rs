use reqwest::{Method, StatusCode};

use crate::helpers::{Engine, TestApp};

engine_tests!(openapi_documents_every_route_and_docs_work_offline);

/// Every route of the API with its methods; a new route must be documented to pass.
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/api/auth/login", &["post"]),
    ("/api/auth/logout", &["post"]),
    ("/api/auth/me", &["get"]),
    ("/api/users/", &["get", "post"]),
    ("/api/users/{id}", &["get", "put", "delete"]),
    ("/api/posts/", &["get", "post"]),
    ("/api/posts/{id}", &["get", "put", "delete"]),
    ("/api/logs/", &["get"]),
    ("/api/translate", &["post"]),
    ("/api/translate/stats", &["get"]),
    ("/api/translate/jobs/{id}", &["get"]),
    ("/api/glossaries/", &["get", "post"]),
    ("/api/glossaries/{id}", &["get", "put", "delete"]),
    ("/api/glossaries/import", &["post"]),
    ("/api/posts/{id}/translate", &["post"]),
    ("/api/posts/{id}/translations", &["get"]),
    ("/api/posts/{id}/translations/{lang}", &["put"]),
    ("/api/queue", &["get"]),
    ("/api/events", &["get"]),
    ("/api/stats/overview", &["get"]),
    ("/api/stats/accounts", &["get"]),
    ("/api/stats/posts", &["get"]),
    ("/api/posts/{id}/plan", &["get"]),
    ("/api/posts/{id}/publish", &["post"]),
    ("/api/posts/{id}/executions", &["get"]),
    ("/api/posts/{id}/cancel", &["post"]),
    ("/api/posts/{id}/retry-failed", &["post"]),
    ("/api/posts/{id}/submit", &["post"]),
    ("/api/posts/{id}/approve", &["post"]),
    ("/api/posts/{id}/reject", &["post"]),
    ("/api/posts/{id}/review", &["get"]),
    ("/api/posts/bulk", &["post"]),
    ("/api/snippets/", &["get", "post"]),
    ("/api/snippets/{id}", &["get", "put", "delete"]),
    ("/api/accounts/", &["get", "post"]),
    ("/api/accounts/{id}", &["get", "put", "delete"]),
    ("/api/accounts/{id}/login", &["get", "post"]),
    ("/api/accounts/{id}/status", &["get"]),
    ("/api/accounts/{id}/status/check", &["get", "post"]),
    ("/api/accounts/{id}/challenge", &["post"]),
    ("/api/accounts/{id}/history", &["get"]),
    ("/api/accounts/{id}/totp", &["put"]),
    ("/api/accounts/{id}/session", &["get", "put"]),
    ("/api/accounts/import", &["post"]),
    ("/api/groups/", &["get", "post"]),
    ("/api/groups/{id}", &["get", "put", "delete"]),
    ("/api/groups/{id}/accounts", &["get"]),
    ("/api/proxies/", &["get", "post"]),
    ("/api/proxies/{id}", &["get", "put", "delete"]),
    ("/api/proxies/{id}/check", &["post"]),
    ("/api/proxies/import", &["post"]),
];

async fn openapi_documents_every_route_and_docs_work_offline(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (status, spec) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for m in *methods {
            assert!(item.get(*m).is_some(), "{m} {path} is not documented");
        }
    }
    assert_eq!(
        paths.len(),
        ROUTES.len(),
        "documented paths: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    // A client generated from the document must put each parameter where the server reads it,
    // and be told of the errors every signed-in operation and every input can get.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"],
                    if in_path { "path" } else { "query" },
                    "{method} {path}: parameter {name}"
                );
                if name == "id" {
                    assert_eq!(p["schema"]["format"], "uuid", "{method} {path}: {p}");
                }
            }
            let responses = op["responses"].as_object().unwrap();
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
            if op.get("requestBody").is_some() || op.get("parameters").is_some() {
                for status in ["400", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
        }
    }

    let resp = app
        .request(Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    for cdn in ["unpkg.com", "jsdelivr", "cdnjs", "googleapis"] {
        assert!(!html.contains(cdn), "the docs page loads from {cdn}");
    }
    let resp = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "assets served from the binary"
    );
    assert!(resp.bytes().await.unwrap().len() > 100_000);
}
