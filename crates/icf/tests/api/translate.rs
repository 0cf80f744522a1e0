//! `POST /api/translate` against the real app on both engines, with the provider
//! simulators on loopback: captions that survive, the cache, request counts, fallbacks.

use std::net::SocketAddr;

use icf_translate::ProviderKind;
use icf_translate::sim::{Faults, Sim};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error};

pub(crate) async fn sim(kind: ProviderKind) -> Sim {
    Sim::start(kind, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator starts")
}

/// An app translating with DeepL (simulated), retries shrunk to milliseconds.
pub(crate) async fn app_with_deepl(engine: Engine, deepl: &Sim, extra: &[(&str, &str)]) -> TestApp {
    let url = deepl.url();
    let mut vars = vec![
        ("DEEPL_API_KEY", "test-key:fx"),
        ("DEEPL_API_URL", url.as_str()),
        ("ICF_TRANSLATION_RETRY_INITIAL_MS", "5"),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(engine, &vars).await
}

const CAPTION: &str = "Summer is here, @maria.k! ☀️ Read more: https://example.com/summer?x=1.\n\n\
                       Family time 👨‍👩‍👧 in 🇵🇹 #summer #лето #夏 #गर्मी";

fn result<'a>(body: &'a Value, lang: &str) -> &'a Value {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["language"] == lang)
        .unwrap_or_else(|| panic!("no result for {lang}: {body}"))
}

async fn translate(
    app: &TestApp,
    token: &str,
    text: &str,
    targets: &[&str],
) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/translate",
        Some(token),
        Some(json!({"text": text, "source_lang": "en", "target_langs": targets})),
    )
    .await
}

async fn no_provider_means_captions_by_hand(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let token = app.editor_token().await;
    let (status, body) = translate(&app, &token, "Hello", &["ru"]).await;
    let err = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    );
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("no translation provider is configured"),
        "{message}"
    );
    assert!(message.contains("DEEPL_API_KEY"), "{message}");
    assert!(message.contains("by hand"), "{message}");
}

async fn bad_requests_name_the_field(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    let cases = [
        (
            json!({"text": "  ", "source_lang": "en", "target_langs": ["ru"]}),
            "text",
        ),
        (
            json!({"text": "Hi", "source_lang": "xx", "target_langs": ["ru"]}),
            "source_lang",
        ),
        (
            json!({"text": "Hi", "source_lang": "en", "target_langs": []}),
            "target_langs",
        ),
        (
            json!({"text": "Hi", "source_lang": "en", "target_langs": ["ru", "klingon"]}),
            "target_langs[1]",
        ),
        (json!({"text": "Hi", "source_lang": "en"}), "target_langs"),
    ];
    for (req, field) in cases {
        let (status, body) = app
            .call(Method::POST, "/api/translate", Some(&token), Some(req))
            .await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{body}");
    }
    let (status, body) = app
        .call(
            Method::POST,
            "/api/translate",
            None,
            Some(json!({"text": "Hi", "source_lang": "en", "target_langs": ["ru"]})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(deepl.requests().is_empty(), "nothing reached the provider");
}

async fn captions_survive_and_the_cache_makes_repeats_free(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;

    let (status, body) = translate(&app, &token, CAPTION, &["ru", "de", "hi", "en"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["provider"], "deepl");

    // Russian: one request with XML placeholders; every protected token back in place.
    let ru = result(&body, "ru");
    assert_eq!(ru["from_cache"], false);
    assert_eq!(ru["provider"], "deepl");
    assert!(ru["error"].is_null(), "{ru}");
    let text = ru["text"].as_str().unwrap();
    assert!(
        text.starts_with("[RU] Summer is here, @maria.k! ☀️"),
        "{text}"
    );
    assert!(text.contains("https://example.com/summer?x=1."), "{text}");
    assert!(text.contains("\n\nFamily time 👨‍👩‍👧 in 🇵🇹"), "{text}");
    assert!(text.ends_with(" #summer #лето #夏 #गर्मी"), "{text}");

    // Hindi has no tag handling at DeepL: fragments, same tokens.
    let hi = result(&body, "hi")["text"].as_str().unwrap().to_owned();
    assert!(
        hi.contains("@maria.k") && hi.contains("👨‍👩‍👧") && hi.contains("#गर्मी"),
        "{hi}"
    );
    assert!(hi.contains("[HI] Family time"), "{hi}");

    // The source language costs nothing and is kept as written.
    let en = result(&body, "en");
    assert_eq!(en["text"], CAPTION);
    assert!(en["provider"].is_null());

    let reqs = deepl.requests();
    let targets: Vec<&str> = reqs
        .iter()
        .map(|r| r.body["target_lang"].as_str().unwrap())
        .collect();
    assert_eq!(reqs.len(), 3, "one request per language: {targets:?}");
    let ru_req = reqs.iter().find(|r| r.body["target_lang"] == "RU").unwrap();
    assert_eq!(ru_req.body["tag_handling"], "xml");
    let sent = ru_req.body["text"][0].as_str().unwrap();
    assert!(
        !sent.contains("maria") && !sent.contains("example.com") && !sent.contains('#'),
        "{sent}"
    );
    let hi_req = reqs.iter().find(|r| r.body["target_lang"] == "HI").unwrap();
    assert!(hi_req.body.get("tag_handling").is_none());
    assert_eq!(hi_req.body["context"], CAPTION);

    // Again, with other whitespace at the ends: all from the cache, no request.
    let again = format!("  {CAPTION}\r\n");
    let (status, body2) = translate(&app, &token, &again, &["de", "ru", "hi"]).await;
    assert_eq!(status, StatusCode::OK, "{body2}");
    for lang in ["ru", "de", "hi"] {
        let r = result(&body2, lang);
        assert_eq!(r["from_cache"], true, "{r}");
        assert_eq!(r["text"], result(&body, lang)["text"]);
    }
    assert_eq!(
        deepl.requests().len(),
        3,
        "a cached caption costs no request"
    );
    let stats = icf_store::translations::stats(&app.db).await.unwrap();
    assert_eq!(stats.entries, 3);
    assert_eq!(stats.hits, 3);
    let (status, stats) = app
        .call(Method::GET, "/api/translate/stats", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        stats,
        json!({"provider": "deepl", "cache_entries": 3, "cache_hits": 3,
               "since_start": {"hits": 3, "misses": 3}})
    );
}

async fn one_post_to_many_accounts_costs_one_request_per_language(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    // Slow answers keep the first calls in flight while the others arrive.
    deepl.set_faults(Faults {
        slow: 12,
        delay_ms: 300,
        ..Faults::default()
    });
    // 12 accounts in 3 languages, as the publishing flow will ask, concurrently.
    let accounts = [
        "ru", "de", "es", "ru", "ru", "de", "es", "es", "de", "ru", "de", "es",
    ];
    let calls = accounts.iter().map(|lang| {
        translate(
            &app,
            &token,
            "Morning run #fit 🏃",
            std::slice::from_ref(lang),
        )
    });
    for (status, body) in futures_util::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body["results"][0]["text"]
                .as_str()
                .unwrap()
                .ends_with("#fit 🏃")
        );
    }
    assert_eq!(
        deepl.requests().len(),
        3,
        "one request per language, whatever the accounts"
    );
}

async fn dropped_placeholders_fall_back_to_fragments(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    deepl.set_faults(Faults {
        drop_placeholder: 1,
        ..Faults::default()
    });
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    let caption = "Hi @ann, look 👀 at this!\nNew post #art";
    let (status, body) = translate(&app, &token, caption, &["fr"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fr = result(&body, "fr");
    assert_eq!(
        fr["text"],
        "[FR] Hi @ann[FR] , look 👀 [FR] at this!\n[FR] New post #art"
    );
    let warnings = fr["warnings"].to_string();
    assert!(warnings.contains("fragment by fragment"), "{warnings}");
    let reqs = deepl.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].body["text"],
        json!(["Hi", ", look", "at this!", "New post"])
    );

    // A duplicated placeholder is caught the same way.
    deepl.set_faults(Faults {
        duplicate_placeholder: 1,
        ..Faults::default()
    });
    let (status, body) = translate(&app, &token, "Buy @shop now 🛒 today", &["nl"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let nl = result(&body, "nl");
    assert_eq!(nl["text"], "[NL] Buy @shop [NL] now 🛒 [NL] today");
    assert!(nl["warnings"].to_string().contains("duplicated"), "{nl}");
}

async fn quota_and_bad_keys_are_explained_per_language(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    deepl.set_faults(Faults {
        quota_exhausted: true,
        ..Faults::default()
    });
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    let (status, body) = translate(&app, &token, "Hello #x", &["de", "ru"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for lang in ["de", "ru"] {
        let r = result(&body, lang);
        assert!(r["text"].is_null());
        assert_eq!(r["error"]["code"], "quota_exceeded");
        assert!(r["error"]["message"].as_str().unwrap().contains("quota"));
    }
    assert_eq!(deepl.requests().len(), 2, "456 is not retried");
    let stats = icf_store::translations::stats(&app.db).await.unwrap();
    assert_eq!(stats.entries, 0, "failures are not cached");

    let bad = sim(ProviderKind::DeepL).await;
    let url = bad.url();
    let app = TestApp::spawn_with(
        engine,
        &[
            ("DEEPL_API_KEY", "invalid"),
            ("DEEPL_API_URL", url.as_str()),
        ],
    )
    .await;
    let token = app.admin_token().await;
    let (status, body) = translate(&app, &token, "Hello", &["de"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let de = result(&body, "de");
    assert_eq!(de["error"]["code"], "bad_api_key");
    assert!(
        !body.to_string().contains("invalid"),
        "the key is never echoed: {body}"
    );
}

async fn an_exhausted_quota_falls_back_to_the_second_provider(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    deepl.set_faults(Faults {
        quota_exhausted: true,
        ..Faults::default()
    });
    let google = sim(ProviderKind::Google).await;
    let gurl = google.url();
    let app = app_with_deepl(
        engine,
        &deepl,
        &[
            ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
            ("GOOGLE_TRANSLATE_API_URL", gurl.as_str()),
            ("TRANSLATION_FALLBACK_PROVIDER", "google"),
        ],
    )
    .await;
    let token = app.editor_token().await;
    let (status, body) = translate(&app, &token, "Hello there #x", &["uk"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uk = result(&body, "uk");
    assert_eq!(uk["text"], "[UK] Hello there #x");
    assert_eq!(uk["provider"], "google");
    assert!(
        uk["warnings"][0].as_str().unwrap().contains("quota"),
        "{uk}"
    );
    assert_eq!(google.requests().len(), 1);
    // The cached copy remembers who translated it.
    let (_, body) = translate(&app, &token, "Hello there #x", &["uk"]).await;
    assert_eq!(result(&body, "uk")["provider"], "google");
    assert_eq!(result(&body, "uk")["from_cache"], true);
}

async fn libretranslate_says_which_languages_it_cannot_do(engine: Engine) {
    let libre = sim(ProviderKind::LibreTranslate).await;
    let url = libre.url();
    let app = TestApp::spawn_with(engine, &[("LIBRETRANSLATE_URL", url.as_str())]).await;
    let token = app.editor_token().await;
    let (status, body) = translate(&app, &token, "Good night 🌙 #sleep", &["es", "hy"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["provider"], "libretranslate");
    assert_eq!(result(&body, "es")["text"], "[ES] Good night 🌙 #sleep");
    let hy = result(&body, "hy");
    assert_eq!(hy["error"]["code"], "unsupported_language");
    assert!(
        hy["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Armenian"),
        "{hy}"
    );
}

async fn over_limit_captions_carry_warnings(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[("ICF_MAX_HASHTAGS", "2")]).await;
    let token = app.editor_token().await;
    let (status, body) = translate(&app, &token, "Tags #a #b #c", &["it"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["source_warnings"][0]
            .as_str()
            .unwrap()
            .contains("3 hashtags"),
        "{body}"
    );
    let it = result(&body, "it");
    assert_eq!(it["text"], "[IT] Tags #a #b #c");
    assert!(
        it["warnings"][0].as_str().unwrap().contains("at most 2"),
        "{it}"
    );
}

/// `icf sim libretranslate --listen ADDR` as a separate process, driven over HTTP only:
/// fault injection through `PUT /__sim/faults`, requests read from `GET /__sim/requests`.
async fn the_sim_command_serves_a_provider_to_a_real_app(engine: Engine) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_icf"))
        .args([
            "sim",
            "libretranslate",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("icf sim starts");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let result = async {
        assert!(up, "icf sim did not answer /healthz");
        let resp = client
            .put(format!("{url}/__sim/faults"))
            .json(&json!({"fail_429": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let app = TestApp::spawn_with(
            engine,
            &[
                ("LIBRETRANSLATE_URL", url.as_str()),
                ("LIBRETRANSLATE_API_KEY", "lt-secret"),
                ("ICF_TRANSLATION_RETRY_INITIAL_MS", "5"),
            ],
        )
        .await;
        let token = app.editor_token().await;
        let (status, body) = translate(&app, &token, "Hola amigos", &["de"]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(result(&body, "de")["text"], "[DE] Hola amigos");
        let seen: Vec<Value> = client
            .get(format!("{url}/__sim/requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(seen.len(), 2, "one 429, then the retry: {seen:?}");
        assert_eq!(seen[1]["body"]["q"], json!(["Hola amigos"]));
        assert_eq!(seen[1]["body"]["api_key"], "***");
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

engine_tests!(
    the_sim_command_serves_a_provider_to_a_real_app,
    no_provider_means_captions_by_hand,
    bad_requests_name_the_field,
    captions_survive_and_the_cache_makes_repeats_free,
    one_post_to_many_accounts_costs_one_request_per_language,
    dropped_placeholders_fall_back_to_fragments,
    quota_and_bad_keys_are_explained_per_language,
    an_exhausted_quota_falls_back_to_the_second_provider,
    libretranslate_says_which_languages_it_cannot_do,
    over_limit_captions_carry_warnings,
    large_batches_run_in_the_background,
);

/// Large batches run as the `translate_text` job: 202 at once, a worker translates, and the
/// result is read back from the cache without another provider request.
async fn large_batches_run_in_the_background(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let token = app.editor_token().await;
    let targets = [
        "de", "fr", "es", "it", "nl", "pl", "pt-BR", "ru", "uk", "tr", "ja", "ko",
    ];
    let (status, queued) = app
        .call(
            Method::POST,
            "/api/translate",
            Some(&token),
            Some(json!({"text": CAPTION, "source_lang": "en", "target_langs": targets})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let status_url = queued["status_url"].as_str().unwrap().to_owned();
    assert!(
        deepl.requests().is_empty(),
        "nothing translated before a worker runs"
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn({
        let db = app.db.clone();
        let settings = app.settings.clone();
        async move {
            icf::startup::run_worker(db, &settings, 2, async {
                let _ = stopped.await;
            })
            .await
        }
    });
    let mut done = Value::Null;
    for _ in 0..200 {
        let (status, body) = app.call(Method::GET, &status_url, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["state"] == "succeeded" {
            done = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    worker.await.unwrap().unwrap();
    assert_eq!(done["state"], "succeeded", "the job did not finish");
    let provider_requests = deepl.requests().len();
    assert!(provider_requests >= 1);
    for lang in targets {
        let r = result(&done["result"], lang);
        assert!(
            r["text"]
                .as_str()
                .is_some_and(|t| t.contains("@maria.k") && t.contains("#лето")),
            "{r}"
        );
        assert_eq!(r["from_cache"], true, "read back from the cache: {r}");
    }
    let (_, again) = app.call(Method::GET, &status_url, Some(&token), None).await;
    assert_eq!(again["state"], "succeeded");
    assert_eq!(
        deepl.requests().len(),
        provider_requests,
        "reading the result costs no request"
    );

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/translate/jobs/{}", uuid::Uuid::now_v7()),
            Some(&token),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}
