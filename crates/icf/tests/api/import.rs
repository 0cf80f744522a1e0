//! Bulk import of accounts and proxies through the API and the CLI.

use std::process::{Command, Stdio};

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::accounts::list_names;
use crate::helpers::{Engine, TestApp, TestDb, assert_error};

engine_tests!(
    fixture_files_import_and_reimport_creates_nothing,
    bad_lines_are_reported_with_their_numbers,
    csv_and_multipart_uploads_work,
    ten_thousand_lines_import,
    cli_imports_and_rotates_keys,
);

const ACCOUNTS: &str = include_str!("../fixtures/accounts-60.txt");
const PROXIES: &str = include_str!("../fixtures/proxies-60.txt");

fn count(report: &Value, key: &str) -> i64 {
    report[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {report}"))
}

async fn fixture_files_import_and_reimport_creates_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;

    // A dry run reports everything and saves nothing.
    let (status, dry) = app
        .post_text(
            "/api/proxies/import?dry_run=true",
            &admin,
            "text/plain",
            PROXIES.into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        (count(&dry, "created"), dry["dry_run"].as_bool()),
        (60, Some(true))
    );
    let (_, list) = app
        .call(Method::GET, "/api/proxies", Some(&admin), None)
        .await;
    assert_eq!(list["total"], 0);

    let (_, proxies) = app
        .post_text("/api/proxies/import", &admin, "text/plain", PROXIES.into())
        .await;
    assert_eq!(count(&proxies, "created"), 60, "{proxies}");
    assert!(
        !proxies.to_string().contains("ppass"),
        "no credential in the report"
    );

    let (_, dry) = app
        .post_text(
            "/api/accounts/import?dry_run=1",
            &admin,
            "text/plain",
            ACCOUNTS.into(),
        )
        .await;
    assert_eq!(count(&dry, "created"), 60, "{dry}");
    assert_eq!(list_names(&app, &admin, "/api/accounts".into()).await.0, 0);
    let (_, groups) = app
        .call(Method::GET, "/api/groups", Some(&admin), None)
        .await;
    assert_eq!(groups["total"], 0, "the dry run created no group either");

    let (status, report) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            ACCOUNTS.into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            count(&report, "total"),
            count(&report, "created"),
            count(&report, "invalid")
        ),
        (60, 60, 0),
        "{report}"
    );
    assert_eq!(report["lines"][0]["line"], 1);
    assert_eq!(report["lines"][0]["item"], "fixture_acc_000");
    assert!(
        !report.to_string().contains("Pw-000"),
        "no password in the report"
    );

    let (_, groups) = app
        .call(Method::GET, "/api/groups", Some(&admin), None)
        .await;
    let names: Vec<&str> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Finance", "IT", "News"]);
    let total: i64 = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["accounts_count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 60);
    // Every account got its own proxy from the pool.
    let (_, free) = app
        .call(
            Method::GET,
            "/api/proxies?assigned=false",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(free["total"], 0);
    let (_, acc) = app
        .call(
            Method::GET,
            "/api/accounts?search=fixture_acc_013",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(acc["items"][0]["language"], "pt-BR");
    assert!(
        acc["items"][0]["proxy"]
            .as_str()
            .unwrap()
            .starts_with("http"),
        "{acc}"
    );

    // Again: nothing is created twice.
    let (_, again) = app
        .post_text(
            "/api/accounts/import",
            &admin,
            "text/plain",
            ACCOUNTS.into(),
        )
        .await;
    assert_eq!(
        (count(&again, "created"), count(&again, "duplicate")),
        (0, 60),
        "{again}"
    );
    let (_, again) = app
        .post_text("/api/proxies/import", &admin, "text/plain", PROXIES.into())
        .await;
    assert_eq!(
        (count(&again, "created"), count(&again, "duplicate")),
        (0, 60)
    );
    assert_eq!(list_names(&app, &admin, "/api/accounts".into()).await.0, 60);
    let (_, list) = app
        .call(Method::GET, "/api/proxies", Some(&admin), None)
        .await;
    assert_eq!(list["total"], 60);
}

async fn bad_lines_are_reported_with_their_numbers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let file = "# accounts of the spring campaign\n\
                good_one:pw-1:en\n\
                no_password_here\n\
                \n\
                bad name:pw\n\
                good_two:pw-2:xx\n\
                good_one:other-pw\n\
                proxied:pw:de:Berlin:ftp://h:1\n\
                fine.three:pw:uk:News:socks5://u:p@10.0.0.1:1080\n";
    let (status, report) = app
        .post_text("/api/accounts/import", &admin, "text/plain", file.into())
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let lines: Vec<(i64, String, String)> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_i64().unwrap(),
                l["result"].as_str().unwrap().to_owned(),
                l["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let results: Vec<(i64, &str)> = lines.iter().map(|(n, r, _)| (*n, r.as_str())).collect();
    assert_eq!(
        results,
        [
            (2, "created"),
            (3, "invalid"),
            (5, "invalid"),
            (6, "invalid"),
            (7, "duplicate"),
            (8, "invalid"),
            (9, "created")
        ]
    );
    assert!(lines[1].2.contains("username:password"), "{:?}", lines[1]);
    assert!(lines[2].2.starts_with("username"), "{:?}", lines[2]);
    assert!(lines[3].2.starts_with("language"), "{:?}", lines[3]);
    assert!(lines[4].2.contains("line 2"), "{:?}", lines[4]);
    assert!(lines[5].2.starts_with("proxy_url"), "{:?}", lines[5]);
    assert_eq!(
        (
            count(&report, "created"),
            count(&report, "invalid"),
            count(&report, "duplicate")
        ),
        (2, 4, 1)
    );

    let (status, body) = app
        .post_text("/api/accounts/import", &admin, "text/plain", "  \n".into())
        .await;
    let err = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(err["field"], "file");
    // An empty dry_run is refused too: read as "no", it would import for real.
    for flag in ["perhaps", ""] {
        let (status, body) = app
            .post_text(
                &format!("/api/accounts/import?dry_run={flag}"),
                &admin,
                "text/plain",
                "never_imported:b".into(),
            )
            .await;
        let err = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(err["field"], "dry_run");
    }
    let listed = app
        .get_ok(&admin, "/api/accounts/?search=never_imported")
        .await;
    assert_eq!(listed["total"], 0, "{listed}");
    let resp = app
        .request(Method::POST, "/api/accounts/import", Some(&admin))
        .header("content-type", "text/plain")
        .body(vec![0xff, 0xfe, 0x00, 0x41])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn csv_and_multipart_uploads_work(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let csv = "username,password,language,group,proxy_url\n\
               csv_one,\"pw,with,commas\",es,Sales,\n\
               csv_two,pw2,,Sales,http://u:p@10.0.0.2:3128\n";
    let (status, report) = app
        .post_text("/api/accounts/import", &admin, "text/csv", csv.into())
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(count(&report, "created"), 2, "{report}");
    let (_, list) = app
        .call(
            Method::GET,
            "/api/accounts?sort=username",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(list["items"][0]["language"], "es");
    assert_eq!(list["items"][1]["language"], "en", "the default language");
    assert_eq!(list["items"][1]["proxy"], "http://10.0.0.2:3128");
    let id: icf_core::ids::AccountId = list["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let secrets = icf_store::accounts::get_secrets(&app.db, id).await.unwrap();
    let cipher = icf::startup::cipher(&app.settings).unwrap();
    assert_eq!(
        cipher
            .decrypt(&secrets.password_enc)
            .unwrap()
            .expose_secret(),
        "pw,with,commas"
    );

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text("socks5://a:b@10.1.1.1:1080 NL\n10.1.1.2:8080:c:d,DE\n")
            .file_name("proxies.txt"),
    );
    let resp = app
        .request(Method::POST, "/api/proxies/import/", Some(&admin))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(count(&report, "created"), 2, "{report}");
    let (_, nl) = app
        .call(Method::GET, "/api/proxies?country=NL", Some(&admin), None)
        .await;
    assert_eq!(nl["items"][0]["url"], "socks5://10.1.1.1:1080");

    let form = reqwest::multipart::Form::new().text("other", "x");
    let resp = app
        .request(Method::POST, "/api/accounts/import", Some(&admin))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn ten_thousand_lines_import(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token().await;
    let langs = ["en", "ru", "es", "pt-BR", "de"];
    let groups = ["IT", "Finance", "News"];
    let file: String = (0..10_000)
        .map(|i| format!("bulk_{i:05}:Pw-{i}-x:{}:{}\n", langs[i % 5], groups[i % 3]))
        .collect();
    let started = std::time::Instant::now();
    let (status, report) = app
        .post_text("/api/accounts/import", &admin, "text/plain", file.clone())
        .await;
    let first = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&report, "created"), 10_000);
    let started = std::time::Instant::now();
    let (_, again) = app
        .post_text("/api/accounts/import", &admin, "text/plain", file)
        .await;
    let second = started.elapsed();
    assert_eq!(
        (count(&again, "created"), count(&again, "duplicate")),
        (0, 10_000)
    );
    eprintln!("10,000-line import on {engine:?}: {first:.2?}; re-import: {second:.2?}");
    let (total, _) = list_names(&app, &admin, "/api/accounts?per_page=1".into()).await;
    assert_eq!(total, 10_000);
    let (_, g) = app
        .call(Method::GET, "/api/groups", Some(&admin), None)
        .await;
    assert_eq!(g["items"][0]["name"], "Finance");
    assert_eq!(g["items"][0]["accounts_count"], 3333);
}

fn icf(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_icf"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ICF_DATA_DIR", dir.join("data"))
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run icf");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn cli_imports_and_rotates_keys(engine: Engine) {
    let db = TestDb::new(engine).await;
    let dir = db.dir.path().to_owned();
    let accounts = dir.join("accounts.txt");
    let proxies = dir.join("proxies.txt");
    std::fs::write(&accounts, ACCOUNTS).unwrap();
    std::fs::write(&proxies, PROXIES).unwrap();
    let old = fernet::Fernet::generate_key();
    let new = fernet::Fernet::generate_key();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("ENCRYPTION_KEY", old.as_str()),
    ];
    let (ok, out) = icf(
        &dir,
        &env,
        &["proxies", "import", proxies.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("60 lines: 60 created, 0 duplicate, 0 invalid"),
        "{out}"
    );
    let (ok, out) = icf(
        &dir,
        &env,
        &[
            "accounts",
            "import",
            accounts.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("dry run, nothing saved. 60 lines: 60 created"),
        "{out}"
    );
    // Even with debug logs, no password reaches the output.
    let verbose = [env[0], env[1], ("RUST_LOG", "debug")];
    let (ok, out) = icf(
        &dir,
        &verbose,
        &["accounts", "import", accounts.to_str().unwrap()],
    );
    assert!(ok && out.contains("60 created"), "{out}");
    assert!(!out.contains("Pw-0"), "no password in the logs: {out}");
    let (ok, out) = icf(
        &dir,
        &env,
        &["accounts", "import", accounts.to_str().unwrap()],
    );
    assert!(ok && out.contains("0 created, 60 duplicate"), "{out}");
    assert!(!out.contains("Pw-0"), "no password printed: {out}");
    let (ok, out) = icf(&dir, &env, &["accounts", "import", "/nonexistent/file.txt"]);
    assert!(!ok && out.contains("cannot read"), "{out}");

    // One account also has a session and a TOTP secret, as the Instagram client stores them.
    let store = icf_store::Db::connect(&db.url, &icf_store::PoolSettings::default())
        .await
        .unwrap();
    let old_cipher =
        icf_crypto::Cipher::from_keys(&secrecy::SecretString::from(old.clone())).unwrap();
    let (first_id, mut first) = icf_store::accounts::all_secrets(&store)
        .await
        .unwrap()
        .remove(0);
    first.session_data_enc = Some(old_cipher.encrypt("{\"cookies\": {}}"));
    first.totp_secret_enc = Some(old_cipher.encrypt("JBSWY3DPEHPK3PXP"));
    icf_store::accounts::set_secrets(&store, first_id, &first)
        .await
        .unwrap();
    store.close().await;

    // Rotation: new key first, old key second; afterwards the new key alone reads all.
    let both = format!("{new},{old}");
    let env2 = [
        ("DATABASE_URL", db.url.as_str()),
        ("ENCRYPTION_KEY", both.as_str()),
    ];
    let (ok, out) = icf(&dir, &env2, &["rotate-keys"]);
    assert!(ok, "{out}");
    assert!(out.contains("re-encrypted 122 secrets"), "{out}");
    let (ok, out) = icf(&dir, &env2, &["rotate-keys"]);
    assert!(ok && out.contains("re-encrypted 0 secrets"), "{out}");

    let store = icf_store::Db::connect(&db.url, &icf_store::PoolSettings::default())
        .await
        .unwrap();
    let only_new =
        icf_crypto::Cipher::from_keys(&secrecy::SecretString::from(new.clone())).unwrap();
    let secrets = icf_store::accounts::all_secrets(&store).await.unwrap();
    assert_eq!(secrets.len(), 60);
    for (id, s) in &secrets {
        let plain = only_new.decrypt(&s.password_enc).unwrap();
        assert!(plain.expose_secret().starts_with("Pw-"));
        if *id == first_id {
            let totp = only_new
                .decrypt(s.totp_secret_enc.as_deref().unwrap())
                .unwrap();
            assert_eq!(totp.expose_secret(), "JBSWY3DPEHPK3PXP");
            assert!(
                only_new
                    .decrypt(s.session_data_enc.as_deref().unwrap())
                    .is_ok()
            );
        }
    }
    for (_, token) in icf_store::proxies::all_credentials(&store).await.unwrap() {
        assert!(only_new.decrypt(&token).is_ok());
    }
    store.close().await;
    // With only the new key, re-importing the proxies still finds them all (the
    // duplicate fingerprints were recomputed under the new key).
    let env3 = [
        ("DATABASE_URL", db.url.as_str()),
        ("ENCRYPTION_KEY", new.as_str()),
    ];
    let (ok, out) = icf(
        &dir,
        &env3,
        &["proxies", "import", proxies.to_str().unwrap()],
    );
    assert!(ok && out.contains("0 created, 60 duplicate"), "{out}");
}
