//! The web UI over plain HTTP on both engines: sign-in cookie, redirects, CSRF, roles,
//! every page in both languages, and the live event stream.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp};

engine_tests!(
    signed_out_pages_send_the_browser_to_sign_in,
    signing_in_sets_an_httponly_samesite_cookie_and_signing_out_clears_it,
    a_cross_site_post_is_refused,
    an_editor_gets_403_on_admin_screens,
    every_page_renders_for_an_admin_in_both_languages,
    the_event_stream_sends_queue_counts_and_execution_changes,
    the_account_page_shows_the_phones_carrier_locale_and_clock,
    the_caption_counters_get_the_servers_limits,
    the_account_page_shows_and_sets_the_accounts_age,
);

fn no_redirects() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in through the form; returns the `icf_session=…` cookie pair.
pub(crate) async fn ui_cookie(app: &TestApp, user: &str, password: &str) -> String {
    let resp = no_redirects()
        .post(app.url("/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let resp = no_redirects()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

async fn signed_out_pages_send_the_browser_to_sign_in(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    for path in ["/", "/posts", "/posts/new", "/accounts", "/logs"] {
        let resp = no_redirects().get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.headers()[LOCATION], "/login", "{path}");
    }
    // htmx requests are told where to go instead of getting the page swapped in.
    let resp = no_redirects()
        .get(app.url("/posts"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["hx-redirect"], "/login");
    // A forged or expired cookie is no better than none.
    let resp = no_redirects()
        .get(app.url("/"))
        .header("cookie", "icf_session=not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (status, html) = (
        no_redirects()
            .get(app.url("/login"))
            .header("accept-language", "ru-RU,ru;q=0.9")
            .send()
            .await
            .unwrap()
            .status(),
        no_redirects()
            .get(app.url("/login"))
            .header("accept-language", "ru-RU,ru;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Войти"), "the browser's language by default");
}

async fn signing_in_sets_an_httponly_samesite_cookie_and_signing_out_clears_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;

    let resp = no_redirects()
        .post(app.url("/login"))
        .form(&[("username", "root"), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains("Wrong username or password"), "{html}");
    assert!(html.contains("value=\"root\""), "the username is kept");

    let resp = no_redirects()
        .post(app.url("/login"))
        .form(&[("username", "root"), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with("icf_session=ey"), "{set}");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();

    let (status, html) = page(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">root<"), "the signed-in user is shown");
    // The same cookie signs in to the JSON API (the composer uses it).
    let resp = no_redirects()
        .get(app.url("/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = no_redirects()
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cleared = resp.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("icf_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The token itself is revoked: a copy of the cookie no longer works anywhere.
    let (status, _) = page(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the UI sends it to sign in");
    let resp = no_redirects()
        .get(app.url("/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the API refuses it"
    );
}

async fn a_cross_site_post_is_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let cookie = ui_cookie(&app, "root", &password).await;

    let resp = no_redirects()
        .post(app.url("/groups"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[("name", "Evil")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // An older browser without Sec-Fetch-Site: the Origin gives it away.
    let resp = no_redirects()
        .post(app.url("/groups"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("name", "Evil2")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The JSON API too, when a browser's cookie would carry it.
    let resp = no_redirects()
        .post(app.url("/api/groups/"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "Evil3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        icf_store::groups::list(&app.db).await.unwrap().is_empty(),
        "nothing was created"
    );

    // The same form from the UI's own page works.
    let resp = no_redirects()
        .post(app.url("/groups"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("hx-request", "true")
        .form(&[("name", "IT")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["hx-refresh"], "true");
    // A rule broken: the message goes next to the field.
    let resp = no_redirects()
        .post(app.url("/groups"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[("name", "IT")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"err-name\"") && html.contains("already exists"),
        "{html}"
    );
}

async fn an_editor_gets_403_on_admin_screens(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let cookie = ui_cookie(&app, "writer", &password).await;
    for path in [
        "/accounts",
        "/accounts/import",
        "/groups",
        "/proxies",
        "/users",
        "/logs",
    ] {
        let (status, html) = page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("You may not open this page"), "{path}");
    }
    for path in ["/", "/posts", "/posts/new", "/calendar"] {
        let (status, html) = page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains("href=\"/accounts\""),
            "{path}: no admin tabs"
        );
    }
}

/// The composer's and the translation cards' counters count against the limits the server
/// checks (app.js reads them from `<body>`), not numbers of their own.
async fn the_caption_counters_get_the_servers_limits(engine: Engine) {
    for (vars, hashtags) in [(&[][..], "5"), (&[("ICF_MAX_HASHTAGS", "3")][..], "3")] {
        let app = TestApp::spawn_with(engine, vars).await;
        let password = app
            .create_user("writer", icf_core::enums::Role::Editor)
            .await;
        let cookie = ui_cookie(&app, "writer", &password).await;
        let (status, html) = page(&app, &cookie, "/posts/new").await;
        assert_eq!(status, StatusCode::OK);
        for attribute in [
            "data-caption-max-chars=\"2200\"".to_owned(),
            format!("data-caption-max-hashtags=\"{hashtags}\""),
            "data-caption-max-mentions=\"20\"".to_owned(),
        ] {
            assert!(html.contains(&attribute), "{attribute} in the composer");
        }
        assert!(html.contains("data-counter=\"caption-counter\""));
        let (status, app_js) = page(&app, &cookie, "/static/app.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            app_js.contains("data-caption-max-"),
            "app.js reads the limits"
        );
        assert!(
            !app_js.contains("part(c.tags, 30"),
            "no hard-coded hashtag limit"
        );
    }
}

/// A group with one account (behind a proxy nobody listens on), and a draft post for it.
async fn seed(app: &TestApp, token: &str) -> (String, String, String) {
    let (_, group) = app
        .call(
            Method::POST,
            "/api/groups/",
            Some(token),
            Some(json!({"name": "IT"})),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let (status, account) = app
        .call(
            Method::POST,
            "/api/accounts/",
            Some(token),
            Some(
                json!({"username": "it_en_1", "password": "pw-123456", "language": "en",
                "group_id": gid, "proxy_url": "socks5://127.0.0.1:9"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let form = Form::new()
        .text("caption", "Hello <world> #one")
        .text("original_language", "en")
        .text("target_groups", json!([gid]).to_string())
        .part(
            "media",
            Part::bytes(crate::posts::jpeg(1080, 1080)).file_name("a.jpg"),
        );
    let resp = app
        .request(Method::POST, "/api/posts/", Some(token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let post: Value = resp.json().await.unwrap();
    (
        gid,
        account["id"].as_str().unwrap().to_owned(),
        post["id"].as_str().unwrap().to_owned(),
    )
}

async fn every_page_renders_for_an_admin_in_both_languages(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let token = app.login("root", &password).await;
    let (gid, aid, pid) = seed(&app, &token).await;
    let cookie = ui_cookie(&app, "root", &password).await;
    let pages = [
        "/".to_owned(),
        "/posts".into(),
        "/posts?status=draft".into(),
        "/posts/new".into(),
        format!("/posts/{pid}"),
        format!("/posts/{pid}/executions"),
        "/calendar".into(),
        "/calendar?view=week".into(),
        "/accounts".into(),
        "/accounts?status=active&language=en&search=it".into(),
        "/accounts/import".into(),
        format!("/accounts/{aid}"),
        "/groups".into(),
        format!("/groups/{gid}"),
        "/proxies".into(),
        "/users".into(),
        "/logs".into(),
    ];
    for (lang, marker) in [("en", "Sign out"), ("ru", "Выйти")] {
        let resp = no_redirects()
            .post(app.url("/language"))
            .header("cookie", &cookie)
            .form(&[("language", lang), ("back", "/posts")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[LOCATION], "/posts");
        for path in &pages {
            let (status, html) = page(&app, &cookie, path).await;
            assert_eq!(status, StatusCode::OK, "{lang} {path}");
            if !path.ends_with("/executions") {
                assert!(
                    html.contains(&format!("<html lang=\"{lang}\">")),
                    "{lang} {path}"
                );
                assert!(html.contains(marker), "{lang} {path}");
            }
        }
    }
    // The account page's settings form goes through the API's update.
    let resp = no_redirects()
        .post(app.url(&format!("/accounts/{aid}/action")))
        .header("cookie", &cookie)
        .form(&[
            ("action", "edit"),
            ("group_id", ""),
            ("language", "es"),
            ("posts_limit_per_day", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let account = icf_store::accounts::get(&app.db, aid.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(account.language, "es");
    assert_eq!(account.posts_limit_per_day, 5);
    assert_eq!(account.group_id, None);
    // Bulk: back into the group, reported per account.
    let resp = no_redirects()
        .post(app.url("/accounts/bulk"))
        .header("cookie", &cookie)
        .form(&[
            ("action", "move"),
            ("group_id", gid.as_str()),
            ("id", aid.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("it_en_1: IT"));
    // Pasted import lines, with a result per line.
    let form = Form::new()
        .text("lines", "new_one:pw-123456:ru:IT\nbad line\n")
        .text("language", "en");
    let resp = no_redirects()
        .post(app.url("/accounts/import"))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"import-created\">1<"), "{html}");
    assert!(html.contains("new_one"), "{html}");

    // The source language's card edits the caption itself; another language's, a translation.
    for (lang, text) in [("en", "Hello <again> #one"), ("es", "Hola otra vez #one")] {
        let resp = no_redirects()
            .post(app.url(&format!("/posts/{pid}/translations/{lang}")))
            .header("cookie", &cookie)
            .form(&[("text", text)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let html = resp.text().await.unwrap();
        assert!(html.contains("class=\"ok small\""), "{lang}: {html}");
    }
    let post = icf_store::posts::get(&app.db, pid.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(post.caption_original, "Hello <again> #one");
    let stored = icf_store::post_translations::list(&app.db, post.id)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .any(|t| t.language == "es" && t.text == "Hola otra vez #one")
    );

    // A user's password reset by an admin: the old one stops working.
    let writer_pw = app
        .create_user("writer", icf_core::enums::Role::Editor)
        .await;
    let writer = icf_store::users::find_by_username(&app.db, "writer")
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    let resp = no_redirects()
        .post(app.url(&format!("/users/{writer}")))
        .header("cookie", &cookie)
        .form(&[("password", "a brand new password 42")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "writer", "password": writer_pw})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("writer", "a brand new password 42").await;

    // Never back to another site.
    let resp = no_redirects()
        .post(app.url("/language"))
        .header("cookie", &cookie)
        .form(&[("language", "en"), ("back", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/");
    // User text is escaped.
    let (_, html) = page(&app, &cookie, &format!("/posts/{pid}")).await;
    assert!(
        html.contains("Hello &#60;again&#62;") || html.contains("Hello &lt;again&gt;"),
        "{html}"
    );
    let (status, _) = page(&app, &cookie, "/posts/not-a-post").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A browser lost outside the API gets a page; API clients keep the JSON shape.
    let resp = no_redirects()
        .get(app.url("/no-such-page"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await.unwrap().contains("Page not found"));
    let (status, body) = app
        .call(Method::GET, "/api/no-such-route", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let css = no_redirects()
        .get(app.url("/static/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

/// Reads the stream until an event (name, data) passes `keep`.
async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buffer: &mut String,
    keep: impl Fn(&str, &Value) -> bool,
) -> (String, Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event: "));
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(e), Some(d)) = (event, data) {
                let v: Value = serde_json::from_str(d).unwrap();
                if keep(e, &v) {
                    return (e.to_owned(), v);
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no such event in time"))
            .expect("stream open")
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

async fn the_event_stream_sends_queue_counts_and_execution_changes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let token = app.login("root", &password).await;
    let (_, _, pid) = seed(&app, &token).await;

    let resp = no_redirects()
        .get(app.url("/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The UI's cookie works as well as a bearer token.
    let cookie = ui_cookie(&app, "root", &password).await;
    let resp = no_redirects()
        .get(app.url("/api/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    drop(resp);

    let resp = app
        .request(Method::GET, "/api/events", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = resp.bytes_stream();
    let mut buffer = String::new();
    let (_, first) = next_event(&mut stream, &mut buffer, |name, _| name == "queue").await;
    assert_eq!(first["waiting"], 0, "{first}");

    // No worker runs: publishing leaves one job waiting and one execution queued.
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{pid}/publish"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The poller sends the counts, then the changes, of each tick: watch for both.
    let (mut change, mut queue) = (Value::Null, Value::Null);
    while change.is_null() || queue.is_null() {
        let (name, v) = next_event(&mut stream, &mut buffer, |name, v| {
            (name == "execution" && v["post_id"] == pid.as_str())
                || (name == "queue" && v["waiting"] == 1)
        })
        .await;
        if name == "execution" {
            change = v;
        } else {
            queue = v;
        }
    }
    assert_eq!(change["status"], "queued", "{change}");
    assert_eq!(queue["running"], 0, "{queue}");

    // Cancelling from the post page: the fragment comes back, and the stream says so.
    let resp = no_redirects()
        .post(app.url(&format!("/posts/{pid}/cancel")))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-status=\"cancelled\""), "{html}");
    let (_, change) = next_event(&mut stream, &mut buffer, |name, v| {
        name == "execution" && v["status"] == "cancelled"
    })
    .await;
    assert_eq!(change["post_id"], pid.as_str());
}

/// Issue 16 item 6: the account page shows the emulated phone's model, SIM carrier,
/// locale and time zone, all of the proxy's country.
async fn the_account_page_shows_the_phones_carrier_locale_and_clock(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let token = app.login("root", &password).await;
    let cookie = ui_cookie(&app, "root", &password).await;
    let mut ids = Vec::new();
    for (port, country) in [(9, "RU"), (10, "LI")] {
        let (status, proxy) = app
            .call(
                Method::POST,
                "/api/proxies/",
                Some(&token),
                Some(json!({"url": format!("socks5://127.0.0.1:{port}"), "country": country})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{proxy}");
        let id = app
            .new_account(
                &token,
                json!({"username": format!("phone_{port}"), "password": "pw-123456",
                       "language": "ru", "proxy_id": proxy["id"]}),
            )
            .await;
        ids.push(id);
    }

    let wire = icf_store::publishing::account_wire(&app.db, ids[0].parse().unwrap())
        .await
        .unwrap();
    let device: icf_core::device::Device = serde_json::from_value(wire.device).unwrap();
    let carrier = device.network.clone().expect("RU has carriers");
    let (status, html) = page(&app, &cookie, &format!("/accounts/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        device.model.as_str(),
        "SIM carrier",
        carrier.name.as_str(),
        &format!("MCC 250 · MNC {}", carrier.mnc()),
        "ru_RU",
        "GMT+03:00",
    ] {
        assert!(html.contains(shown), "{shown} not on the page");
    }

    // A country without carriers in the data says so instead of inventing one.
    let (status, html) = page(&app, &cookie, &format!("/accounts/{}", ids[1])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("none for this country"), "{html}");
    assert!(html.contains("ru_LI") && html.contains("GMT+00:00"));
}

/// The account page shows the account's age, warm-up stage and allowance, and its form sets
/// the registration date (issue #17: every account used to be treated as new).
async fn the_account_page_shows_and_sets_the_accounts_age(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let password = app.create_user("root", icf_core::enums::Role::Admin).await;
    let token = app.login("root", &password).await;
    let cookie = ui_cookie(&app, "root", &password).await;
    let id = app
        .new_account(
            &token,
            json!({"username": "aged_one", "password": "pw-123456", "language": "en",
                   "auto_proxy": false}),
        )
        .await;
    let dd = |html: &str, id: &str| -> String {
        let start = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"));
        let rest = &html[start..];
        rest[rest.find('>').unwrap() + 1..rest.find("</dd>").unwrap()].to_owned()
    };
    let (_, html) = page(&app, &cookie, &format!("/accounts/{id}")).await;
    assert!(
        dd(&html, "account-age").contains("registration date unknown"),
        "{html}"
    );
    assert_eq!(dd(&html, "account-warmup"), "stage 0/3");
    assert_eq!(dd(&html, "account-allowance"), "2");

    let resp = no_redirects()
        .post(app.url(&format!("/accounts/{id}/action")))
        .header("cookie", &cookie)
        .form(&[
            ("action", "edit"),
            ("group_id", ""),
            ("registered_at", "2019-04-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, html) = page(&app, &cookie, &format!("/accounts/{id}")).await;
    assert!(dd(&html, "account-age").contains("2019-04-01"), "{html}");
    assert_eq!(dd(&html, "account-warmup"), "done");
    assert_eq!(dd(&html, "account-allowance"), "10");
    assert!(
        html.contains("value=\"2019-04-01\""),
        "the form shows the date"
    );
}
