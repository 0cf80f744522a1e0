//! The `icf` binary itself, run as a user would.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::{Engine, TestDb};

engine_tests!(migrate_then_user_commands_then_login);

fn icf(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icf"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ICF_DATA_DIR", dir.join("data"))
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run icf")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn bad_configuration_stops_icf_with_the_variable_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ICF_LISTEN", "not-an-address"),
        ("DATABASE_URL", "mysql://root:hunter2@localhost/icf"),
        ("MAX_CONCURRENT_TASKS", "many"),
        ("ENCRYPTION_KEY", "hunter2"),
    ];
    for (var, value) in cases {
        let out = icf(dir.path(), &[(var, value)], &["migrate"]);
        assert_eq!(out.status.code(), Some(2), "{var}: {}", text(&out));
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(msg.contains(var), "{var}: {msg}");
        assert!(!msg.contains("hunter2"), "secret echoed: {msg}");
    }
}

#[test]
fn every_command_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["user", "create", "--help"],
        &["migrate", "--help"],
    ] {
        let out = icf(dir.path(), &[], args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let out = icf(dir.path(), &[], &["user", "create", "--username", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--email"));
}

async fn migrate_then_user_commands_then_login(engine: Engine) {
    let db = TestDb::new(engine).await;
    let dir = db.dir.path();
    let env = [("DATABASE_URL", db.url.as_str())];

    let out = icf(dir, &env, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 pending"), "{}", text(&out));

    let out = icf(
        dir,
        &env,
        &[
            "user",
            "create",
            "--username",
            "Boss",
            "--email",
            "boss@example.com",
            "--password",
            "boss-password",
            "--role",
            "admin",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = icf(
        dir,
        &env,
        &[
            "user",
            "create",
            "--username",
            "boss",
            "--email",
            "b2@example.com",
            "--password",
            "boss-password",
            "--role",
            "admin",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    let out = icf(
        dir,
        &env,
        &[
            "user",
            "create",
            "--username",
            "x2",
            "--email",
            "x@example.com",
            "--password",
            "boss-password",
            "--role",
            "owner",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("admin, editor"), "{}", text(&out));

    let out = icf(dir, &env, &["user", "list"]);
    assert!(text(&out).contains("boss"), "{}", text(&out));

    // Start the real server on a free port and sign in through it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_icf"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ICF_DATA_DIR", dir.join("data"))
        .env("DATABASE_URL", &db.url)
        .env("ICF_LISTEN", &listen)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{listen}");
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login = |pw: &'static str| {
        client
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({"username": "boss", "password": pw}))
            .send()
    };
    let result = async {
        assert!(up, "icf serve did not answer /healthz");
        let resp = login("boss-password").await.unwrap();
        assert_eq!(resp.status(), 200);
        let token = resp.json::<serde_json::Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = client
            .get(format!("{base}/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);

        let out = icf(
            dir,
            &env,
            &[
                "user",
                "set-password",
                "--username",
                "boss",
                "--password",
                "new-boss-password",
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
        let me = client
            .get(format!("{base}/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401, "old token revoked by the password change");
        assert_eq!(login("new-boss-password").await.unwrap().status(), 200);

        let out = icf(dir, &env, &["user", "disable", "--username", "boss"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(login("new-boss-password").await.unwrap().status(), 401);
    }
    .await;
    let _ = server.kill();
    let _ = server.wait();
    result
}
