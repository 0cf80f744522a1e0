//! `icf demo` run as a user would: one command, nothing configured, no network.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// Starts `icf demo` and returns it with its base URL once it says it is running.
pub fn start_demo(dir: &std::path::Path, speed: u32) -> (std::process::Child, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_icf"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--speed",
            &speed.to_string(),
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ICF_DATA_DIR", dir)
        .env("ICF_ADMIN_PASSWORD", "demo-admin-password")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("icf demo starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("icf demo is running on") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("icf demo says it is running");
    let base = line.split_whitespace().last().unwrap().to_owned();
    (child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_publishes_a_post_to_all_twenty_it_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = start_demo(dir.path(), 600);
    // Stopped however the test ends: a failed assertion must not leave the demo running.
    let _demo = Stopped(child);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: String, token: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    async {
        let token = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": "admin", "password": "demo-admin-password"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .expect("the printed admin password signs in")
            .to_owned();
        let groups: Value = get("/api/groups/".to_owned(), token.clone()).await;
        let it = groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "IT")
            .expect("group IT");
        assert_eq!(it["accounts_count"], 20);
        assert_eq!(it["languages"], json!({"en": 10, "ru": 5, "es": 5}));
        let accounts: Value = get("/api/accounts/?per_page=100".to_owned(), token.clone()).await;
        assert_eq!(accounts["total"], 28);
        let proxies: Vec<&str> = accounts["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["proxy"].as_str().unwrap())
            .collect();
        assert!(
            proxies.iter().all(|p| p.starts_with("socks5://127.0.0.1:")),
            "each account has its proxy"
        );
        let mut unique = proxies.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 28, "one proxy per account");

        // The scenario a person tries first: one photo with a Russian caption to IT.
        let form = reqwest::multipart::Form::new()
            .text("caption", "Новый курс по Python! Скидка 50% 🔥")
            .text("original_language", "ru")
            .text("target_groups", json!([it["id"]]).to_string())
            .part(
                "media",
                reqwest::multipart::Part::bytes(crate::posts::jpeg(1080, 1080))
                    .file_name("photo.jpg"),
            );
        let post: Value = client
            .post(format!("{base}/api/posts/"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = post["id"].as_str().expect("post created").to_owned();
        let published: Value = client
            .post(format!("{base}/api/posts/{id}/publish"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(published["created"], 20, "{published}");
        let mut totals = Value::Null;
        for _ in 0..240 {
            let ex: Value = get(format!("/api/posts/{id}/executions"), token.clone()).await;
            totals = ex["totals"].clone();
            if totals["queued"] == 0 && totals["posting"] == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(
            totals["success"], 20,
            "all 20 IT accounts published: {totals}"
        );
        // The post ends right after its last execution's own commit: give it a moment.
        let mut post = Value::Null;
        for _ in 0..40 {
            post = get(format!("/api/posts/{id}"), token.clone()).await;
            if post["status"] != "posting" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(post["status"], "completed");
    }
    .await;
}

/// A child process killed when dropped.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
