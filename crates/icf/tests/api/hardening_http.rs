//! Issue #18, the HTTP server's own defences: slow clients are timed out and connections
//! capped; every answer carries the security headers; redirects stay on the site.

use std::time::{Duration, Instant};

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Engine, TestApp};

engine_tests!(
    a_half_sent_request_is_closed_after_the_header_timeout_while_others_are_served,
    idle_keep_alive_connections_and_stalled_bodies_are_closed,
    connections_beyond_the_cap_wait_for_a_free_slot,
    every_kind_of_answer_carries_the_security_headers,
    the_language_switch_redirects_only_within_the_site,
    cookies_are_secure_when_configured,
);

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; `None` if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

async fn a_half_sent_request_is_closed_after_the_header_timeout_while_others_are_served(
    engine: Engine,
) {
    let app = TestApp::spawn_with(engine, &[("ICF_HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        s.write_all(b"GET /heal").await.unwrap();
        slow.push(s);
    }
    // Meanwhile the server answers everyone else.
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for s in &mut slow {
        assert!(
            closed_within(s, Duration::from_secs(5)).await.is_some(),
            "a connection with half a request line is still open after {:?}",
            started.elapsed()
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
    // A client that connects and sends nothing at all is closed too.
    let mut silent = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5))
            .await
            .is_some()
    );
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn idle_keep_alive_connections_and_stalled_bodies_are_closed(engine: Engine) {
    let app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("ICF_HTTP_BODY_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    // One whole request on a keep-alive connection, then silence.
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: icf\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_within(&mut idle, Duration::from_secs(5))
        .await
        .expect("the idle keep-alive connection is closed");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");

    // A body that stops arriving: the request fails and the connection closes, well
    // before a whole-request deadline would have.
    let mut stalled = TcpStream::connect(addr(&app)).await.unwrap();
    stalled
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: icf\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let answer = closed_within(&mut stalled, Duration::from_secs(5))
        .await
        .expect("the stalled upload is closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 4"),
        "a stalled body answers a client error, never a 5xx: {text}"
    );

    // A body that keeps moving, slower than the timeout in total, is read whole.
    let mut slow_body = TcpStream::connect(addr(&app)).await.unwrap();
    let body = br#"{"username":"nobody","password":"wrong-password"}"#;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: icf\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow_body.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(10) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        slow_body.write_all(chunk).await.unwrap();
    }
    let answer = closed_within(&mut slow_body, Duration::from_secs(10))
        .await
        .expect("answered");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
}

async fn connections_beyond_the_cap_wait_for_a_free_slot(engine: Engine) {
    let app = TestApp::spawn_with(
        engine,
        &[
            ("ICF_HTTP_HEADER_TIMEOUT_SECS", "2"),
            ("ICF_HTTP_MAX_CONNECTIONS", "2"),
        ],
    )
    .await;
    // Let the test client's pooled connection (from setting up) go.
    let mut hogs = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        s.write_all(b"GET /").await.unwrap();
        hogs.push(s);
    }
    let fresh = Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let r = fresh
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served once a slot frees");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the third connection did not wait: {:?}",
        started.elapsed()
    );
}

fn assert_security_headers(what: &str, r: &reqwest::Response) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp} lacks {part}");
    }
    // Swagger UI's bundle sets inline styles: allowed under /docs only, never scripts.
    let allowed = if what.contains(" /docs") {
        "style-src 'self' 'unsafe-inline'"
    } else {
        "style-src 'self'"
    };
    let unsafe_parts: Vec<_> = csp
        .split(';')
        .map(str::trim)
        .filter(|d| d.contains("unsafe") && *d != allowed)
        .collect();
    assert!(unsafe_parts.is_empty(), "{what}: {csp}");
    for (name, want) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        let got: Vec<_> = h.get_all(name).iter().collect();
        assert_eq!(got, [want], "{what}: {name}");
    }
}

async fn every_kind_of_answer_carries_the_security_headers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.admin_token().await;
    let cookie = format!("icf_session={token}");
    let plain = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("/healthz", None, None),
        ("/api/users/", Some(&token), None),
        ("/api/users/", None, None),
        ("/api/no-such-thing", Some(&token), None),
        ("/", None, Some(&cookie)),
        ("/users", None, Some(&cookie)),
        ("/posts/new", None, Some(&cookie)),
        ("/", None, None),
        ("/login", None, None),
        ("/docs/", None, None),
        ("/docs/swagger-initializer.js", None, None),
        ("/openapi.json", None, None),
        ("/static/app.css", None, None),
        ("/static/htmx.min.js", None, None),
        ("/no-such-page", None, Some(&cookie)),
    ];
    for (path, bearer, cookie) in cases {
        let mut req = plain.get(app.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(c) = cookie {
            req = req.header("cookie", *c);
        }
        let r = req.send().await.unwrap();
        assert_security_headers(&format!("GET {path} ({})", r.status()), &r);
    }
    // A cross-site write refused by the CSRF layer, and a form with a bad body.
    let r = plain
        .post(app.url("/users"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "x")])
        .send()
        .await
        .unwrap();
    assert_security_headers(&format!("cross-site POST ({})", r.status()), &r);
}

async fn the_language_switch_redirects_only_within_the_site(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let cookie = format!("icf_session={}", app.admin_token().await);
    let plain = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let switch = async |back: &str| {
        let r = plain
            .post(app.url("/language"))
            .header("cookie", &cookie)
            .form(&[("language", "en"), ("back", back)])
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, location)
    };
    for local in ["/posts?page=2", "/groups", "/"] {
        let (status, location) = switch(local).await;
        assert!(status.is_redirection(), "{local}: {status}");
        assert_eq!(location.as_deref(), Some(local));
    }
    for hostile in [
        "/\\evil.example/x",
        "//evil.example/x",
        "\\\\evil.example",
        "https://evil.example/",
        "evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/x\r\nSet-Cookie: icf_session=stolen",
        "/x\nLocation: https://evil.example/",
        "/x\0y",
        "/\u{7f}",
        "",
    ] {
        let (status, location) = switch(hostile).await;
        assert!(status.is_redirection(), "{hostile:?}: {status}");
        assert_eq!(location.as_deref(), Some("/"), "{hostile:?}");
    }
}

async fn cookies_are_secure_when_configured(engine: Engine) {
    for (secure, extra) in [(false, "false"), (true, "true")] {
        let app = TestApp::spawn_with(engine, &[("ICF_SECURE_COOKIES", extra)]).await;
        let pw = app.create_user("root", icf_core::enums::Role::Admin).await;
        let r = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(app.url("/login"))
            .form(&[("username", "root"), ("password", pw.as_str())])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let set = r
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap()
            .to_owned();
        assert!(set.starts_with("icf_session="), "{set}");
        assert_eq!(set.contains("; Secure"), secure, "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
    }
}
