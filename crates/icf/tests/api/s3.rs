//! A real S3-compatible server for the media-storage tests: moto's (`pip install
//! 'moto[server]'`), which speaks the S3 REST protocol with signed requests and multipart
//! uploads. Tests skip when it is missing, unless `ICF_REQUIRE_S3=1` (CI).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "icf-media";

/// A moto S3 server with one empty bucket, killed when dropped.
pub struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    pub fn start() -> Option<S3Server> {
        let installed = Command::new("python3")
            .args(["-c", "import moto.server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                !std::env::var("ICF_REQUIRE_S3").is_ok_and(|v| v == "1"),
                "ICF_REQUIRE_S3=1 but moto's server is not installed (pip install 'moto[server]')"
            );
            eprintln!("skipped: moto's S3 server is not installed");
            return None;
        }
        let port = crate::realproxy::free_port();
        let mut child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        let created = loop {
            // moto takes unsigned requests too: the bucket is made without a client library.
            let put = put_plain(port, &format!("/{BUCKET}"));
            if put {
                break true;
            }
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let server = S3Server { child, port };
        assert!(created, "moto's server did not start on {port}");
        Some(server)
    }

    /// The app's settings for this bucket.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ICF_S3_BUCKET", BUCKET.to_owned()),
            ("ICF_S3_REGION", "us-east-1".to_owned()),
            ("ICF_S3_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("ICF_S3_ACCESS_KEY_ID", "AKIDTEST".to_owned()),
            ("ICF_S3_SECRET_ACCESS_KEY", "test-secret-key".to_owned()),
        ]
    }

    /// Every key in the bucket (ListObjectsV2).
    pub async fn keys(&self) -> Vec<String> {
        let xml = reqwest::get(format!(
            "http://127.0.0.1:{}/{BUCKET}?list-type=2",
            self.port
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// An object's bytes.
    pub async fn object(&self, key: &str) -> Vec<u8> {
        let resp = reqwest::get(format!("http://127.0.0.1:{}/{BUCKET}/{key}", self.port))
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{key}: {}", resp.status());
        resp.bytes().await.unwrap().to_vec()
    }
}

/// A bodiless PUT over a plain socket (the test runtime may not be running yet).
fn put_plain(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}
