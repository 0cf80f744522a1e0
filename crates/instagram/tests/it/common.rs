//! Real proxies (Debian's tinyproxy and microsocks), real ffmpeg, and the simulator.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use icf_instagram::sim::{Faults, SimAccount, Simulator};
use icf_instagram::{
    ClientConfig, InstagramClient, Photo, ProxyEndpoint, ProxyScheme, Session, Video,
};
use tokio::process::{Child, Command};

/// Whether the external tools are here; without them the test is skipped with a message,
/// unless `ICF_REQUIRE_PROXIES=1` (CI), where it fails.
pub fn tools_available(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("ICF_REQUIRE_PROXIES").as_deref() == Ok("1") {
        panic!("ICF_REQUIRE_PROXIES=1 but {missing:?} are not installed");
    }
    eprintln!("SKIPPED: {missing:?} not installed (set ICF_REQUIRE_PROXIES=1 to fail instead)");
    false
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn wait_listening(port: u16) {
    for _ in 0..100 {
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

/// A proxy process with its log, stopped on drop.
pub struct ProxyProcess {
    pub spec: ProxyEndpoint,
    pub log: PathBuf,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl ProxyProcess {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// tinyproxy with BasicAuth `user`/`pass`.
pub async fn tinyproxy() -> ProxyProcess {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("tinyproxy.log");
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogFile \"{}\"\nLogLevel Info\nMaxClients 50\nAllow 127.0.0.1\nBasicAuth user pass\nDisableViaHeader Yes\n",
            log.display()
        ),
    )
    .unwrap();
    let child = Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_listening(port).await;
    ProxyProcess {
        spec: ProxyEndpoint::new(
            ProxyScheme::Http,
            "127.0.0.1",
            port,
            Some(("user".into(), "pass".into())),
        ),
        log,
        _child: child,
        _dir: dir,
    }
}

/// microsocks with auth `user`/`pass`; its connection log goes to a file.
pub async fn microsocks() -> ProxyProcess {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("microsocks.log");
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new("microsocks")
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "user",
            "-P",
            "pass",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_listening(port).await;
    ProxyProcess {
        spec: ProxyEndpoint::new(
            ProxyScheme::Socks5,
            "127.0.0.1",
            port,
            Some(("user".into(), "pass".into())),
        ),
        log,
        _child: child,
        _dir: dir,
    }
}

pub async fn simulator(accounts: Vec<SimAccount>) -> Simulator {
    Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), accounts)
        .await
        .unwrap()
}

pub fn account(username: &str, password: &str) -> SimAccount {
    SimAccount {
        username: username.into(),
        password: password.into(),
        totp_secret: None,
        faults: Faults::default(),
    }
}

/// Fast settings for the simulator: no pacing, short polling.
pub fn config(sim: &Simulator) -> ClientConfig {
    ClientConfig {
        pace: Duration::ZERO,
        configure_interval: Duration::from_millis(10),
        transcode_wait: Duration::from_millis(10),
        max_configure_attempts: 10,
        ..ClientConfig::with_api_base(sim.base_url())
    }
}

pub fn fresh_session() -> Session {
    let device = icf_core::device::Device::generate(&mut rand::rng(), "en", Some("US"));
    Session::new(
        &device,
        &icf_instagram::AppProfiles::built_in()
            .default_profile()
            .clone(),
    )
}

pub fn client(sim: &Simulator, proxy: &ProxyEndpoint) -> InstagramClient {
    InstagramClient::new(fresh_session(), proxy, config(sim)).unwrap()
}

pub fn jpeg(width: u32, height: u32) -> Photo {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    Photo {
        jpeg: Bytes::from(out),
        width,
        height,
    }
}

/// A 1-second H.264 test pattern made by ffmpeg, with a JPEG cover.
pub async fn mp4(width: u32, height: u32) -> Video {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.mp4");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={width}x{height}:rate=30:duration=1"))
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ])
        .arg(&path)
        .status()
        .await
        .unwrap();
    assert!(status.success(), "ffmpeg failed");
    Video {
        mp4: Bytes::from(std::fs::read(&path).unwrap()).into(),
        width,
        height,
        duration_ms: 1000,
        cover: jpeg(width, height),
    }
}
