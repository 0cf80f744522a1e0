//! Each provider client against its simulator, over real HTTP on loopback: batching,
//! limits, error mapping and retries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use icf_core::language::Language;
use icf_translate::provider::Batch;
use icf_translate::sim::{Faults, Sim};
use icf_translate::{ProviderConfig, ProviderKind, RetryPolicy, TranslateError, Translator};
use secrecy::SecretString;

fn l(code: &str) -> Language {
    Language::parse(code).unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

async fn sim(kind: ProviderKind) -> Sim {
    Sim::start(kind, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

fn deepl(sim: &Sim, key: &str, retry: RetryPolicy) -> Arc<dyn Translator> {
    ProviderConfig::DeepL {
        key: SecretString::from(key.to_owned()),
        base_url: Some(sim.url()),
        english: l("en-US"),
        portuguese: l("pt-BR"),
    }
    .build(retry)
    .unwrap()
}

fn google(sim: &Sim, key: &str) -> Arc<dyn Translator> {
    ProviderConfig::Google {
        key: SecretString::from(key.to_owned()),
        base_url: Some(sim.url()),
    }
    .build(fast_retry())
    .unwrap()
}

fn libre(sim: &Sim) -> Arc<dyn Translator> {
    ProviderConfig::LibreTranslate {
        url: sim.url(),
        key: None,
    }
    .build(fast_retry())
    .unwrap()
}

fn batch<'a>(texts: &'a [String], target: &str) -> Batch<'a> {
    Batch {
        texts,
        source: l("en"),
        target: l(target),
        markup: false,
        context: None,
        glossary_id: None,
    }
}

#[tokio::test]
async fn deepl_sends_the_real_protocol_and_batches_by_50() {
    let sim = sim(ProviderKind::DeepL).await;
    let tr = deepl(&sim, "secret-key:fx", fast_retry());
    let texts: Vec<String> = (0..120).map(|i| format!("line {i}")).collect();
    let out = tr.translate(batch(&texts, "pt")).await.unwrap();
    assert_eq!(out.len(), 120);
    assert_eq!(out[0], "[PT-BR] line 0");
    assert_eq!(out[119], "[PT-BR] line 119");
    let reqs = sim.requests();
    assert_eq!(reqs.len(), 3, "120 texts → 50 + 50 + 20");
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/translate");
    assert_eq!(r.headers["authorization"], "DeepL-Auth-Key ***");
    assert!(r.headers["user-agent"].starts_with("icf/"));
    assert_eq!(r.body["text"].as_array().unwrap().len(), 50);
    assert_eq!(r.body["target_lang"], "PT-BR");
    assert_eq!(r.body["source_lang"], "EN");
    assert!(r.body.get("tag_handling").is_none());
    assert_eq!(reqs[2].body["text"].as_array().unwrap().len(), 20);
    assert_eq!(
        sim.characters_billed(),
        texts.iter().map(|t| t.chars().count() as u64).sum::<u64>()
    );
}

#[tokio::test]
async fn deepl_requests_stay_under_128_kib() {
    let sim = sim(ProviderKind::DeepL).await;
    let tr = deepl(&sim, "k", fast_retry());
    // 40 texts of 6 KB: fewer than 50, but 240 KB together.
    let texts: Vec<String> = (0..40)
        .map(|i| format!("{i} {}", "é".repeat(3000)))
        .collect();
    let out = tr.translate(batch(&texts, "de")).await.unwrap();
    assert_eq!(out.len(), 40);
    let reqs = sim.requests();
    assert!(reqs.len() >= 2, "{} requests", reqs.len());
    for r in &reqs {
        assert!(serde_json::to_vec(&r.body).unwrap().len() <= 128 * 1024);
    }
}

#[tokio::test]
async fn deepl_placeholders_use_xml_tag_handling() {
    let sim = sim(ProviderKind::DeepL).await;
    let tr = deepl(&sim, "k", fast_retry());
    assert!(tr.supports_markup(l("ru")));
    assert!(!tr.supports_markup(l("hi")), "Hindi is text-only at DeepL");
    let texts = vec!["Hello <x id=\"0\"/> world".to_owned()];
    let out = tr
        .translate(Batch {
            markup: true,
            ..batch(&texts, "ru")
        })
        .await
        .unwrap();
    assert_eq!(out, vec!["[RU] Hello <x id=\"0\"/> world".to_owned()]);
    let body = &sim.requests()[0].body;
    assert_eq!(body["tag_handling"], "xml");
    assert_eq!(body["tag_handling_version"], "v2");
    assert_eq!(body["ignore_tags"], serde_json::json!(["x"]));
}

#[tokio::test]
async fn deepl_retries_429_and_5xx_then_succeeds() {
    let sim = sim(ProviderKind::DeepL).await;
    sim.set_faults(Faults {
        fail_429: 2,
        fail_5xx: 2,
        status_5xx: Some(500),
        ..Faults::default()
    });
    let tr = deepl(&sim, "k", fast_retry());
    let texts = vec!["hi".to_owned()];
    assert_eq!(
        tr.translate(batch(&texts, "de")).await.unwrap(),
        vec!["[DE] hi"]
    );
    assert_eq!(sim.requests().len(), 5);
}

#[tokio::test]
async fn deepl_gives_up_after_the_retries() {
    let sim = sim(ProviderKind::DeepL).await;
    sim.set_faults(Faults {
        fail_5xx: 100,
        ..Faults::default()
    });
    let tr = deepl(
        &sim,
        "k",
        RetryPolicy {
            max_retries: 3,
            ..fast_retry()
        },
    );
    let texts = vec!["hi".to_owned()];
    let err = tr.translate(batch(&texts, "de")).await.unwrap_err();
    assert!(matches!(err, TranslateError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("4 attempts"), "{err}");
    assert_eq!(sim.requests().len(), 4);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let sim = sim(ProviderKind::DeepL).await;
    sim.set_faults(Faults {
        slow: 1,
        delay_ms: 2_000,
        ..Faults::default()
    });
    let tr = deepl(
        &sim,
        "k",
        RetryPolicy {
            timeout: Duration::from_millis(300),
            ..fast_retry()
        },
    );
    let texts = vec!["hi".to_owned()];
    assert_eq!(
        tr.translate(batch(&texts, "de")).await.unwrap(),
        vec!["[DE] hi"]
    );
    assert_eq!(sim.requests().len(), 2);
}

#[tokio::test]
async fn deepl_quota_and_bad_keys_are_not_retried() {
    let sim = sim(ProviderKind::DeepL).await;
    sim.set_faults(Faults {
        quota_exhausted: true,
        ..Faults::default()
    });
    let texts = vec!["hi".to_owned()];
    let err = deepl(&sim, "k", fast_retry())
        .translate(batch(&texts, "de"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TranslateError::QuotaExceeded {
            provider: ProviderKind::DeepL
        }
    );
    assert_eq!(sim.requests().len(), 1);

    sim.clear_requests();
    let err = deepl(&sim, "invalid", fast_retry())
        .translate(batch(&texts, "de"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TranslateError::BadKey {
            provider: ProviderKind::DeepL
        }
    );
    assert!(!err.to_string().contains("invalid"), "no key in messages");
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn deepl_character_limit_gives_456() {
    let sim = sim(ProviderKind::DeepL).await;
    sim.set_faults(Faults {
        character_limit: Some(10),
        ..Faults::default()
    });
    let tr = deepl(&sim, "k", fast_retry());
    let short = vec!["12345".to_owned()];
    assert!(tr.translate(batch(&short, "de")).await.is_ok());
    let long = vec!["123456".to_owned()];
    assert!(matches!(
        tr.translate(batch(&long, "de")).await,
        Err(TranslateError::QuotaExceeded { .. })
    ));
}

#[tokio::test]
async fn google_sends_format_text_and_maps_its_errors() {
    let sim = sim(ProviderKind::Google).await;
    let tr = google(&sim, "g-key");
    let texts: Vec<String> = (0..130).map(|i| format!("Tom's <{i}>")).collect();
    let out = tr.translate(batch(&texts, "zh-Hans")).await.unwrap();
    // format=text: no HTML escaping of ' < >.
    assert_eq!(out[3], "[ZH-CN] Tom's <3>");
    let reqs = sim.requests();
    assert_eq!(reqs.len(), 2, "128 segments per request");
    assert_eq!(reqs[0].path, "/language/translate/v2");
    assert_eq!(reqs[0].query.as_deref(), Some("key=***"));
    assert_eq!(reqs[0].body["format"], "text");
    assert_eq!(reqs[0].body["target"], "zh-CN");
    assert_eq!(reqs[0].body["q"].as_array().unwrap().len(), 128);

    let one = vec!["hi".to_owned()];
    let err = google(&sim, "invalid")
        .translate(batch(&one, "de"))
        .await
        .unwrap_err();
    assert!(matches!(err, TranslateError::BadKey { .. }), "{err:?}");

    sim.set_faults(Faults {
        fail_429: 1,
        fail_5xx: 1,
        ..Faults::default()
    });
    sim.clear_requests();
    assert!(tr.translate(batch(&one, "de")).await.is_ok());
    assert_eq!(sim.requests().len(), 3);

    sim.set_faults(Faults {
        quota_exhausted: true,
        ..Faults::default()
    });
    let err = tr.translate(batch(&one, "de")).await.unwrap_err();
    assert!(
        matches!(err, TranslateError::QuotaExceeded { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn libretranslate_reports_languages_its_server_lacks() {
    let sim = sim(ProviderKind::LibreTranslate).await;
    let tr = libre(&sim);
    let texts = vec!["hello".to_owned(), "world".to_owned()];
    assert_eq!(
        tr.translate(batch(&texts, "pt-BR")).await.unwrap(),
        vec!["[PT-BR] hello", "[PT-BR] world"]
    );
    let err = tr.translate(batch(&texts, "ka")).await.unwrap_err();
    assert!(
        matches!(&err, TranslateError::UnsupportedLanguage { language, direction: "into", .. } if language == "Georgian"),
        "{err:?}"
    );
    assert!(err.to_string().contains("Georgian"));
    let translate_calls = sim
        .requests()
        .iter()
        .filter(|r| r.path == "/translate")
        .count();
    assert_eq!(translate_calls, 1, "unsupported languages cost no request");

    sim.set_faults(Faults {
        fail_429: 2,
        ..Faults::default()
    });
    assert!(tr.translate(batch(&texts, "de")).await.is_ok());
}

#[tokio::test]
async fn the_deepl_simulator_speaks_deepl_mock_sessions_and_form_bodies() {
    let sim = sim(ProviderKind::DeepL).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let url = format!("{}/v2/translate", sim.url());
    let send = |session: &'static str, extra: &'static [(&'static str, &'static str)]| {
        let mut req = client
            .post(&url)
            .header("Authorization", "DeepL-Auth-Key k")
            .header("User-Agent", "test")
            .header("mock-server-session", session)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("text=Hello&text=World&target_lang=de&ignore_tags=x,y");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.send()
    };
    // Session headers count on the first request of a session: one 429, one 502, one
    // request left unanswered, then answers.
    let faults: &[(&str, &str)] = &[
        ("mock-server-session-429-count", "1"),
        ("mock-server-session-5xx-count", "1"),
        ("mock-server-session-5xx-status", "502"),
        ("mock-server-session-no-response-count", "1"),
    ];
    let first = send("s1", faults).await;
    assert!(first.unwrap_err().is_timeout(), "no response at all");
    assert_eq!(send("s1", &[]).await.unwrap().status(), 429);
    assert_eq!(send("s1", &[]).await.unwrap().status(), 502);
    let ok = send("s1", &[]).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-trace-id"));
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["translations"][1]["text"], "[DE] World");
    // Another session is not affected.
    assert_eq!(send("s2", &[]).await.unwrap().status(), 200);

    let last: serde_json::Value = client
        .get(format!("{}/__session__/last-request", sim.url()))
        .header("mock-server-session", "s1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["body"]["text"], serde_json::json!(["Hello", "World"]));
    assert_eq!(last["headers"]["authorization"], "DeepL-Auth-Key ***");

    // Bad XML under tag handling v2 is refused, as by DeepL.
    let resp = client
        .post(&url)
        .header("Authorization", "DeepL-Auth-Key k")
        .header("User-Agent", "test")
        .json(&serde_json::json!({"text": ["Tom & Jerry"], "target_lang": "DE", "tag_handling": "xml"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // No User-Agent → 400 with DeepL's message; a Bearer token → 403 with an empty body.
    let resp = client
        .post(&url)
        .header("Authorization", "DeepL-Auth-Key k")
        .json(&serde_json::json!({"text": ["x"], "target_lang": "DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["message"],
        "User-Agent header missing."
    );
    let resp = client
        .post(&url)
        .header("Authorization", "Bearer k")
        .header("User-Agent", "test")
        .json(&serde_json::json!({"text": ["x"], "target_lang": "DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().is_empty());
    // Variants are targets only.
    let resp = client
        .post(&url)
        .header("Authorization", "DeepL-Auth-Key k")
        .header("User-Agent", "test")
        .json(&serde_json::json!({"text": ["x"], "target_lang": "DE", "source_lang": "EN-GB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn deepl_escapes_markup_characters_for_strict_xml() {
    let sim = sim(ProviderKind::DeepL).await;
    let tr = deepl(&sim, "k", fast_retry());
    let pieces = icf_translate::caption::tokenize("Tom & Jerry <3 #cats");
    let xml = icf_translate::caption::to_placeholders(&pieces);
    let texts = vec![xml];
    let out = tr
        .translate(Batch {
            markup: true,
            ..batch(&texts, "de")
        })
        .await
        .unwrap();
    assert_eq!(
        icf_translate::caption::from_placeholders(&pieces, &out[0]).unwrap(),
        "[DE] Tom & Jerry <3 #cats"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_then_reported() {
    // A port nobody listens on: bind, note it, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let tr = ProviderConfig::Google {
        key: SecretString::from("g-secret".to_owned()),
        base_url: Some(format!("http://{addr}")),
    }
    .build(RetryPolicy {
        max_retries: 2,
        ..fast_retry()
    })
    .unwrap();
    let texts = vec!["hi".to_owned()];
    let err = tr.translate(batch(&texts, "de")).await.unwrap_err();
    assert!(matches!(err, TranslateError::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("3 attempts"), "{message}");
    assert!(
        !message.contains("g-secret"),
        "the key in the URL leaked: {message}"
    );
}

#[tokio::test]
async fn deepl_reads_the_account_languages_once() {
    let sim = sim(ProviderKind::DeepL).await;
    // This account lacks Hindi: icf learns it from /v3/languages, not from its tables.
    sim.set_faults(Faults {
        hide_languages: vec!["HI".into()],
        ..Faults::default()
    });
    let tr = deepl(&sim, "k", fast_retry());
    tr.prepare().await;
    assert!(tr.supports_markup(l("ru")));
    assert!(tr.supports_markup(l("pt")), "variants keep tag handling");
    let texts = vec!["hi".to_owned()];
    let err = tr.translate(batch(&texts, "hi")).await.unwrap_err();
    assert!(
        matches!(&err, TranslateError::UnsupportedLanguage { language, direction: "into", .. } if language == "Hindi"),
        "{err:?}"
    );
    assert!(
        sim.requests().is_empty(),
        "refused without a translation request"
    );
    assert_eq!(
        tr.translate(batch(&texts, "ko")).await.unwrap(),
        vec!["[KO] hi"]
    );
}
