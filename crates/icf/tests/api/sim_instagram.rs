//! `icf sim instagram` runs the Instagram simulator standalone, seeded from a file.

use std::process::Stdio;
use std::time::Duration;

use icf_instagram::{
    ClientConfig, Credentials, InstagramClient, LoginOutcome, ProxyEndpoint, ProxyScheme, Session,
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

#[tokio::test]
async fn standalone_instagram_simulator_serves_seeded_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"[{"username":"demo","password":"demo-pass-1","faults":{"transcode_pending":1}}]"#,
    )
    .unwrap();
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_icf"))
        .args([
            "sim",
            "instagram",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--seed",
        ])
        .arg(&seed)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_listening(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let media: serde_json::Value = http
        .get(format!("{base}/__sim/media"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media, serde_json::json!({"items": []}));
    let r = http
        .post(format!("{base}/__sim/accounts"))
        .json(&serde_json::json!({"username": "second", "password": "pw-second-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(format!("{base}/__sim/accounts"))
        .json(&serde_json::json!({"password": "no name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // The seeded account logs in through a real SOCKS5 proxy.
    if std::process::Command::new("microsocks")
        .arg("-h")
        .output()
        .is_err()
    {
        if std::env::var("ICF_REQUIRE_PROXIES").as_deref() == Ok("1") {
            panic!("microsocks is not installed");
        }
        eprintln!("SKIPPED the login part: microsocks not installed");
    } else {
        let sport = free_port();
        let _socks = tokio::process::Command::new("microsocks")
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &sport.to_string(),
                "-u",
                "u",
                "-P",
                "p",
            ])
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        wait_listening(sport).await;
        let proxy = ProxyEndpoint::new(
            ProxyScheme::Socks5,
            "127.0.0.1",
            sport,
            Some(("u".into(), "p".into())),
        );
        let cfg = ClientConfig {
            pace: Duration::ZERO,
            ..ClientConfig::with_api_base(&base)
        };
        let mut c = InstagramClient::new(Session::import("{}").unwrap(), &proxy, cfg).unwrap();
        let out = c
            .login(Credentials {
                username: "demo",
                password: "demo-pass-1",
                totp_secret: None,
            })
            .await
            .unwrap();
        assert!(matches!(out, LoginOutcome::LoggedIn(_)), "{out:?}");
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn standalone_simulator_with_tls_writes_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sim.pem");
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_icf"))
        .args([
            "sim",
            "instagram",
            "--tls",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--cert-out",
        ])
        .arg(&cert)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_listening(port).await;
    for _ in 0..100 {
        if cert.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pem = std::fs::read(&cert).unwrap();
    let ca = reqwest::Certificate::from_pem(&pem).unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge([ca])
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = http
        .get(format!("https://127.0.0.1:{port}/__sim/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["requests"], 0);
    child.kill().await.unwrap();
}

#[test]
fn the_example_seed_file_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../instagram/data/sim_seed.example.json");
    let accounts = icf_instagram::sim::read_seed(&path).unwrap();
    assert_eq!(accounts.len(), 5);
    assert!(accounts.iter().any(|a| a.totp_secret.is_some()));
}
