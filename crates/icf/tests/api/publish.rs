//! Publishing: the plan, executions and their jobs in one transaction (spec §7 up to the
//! workers), on both engines.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};

engine_tests!(
    failed_executions_can_be_retried_once_each,
    a_global_spacing_scope_plans_posts_one_after_another,
    editing_a_pending_post_replans_it_until_it_starts,
    publishing_to_twenty_accounts_queues_one_job_each_exactly_once,
    publishing_needs_a_caption_for_every_language,
    only_one_attempt_of_an_execution_may_reach_configure,
    a_language_over_instagrams_hashtag_limit_stops_publishing,
);

/// Group IT with 10 en, 5 ru, 5 es accounts, each on its own proxy. Returns the group id.
async fn it_group(app: &TestApp, admin: &str) -> String {
    let (status, group) = app
        .call(
            Method::POST,
            "/api/groups/",
            Some(admin),
            Some(json!({"name": "IT"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    for i in 0..20 {
        let lang = match i {
            0..10 => "en",
            10..15 => "ru",
            _ => "es",
        };
        let (status, acc) = app
            .call(Method::POST, "/api/accounts/", Some(admin), Some(json!({
                "username": format!("it_{lang}_{i}"), "password": "ig-pass-123", "language": lang,
                "group_id": gid, "proxy_url": format!("http://u{i}:p{i}@127.0.0.1:{}", 20000 + i),
            })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{acc}");
    }
    gid
}

async fn photo_post(app: &TestApp, token: &str, group: &str, caption: &str) -> String {
    let form = Form::new()
        .text("caption", caption.to_owned())
        .text("original_language", "ru")
        .text("target_groups", json!([group]).to_string())
        .part(
            "media",
            Part::bytes(crate::posts::jpeg(1080, 1080)).file_name("image.jpg"),
        );
    let resp = app
        .request(Method::POST, "/api/posts/", Some(token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Writes the en and es captions by hand (no translation provider in these tests).
async fn edit_captions(app: &TestApp, admin: &str, post: &str, text: &str) {
    for lang in ["en", "es"] {
        let (status, body) = app
            .call(
                Method::PUT,
                &format!("/api/posts/{post}/translations/{lang}"),
                Some(admin),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn jobs_of_kind(app: &TestApp, kind: &str) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
    icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
        "SELECT state, run_at FROM jobs WHERE kind = $1 ORDER BY run_at"
    )
    .bind(kind)
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn publishing_to_twenty_accounts_queues_one_job_each_exactly_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = it_group(&app, &admin).await;
    let caption = "Новый курс по Python! Скидка 50% 🔥";
    let post = photo_post(&app, &admin, &group, caption).await;
    for (lang, text) in [
        ("en", "New Python course! 50% off 🔥"),
        ("es", "¡Nuevo curso de Python! 50% de descuento 🔥"),
    ] {
        let (status, t) = app
            .call(
                Method::PUT,
                &format!("/api/posts/{post}/translations/{lang}"),
                Some(&admin),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{t}");
        assert_eq!(t["origin"], "edited");
    }

    // The plan first: nothing is written.
    let (status, plan) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/plan"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["items"].as_array().unwrap().len(), 20);
    assert!(jobs_of_kind(&app, "post_to_instagram").await.is_empty());

    let (status, published) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            Some(json!({"when": "now"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["created"], 20);
    assert_eq!(published["status"], "pending");
    let items = published["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    // The accounts go in the post's own shuffled order: the preview and the real plan
    // agree, and it is not language-then-name order (the same accounts first every time).
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&plan), names(&published), "preview and plan agree");
    let mut sorted = names(&published);
    sorted.sort_by_key(|n| {
        let lang = &n[3..5];
        (lang.to_owned(), n[6..].parse::<u32>().unwrap_or(0))
    });
    assert_ne!(
        names(&published),
        sorted,
        "not in language, then name order"
    );
    let etas: Vec<chrono::DateTime<chrono::Utc>> = items
        .iter()
        .map(|i| i["eta"].as_str().unwrap().parse().unwrap())
        .collect();
    for w in etas.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= chrono::Duration::minutes(2) && gap <= chrono::Duration::minutes(5),
            "spacing {gap}"
        );
    }
    assert_eq!(
        published["last_eta"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        *etas.last().unwrap()
    );

    // One job per execution, due at its planned time.
    let jobs = jobs_of_kind(&app, "post_to_instagram").await;
    assert_eq!(jobs.len(), 20);
    assert!(jobs.iter().all(|(state, _)| state == "queued"));
    let job_times: Vec<_> = jobs.iter().map(|(_, t)| t.timestamp()).collect();
    let plan_times: Vec<_> = etas.iter().map(|t| t.timestamp()).collect();
    assert_eq!(job_times, plan_times);

    // Each account got the caption of its language.
    let (_, ex) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/executions"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ex["totals"]["total"], 20);
    assert_eq!(ex["totals"]["queued"], 20);
    for e in ex["items"].as_array().unwrap() {
        let expected = match e["language"].as_str().unwrap() {
            "en" => "New Python course! 50% off 🔥",
            "es" => "¡Nuevo curso de Python! 50% de descuento 🔥",
            _ => caption,
        };
        assert_eq!(e["caption"], expected, "{e}");
    }

    // Publishing again creates nothing twice.
    let (status, again) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["created"], 0);
    assert_eq!(jobs_of_kind(&app, "post_to_instagram").await.len(), 20);

    // Cancelling stops every queued execution and its job.
    let (status, c) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/cancel"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["cancelled"], 20);
    assert!(
        jobs_of_kind(&app, "post_to_instagram")
            .await
            .iter()
            .all(|(s, _)| s == "cancelled")
    );
    let (_, ex) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/executions"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ex["totals"]["cancelled"], 20);

    // A deleted post leaves no queued job behind.
    let post2 = photo_post(&app, &admin, &group, caption).await;
    edit_captions(&app, &admin, &post2, "x").await;
    let (status, p2) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post2}/publish"),
            Some(&admin),
            Some(json!({"when": "2031-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p2}");
    assert_eq!(p2["created"], 20, "{p2}");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{post2}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let queued = jobs_of_kind(&app, "post_to_instagram")
        .await
        .iter()
        .filter(|(s, _)| s == "queued")
        .count();
    assert_eq!(queued, 0, "the deleted post's jobs were cancelled");
}

async fn publishing_needs_a_caption_for_every_language(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = it_group(&app, &admin).await;
    // A banned account is left out with its reason, the others are planned.
    let (_, list) = app
        .call(
            Method::GET,
            "/api/accounts/?search=it_en_0&per_page=1",
            Some(&admin),
            None,
        )
        .await;
    let banned = list["items"][0]["id"].as_str().unwrap().to_owned();
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE accounts SET status = 'banned' WHERE id = $1"
    )
    .bind(icf_store::DbUuid(banned.parse().unwrap()))
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());

    let post = photo_post(&app, &admin, &group, "Привет").await;
    // No translation provider in tests: en and es have no caption yet.
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
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
    assert_eq!(err["field"], "translations");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("en") && message.contains("es"),
        "{message}"
    );
    assert!(
        jobs_of_kind(&app, "post_to_instagram").await.is_empty(),
        "nothing queued"
    );

    // The preview says why each language is missing.
    let (status, preview) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/translate"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let en = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["language"] == "en")
        .unwrap();
    assert!(en["text"].is_null());
    assert!(en["error"].as_str().unwrap().contains("by hand"), "{en}");

    for lang in ["en", "es"] {
        app.call(
            Method::PUT,
            &format!("/api/posts/{post}/translations/{lang}"),
            Some(&admin),
            Some(json!({"text": format!("hi {lang}")})),
        )
        .await;
    }
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            Some(json!({"when": "2031-01-01T10:00:00Z", "priority": "high"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 19);
    let excluded = body["excluded"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["reason"], "banned");
    let first: chrono::DateTime<chrono::Utc> =
        body["items"][0]["eta"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        first,
        "2031-01-01T10:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        "scheduled time respected"
    );
    let (_, got) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(got["status"], "pending");
    assert_eq!(got["priority"], "high");

    // Editing the source caption flags the hand edits for review.
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&admin),
            Some(json!({"caption": "Привет, мир"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ts) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/translations"),
            Some(&admin),
            None,
        )
        .await;
    let en = ts
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["language"] == "en")
        .unwrap();
    assert_eq!(en["origin"], "edited");
    assert_eq!(en["stale"], true);

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            Some(json!({"when": "yesterday"})),
        )
        .await;
    assert_eq!(
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed"
        )["field"],
        "when"
    );
}

async fn failed_executions_can_be_retried_once_each(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = it_group(&app, &admin).await;
    let post = photo_post(&app, &admin, &group, "Привет").await;
    edit_captions(&app, &admin, &post, "hi").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Three accounts failed (as the worker would record it), the post ended.
    icf_store::on_pool!(&app.db, |pool| {
        sqlx::query(
        "UPDATE post_executions SET status = 'failed', error_class = 'retryable', error_message = 'HTTP 500' \
         WHERE id IN (SELECT id FROM post_executions ORDER BY planned_at LIMIT 3)"
    )
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE posts SET status = 'failed'"
    )
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());

    let (status, r) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/retry-failed"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["retried"], 3);
    let (_, ex) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/executions"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ex["totals"]["queued"], 20, "{}", ex["totals"]);
    assert_eq!(ex["totals"]["failed"], 0);
    assert!(
        ex["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["error_message"].is_null())
    );
    assert_eq!(
        jobs_of_kind(&app, "post_to_instagram").await.len(),
        23,
        "one new job per retried execution"
    );
    let (_, p) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(p["status"], "pending");

    let (_, again) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/retry-failed"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(again["retried"], 0, "nothing failed any more");
    assert_eq!(jobs_of_kind(&app, "post_to_instagram").await.len(), 23);
}

/// `ICF_SPACING_SCOPE=global`: a second post is planned after every publish of the first,
/// spaced like two accounts of one post; with the default scope it starts at once.
async fn a_global_spacing_scope_plans_posts_one_after_another(engine: Engine) {
    for (scope, global) in [("global", true), ("post", false)] {
        let app = TestApp::spawn_with(engine, &[("ICF_SPACING_SCOPE", scope)]).await;
        let admin = app.admin_token().await;
        let it = it_group(&app, &admin).await;
        let (_, news) = app
            .call(
                Method::POST,
                "/api/groups/",
                Some(&admin),
                Some(json!({"name": "News"})),
            )
            .await;
        let news = news["id"].as_str().unwrap().to_owned();
        for i in 0..2 {
            let (status, acc) = app
                .call(Method::POST, "/api/accounts/", Some(&admin), Some(json!({
                    "username": format!("news_{i}"), "password": "ig-pass-123", "language": "ru",
                    "group_id": news, "proxy_url": format!("http://n{i}:p{i}@127.0.0.1:{}", 21000 + i),
                })))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{acc}");
        }
        let first = photo_post(&app, &admin, &it, "Первый пост").await;
        edit_captions(&app, &admin, &first, "First post").await;
        let (status, published) = app
            .call(
                Method::POST,
                &format!("/api/posts/{first}/publish"),
                Some(&admin),
                Some(json!({"when": "now"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        let first_last: chrono::DateTime<chrono::Utc> =
            published["last_eta"].as_str().unwrap().parse().unwrap();

        let second = photo_post(&app, &admin, &news, "Второй пост").await;
        let (status, plan) = app
            .call(
                Method::GET,
                &format!("/api/posts/{second}/plan"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        let etas: Vec<chrono::DateTime<chrono::Utc>> = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["eta"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(etas.len(), 2, "{plan}");
        let earliest = etas.iter().min().unwrap();
        if global {
            assert!(
                *earliest >= first_last + chrono::Duration::seconds(120),
                "{scope}: {earliest} after {first_last}"
            );
        } else {
            assert!(
                *earliest < chrono::Utc::now() + chrono::Duration::seconds(60),
                "{scope}: {earliest}"
            );
        }
    }
}

/// A scheduled post edited before it starts goes out as edited: new caption, new time,
/// the old jobs cancelled, one execution per account still. Once an account has started,
/// edits are refused and nothing changes.
async fn editing_a_pending_post_replans_it_until_it_starts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = it_group(&app, &admin).await;
    let post = photo_post(&app, &admin, &group, "Старый текст").await;
    edit_captions(&app, &admin, &post, "Old text").await;
    let in_2h = chrono::Utc::now() + chrono::Duration::hours(2);
    let (status, published) = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/publish"),
            Some(&admin),
            Some(json!({"when": in_2h.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["created"], 20);

    let in_5h = chrono::Utc::now() + chrono::Duration::hours(5);
    let (status, edited) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&admin),
            Some(json!({"caption": "Новый текст", "scheduled_at": in_5h.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "pending");
    let (_, ex) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}/executions"),
            Some(&admin),
            None,
        )
        .await;
    let items = ex["items"].as_array().unwrap();
    assert_eq!(items.len(), 20, "one execution per account still");
    for e in items {
        let planned: chrono::DateTime<chrono::Utc> =
            e["planned_at"].as_str().unwrap().parse().unwrap();
        assert!(planned >= in_5h - chrono::Duration::seconds(1), "{e}");
        if e["language"] == "ru" {
            assert_eq!(e["caption"], "Новый текст", "{e}");
        } else {
            assert_eq!(e["caption"], "Old text", "hand edits are kept: {e}");
        }
    }
    let jobs = jobs_of_kind(&app, "post_to_instagram").await;
    assert_eq!(jobs.iter().filter(|(s, _)| s == "cancelled").count(), 20);
    assert_eq!(jobs.iter().filter(|(s, _)| s == "queued").count(), 20);

    // One account has started: the post can no longer be edited.
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE post_executions SET status = 'posting' WHERE id IN \
         (SELECT id FROM post_executions ORDER BY planned_at LIMIT 1)"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected());
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&admin),
            Some(json!({"caption": "Третий текст"})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (_, after) = app
        .call(
            Method::GET,
            &format!("/api/posts/{post}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(after["caption_original"], "Новый текст", "{after}");
    assert_eq!(jobs_of_kind(&app, "post_to_instagram").await.len(), 40);
}

/// The upload marker is taken, not overwritten: of two attempts of one execution (a worker
/// back from a database outage after its lease went to another), only the first to write it
/// goes on to configure; taking it back frees it only for the attempt that wrote it.
async fn only_one_attempt_of_an_execution_may_reach_configure(engine: Engine) {
    use icf_store::publishing::{claim_upload, execution, release_upload};
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "Solo").await;
    app.new_account(
        &admin,
        json!({"username": "solo_one", "password": "ig-pass-123", "language": "ru", "group_id": group,
            "proxy_url": "socks5://u:p@127.0.0.1:20999"}),
    )
    .await;
    let post = app.new_photo_post(&admin, &group, "Один пост", "ru").await;
    let published = app.publish_now(&admin, &post).await;
    assert_eq!(published["created"], 1, "{published}");
    let ex = app
        .get_ok(&admin, &format!("/api/posts/{post}/executions"))
        .await;
    let id: icf_core::ids::ExecutionId = ex["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{ex}"))
        .parse()
        .unwrap();

    assert!(claim_upload(&app.db, id, "first").await.unwrap());
    assert!(
        !claim_upload(&app.db, id, "second").await.unwrap(),
        "a second attempt took the marker"
    );
    release_upload(&app.db, id, "second").await.unwrap();
    assert!(
        !claim_upload(&app.db, id, "third").await.unwrap(),
        "another attempt freed the marker"
    );
    assert_eq!(
        execution(&app.db, id).await.unwrap().upload_id.as_deref(),
        Some("first")
    );
    release_upload(&app.db, id, "first").await.unwrap();
    assert!(claim_upload(&app.db, id, "third").await.unwrap());
    assert_eq!(
        execution(&app.db, id).await.unwrap().upload_id.as_deref(),
        Some("third")
    );
}

/// Since December 2025 Instagram allows 5 hashtags per caption. Every language's final
/// caption is checked before anything is queued: a hand edit with a sixth is refused on
/// save, and a caption that got in anyway (a machine translation or a source caption
/// stored under the old limit of 30) stops the publish with an error naming its language.
async fn a_language_over_instagrams_hashtag_limit_stops_publishing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let group = it_group(&app, &admin).await;
    let post = photo_post(&app, &admin, &group, "Летняя распродажа #a #b #c #d #e").await;
    let six = "Rebajas de verano #a #b #c #d #e #f";

    // On save.
    let err = app
        .refused(
            Method::PUT,
            &format!("/api/posts/{post}/translations/es"),
            &admin,
            json!({"text": six}),
        )
        .await;
    assert_eq!(err["field"], "text");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("es caption has 6 hashtags"),
        "{err}"
    );
    edit_captions(&app, &admin, &post, "Summer sale #a #b #c #d #e").await;

    // On publish: a Spanish machine translation with six hashtags, stored before the limit
    // went down, stops every account, not only the Spanish ones.
    let post_id: icf_core::ids::PostId = post.parse().unwrap();
    icf_store::post_translations::put(
        &app.db,
        post_id,
        "es",
        &icf_core::post::PostTexts {
            caption: six.to_owned(),
            ..Default::default()
        },
        icf_core::enums::TranslationOrigin::Machine,
        Some("deepl"),
        true,
    )
    .await
    .unwrap();
    let publish_path = format!("/api/posts/{post}/publish");
    let publish = || app.call(Method::POST, &publish_path, Some(&admin), None);
    let nothing_queued = async || {
        assert!(
            jobs_of_kind(&app, "post_to_instagram").await.is_empty(),
            "nothing queued"
        );
        let executions = app
            .get_ok(&admin, &format!("/api/posts/{post}/executions"))
            .await;
        assert_eq!(executions["totals"]["total"], 0, "{executions}");
        let p = app.get_ok(&admin, &format!("/api/posts/{post}")).await;
        assert_eq!(p["status"], "draft");
    };
    let (status, body) = publish().await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "translations.es.text");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("the es caption has 6 hashtags; Instagram allows at most 5"),
        "{message}"
    );
    nothing_queued().await;

    // The source language's caption is checked too.
    edit_captions(&app, &admin, &post, "Summer sale #a #b #c #d #e").await;
    icf_store::on_pool!(&app.db, |pool| sqlx::query(
        "UPDATE posts SET caption_original = $1 WHERE id = $2"
    )
    .bind("Летняя распродажа #a #b #c #d #e #f")
    .bind(icf_store::DbUuid(post.parse().unwrap()))
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    let (status, body) = publish().await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "caption");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("ru caption has 6 hashtags"),
        "{err}"
    );
    nothing_queued().await;

    // Corrected, the post goes out to every account.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&admin),
            Some(json!({"caption": "Летняя распродажа #a #b #c #d #e"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = publish().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 20, "{body}");
}
