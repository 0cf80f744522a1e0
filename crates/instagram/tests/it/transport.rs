//! The account's proxy is the only way out; the production TLS offer is h2-only TLS 1.3.

use std::time::Duration;

use icf_instagram::{
    ClientConfig, Credentials, ErrorClass, InstagramClient, ProxyEndpoint, ProxyScheme,
};
use tokio::io::AsyncReadExt;

use crate::common::*;

fn creds() -> Credentials<'static> {
    Credentials {
        username: "tom",
        password: "pw-transport-1",
        totp_secret: None,
    }
}

#[tokio::test]
async fn a_proxy_that_is_down_means_a_proxy_error_and_no_traffic_at_all() {
    let sim = simulator(vec![account("tom", "pw-transport-1")]).await;
    let dead = free_port();
    for scheme in [ProxyScheme::Http, ProxyScheme::Socks5] {
        let spec = ProxyEndpoint::new(scheme, "127.0.0.1", dead, Some(("u".into(), "p".into())));
        let mut c = InstagramClient::new(fresh_session(), &spec, config(&sim)).unwrap();
        let e = c.login(creds()).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Proxy, "{scheme:?}: {e}");
    }
    assert_eq!(sim.request_count(), 0, "nothing reached Instagram directly");
}

#[tokio::test]
async fn wrong_proxy_credentials_are_a_proxy_error() {
    if !tools_available(&["tinyproxy", "microsocks"]) {
        return;
    }
    let sim = simulator(vec![account("tom", "pw-transport-1")]).await;
    let (http, socks) = (tinyproxy().await, microsocks().await);
    for p in [&http, &socks] {
        let mut spec = p.spec.clone();
        spec.password = Some("wrong".into());
        let mut c = InstagramClient::new(fresh_session(), &spec, config(&sim)).unwrap();
        let e = c.login(creds()).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Proxy, "{:?}: {e}", spec.scheme);
        assert!(
            !e.to_string().contains("wrong"),
            "no credential in the message"
        );
    }
    assert_eq!(sim.request_count(), 0);
}

struct Hello {
    alpn: Vec<String>,
    versions: Vec<u16>,
    groups: Vec<u16>,
    sni: String,
}

/// Parses a TLS ClientHello record: the extensions we care about.
fn parse_client_hello(b: &[u8]) -> Hello {
    assert_eq!(b[0], 0x16, "a handshake record");
    assert_eq!(b[5], 0x01, "a ClientHello");
    let mut i = 5 + 4 + 2 + 32;
    let sid = b[i] as usize;
    i += 1 + sid;
    let suites = u16::from_be_bytes([b[i], b[i + 1]]) as usize;
    i += 2 + suites;
    let comp = b[i] as usize;
    i += 1 + comp;
    let ext_end = i + 2 + u16::from_be_bytes([b[i], b[i + 1]]) as usize;
    i += 2;
    let mut h = Hello {
        alpn: vec![],
        versions: vec![],
        groups: vec![],
        sni: String::new(),
    };
    while i + 4 <= ext_end {
        let ty = u16::from_be_bytes([b[i], b[i + 1]]);
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let d = &b[i + 4..i + 4 + len];
        match ty {
            0x0000 => h.sni = String::from_utf8_lossy(&d[5..]).into_owned(),
            0x0010 => {
                let mut j = 2;
                while j < d.len() {
                    let l = d[j] as usize;
                    h.alpn
                        .push(String::from_utf8_lossy(&d[j + 1..j + 1 + l]).into_owned());
                    j += 1 + l;
                }
            }
            0x002b => {
                h.versions = d[1..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .filter(|v| v & 0x0f0f != 0x0a0a) // GREASE
                    .collect()
            }
            0x000a => {
                h.groups = d[2..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect()
            }
            _ => {}
        }
        i += 4 + len;
    }
    h
}

#[tokio::test]
async fn production_transport_offers_only_h2_and_tls_1_3_through_the_proxy() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let proxy = microsocks().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 16384];
        let mut n = 0;
        // Read the whole record (its length is in bytes 3..5).
        while n < 5 || n < 5 + u16::from_be_bytes([buf[3], buf[4]]) as usize {
            let r = sock.read(&mut buf[n..]).await.unwrap();
            assert!(r > 0, "connection closed early");
            n += r;
        }
        buf.truncate(n);
        buf
    });
    let cfg = ClientConfig {
        pace: Duration::ZERO,
        ..ClientConfig::with_api_base(format!("https://localhost:{port}"))
    };
    let mut c = InstagramClient::new(fresh_session(), &proxy.spec, cfg).unwrap();
    let e = c.check_session().await;
    assert!(e.is_err());
    let _ = c.login(creds()).await; // the TLS handshake fails; what was offered is what counts
    let hello = parse_client_hello(&server.await.unwrap());
    assert_eq!(hello.alpn, vec!["h2".to_owned()], "ALPN offers h2 only");
    assert_eq!(hello.versions, vec![0x0304], "TLS 1.3 only");
    assert!(
        hello.groups.contains(&0x11ec),
        "X25519MLKEM768 offered: {:x?}",
        hello.groups
    );
    assert!(hello.groups.contains(&0x001d), "X25519 offered");
    assert_eq!(hello.sni, "localhost");
    assert!(
        proxy.log_text().contains(&format!(":{port}")),
        "through the SOCKS proxy"
    );
}

#[tokio::test]
async fn production_transport_logs_in_and_publishes_over_h2_through_connect_and_socks() {
    if !tools_available(&["tinyproxy", "microsocks"]) {
        return;
    }
    let sim = icf_instagram::sim::Simulator::start_tls(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![account("tom", "pw-transport-1")],
    )
    .await
    .unwrap();
    assert!(sim.base_url().starts_with("https://"));
    let (http, socks) = (tinyproxy().await, microsocks().await);
    for (proxy, caption) in [(&http, "over CONNECT"), (&socks, "over SOCKS5")] {
        let cfg = ClientConfig {
            extra_ca_pem: sim.cert_pem().map(str::to_owned),
            ..config(&sim)
        };
        let mut c = InstagramClient::new(fresh_session(), &proxy.spec, cfg).unwrap();
        let out = c.login(creds()).await.unwrap();
        assert!(
            matches!(out, icf_instagram::LoginOutcome::LoggedIn(_)),
            "{out:?}"
        );
        let p = c
            .publish(&icf_instagram::Media::Photo(jpeg(320, 400)), caption)
            .await
            .unwrap();
        assert_eq!(p.media_type, 1);
    }
    assert!(sim.request_count() > 0);
    // Every private API request over h2; only the password key comes over HTTP/1.1, with
    // the web session, as instagrapi fetches it (one per login, two logins).
    assert_eq!(
        sim.request_count() - sim.http2_request_count(),
        2,
        "every request but the two password keys over h2"
    );
    let captions: Vec<String> = sim
        .media(Some("tom"))
        .into_iter()
        .map(|m| m.caption)
        .collect();
    assert_eq!(captions, ["over CONNECT", "over SOCKS5"]);
    // tinyproxy saw a CONNECT tunnel, not the requests themselves.
    let log = http.log_text();
    assert!(
        log.contains(&format!("CONNECT 127.0.0.1:{}", sim.addr().port())),
        "{log}"
    );
    assert!(
        !log.contains("rupload_igphoto"),
        "the tunnel hides the requests: {log}"
    );
}

#[tokio::test]
async fn a_server_without_a_trusted_certificate_is_refused() {
    if !tools_available(&["microsocks"]) {
        return;
    }
    let sim = icf_instagram::sim::Simulator::start_tls(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![account("tom", "pw-transport-1")],
    )
    .await
    .unwrap();
    let socks = microsocks().await;
    // No extra CA: the self-signed simulator is not Instagram.
    let mut c = InstagramClient::new(fresh_session(), &socks.spec, config(&sim)).unwrap();
    assert!(c.login(creds()).await.is_err());
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn answers_are_compressed_like_instagrams_and_the_client_reads_them() {
    let sim = simulator(vec![account("tom", "pw-transport-1")]).await;
    // A plain HTTP look at the wire (the test's own client, not the account's).
    let raw = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_deflate()
        .build()
        .unwrap();
    let r = raw
        .get(format!(
            "{}/api/v1/accounts/current_user/?edit=true",
            sim.base_url()
        ))
        .header("Accept-Encoding", "gzip, deflate")
        .send()
        .await
        .unwrap();
    // Without the app's headers the simulator, like Instagram, refuses the request.
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // The account's client sends the same header and still reads the JSON (login works).
    if !tools_available(&["microsocks"]) {
        return;
    }
    let socks = microsocks().await;
    let mut c = InstagramClient::new(fresh_session(), &socks.spec, config(&sim)).unwrap();
    assert!(c.login(creds()).await.is_ok());
}
