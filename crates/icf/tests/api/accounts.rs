//! Instagram accounts through the API: CRUD, filters, roles, secrets never shown, never
//! stored in clear.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    role_matrix_for_accounts_and_groups,
    accounts_are_created_with_a_device_and_a_free_proxy,
    accounts_are_listed_filtered_sorted_and_paged,
    accounts_are_updated_and_deleted,
    account_input_is_validated,
    one_proxy_serves_one_account_in_the_database,
    no_plaintext_secret_is_stored,
    editors_see_no_proxy_address_and_no_challenge_internals,
);

async fn role_matrix_for_accounts_and_groups(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let id = uuid::Uuid::now_v7();
    // (method, path, editor may)
    let routes = [
        (Method::GET, "/api/accounts".to_owned(), true),
        (Method::GET, "/api/accounts/".to_owned(), true),
        (Method::POST, "/api/accounts".to_owned(), false),
        (Method::POST, "/api/accounts/".to_owned(), false),
        (Method::POST, "/api/accounts/import".to_owned(), false),
        (Method::GET, format!("/api/accounts/{id}"), true),
        (Method::PUT, format!("/api/accounts/{id}"), false),
        (Method::DELETE, format!("/api/accounts/{id}"), false),
        (
            Method::POST,
            format!("/api/accounts/{id}/login?wait=0"),
            false,
        ),
        (Method::GET, format!("/api/accounts/{id}/login"), true),
        (Method::GET, format!("/api/accounts/{id}/status"), true),
        (
            Method::POST,
            format!("/api/accounts/{id}/status/check?wait=0"),
            true,
        ),
        (
            Method::GET,
            format!("/api/accounts/{id}/status/check"),
            true,
        ),
        (Method::GET, "/api/groups".to_owned(), true),
        (Method::GET, "/api/groups/".to_owned(), true),
        (Method::POST, "/api/groups".to_owned(), false),
        (Method::POST, "/api/groups/".to_owned(), false),
        (Method::GET, format!("/api/groups/{id}"), true),
        (Method::PUT, format!("/api/groups/{id}"), false),
        (Method::DELETE, format!("/api/groups/{id}"), false),
        (Method::GET, format!("/api/groups/{id}/accounts"), true),
    ];
    for (method, path, editor_may) in &routes {
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
        if *editor_may {
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "editor {method} {path} got {status}"
            );
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "editor {method} {path}");
        }
        let (status, _) = app.call(method.clone(), path, Some(&admin), body).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "admin {method} {path} got {status}"
        );
    }
}

pub fn assert_no_secret(body: &Value, secrets: &[&str]) {
    let text = body.to_string();
    for s in secrets {
        assert!(!text.contains(s), "secret {s} in response: {text}");
    }
    for key in ["password", "password_enc", "session_data", "totp_secret"] {
        assert!(!text.contains(&format!("\"{key}\"")), "{key} in {text}");
    }
}

pub async fn create_account(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, created) = app
        .call(Method::POST, "/api/accounts/", Some(admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn accounts_are_created_with_a_device_and_a_free_proxy(engine: Engine) {
    let mut app = TestApp::spawn(engine).await;
    app.run_worker();
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let (_, group) = app
        .call(
            Method::POST,
            "/api/groups",
            Some(&admin),
            Some(json!({"name": "Finance"})),
        )
        .await;
    let (_, proxy) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(&admin),
            Some(json!({"url": "socks5://pu:Proxy-Pw-1@10.9.8.7:1080", "country": "BR"})),
        )
        .await;

    let created = create_account(
        &app,
        &admin,
        json!({"username": "@Shop.Brazil", "password": "Ig-Secret-Pw-9", "language": "pt-br",
               "group_id": group["id"], "posts_limit_per_day": 5}),
    )
    .await;
    assert_eq!(created["username"], "shop.brazil");
    assert_eq!(created["language"], "pt-BR");
    assert_eq!(created["status"], "active");
    assert_eq!(created["group_name"], "Finance");
    assert_eq!(created["posts_limit_per_day"], 5);
    assert_eq!(created["posts_today"], 0);
    assert_eq!(created["warmup_stage"], 0);
    assert_eq!(created["failed_attempts"], 0);
    assert_eq!(created["has_session"], false);
    // The free proxy of the pool was assigned, shown without its credentials.
    assert_eq!(created["proxy_id"], proxy["id"]);
    assert_eq!(created["proxy"], "socks5://10.9.8.7:1080");
    let device_id = created["device_id"].as_str().unwrap();
    assert!(
        device_id.starts_with("android-") && device_id.len() == 24,
        "{device_id}"
    );
    assert_no_secret(&created, &["Ig-Secret-Pw-9", "Proxy-Pw-1"]);

    // The device matches the proxy's country.
    let id = created["id"].as_str().unwrap();
    let (locale, ua): (String, String) = icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT locale, user_agent FROM accounts WHERE id = $1"
    )
    .bind(icf_store::DbUuid(id.parse().unwrap()))
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(locale, "pt_BR");
    assert!(ua.starts_with("Instagram ") && ua.contains("pt_BR"), "{ua}");

    // The pool is empty now: the next account has no proxy.
    let second = create_account(
        &app,
        &admin,
        json!({"username": "second", "password": "pw", "language": "en"}),
    )
    .await;
    assert!(second["proxy_id"].is_null());

    // A proxy_url adds it to the pool and assigns it.
    let third = create_account(
        &app,
        &admin,
        json!({"username": "third", "password": "pw", "language": "ru",
               "proxy_url": "http://u3:Third-Pw@10.0.0.3:8080"}),
    )
    .await;
    assert_eq!(third["proxy"], "http://10.0.0.3:8080");
    assert_no_secret(&third, &["Third-Pw"]);
    let (_, proxies) = app
        .call(Method::GET, "/api/proxies", Some(&admin), None)
        .await;
    assert_eq!(proxies["total"], 2);

    // Editors read accounts, without secrets, and the stored state.
    let (status, got) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{id}"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["id"], id);
    assert_no_secret(&got, &["Ig-Secret-Pw-9", "Proxy-Pw-1"]);
    let (status, st) = app
        .call(
            Method::GET,
            &format!("/api/accounts/{id}/status"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(st["status"], "active");
    assert_eq!(st["has_session"], false);
    let (status, st) = app
        .call(
            Method::POST,
            &format!("/api/accounts/{id}/login"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(st["username"], "shop.brazil");

    // The same username (any case) is a conflict.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/accounts",
            Some(&admin),
            Some(json!({"username": "SHOP.BRAZIL", "password": "x", "language": "en"})),
        )
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "username");
}

async fn accounts_are_listed_filtered_sorted_and_paged(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (_, it) = app
        .call(
            Method::POST,
            "/api/groups",
            Some(&admin),
            Some(json!({"name": "IT"})),
        )
        .await;
    let names = [
        ("alpha_it", "en"),
        ("bravo_it", "ru"),
        ("charlie", "en"),
        ("delta_it", "es"),
    ];
    for (name, lang) in names {
        let mut body = json!({"username": name, "password": "pw-1", "language": lang});
        if name.ends_with("_it") {
            body["group_id"] = it["id"].clone();
        }
        create_account(&app, &admin, body).await;
    }
    let get = |q: String| list_names(&app, &admin, q);
    assert_eq!(get("/api/accounts".into()).await.0, 4);
    assert_eq!(
        get("/api/accounts?language=en".into()).await.1,
        ["alpha_it", "charlie"]
    );
    assert_eq!(
        get("/api/accounts?search=_IT&sort=username&order=desc".into())
            .await
            .1,
        ["delta_it", "bravo_it", "alpha_it"]
    );
    // `_` is not a wildcard in the search.
    assert_eq!(get("/api/accounts?search=_".into()).await.0, 3);
    assert_eq!(get("/api/accounts?status=banned".into()).await.0, 0);
    let (total, page) = get("/api/accounts?per_page=2&page=2".into()).await;
    assert_eq!(
        (total, page),
        (4, vec!["charlie".to_owned(), "delta_it".to_owned()])
    );
    let it_id = it["id"].as_str().unwrap();
    let q = format!("/api/accounts?group_id={it_id}&language=ru");
    assert_eq!(get(q).await.1, ["bravo_it"]);
    let q = format!("/api/groups/{it_id}/accounts?sort=created_at&order=desc");
    assert_eq!(get(q).await.1, ["delta_it", "bravo_it", "alpha_it"]);
    let (_, body) = app
        .call(
            Method::GET,
            "/api/accounts?sort=last_post_at",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body["total"], 4);
}

/// The total and the usernames of one page of a list.
pub async fn list_names(app: &TestApp, admin: &str, q: String) -> (i64, Vec<String>) {
    let (status, body) = app.call(Method::GET, &q, Some(admin), None).await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    let names = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_owned())
        .collect();
    (body["total"].as_i64().unwrap(), names)
}

async fn accounts_are_updated_and_deleted(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (_, g) = app
        .call(
            Method::POST,
            "/api/groups",
            Some(&admin),
            Some(json!({"name": "News"})),
        )
        .await;
    let acc = create_account(
        &app,
        &admin,
        json!({"username": "upd", "password": "old-pw", "language": "en"}),
    )
    .await;
    let id = acc["id"].as_str().unwrap().to_owned();
    let path = format!("/api/accounts/{id}");
    let (status, up) = app
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"language": "de", "group_id": g["id"], "posts_limit_per_day": 3,
                        "status": "cooldown", "status_reason": "manual pause", "password": "New-Pw-77"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["language"], "de");
    assert_eq!(up["group_name"], "News");
    assert_eq!(up["status"], "cooldown");
    assert_eq!(up["status_reason"], "manual pause");
    assert_eq!(up["posts_limit_per_day"], 3);
    assert_eq!(up["device_id"], acc["device_id"], "the device is kept");
    assert_no_secret(&up, &["New-Pw-77"]);
    // The status change is in the history.
    let history: Vec<(String, String)> = icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT old_status, new_status FROM account_status_history WHERE account_id = $1"
    )
    .bind(icf_store::DbUuid(id.parse().unwrap()))
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(history, [("active".to_owned(), "cooldown".to_owned())]);
    // The new password is what is stored (encrypted).
    let secrets = icf_store::accounts::get_secrets(&app.db, id.parse().unwrap())
        .await
        .unwrap();
    let cipher = icf::startup::cipher(&app.settings).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        cipher
            .decrypt(&secrets.password_enc)
            .unwrap()
            .expose_secret(),
        "New-Pw-77"
    );

    let (status, up) = app
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"group_id": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(up["group_id"].is_null());
    assert_eq!(up["language"], "de", "absent fields are kept");

    let (status, _) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.call(Method::GET, &path, Some(&admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn account_input_is_validated(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let base = json!({"username": "valid_name", "password": "pw", "language": "en"});
    let missing = uuid::Uuid::now_v7().to_string();
    let cases = [
        ("username", json!("bad name")),
        ("username", json!("a".repeat(31))),
        ("username", json!("..dots")),
        ("password", json!("")),
        ("password", json!("p".repeat(200))),
        ("language", json!("klingon")),
        ("language", json!(7)),
        ("posts_limit_per_day", json!(1000)),
        ("group_id", json!("not-a-uuid")),
        ("group_id", json!(missing)),
        ("proxy_id", json!(missing)),
        ("proxy_url", json!("gopher://x:1")),
        ("status", json!("active")), // unknown on create
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        let (status, resp) = app
            .call(Method::POST, "/api/accounts", Some(&admin), Some(body))
            .await;
        let err = assert_error(
            status,
            &resp,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        if field != "status" {
            assert_eq!(err["field"], field, "{field}={value}: {resp}");
        }
    }
    let (status, resp) = app
        .call(
            Method::GET,
            "/api/accounts?status=frozen",
            Some(&admin),
            None,
        )
        .await;
    let err = assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "status");
    // A page size out of range, or an empty one: a mistake, not the default (schemathesis
    // found `?per_page=` accepted).
    for query in ["per_page=100000", "per_page=", "page=", "page=%20"] {
        let (status, resp) = app
            .call(
                Method::GET,
                &format!("/api/accounts?{query}"),
                Some(&admin),
                None,
            )
            .await;
        let err = assert_error(
            status,
            &resp,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], query.split('=').next().unwrap(), "{query}");
    }
    let (status, resp) = app
        .call(
            Method::GET,
            "/api/accounts?sort=password",
            Some(&admin),
            None,
        )
        .await;
    let err = assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "sort");
    let (status, resp) = app
        .call(Method::GET, "/api/accounts/123", Some(&admin), None)
        .await;
    let err = assert_error(status, &resp, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(err["field"], "id");
    let (status, resp) = app
        .call(
            Method::PUT,
            &format!("/api/accounts/{missing}"),
            Some(&admin),
            Some(json!({"language": "en"})),
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, "not_found");
    let resp = app
        .request(Method::POST, "/api/accounts", Some(&admin))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (_, list) = app
        .call(Method::GET, "/api/accounts", Some(&admin), None)
        .await;
    assert_eq!(list["total"], 0, "nothing was created by refused requests");
}

async fn one_proxy_serves_one_account_in_the_database(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let (_, proxy) = app
        .call(
            Method::POST,
            "/api/proxies",
            Some(&admin),
            Some(json!({"url": "http://10.0.0.1:3128"})),
        )
        .await;
    let a = create_account(
        &app,
        &admin,
        json!({"username": "one", "password": "pw", "language": "en", "proxy_id": proxy["id"]}),
    )
    .await;
    let b = create_account(
        &app,
        &admin,
        json!({"username": "two", "password": "pw", "language": "en"}),
    )
    .await;
    assert!(b["proxy_id"].is_null());
    // Through the API: 409.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/accounts/{}", b["id"].as_str().unwrap()),
            Some(&admin),
            Some(json!({"proxy_id": proxy["id"]})),
        )
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "proxy_id");
    let (status, body) = app
        .call(Method::POST, "/api/accounts", Some(&admin), Some(json!({"username": "three", "password": "pw", "language": "en", "proxy_id": proxy["id"]})))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    // Around the code, straight in SQL: the database itself refuses.
    let result = icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE accounts SET proxy_id = $1 WHERE id = $2"
    )
    .bind(icf_store::DbUuid(
        proxy["id"].as_str().unwrap().parse().unwrap()
    ))
    .bind(icf_store::DbUuid(
        b["id"].as_str().unwrap().parse().unwrap()
    ))
    .execute(pool)
    .await
    .map(|_| ()));
    assert!(
        result.is_err(),
        "the UNIQUE constraint must refuse a second account"
    );
    assert_eq!(a["proxy_id"], proxy["id"]);
}

async fn no_plaintext_secret_is_stored(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let secrets = [
        "Plain-Ig-Password-123",
        "Plain-Proxy-Pass-456",
        "Imported-Pw-789",
        "Imp-Proxy-Pw-000",
    ];
    create_account(
        &app,
        &admin,
        json!({"username": "secretive", "password": secrets[0], "language": "en",
               "proxy_url": format!("http://proxyuser:{}@10.0.0.7:8080", secrets[1])}),
    )
    .await;
    let (status, report) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            format!(
                "imported:{}:ru:IT:socks5://pu2:{}@10.0.0.8:1080\n",
                secrets[2], secrets[3]
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 1);
    app.db.close().await;
    match engine {
        Engine::Sqlite => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(app.test_db.dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("icf.db")
                {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            assert!(bytes.len() > 4096);
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains("secretive"), "the file was read");
            for s in secrets {
                assert!(!text.contains(s), "{s} is in the SQLite file");
            }
        }
        Engine::Postgres => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.test_db.url)
                .await
                .unwrap();
            let mut dump = String::new();
            for table in ["accounts", "proxies", "groups"] {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM {table} t"
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                dump.push_str(&rows.join("\n"));
            }
            assert!(dump.contains("secretive"), "the rows were read");
            for s in secrets {
                assert!(!dump.contains(s), "{s} is in the PostgreSQL rows");
            }
        }
    }
}

/// An editor's account views (list, one account, a group's accounts, the state) lack the
/// proxy address (for a proxy authorised by IP, host:port is the credential) and the
/// challenge's Instagram internals; they keep what the person must do and where the code
/// went. An admin's views keep everything.
async fn editors_see_no_proxy_address_and_no_challenge_internals(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let group = app.new_group(&admin, "Shops").await;
    let created = create_account(
        &app,
        &admin,
        json!({"username": "shop.one", "password": "pw", "language": "en",
               "group_id": group, "proxy_url": "http://10.0.0.9:3128"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    icf_store::publishing::set_state(
        &app.db,
        id.parse::<icf_core::ids::AccountId>().unwrap(),
        &icf_store::publishing::InstagramState {
            status: icf_core::enums::AccountStatus::LoginRequired,
            reason: "Instagram asks for a code".into(),
            cooldown_until: None,
            pending_challenge: Some(json!({"kind": "challenge", "details": {
                "api_path": "/challenge/4242/AbCdEf/", "asks": "email_code",
                "step_name": "verify_email", "contact": "j***@example.com"}})),
        },
    )
    .await
    .unwrap();

    let views = async |token: &str| -> Vec<Value> {
        let list = app.get_ok(token, "/api/accounts/").await;
        let in_group = app
            .get_ok(token, &format!("/api/groups/{group}/accounts"))
            .await;
        vec![
            list["items"][0].clone(),
            in_group["items"][0].clone(),
            app.get_ok(token, &format!("/api/accounts/{id}")).await,
            app.get_ok(token, &format!("/api/accounts/{id}/status"))
                .await,
        ]
    };
    for view in views(&editor).await {
        assert_eq!(view["id"], id.as_str(), "{view}");
        assert!(view["proxy"].is_null(), "no proxy address: {view}");
        let text = view.to_string();
        for internal in ["10.0.0.9", "3128", "/challenge/4242", "verify_email"] {
            assert!(
                !text.contains(internal),
                "{internal} shown to an editor: {view}"
            );
        }
        assert_eq!(
            view["pending_challenge"],
            json!({"kind": "challenge", "details": {"asks": "email_code",
                "contact": "j***@example.com"}})
        );
    }
    for view in views(&admin).await {
        assert_eq!(view["proxy"], "http://10.0.0.9:3128", "{view}");
        assert_eq!(
            view["pending_challenge"]["details"]["api_path"],
            "/challenge/4242/AbCdEf/"
        );
    }
}
