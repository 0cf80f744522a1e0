//! Glossaries (issue #23, [workflow]) on both engines: the API and its refusals, CSV and
//! TSV imports, a term translated as the glossary says with each provider simulator (DeepL
//! through its own glossary API, Google and LibreTranslate through icf's protection), and
//! a change that sends only the captions holding a changed term back to the provider.

use icf_translate::ProviderKind;
use icf_translate::sim::{Captured, Sim};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, assert_error, status_and_json, wait_for};
use crate::translate::{app_with_deepl, sim};

engine_tests!(
    glossaries_are_read_by_editors_and_written_by_admins,
    bad_glossaries_are_refused_naming_the_field,
    glossaries_import_from_csv_and_tsv,
    deepl_gets_the_glossary_through_its_glossary_api,
    google_and_libretranslate_get_the_terms_protected,
    a_change_retranslates_only_the_captions_holding_a_changed_term,
);

const GLOSSARY: &str = "/api/glossaries/";

fn en_de(entries: Value) -> Value {
    json!({"name": "Brand EN→DE", "source_lang": "en", "target_lang": "de", "entries": entries})
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.post_created(token, GLOSSARY, body).await
}

async fn translate(app: &TestApp, token: &str, text: &str, target: &str) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/translate",
            Some(token),
            Some(json!({"text": text, "source_lang": "en", "target_langs": [target]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"][0].clone()
}

/// The simulator's requests to `path` (the translation endpoint, the glossary API…).
fn to(sim: &Sim, method: &str, path: &str) -> Vec<Captured> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.starts_with(path))
        .collect()
}

async fn import(
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
    file: &str,
) -> (StatusCode, Value) {
    let mut form = Form::new().part(
        "file",
        Part::bytes(file.as_bytes().to_vec()).file_name("glossary.csv"),
    );
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    let req = app.request(Method::POST, "/api/glossaries/import", Some(token));
    status_and_json(req.multipart(form).send().await.expect("request sent")).await
}

async fn glossaries_are_read_by_editors_and_written_by_admins(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let editor = app.editor_token().await;
    let made = create(
        &app,
        &admin,
        en_de(json!({"machine learning": "maschinelles Lernen", "Cloud": "Wolke"})),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    assert_eq!(
        made["entries"],
        json!({"Cloud": "Wolke", "machine learning": "maschinelles Lernen"})
    );
    assert_eq!(made["entry_count"], 2);
    assert_eq!(made["version"], 1);
    assert!(made["deepl_glossary_id"].is_null());

    let list = app.get_ok(&editor, GLOSSARY).await;
    assert_eq!(list["total"], 1, "{list}");
    let one = app.get_ok(&editor, &format!("/api/glossaries/{id}")).await;
    assert_eq!(one["name"], "Brand EN→DE");
    for (method, path, body) in [
        (
            Method::POST,
            GLOSSARY.to_owned(),
            Some(en_de(json!({"a": "b"}))),
        ),
        (
            Method::PUT,
            format!("/api/glossaries/{id}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/api/glossaries/{id}"), None),
    ] {
        let (status, body) = app.call(method.clone(), &path, Some(&editor), body).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }

    let changed = app
        .put_ok(
            &admin,
            &format!("/api/glossaries/{id}"),
            json!({"entries": {"cloud": "Cloud"}, "version": 1}),
        )
        .await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["entries"], json!({"cloud": "Cloud"}));
    assert_eq!(changed["name"], "Brand EN→DE", "an absent field stays");
    // A change made on an old version is refused, not silently overwritten.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/glossaries/{id}"),
            Some(&admin),
            Some(json!({"name": "Old", "version": 1})),
        )
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "version", "{body}");

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/glossaries/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/glossaries/{id}"),
            Some(&editor),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn bad_glossaries_are_refused_naming_the_field(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let long = "x".repeat(101);
    let cases = [
        (en_de(json!({" ": "leer"})), "entries", "empty"),
        (
            en_de(json!({"Apple": "Apfel", "APPLE": "Apfel"})),
            "entries",
            "twice",
        ),
        (
            en_de(json!({long.clone(): "lang"})),
            "entries",
            "longer than 100",
        ),
        (en_de(json!({"sale": ""})), "entries", "empty translation"),
        (en_de(json!({"#sale": "Rabatt"})), "entries", "hashtag"),
        (en_de(json!({})), "entries", "at least one"),
        (
            json!({"name": "x", "source_lang": "klingon", "target_lang": "de", "entries": {"a": "b"}}),
            "source_lang",
            "not a language",
        ),
        (
            json!({"name": "x", "source_lang": "en", "target_lang": "EN", "entries": {"a": "b"}}),
            "target_lang",
            "differ",
        ),
        (
            json!({"name": " ", "source_lang": "en", "target_lang": "de", "entries": {"a": "b"}}),
            "name",
            "1 to 100",
        ),
    ];
    for (body, field, says) in cases {
        let (status, answer) = app
            .call(Method::POST, GLOSSARY, Some(&admin), Some(body.clone()))
            .await;
        let err = assert_error(
            status,
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{body} → {answer}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{says}: {answer}"
        );
    }
    // The same term twice in the JSON object itself is not dropped silently either.
    let resp = app
        .request(Method::POST, GLOSSARY, Some(&admin))
        .header("content-type", "application/json")
        .body(r#"{"name":"x","source_lang":"en","target_lang":"de","entries":{"a":"b","a":"c"}}"#)
        .send()
        .await
        .unwrap();
    let (status, answer) = status_and_json(resp).await;
    let err = assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "entries", "{answer}");

    create(&app, &admin, en_de(json!({"a": "b"}))).await;
    let (status, body) = app
        .call(Method::POST, GLOSSARY, Some(&admin), Some(json!({"name": "Another", "source_lang": "en", "target_lang": "de", "entries": {"c": "d"}})))
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "target_lang", "{body}");
    assert!(
        err["message"].as_str().unwrap().contains("Brand EN→DE"),
        "{body}"
    );
    let (status, body) = app
        .call(Method::POST, GLOSSARY, Some(&admin), Some(json!({"name": "brand en→de", "source_lang": "en", "target_lang": "fr", "entries": {"c": "d"}})))
        .await;
    let err = assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(err["field"], "name", "{body}");
}

async fn glossaries_import_from_csv_and_tsv(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let pair = |target| {
        [
            ("name", "Imported"),
            ("source_lang", "en"),
            ("target_lang", target),
        ]
    };

    let csv = "term,translation\n\"machine learning\",\"apprentissage automatique\"\ncloud,nuage\n";
    let (status, made) = import(&app, &admin, &pair("fr"), csv).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        made["entries"],
        json!({"cloud": "nuage", "machine learning": "apprentissage automatique"})
    );

    let tsv = "cloud\tWolke\nmachine learning\tmaschinelles Lernen\n";
    let (status, made) = import(
        &app,
        &admin,
        &[
            ("name", "TSV"),
            ("source_lang", "en"),
            ("target_lang", "de"),
        ],
        tsv,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["entry_count"], 2);
    assert_eq!(made["entries"]["cloud"], "Wolke");

    // The pair has a glossary: refused, unless asked to replace its terms.
    let (status, body) = import(&app, &admin, &pair("fr"), "sun,soleil\n").await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let mut replace = pair("fr").to_vec();
    replace.push(("replace", "true"));
    let (status, replaced) = import(&app, &admin, &replace, "sun,soleil\n").await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["entries"], json!({"sun": "soleil"}));
    assert_eq!(replaced["version"], 2);

    for (file, field) in [
        ("a,b\nc,d,e\n", "file"),
        ("term,translation\n", "file"),
        ("a,b\nA,c\n", "entries"),
    ] {
        let (status, body) = import(&app, &admin, &pair("es"), file).await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], field, "{file:?}: {body}");
    }
    let editor = app.editor_token().await;
    let (status, body) = import(&app, &editor, &pair("es"), "a,b\n").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

async fn deepl_gets_the_glossary_through_its_glossary_api(engine: Engine) {
    let deepl = sim(ProviderKind::DeepL).await;
    let app = app_with_deepl(engine, &deepl, &[]).await;
    let admin = app.admin_token().await;
    let made = create(
        &app,
        &admin,
        en_de(json!({"machine learning": "maschinelles Lernen", "learning": "Lernen"})),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();

    // No term in the caption: no DeepL glossary needed.
    let plain = translate(&app, &admin, "Good morning #icf", "de").await;
    assert_eq!(plain["text"], "[DE] Good morning #icf");
    assert!(
        to(&deepl, "POST", "/v2/glossaries").is_empty(),
        "no glossary made for nothing"
    );

    let done = translate(&app, &admin, "We love Machine Learning! #ml", "de").await;
    assert_eq!(
        done["text"], "[DE] We love maschinelles Lernen! #ml",
        "{done}"
    );
    let created = to(&deepl, "POST", "/v2/glossaries");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].body["source_lang"], "en");
    assert_eq!(created[0].body["target_lang"], "de");
    assert_eq!(created[0].body["entries_format"], "tsv");
    assert_eq!(
        created[0].body["entries"],
        "learning\tLernen\nmachine learning\tmaschinelles Lernen\n"
    );
    let stored = app.get_ok(&admin, &format!("/api/glossaries/{id}")).await;
    let deepl_id = stored["deepl_glossary_id"]
        .as_str()
        .expect("the DeepL copy is recorded")
        .to_owned();
    let sent = to(&deepl, "POST", "/v2/translate").pop().unwrap();
    assert_eq!(sent.body["glossary_id"], deepl_id.as_str());
    assert_eq!(sent.body["source_lang"], "EN");
    assert!(
        sent.body["text"][0]
            .as_str()
            .unwrap()
            .contains("Machine Learning"),
        "DeepL applies it, icf does not protect it"
    );

    // A post's captions use the glossary of their pair by themselves.
    let group = app.new_group(&admin, "Glossed").await;
    let post = app
        .new_photo_post(&admin, &group, "Machine learning for all", "en")
        .await;
    let preview = app
        .send_expecting(
            StatusCode::OK,
            Method::POST,
            &format!("/api/posts/{post}/translate"),
            &admin,
            json!({"languages": ["de"]}),
        )
        .await;
    let de = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["language"] == "de")
        .cloned()
        .unwrap();
    assert_eq!(de["text"], "[DE] maschinelles Lernen for all", "{preview}");
    assert_eq!(
        to(&deepl, "POST", "/v2/glossaries").len(),
        1,
        "the recorded copy is reused"
    );

    // DeepL's glossaries cannot be edited: a change deletes the copy, the next use makes one.
    app.put_ok(
        &admin,
        &format!("/api/glossaries/{id}"),
        json!({"entries": {"machine learning": "ML"}}),
    )
    .await;
    wait_for(
        async || !to(&deepl, "DELETE", &format!("/v2/glossaries/{deepl_id}")).is_empty(),
        "the old DeepL glossary is deleted",
    )
    .await;
    let again = translate(&app, &admin, "We love Machine Learning! #ml", "de").await;
    assert_eq!(again["text"], "[DE] We love ML! #ml", "{again}");
    assert_eq!(again["from_cache"], false);
    assert_eq!(to(&deepl, "POST", "/v2/glossaries").len(), 2);
    let (status, list) = app
        .call(Method::GET, "/api/glossaries/", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(list["items"][0]["deepl_glossary_id"], deepl_id.as_str());
}

async fn protected_terms_with(engine: Engine, kind: ProviderKind) {
    let provider = sim(kind).await;
    let url = provider.url();
    let vars: Vec<(&str, &str)> = match kind {
        ProviderKind::Google => vec![
            ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
            ("GOOGLE_TRANSLATE_API_URL", url.as_str()),
        ],
        _ => vec![("LIBRETRANSLATE_URL", url.as_str())],
    };
    let app = TestApp::spawn_with(engine, &vars).await;
    let admin = app.admin_token().await;
    create(
        &app,
        &admin,
        en_de(
            json!({"machine learning": "maschinelles Lernen", "machine": "Maschine", "icf": "ICF"}),
        ),
    )
    .await;
    let done = translate(
        &app,
        &admin,
        "Machine learning with icf, not a machine. #icf @icf",
        "de",
    )
    .await;
    assert!(done["error"].is_null(), "{kind:?}: {done}");
    let text = done["text"].as_str().unwrap();
    assert!(
        text.contains("maschinelles Lernen") && text.contains("ICF") && text.contains("Maschine."),
        "{kind:?}: {text}"
    );
    assert!(
        text.ends_with(" #icf @icf"),
        "hashtags and mentions stay: {text}"
    );
    assert!(!text.to_lowercase().contains("machine"), "{kind:?}: {text}");
    let sent = serde_json::to_string(&provider.requests().last().unwrap().body).unwrap();
    assert!(
        !sent.to_lowercase().contains("machine"),
        "the provider never saw a term: {sent}"
    );
    assert!(
        provider
            .requests()
            .iter()
            .all(|r| !r.path.contains("glossar"))
    );
}

async fn google_and_libretranslate_get_the_terms_protected(engine: Engine) {
    protected_terms_with(engine, ProviderKind::Google).await;
    protected_terms_with(engine, ProviderKind::LibreTranslate).await;
}

async fn a_change_retranslates_only_the_captions_holding_a_changed_term(engine: Engine) {
    let google = sim(ProviderKind::Google).await;
    let url = google.url();
    let app = TestApp::spawn_with(
        engine,
        &[
            ("GOOGLE_TRANSLATE_API_KEY", "g-key"),
            ("GOOGLE_TRANSLATE_API_URL", url.as_str()),
        ],
    )
    .await;
    let admin = app.admin_token().await;
    let made = create(&app, &admin, en_de(json!({"sun": "Sonne", "moon": "Mond"}))).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let captions = [
        "The sun is up",
        "The moon is up",
        "Nothing here",
        "A moon in French",
    ];
    for c in captions {
        translate(&app, &admin, c, "de").await;
    }
    // The same captions into French have no glossary: never touched.
    translate(&app, &admin, "The moon is up", "fr").await;
    assert_eq!(google.requests().len(), 5);

    let cached = |app: &TestApp| {
        let db = app.db.clone();
        async move { icf_store::translations::stats(&db).await.unwrap().entries }
    };
    assert_eq!(cached(&app).await, 5);
    app.put_ok(
        &admin,
        &format!("/api/glossaries/{id}"),
        json!({"entries": {"sun": "Sonne", "moon": "Mondlicht"}}),
    )
    .await;
    assert_eq!(
        cached(&app).await,
        3,
        "the two German captions holding 'moon' are forgotten"
    );

    google.clear_requests();
    let mut fresh = Vec::new();
    for c in captions {
        let r = translate(&app, &admin, c, "de").await;
        if r["from_cache"] == false {
            fresh.push(c);
        }
        if c.contains("moon") {
            assert!(r["text"].as_str().unwrap().contains("Mondlicht"), "{r}");
        }
    }
    assert_eq!(fresh, ["The moon is up", "A moon in French"]);
    assert_eq!(
        google.requests().len(),
        2,
        "only the captions holding the changed term"
    );
    assert_eq!(
        translate(&app, &admin, "The moon is up", "fr").await["from_cache"],
        true
    );

    // A new term sends back only the captions holding it; removing it does again.
    app.put_ok(
        &admin,
        &format!("/api/glossaries/{id}"),
        json!({"entries": {"sun": "Sonne", "moon": "Mondlicht", "nothing": "nichts"}}),
    )
    .await;
    google.clear_requests();
    for c in captions {
        translate(&app, &admin, c, "de").await;
    }
    assert_eq!(google.requests().len(), 1);
    assert_eq!(
        translate(&app, &admin, "Nothing here", "de").await["text"],
        "nichts [DE] here"
    );

    // Deleting the glossary: the captions that held its terms are translated plainly again.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/glossaries/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    google.clear_requests();
    let plain = translate(&app, &admin, "The sun is up", "de").await;
    assert_eq!(plain["text"], "[DE] The sun is up");
    assert_eq!(plain["from_cache"], false);
}
