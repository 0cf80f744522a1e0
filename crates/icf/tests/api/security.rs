//! Security and bad input (issue #12): the role matrix derived from the API's own OpenAPI
//! document and the UI's route table, forged and stale tokens, SQL metacharacters and NUL
//! bytes in every text field, `<script>` in every field a page shows, hostile upload names,
//! and oversized, malformed and decompression-bomb uploads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use icf_core::enums::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::multipart::Form;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Engine, TEST_SECRET, TestApp, assert_error, files_under, post_form, square_jpeg,
    status_and_json,
};

engine_tests!(
    every_documented_operation_answers_each_role_as_its_guard_says,
    every_ui_route_sends_strangers_to_sign_in_and_editors_away_from_admin_screens,
    forged_and_stale_tokens_are_refused,
    sql_metacharacters_round_trip_or_are_refused_by_field,
    search_terms_are_matched_literally,
    nul_bytes_in_ui_forms_are_refused_by_field,
    markup_in_stored_text_is_escaped_on_every_page,
    hostile_file_names_never_leave_the_media_dir,
    oversized_malformed_and_bomb_uploads_are_refused,
    image_bombs_are_refused_within_the_memory_ceiling,
    free_text_names_refuse_hidden_and_disguising_characters,
);

/// Operations anyone may call, and why.
const PUBLIC_API: &[(&str, &str, &str)] = &[
    ("get", "/healthz", "liveness probes carry no token"),
    ("get", "/readyz", "readiness probes carry no token"),
    (
        "post",
        "/api/auth/login",
        "signing in is how one gets a token",
    ),
    // `/metrics` is not in the document: it is public unless ICF_METRICS_TOKEN is set, for
    // Prometheus (metrics.rs tests the token).
];

/// Operations behind `AdminUser` (crates/web/src/routes): editors get 403. Everything else
/// documented is open to any signed-in operator.
const ADMIN_ONLY_API: &[(&str, &str)] = &[
    ("post", "/api/posts/{id}/approve"),
    ("post", "/api/posts/{id}/reject"),
    ("get", "/api/users/"),
    ("post", "/api/users/"),
    ("get", "/api/users/{id}"),
    ("put", "/api/users/{id}"),
    ("delete", "/api/users/{id}"),
    ("get", "/api/logs/"),
    ("get", "/api/queue"),
    ("post", "/api/accounts/"),
    ("put", "/api/accounts/{id}"),
    ("delete", "/api/accounts/{id}"),
    ("post", "/api/accounts/{id}/login"),
    ("post", "/api/accounts/{id}/challenge"),
    ("put", "/api/accounts/{id}/totp"),
    ("get", "/api/accounts/{id}/session"),
    ("put", "/api/accounts/{id}/session"),
    ("post", "/api/accounts/import"),
    ("post", "/api/groups/"),
    ("put", "/api/groups/{id}"),
    ("delete", "/api/groups/{id}"),
    ("get", "/api/proxies/"),
    ("post", "/api/proxies/"),
    ("get", "/api/proxies/{id}"),
    ("put", "/api/proxies/{id}"),
    ("delete", "/api/proxies/{id}"),
    ("post", "/api/proxies/{id}/check"),
    ("post", "/api/proxies/import"),
    ("post", "/api/glossaries/"),
    ("put", "/api/glossaries/{id}"),
    ("delete", "/api/glossaries/{id}"),
    ("post", "/api/glossaries/import"),
];

/// UI routes anyone may reach, and why.
const PUBLIC_UI: &[(&str, &str)] = &[
    ("/login", "the sign-in page itself"),
    (
        "/static/{file}",
        "the sign-in page's stylesheet and scripts",
    ),
    (
        "/logout",
        "revokes the cookie's token and clears it; a stranger has none",
    ),
];

/// UI routes behind `UiAdmin` (crates/web/src/ui): editors get the 403 page.
const ADMIN_ONLY_UI: &[&str] = &[
    "/accounts",
    "/accounts/bulk",
    "/accounts/import",
    "/accounts/{id}",
    "/accounts/{id}/action",
    "/groups",
    "/groups/{id}",
    "/groups/{id}/delete",
    "/proxies",
    "/proxies/import",
    "/proxies/{id}/check",
    "/logs",
    "/users",
    "/users/{id}",
    "/posts/{id}/approve",
    "/posts/{id}/reject",
    "/glossaries/create",
    "/glossaries/import",
    "/glossaries/{id}/update",
    "/glossaries/{id}/delete",
];

fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Posts a UI form, redirects not followed: with the session `cookie` when given, and as
/// htmx does when `htmx`.
async fn post_ui_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    htmx: bool,
    fields: &(impl serde::Serialize + ?Sized),
) -> reqwest::Response {
    let mut req = no_redirects().post(app.url(path)).form(fields);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if htmx {
        req = req.header("hx-request", "true");
    }
    req.send().await.unwrap()
}

/// `path` with its parameters filled: a fresh UUID for ids, real values for the rest.
fn fill(path: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    path.replace("{lang}", "en")
        .replace("{file}", "app.css")
        .replace("{index}", "0")
        .replace("{id}", &id)
}

struct Answer {
    status: StatusCode,
    body: Value,
}

/// Calls one documented operation with an empty body of the documented kind.
async fn call_operation(
    app: &TestApp,
    method: &str,
    path: &str,
    operation: &Value,
    token: Option<&str>,
) -> Answer {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = no_redirects().request(m, app.url(&fill(path)));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let content = &operation["requestBody"]["content"];
    if content.get("application/json").is_some() {
        req = req.json(&json!({}));
    } else if content.get("multipart/form-data").is_some() {
        req = req.multipart(Form::new());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // The event stream never ends; its status says enough.
    let body = if is_json {
        resp.json().await.unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    Answer { status, body }
}

/// Every path and method of /openapi.json, called as a stranger, an editor and an admin.
/// A new route is documented (docs.rs demands it) and so lands here without being listed.
async fn every_documented_operation_answers_each_role_as_its_guard_says(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let (status, spec) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);

    let admin_only: BTreeSet<(String, String)> = ADMIN_ONLY_API
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let public: BTreeSet<(String, String)> = PUBLIC_API
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let mut seen = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let key = (method.clone(), path.clone());
            seen.insert(key.clone());
            let what = format!("{} {path}", method.to_uppercase());
            let documented_security = op
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            assert_eq!(
                !documented_security,
                public.contains(&key),
                "{what}: the document's `security` and the public list disagree"
            );
            let documents_403 = op["responses"].get("403").is_some();
            assert_eq!(
                documents_403,
                admin_only.contains(&key),
                "{what}: the document must list 403 exactly for admin-only operations"
            );

            let anon = call_operation(&app, method, path, op, None).await;
            if public.contains(&key) {
                assert!(
                    anon.status != StatusCode::UNAUTHORIZED && !anon.status.is_server_error(),
                    "{what} as a stranger: {}",
                    anon.status
                );
            } else {
                assert_error(
                    anon.status,
                    &anon.body,
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                );
            }

            // Signing out revokes the token it is given: use one of its own.
            let (editor, admin) = if path == "/api/auth/logout" {
                (
                    app.login("writer", "pw-writer-1234").await,
                    app.login("root", "pw-root-1234").await,
                )
            } else {
                (editor.clone(), admin.clone())
            };
            let ed = call_operation(&app, method, path, op, Some(&editor)).await;
            assert!(
                ed.status != StatusCode::UNAUTHORIZED && !ed.status.is_server_error(),
                "{what} as an editor: {} {}",
                ed.status,
                ed.body
            );
            if admin_only.contains(&key) {
                assert_error(ed.status, &ed.body, StatusCode::FORBIDDEN, "forbidden");
            } else {
                assert_ne!(
                    ed.status,
                    StatusCode::FORBIDDEN,
                    "{what} as an editor: {}",
                    ed.body
                );
            }

            let ad = call_operation(&app, method, path, op, Some(&admin)).await;
            assert!(
                !matches!(ad.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    && !ad.status.is_server_error(),
                "{what} as an admin: {} {}",
                ad.status,
                ad.body
            );
        }
    }
    // The document's enums are the values the API speaks (a generated client and the
    // fuzzer both read them): `admin`, not the Rust variant `Admin`.
    let schemas = &spec["components"]["schemas"];
    let role: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(schemas["Role"]["enum"], json!(role), "{}", schemas["Role"]);
    for (name, schema) in schemas.as_object().unwrap() {
        for v in schema["enum"].as_array().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            assert!(
                !v.starts_with(|c: char| c.is_ascii_uppercase()),
                "{name}: {v} is a Rust variant name, not the API's value"
            );
        }
    }
    for key in admin_only.iter().chain(&public) {
        assert!(
            seen.contains(key),
            "{key:?} is listed here but not documented"
        );
    }
    // Both tokens still work: nothing above changed a user.
    app.get_ok(&editor, "/api/auth/me").await;
    app.get_ok(&admin, "/api/users/").await;
}

async fn ui_call(app: &TestApp, method: &Method, path: &str, cookie: Option<&str>) -> StatusCode {
    let mut req = no_redirects().request(method.clone(), app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    if status == StatusCode::SEE_OTHER {
        let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
        if to == "/login" {
            // Only a redirect to sign in is told apart: it means "not signed in".
            return StatusCode::from_u16(399).unwrap();
        }
    }
    status
}

/// 399 stands for "303 to /login" in [`ui_call`].
fn to_login(s: StatusCode) -> bool {
    s.as_u16() == 399
}

/// Every route of the UI's route table (so a new page is covered without being listed), by
/// GET and POST: strangers are sent to sign in, editors get 403 on admin screens and
/// nothing else refuses them, admins are refused nothing, and nobody gets a 5xx.
async fn every_ui_route_sends_strangers_to_sign_in_and_editors_away_from_admin_screens(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let admin = format!("icf_session={}", app.admin_token().await);
    let editor = format!("icf_session={}", app.editor_token().await);
    let paths = icf_web::ui::paths();
    for listed in ADMIN_ONLY_UI.iter().chain(PUBLIC_UI.iter().map(|(p, _)| p)) {
        assert!(paths.contains(listed), "{listed} is no UI route any more");
    }
    let mut routed = 0;
    for path in paths {
        let public = PUBLIC_UI.iter().any(|(p, _)| *p == path);
        let admin_only = ADMIN_ONLY_UI.contains(&path);
        for method in [Method::GET, Method::POST] {
            let url = fill(path);
            let anon = ui_call(&app, &method, &url, None).await;
            if anon == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            routed += 1;
            let what = format!("{method} {path}");
            assert!(!anon.is_server_error(), "{what} as a stranger: {anon}");
            if !public {
                assert!(to_login(anon), "{what} as a stranger: {anon}");
            }
            // Signing out revokes the cookie's token: give it one of its own.
            let (editor, admin) = if path == "/logout" {
                (
                    format!(
                        "icf_session={}",
                        app.login("writer", "pw-writer-1234").await
                    ),
                    format!("icf_session={}", app.login("root", "pw-root-1234").await),
                )
            } else {
                (editor.clone(), admin.clone())
            };
            let ed = ui_call(&app, &method, &url, Some(&editor)).await;
            assert!(!ed.is_server_error(), "{what} as an editor: {ed}");
            if admin_only {
                assert_eq!(ed, StatusCode::FORBIDDEN, "{what} as an editor");
            } else {
                assert_ne!(ed, StatusCode::FORBIDDEN, "{what} as an editor");
                assert!(path == "/logout" || !to_login(ed), "{what} as an editor");
            }
            let ad = ui_call(&app, &method, &url, Some(&admin)).await;
            assert!(
                !ad.is_server_error()
                    && ad != StatusCode::FORBIDDEN
                    && ad != StatusCode::UNAUTHORIZED
                    && (path == "/logout" || !to_login(ad)),
                "{what} as an admin: {ad}"
            );
        }
    }
    assert!(routed > 30, "walked the UI ({routed} routes and methods)");
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn sign(alg: Algorithm, claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

async fn assert_refused(app: &TestApp, what: &str, token: &str, path: &str) {
    let resp = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unauthorized", "{what}: {body}");
}

async fn user_id(app: &TestApp, username: &str) -> String {
    icf_store::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .unwrap()
        .user
        .id
        .to_string()
}

/// What auth.rs leaves out: an editor's token promoted to admin with its own signature, the
/// right key under another algorithm, no expiry, a made-up token version, and the tokens
/// of a disabled, re-enabled and deleted user.
async fn forged_and_stale_tokens_are_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let writer = user_id(&app, "writer").await;
    let now = Utc::now().timestamp();

    let parts: Vec<&str> = editor.split('.').collect();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["role"], "editor");
    let mut promoted = payload.clone();
    promoted["role"] = json!("admin");
    let promoted = format!("{}.{}.{}", parts[0], b64(&promoted), parts[2]);
    assert_refused(&app, "editor promoted to admin", &promoted, "/api/users/").await;
    assert_refused(&app, "editor promoted to admin", &promoted, "/api/auth/me").await;

    let claims = json!({"sub": writer, "role": "editor", "ver": payload["ver"], "iat": now, "exp": now + 600});
    let genuine = sign(Algorithm::HS256, &claims, TEST_SECRET);
    app.get_ok(&genuine, "/api/auth/me").await;
    let hs512 = sign(Algorithm::HS512, &claims, TEST_SECRET);
    assert_refused(&app, "HS512 with the right key", &hs512, "/api/auth/me").await;
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let no_exp = sign(Algorithm::HS256, &no_exp, TEST_SECRET);
    assert_refused(&app, "no expiry", &no_exp, "/api/auth/me").await;
    let mut future_ver = claims.clone();
    future_ver["ver"] = json!(payload["ver"].as_i64().unwrap() + 1);
    let future_ver = sign(Algorithm::HS256, &future_ver, TEST_SECRET);
    assert_refused(
        &app,
        "a token version never issued",
        &future_ver,
        "/api/auth/me",
    )
    .await;
    let mut bad_sub = claims.clone();
    bad_sub["sub"] = json!("' OR 1=1 --");
    let bad_sub = sign(Algorithm::HS256, &bad_sub, TEST_SECRET);
    assert_refused(&app, "a subject that is no id", &bad_sub, "/api/auth/me").await;
    assert_refused(&app, "empty", "", "/api/auth/me").await;
    assert_refused(&app, "three dots", "..", "/api/auth/me").await;

    // The cookie the UI uses is checked as strictly as the header.
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(
            &json!({"sub": writer, "role": "admin", "ver": payload["ver"], "iat": now, "exp": now + 600})
        )
    );
    let resp = app
        .request(Method::GET, "/api/users/", None)
        .header("cookie", format!("icf_session={alg_none}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "alg none in the cookie"
    );

    // Disabled: the token dies, and enabling the user again does not revive it.
    for active in [false, true] {
        app.put_ok(
            &admin,
            &format!("/api/users/{writer}"),
            json!({"is_active": active}),
        )
        .await;
        assert_refused(
            &app,
            &format!("after is_active={active}"),
            &editor,
            "/api/auth/me",
        )
        .await;
        assert_refused(
            &app,
            &format!("after is_active={active}"),
            &genuine,
            "/api/auth/me",
        )
        .await;
    }

    // Deleted: the token of a user who is gone.
    let pw = app.create_user("leaver", Role::Admin).await;
    let leaver = app.login("leaver", &pw).await;
    app.get_ok(&leaver, "/api/users/").await;
    let id = user_id(&app, "leaver").await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/users/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_refused(&app, "a deleted user", &leaver, "/api/users/").await;
}

/// Text that breaks naive SQL or LIKE, and a NUL byte (PostgreSQL cannot store one).
const NASTY: &[&str] = &[
    "'; DROP TABLE accounts;--",
    "\" OR 1=1 --",
    "%",
    "_",
    "\\",
    "x\u{0}y",
    "Robert'); DELETE FROM groups WHERE ('1'='1",
];

/// Either stored and read back exactly (`read` returns what was stored) or refused with a
/// 4xx that names `field`. Never a 5xx.
fn stored_or_named(what: &str, status: StatusCode, body: &Value, field: &str) -> bool {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
    if status.is_success() {
        return true;
    }
    assert!(status.is_client_error(), "{what}: {status} {body}");
    assert_eq!(body["error"]["field"], field, "{what}: {body}");
    false
}

async fn upload_post(
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
    file: (&str, Vec<u8>),
) -> (StatusCode, Value) {
    app.upload(token, post_form(fields, file)).await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every text field the API stores, and every filter it takes, given SQL metacharacters:
/// each value is stored exactly or refused naming its field, and the tables survive.
async fn sql_metacharacters_round_trip_or_are_refused_by_field(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let t = Some(admin.as_str());
    let group = app.new_group(&admin, "plain").await;
    let account = app
        .new_account(&admin, json!({"username": "plain.acc", "password": "pw-123456", "language": "en", "auto_proxy": false, "group_id": group}))
        .await;
    let post = app
        .new_photo_post(&admin, &group, "plain caption", "en")
        .await;
    let mut groups_made = 1;

    for (i, v) in NASTY.iter().enumerate() {
        let v = *v;
        let what = |f: &str| format!("{f} = {v:?}");
        // Sends `body` as the admin: the answer when stored, `None` when refused naming
        // `field` (see `stored_or_named`); `label` names the value in messages.
        let store = async |method: Method, path: &str, body: Value, field: &str, label: &str| {
            let (s, b) = app.call(method, path, t, Some(body)).await;
            stored_or_named(&what(label), s, &b, field).then_some(b)
        };
        // Reads `path` back and checks that `field` holds `want`.
        let read_back = async |path: &str, field: &str, want: &str, label: &str| {
            let got = app.get_ok(&admin, path).await;
            assert_eq!(got[field], want, "{}: {got}", what(label));
        };
        let group_at = |b: &Value| format!("/api/groups/{}", b["id"].as_str().unwrap());

        // Groups: name and description, on create and update.
        let body = json!({"name": v});
        if let Some(b) = store(Method::POST, "/api/groups/", body, "name", "group name").await {
            groups_made += 1;
            read_back(&group_at(&b), "name", v, "group name").await;
        }
        let body = json!({"name": format!("g{i}"), "description": v});
        let label = "group description";
        if let Some(b) = store(Method::POST, "/api/groups/", body, "description", label).await {
            read_back(&group_at(&b), "description", v, label).await;
        } else {
            // The group was not created; make it so the update below has one.
            app.new_group(&admin, &format!("g{i}")).await;
        }
        groups_made += 1;
        let path = format!("/api/groups/{group}");
        let label = "group description (update)";
        let body = json!({"description": v});
        if store(Method::PUT, &path, body, "description", label)
            .await
            .is_some()
        {
            read_back(&path, "description", v, label).await;
        }

        // Accounts: username and password on create, status_reason and password on update.
        let account_body = |username: &str, password: &str| {
            json!({"username": username, "password": password, "language": "en",
                "auto_proxy": false})
        };
        let body = account_body(v, "pw-123456");
        let label = "account username";
        if let Some(b) = store(Method::POST, "/api/accounts/", body, "username", label).await {
            assert_eq!(b["username"], v, "{}: {b}", what(label));
        }
        let body = account_body(&format!("acc.{i}"), &format!("pw{v}pw"));
        store(
            Method::POST,
            "/api/accounts/",
            body,
            "password",
            "account password",
        )
        .await;
        let path = format!("/api/accounts/{account}");
        let body = json!({"status": "banned", "status_reason": v});
        if store(Method::PUT, &path, body, "status_reason", "status_reason")
            .await
            .is_some()
        {
            read_back(&path, "status_reason", v, "status_reason").await;
        }
        let body = json!({"password": format!("pw{v}pw")});
        store(
            Method::PUT,
            &path,
            body,
            "password",
            "account password (update)",
        )
        .await;

        // Proxies: the address (credentials included) and the country.
        let body = json!({"url": format!("http://u{i}:p{}@10.9.0.{}:8080", enc(v), i + 1)});
        store(Method::POST, "/api/proxies/", body, "url", "proxy password").await;
        let body = json!({"url": format!("http://10.9.1.{}:8080", i + 1), "country": v});
        let label = "proxy country";
        if let Some(b) = store(Method::POST, "/api/proxies/", body, "country", label).await {
            assert_eq!(b["country"], v, "{}: {b}", what(label));
        }
        store(
            Method::POST,
            "/api/proxies/",
            json!({"url": v}),
            "url",
            "proxy url",
        )
        .await;

        // Operators: username, e-mail, password; and signing in with them.
        let user_body = |username: &str, email: &str, password: &str| {
            json!({"username": username, "email": email, "password": password,
                "role": "editor"})
        };
        let body = user_body(v, &format!("u{i}@example.com"), "long-enough-1");
        let label = "user username";
        if let Some(b) = store(Method::POST, "/api/users/", body, "username", label).await {
            assert_eq!(b["username"], v, "{}: {b}", what(label));
        }
        let email = format!("a{v}{i}@example.com");
        let body = user_body(&format!("user{i}"), &email, &format!("long-enough-{v}"));
        if let Some(b) = store(Method::POST, "/api/users/", body, "email", "user email").await {
            assert_eq!(
                b["email"],
                email.to_lowercase(),
                "{}: {b}",
                what("user email")
            );
        }
        let (s, b) = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": v, "password": v})),
            )
            .await;
        assert!(
            matches!(
                s,
                // Wrong guesses are throttled after a few: 429 is as good as 401 here.
                StatusCode::UNAUTHORIZED
                    | StatusCode::UNPROCESSABLE_ENTITY
                    | StatusCode::TOO_MANY_REQUESTS
            ),
            "{}: {s} {b}",
            what("login")
        );

        // Posts: the uploaded caption, the edited caption, a hand-written translation.
        let caption = format!("caption {v}");
        let (s, b) = upload_post(
            &app,
            &admin,
            &[("caption", &caption), ("original_language", "en")],
            ("p.jpg", square_jpeg(320)),
        )
        .await;
        if stored_or_named(&what("upload caption"), s, &b, "caption") {
            assert_eq!(b["caption_original"], caption, "{}", what("upload caption"));
        }
        let path = format!("/api/posts/{post}");
        let body = json!({"caption": caption});
        if store(Method::PUT, &path, body, "caption", "post caption")
            .await
            .is_some()
        {
            read_back(&path, "caption_original", &caption, "post caption").await;
        }
        let body = json!({"text": caption});
        let translation = format!("{path}/translations/es");
        if store(Method::PUT, &translation, body, "text", "translation")
            .await
            .is_some()
        {
            let got = app.get_ok(&admin, &format!("{path}/translations")).await;
            assert!(
                got.to_string()
                    .contains(&serde_json::to_string(&caption).unwrap()[1..caption.len()]),
                "{got}"
            );
        }

        // Filters: never a 5xx, never everything.
        for (path, field) in [
            ("/api/accounts/?search=", "search"),
            ("/api/accounts/?q=", "q"),
            ("/api/logs/?action=", "action"),
            ("/api/proxies/?country=", "country"),
            ("/api/accounts/?language=", "language"),
            ("/api/logs/?cursor=", "cursor"),
        ] {
            let (s, b) = app
                .call(Method::GET, &format!("{path}{}", enc(v)), t, None)
                .await;
            stored_or_named(&what(path), s, &b, field);
        }
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/posts/?status={}", enc(v)),
                t,
                None,
            )
            .await;
        assert!(s.is_client_error(), "{b}");
        assert_eq!(b["error"]["field"], "status", "{b}");
    }

    // Import files: a NUL on any line refuses the file, naming it.
    for path in ["/api/accounts/import", "/api/proxies/import"] {
        let (s, b) = app
            .post_text(
                path,
                &admin,
                "text/plain",
                "ok.user:pw-123456:en\nbad\u{0}:pw:en\n".into(),
            )
            .await;
        let err = assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(err["field"], "file", "{path}: {b}");
    }

    // The tables are all still there, with what was put in them.
    let (s, groups) = app.call(Method::GET, "/api/groups/", t, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(groups["total"], groups_made, "{groups}");
    for path in [
        "/api/accounts/",
        "/api/proxies/",
        "/api/users/",
        "/api/posts/",
        "/api/logs/",
    ] {
        app.get_ok(&admin, path).await;
    }
    let accounts = app.get_ok(&admin, "/api/accounts/?per_page=500").await;
    assert!(
        accounts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["username"] == "plain.acc")
    );
}

/// The web UI's forms take the same text as the API: a NUL byte is refused with the
/// field's message, never a 500 page (PostgreSQL cannot store it).
async fn nul_bytes_in_ui_forms_are_refused_by_field(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let cookie = format!("icf_session={admin}");
    let group = app.new_group(&admin, "plain").await;
    let post = app.new_photo_post(&admin, &group, "plain", "en").await;
    let user = user_id(&app, "root").await;
    let nul = "x\u{0}y";
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/groups".into(), vec![("name", nul), ("description", "d")]),
        (
            "/groups".into(),
            vec![("name", "fine"), ("description", nul)],
        ),
        (
            format!("/groups/{group}"),
            vec![("name", nul), ("description", "")],
        ),
        (
            format!("/posts/{post}/translations/es"),
            vec![("text", nul)],
        ),
        (
            format!("/posts/{post}/translations/en"),
            vec![("text", nul)],
        ),
        (
            "/users".into(),
            vec![
                ("username", nul),
                ("email", "a@example.com"),
                ("password", "long-enough-1"),
                ("role", "editor"),
            ],
        ),
        (
            "/users".into(),
            vec![
                ("username", "someone"),
                ("email", "a@example.com"),
                ("password", nul),
                ("role", "editor"),
            ],
        ),
        (
            format!("/users/{user}"),
            vec![("password", "long-enough-\u{0}")],
        ),
        (
            "/proxies/import".into(),
            vec![("lines", "http://10.0.0.1:80\u{0}"), ("proxy_type", "http")],
        ),
        ("/accounts/import".into(), vec![("text", "user\u{0}:pw:en")]),
        ("/language".into(), vec![("language", nul), ("back", "/")]),
    ];
    for (path, fields) in forms {
        for htmx in [true, false] {
            let resp = post_ui_form(&app, &path, Some(&cookie), htmx, &fields).await;
            let status = resp.status();
            let html = resp.text().await.unwrap();
            assert!(
                !status.is_server_error() && !html.contains("internal error"),
                "{path} {fields:?}: {status} {html}"
            );
        }
    }
    let resp = post_ui_form(
        &app,
        "/login",
        None,
        false,
        &[("username", nul), ("password", nul)],
    )
    .await;
    assert!(!resp.status().is_server_error(), "{}", resp.status());
    // Nothing half-stored: the group list holds only the plain group.
    let groups = app.get_ok(&admin, "/api/groups/").await;
    assert_eq!(groups["total"], 1, "{groups}");
    app.get_ok(&admin, "/api/users/").await;
}

/// `%`, `_` and `\` in a search are the characters themselves, not LIKE wildcards.
async fn search_terms_are_matched_literally(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    for name in ["alpha_one", "alphaxone", "beta.two", "gamma3"] {
        app.new_account(&admin, json!({"username": name, "password": "pw-123456", "language": "en", "auto_proxy": false}))
            .await;
    }
    let found = async |term: &str| -> Vec<String> {
        let body = app
            .get_ok(&admin, &format!("/api/accounts/?search={}", enc(term)))
            .await;
        let mut names: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(found("a").await.len(), 4, "a plain term matches");
    assert!(
        found("%").await.is_empty(),
        "% matches nothing: no name holds one"
    );
    assert_eq!(found("_").await, ["alpha_one"]);
    assert_eq!(found("a_o").await, ["alpha_one"]);
    assert_eq!(found("a%o").await, Vec::<String>::new());
    assert!(found("\\").await.is_empty());
    assert_eq!(
        found("ALPHA").await,
        ["alpha_one", "alphaxone"],
        "case does not matter"
    );
    assert_eq!(found(".").await, ["beta.two"]);
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// Asserts the page holds none of the planted markup unescaped.
fn assert_escaped(what: &str, html: &str) {
    for raw in [
        "<script>alert(1)",
        "<img src=x onerror",
        "onerror=alert(1)>",
    ] {
        assert!(!html.contains(raw), "{what} shows {raw:?} unescaped");
    }
}

/// Markup planted in every stored text the UI shows, then every page that shows it.
async fn markup_in_stored_text_is_escaped_on_every_page(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, SCRIPT).await;
    app.put_ok(
        &admin,
        &format!("/api/groups/{group}"),
        json!({"description": IMG}),
    )
    .await;
    let other = app.new_group(&admin, IMG).await;
    let account = app
        .new_account(&admin, json!({"username": "xss.acc", "password": "pw-123456", "language": "es", "auto_proxy": false, "group_id": group}))
        .await;
    app.put_ok(
        &admin,
        &format!("/api/accounts/{account}"),
        json!({"status": "banned", "status_reason": format!("{SCRIPT}{IMG}")}),
    )
    .await;
    app.post_created(
        &admin,
        "/api/proxies/",
        json!({"url": "http://10.8.0.1:3128"}),
    )
    .await;
    let caption = format!("{SCRIPT} and {IMG} #tag");
    let post = app.new_photo_post(&admin, &group, &caption, "en").await;
    app.put_ok(
        &admin,
        &format!("/api/posts/{post}/translations/es"),
        json!({"text": format!("{IMG} {SCRIPT}")}),
    )
    .await;
    icf_store::activity::record(
        &app.db,
        icf_core::activity::NewActivity {
            account_id: Some(account.parse().unwrap()),
            action: SCRIPT.into(),
            status: icf_core::enums::ActivityStatus::Failed,
            details: json!({"error": IMG, "note": SCRIPT}),
            duration_ms: 5,
            error_message: Some(format!("{SCRIPT}{IMG}")),
        },
    )
    .await
    .unwrap();
    // Accepted by the API: whatever a page shows must come out escaped. The UI's sign-in
    // form and error pages echo input too.
    let cookie = format!("icf_session={admin}");
    let pages = [
        "/".to_owned(),
        "/posts".to_owned(),
        "/posts/new".to_owned(),
        "/calendar".to_owned(),
        format!("/posts/{post}"),
        format!("/posts/{post}/plan"),
        format!("/posts/{post}/executions"),
        "/accounts".to_owned(),
        format!("/accounts/{account}"),
        format!("/accounts?search={}", enc(SCRIPT)),
        "/groups".to_owned(),
        format!("/groups/{group}"),
        format!("/groups/{other}"),
        "/proxies".to_owned(),
        "/logs".to_owned(),
        format!("/logs?action={}", enc(SCRIPT)),
        "/users".to_owned(),
        format!("/posts/{}", enc(SCRIPT)),
        format!("/{}", enc(SCRIPT)),
    ];
    let mut shown = 0;
    for path in &pages {
        let resp = no_redirects()
            .get(app.url(path))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let html = resp.text().await.unwrap();
        assert!(!status.is_server_error(), "{path}: {status}");
        assert_escaped(path, &html);
        if html.contains("&lt;script&gt;alert(1)") || html.contains("&#60;script&#62;alert(1)") {
            shown += 1;
        }
    }
    assert!(
        shown >= 8,
        "the planted text is on the pages, escaped ({shown} pages)"
    );
    let resp = post_ui_form(
        &app,
        "/login",
        None,
        false,
        &[("username", SCRIPT), ("password", IMG)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_escaped("the sign-in form", &resp.text().await.unwrap());
    // htmx fragments: the translations and a failed form's field message.
    let resp = post_ui_form(
        &app,
        &format!("/posts/{post}/translations/es"),
        Some(&cookie),
        true,
        &[("text", format!("{IMG}{SCRIPT}"))],
    )
    .await;
    assert!(!resp.status().is_server_error());
    assert_escaped("the translation card", &resp.text().await.unwrap());
    let resp = post_ui_form(
        &app,
        "/groups",
        Some(&cookie),
        true,
        &[("name", SCRIPT.repeat(40)), ("description", IMG.to_owned())],
    )
    .await;
    assert!(!resp.status().is_server_error());
    assert_escaped("a group form's errors", &resp.text().await.unwrap());
}

/// The paths of the entries directly in `dir`.
fn entries_of(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// Upload names that try to climb out of the media dir: the stored file lands inside it
/// under a name of icf's own, and no response repeats a path.
async fn hostile_file_names_never_leave_the_media_dir(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let data_dir = app.test_db.dir.path().to_path_buf();
    let outside = data_dir.parent().unwrap().to_path_buf();
    let before = entries_of(&outside);
    let names = [
        "../../etc/passwd",
        "..\\..\\x.jpg",
        "/etc/passwd",
        "/tmp/icf-evil.jpg",
        "C:\\Windows\\evil.jpg",
        "evil\u{0}.jpg",
        "....//....//evil.jpg",
        "%2e%2e%2fevil.jpg",
        "",
    ];
    let mut refused = 0;
    for name in names {
        let (status, body) = upload_post(
            &app,
            &token,
            &[("original_language", "en")],
            (name, square_jpeg(320)),
        )
        .await;
        if name.contains('\0') && status.is_client_error() {
            // The multipart parser refuses a NUL in a header outright; nothing is stored.
            assert_eq!(body["error"]["code"], "bad_request", "{body}");
            refused += 1;
            continue;
        }
        assert_eq!(status, StatusCode::CREATED, "{name:?}: {body}");
        let key = body["media"][0]["key"].as_str().unwrap();
        assert!(
            key.starts_with("posts/") && !key.contains("..") && !key.contains('\\'),
            "{name:?}: {key}"
        );
        let text = body.to_string();
        for leak in ["passwd", "evil", "Windows", &data_dir.display().to_string()] {
            assert!(
                !text.contains(leak),
                "{name:?}: the response repeats {leak:?}: {text}"
            );
        }
    }
    // A media key in a field that takes none: refused as an unknown field, nothing read.
    let (status, body) = upload_post(
        &app,
        &token,
        &[("original_language", "en"), ("key", "../../etc/passwd")],
        ("a.jpg", square_jpeg(320)),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(!body.to_string().contains("passwd") || body["error"]["field"] == "key");

    let stored = files_under(&app.settings.media.dir);
    let posts = files_under(&app.settings.media.dir.join("posts"));
    assert_eq!(
        posts.len(),
        names.len() - refused,
        "one file per upload: {stored:?}"
    );
    for f in &stored {
        let canonical = f.canonicalize().unwrap();
        assert!(
            canonical.starts_with(app.settings.media.dir.canonicalize().unwrap()),
            "{f:?}"
        );
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(!name.contains("evil") && !name.contains("passwd"), "{f:?}");
    }
    let after = entries_of(&outside);
    let new: Vec<_> = after
        .difference(&before)
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("evil") || n == "passwd")
        })
        .collect();
    assert!(
        new.is_empty(),
        "files written outside the data dir: {new:?}"
    );
    assert!(!Path::new("/tmp/icf-evil.jpg").exists());
    // Static files are looked up by name in a fixed list, never on disk.
    for path in [
        "/static/..%2F..%2FCargo.toml",
        "/static/%2e%2e%2fapp.css",
        "/static/..\\app.css",
    ] {
        let resp = no_redirects().get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// CRC-32 (IEEE) for PNG chunks.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Issue #18: group names took right-to-left overrides, zero-width characters and terminal
/// escapes that usernames refuse. Every free-text name and description now follows one
/// rule (icf_core::text), refused naming the field; ordinary text in any script is kept.
async fn free_text_names_refuse_hidden_and_disguising_characters(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let t = Some(admin.as_str());
    let hostile = [
        "invoice\u{202E}fdp.exe",
        "a\u{2066}isolated\u{2069}",
        "admin\u{200B}",
        "\u{FEFF}bom",
        "\u{1b}[2J\u{1b}[31mred",
        "bell\u{7}",
    ];
    for bad in hostile {
        let (status, body) = app
            .call(Method::POST, "/api/groups/", t, Some(json!({"name": bad})))
            .await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], "name", "{bad:?}: {body}");
    }
    let group = app.new_group(&admin, "Финансы 🚀 مالية").await;
    for bad in hostile {
        let (status, body) = app
            .call(
                Method::PUT,
                &format!("/api/groups/{group}"),
                t,
                Some(json!({"description": format!("ok\n{bad}")})),
            )
            .await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], "description", "{bad:?}: {body}");
    }
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/groups/{group}"),
            t,
            Some(json!({"description": "two lines\nand a\ttab"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["description"], "two lines\nand a\ttab");
    assert_eq!(body["name"], "Финансы 🚀 مالية");
}

/// Bits into bytes, least significant first, as deflate wants them.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.bits(code.reverse_bits() >> (32 - len), len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A real, complete `side`×`side` 16-bit RGB PNG, all black: 6 bytes a pixel decoded
/// (864 MB at 12000 px), a few MB on the wire. Its zlib stream is written by hand (one
/// fixed-Huffman block: a zero, then runs of 258 zeros at distance 1), so making it costs
/// nothing like the 864 MB an encoder would want.
fn png16_bomb(side: u32) -> Vec<u8> {
    let raw_len = u64::from(side) * (1 + u64::from(side) * 6); // a filter byte per row
    let mut bits = BitWriter::default();
    bits.bits(1, 1); // the final block
    bits.bits(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    let rest = raw_len - 1;
    for _ in 0..rest / 258 {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    for _ in 0..rest % 258 {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.finish());
    let adler = (((raw_len % 65_521) as u32) << 16) | 1;
    zlib.extend_from_slice(&adler.to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[16, 2, 0, 0, 0]); // 16 bits, RGB
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &zlib);
    chunk(b"IEND", &[]);
    png
}

/// This process's peak resident memory (`VmHWM`) in bytes, after resetting it to the
/// current resident size when `reset` (the app runs in-process).
fn peak_rss(reset: bool) -> u64 {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Issue #18: a 12000×12000 16-bit PNG (a few MB) used to be decoded — 1.5 GB of memory
/// each, four at once took a server from 1.4 to 7.3 GB. Now the header is checked against
/// ICF_MAX_IMAGE_PIXELS and the decoded-byte budget first, decodes wait for one of
/// ICF_MEDIA_CONCURRENCY permits, and the peak stays under the documented ceiling.
async fn image_bombs_are_refused_within_the_memory_ceiling(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let lang = [("original_language", "en")];
    let bomb = png16_bomb(12_000);
    assert!(bomb.len() < 8 * 1024 * 1024, "{} bytes", bomb.len());
    // It is a real image: the decoder agrees on what it claims.
    let decoder = image::ImageReader::new(std::io::Cursor::new(&bomb))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .map(|d| {
            (
                image::ImageDecoder::dimensions(&d),
                image::ImageDecoder::total_bytes(&d),
            )
        });
    assert_eq!(decoder.unwrap(), ((12_000, 12_000), 864_000_000));

    // The ceiling DEPLOY.md gives: one decode's peak per permit, plus the files in memory.
    let options = icf_media::PhotoOptions::default();
    let ceiling = 2 * options.peak_bytes() + 4 * bomb.len() as u64;
    let before = peak_rss(true);
    let uploads = (0..4).map(|i| {
        let (app, token, bomb) = (&app, &token, bomb.clone());
        async move {
            let name = format!("bomb{i}.png");
            upload_post(app, token, &lang, (&name, bomb)).await
        }
    });
    let answers = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(uploads),
    )
    .await
    .expect("four bombs answered within a minute");
    let grown = peak_rss(false).saturating_sub(before);
    eprintln!(
        "four bombs at once: peak memory grew by {} MB (ceiling {} MB)",
        grown >> 20,
        ceiling >> 20
    );
    for (status, body) in answers {
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], "media[0]", "{body}");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("12000×12000 pixels"), "{message}");
        assert!(message.contains("50.0 megapixels"), "{message}");
    }
    assert!(
        grown < ceiling,
        "peak memory grew by {} MB, over the {} MB ceiling",
        grown >> 20,
        ceiling >> 20
    );

    // Under the pixel budget but 16 bits deep: refused by the decoded-byte budget.
    let deep = png16_bomb(6_000); // 36 Mpx, 216 MB decoded > 200 MB
    let (status, body) = upload_post(&app, &token, &lang, ("deep.png", deep)).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("6000×6000 pixels at 48 bits"), "{message}");
    assert!(message.contains("200 MB"), "{message}");

    // A normal photo is still welcome, and nothing of the bombs was kept.
    let (status, post) = upload_post(&app, &token, &lang, ("ok.jpg", square_jpeg(1080))).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert!(files_under(&app.settings.media.dir.join(".staging")).is_empty());
}

/// A small, valid PNG whose header claims `side` × `side` pixels.
fn png_claiming(side: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // IHDR data starts at 16 (8 signature, 4 length, 4 type); width, height, then 5 bytes.
    png[16..20].copy_from_slice(&side.to_be_bytes());
    png[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A small, valid JPEG whose frame header claims `side` × `side` pixels.
fn jpeg_claiming(side: u16) -> Vec<u8> {
    let mut jpeg = square_jpeg(16);
    let sof = jpeg
        .windows(2)
        .position(|w| w[0] == 0xff && (w[1] == 0xc0 || w[1] == 0xc2))
        .expect("a frame header");
    // FF C0, length (2), precision (1), height (2), width (2).
    jpeg[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    jpeg
}

async fn raw_post(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = app
        .request(Method::POST, "/api/posts/", Some(token))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    status_and_json(resp).await
}

/// What posts.rs leaves out: one file over ICF_MAX_UPLOAD_MB, a cut multipart body, the
/// wrong content type, no boundary, and pictures whose headers claim 10^10 pixels.
async fn oversized_malformed_and_bomb_uploads_are_refused(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_MAX_UPLOAD_MB", "1")]).await;
    let token = app.editor_token().await;
    let lang = [("original_language", "en")];

    let big: Vec<u8> = square_jpeg(64)
        .into_iter()
        .chain(std::iter::repeat_n(0u8, 1_200_000))
        .collect();
    let (status, body) = upload_post(&app, &token, &lang, ("big.jpg", big)).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_eq!(err["field"], "media[0]", "{body}");

    let boundary = "XbOuNdArY";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"original_language\"\r\n\r\nen\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    );
    let mut cut = head.into_bytes();
    cut.extend_from_slice(&square_jpeg(64)[..200]);
    let multipart = format!("multipart/form-data; boundary={boundary}");
    let (status, body) = raw_post(&app, &token, &multipart, cut).await;
    assert!(status.is_client_error(), "a cut body: {status} {body}");
    assert!(body["error"]["code"].is_string(), "{body}");

    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "JSON instead of a form",
            "application/json",
            br#"{"caption":"x"}"#.to_vec(),
        ),
        (
            "no boundary",
            "multipart/form-data",
            b"--x\r\n\r\n".to_vec(),
        ),
        ("a plain-text body", "text/plain", b"hello".to_vec()),
        (
            "an empty form",
            &multipart,
            format!("--{boundary}--\r\n").into_bytes(),
        ),
    ];
    for (what, content_type, raw) in cases {
        let (status, body) = raw_post(&app, &token, content_type, raw).await;
        assert!(status.is_client_error(), "{what}: {status} {body}");
        assert!(body["error"]["code"].is_string(), "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }

    // Decompression bombs: refused from the header, before any pixel is decoded.
    for (what, name, bytes) in [
        ("PNG bomb", "bomb.png", png_claiming(100_000)),
        ("JPEG bomb", "bomb.jpg", jpeg_claiming(65_000)),
    ] {
        assert!(
            bytes.len() < 4096,
            "{what} is small ({} bytes)",
            bytes.len()
        );
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(20),
            upload_post(&app, &token, &lang, (name, bytes)),
        )
        .await
        .unwrap_or_else(|_| panic!("{what} took too long"));
        assert!(status.is_client_error(), "{what}: {status} {body}");
        assert_eq!(body["error"]["field"], "media[0]", "{what}: {body}");
    }
    // A JPEG that is really text, and an empty file, each named by field.
    for (what, bytes) in [
        ("text", b"GIF89a? no, just text".to_vec()),
        ("empty", Vec::new()),
    ] {
        let (status, body) = upload_post(&app, &token, &lang, ("x.jpg", bytes)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(body["error"]["field"], "media[0]", "{what}: {body}");
    }
    // Still serving, and nothing was kept.
    let (_, list) = app
        .call(Method::GET, "/api/posts/", Some(&token), None)
        .await;
    assert_eq!(list["total"], 0, "{list}");
    assert!(files_under(&app.settings.media.dir.join("posts")).is_empty());
    let (status, post) = upload_post(&app, &token, &lang, ("ok.jpg", square_jpeg(400))).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
}
