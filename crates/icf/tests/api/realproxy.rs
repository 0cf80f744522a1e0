//! Real proxies on loopback for the tests: Debian's `tinyproxy` (HTTP, BasicAuth) and
//! `microsocks` (SOCKS5 with a user and password), and a local server to check through
//! them. Tests skip with a message when the binaries are missing, unless
//! `ICF_REQUIRE_PROXIES=1` (CI), where that is a failure.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A proxy process, killed when dropped.
pub struct ProxyProcess {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a tool the test needs is installed (a failure under `ICF_REQUIRE_PROXIES=1`).
pub fn have_tool(binary: &str) -> bool {
    have(binary)
}

fn have(binary: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {binary}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !std::env::var("ICF_REQUIRE_PROXIES").is_ok_and(|v| v == "1"),
            "ICF_REQUIRE_PROXIES=1 but {binary} is not installed"
        );
        eprintln!("skipped: {binary} is not installed");
    }
    found
}

fn wait_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("proxy exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("proxy did not listen on {port}");
}

/// tinyproxy requiring `user`/`pass`, or `None` when it is not installed.
pub fn tinyproxy(user: &str, pass: &str) -> Option<ProxyProcess> {
    if !have("tinyproxy") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 50\n\
             BasicAuth {user} {pass}\nAllow 127.0.0.1\nLogLevel Error\n"
        ),
    )
    .unwrap();
    let mut child = Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tinyproxy");
    wait_listening(port, &mut child);
    Some(ProxyProcess {
        child,
        port,
        _dir: dir,
    })
}

/// microsocks requiring `user`/`pass`, or `None` when it is not installed.
pub fn microsocks(user: &str, pass: &str) -> Option<ProxyProcess> {
    microsocks_on("127.0.0.1", user, pass)
}

/// microsocks listening on `ip` (`0.0.0.0`: reachable at every 127.0.0.x, so one process
/// serves many accounts, each with a proxy address of its own).
pub fn microsocks_on(ip: &str, user: &str, pass: &str) -> Option<ProxyProcess> {
    if !have("microsocks") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("microsocks")
        .args(["-i", ip, "-p", &port.to_string(), "-u", user, "-P", pass])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start microsocks");
    wait_listening(port, &mut child);
    Some(ProxyProcess {
        child,
        port,
        _dir: dir,
    })
}

/// A local HTTP server standing in for the check URL; counts the requests it served.
pub struct CheckTarget {
    pub url: String,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CheckTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn check_target() -> CheckTarget {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/generate_204",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    CheckTarget {
        url: format!("http://{addr}/generate_204"),
        hits,
        task,
    }
}
