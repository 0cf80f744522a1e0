//! `GET /metrics`: Prometheus text, figures from the database, optional token.

use reqwest::{Method, StatusCode};

use crate::helpers::{Engine, TestApp};

engine_tests!(metrics_are_prometheus_text_from_the_database);

/// Checks the exposition format line by line (`# TYPE/HELP/UNIT`, samples, `# EOF`) and
/// returns the samples as (name with labels, value).
fn parse(text: &str) -> Vec<(String, f64)> {
    let mut samples = Vec::new();
    let mut saw_eof = false;
    for line in text.lines() {
        assert!(!saw_eof, "content after # EOF");
        if line == "# EOF" {
            saw_eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let kind = rest.split_whitespace().next().unwrap_or("");
            assert!(
                ["TYPE", "HELP", "UNIT"].contains(&kind),
                "bad comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad sample: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
            for pair in series[name_end + 1..series.len() - 1]
                .split(',')
                .filter(|p| !p.is_empty())
            {
                let (k, v) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad label: {line}"));
                assert!(
                    !k.is_empty() && v.starts_with('"') && v.ends_with('"'),
                    "bad label: {line}"
                );
            }
        }
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        samples.push((series.to_owned(), v));
    }
    assert!(saw_eof, "no # EOF");
    samples
}

async fn metrics_are_prometheus_text_from_the_database(engine: Engine) {
    let app = TestApp::spawn_with(engine, &[("ICF_METRICS_TOKEN", "scrape-me")]).await;
    let (status, _) = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = app.admin_token().await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/groups/",
            Some(&admin),
            Some(serde_json::json!({"name": "IT"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for i in 0..3 {
        let (status, a) = app
            .call(Method::POST, "/api/accounts/", Some(&admin), Some(serde_json::json!({
                "username": format!("m_{i}"), "password": "pw-123456", "language": "en", "auto_proxy": false
            })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
    }
    icf_store::jobs::enqueue_now(
        &app.db,
        &icf_store::jobs::NewJob::new("selftest", serde_json::json!({"batch": "m"})),
    )
    .await
    .unwrap();

    // One finished publishing attempt of 2.5 s.
    let job = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, 'post_to_instagram', '{}', 'succeeded', $2, 1, 3, $2, $2)"
    )
    .bind(icf_store::DbUuid(job))
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(
        "INSERT INTO job_attempts (id, job_id, attempt, worker, started_at, finished_at, duration_ms, outcome) \
         VALUES ($1, $2, 1, 'w', $3, $3, 2500, 'succeeded')"
    )
    .bind(icf_store::DbUuid(uuid::Uuid::now_v7()))
    .bind(icf_store::DbUuid(job))
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });

    let resp = app
        .request(Method::GET, "/metrics", Some("scrape-me"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = resp.text().await.unwrap();
    let samples = parse(&text);
    let get = |series: &str| samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v);
    assert_eq!(get(r#"icf_accounts{status="active"}"#), Some(3.0), "{text}");
    assert_eq!(
        get(r#"icf_jobs{kind="selftest",state="queued"}"#),
        Some(1.0),
        "{text}"
    );
    assert!(get("icf_queue_oldest_waiting_seconds").is_some_and(|v| v >= 0.0));
    assert!(
        text.contains("# TYPE icf_publish_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(
        get(r#"icf_publish_duration_seconds_count{outcome="succeeded"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        get(r#"icf_publish_duration_seconds_bucket{le="2.0",outcome="succeeded"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        get(r#"icf_publish_duration_seconds_bucket{le="5.0",outcome="succeeded"}"#),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("pw-123456"));
}
