//! `--tls`: the simulator behind TLS with a fresh self-signed certificate, offering h2, so
//! the production transport (h2-only ALPN, TLS 1.3) can be exercised end to end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

/// The simulator's server certificate and the CA that signed it; clients trust `cert_pem`
/// (the CA).
pub struct SimCert {
    pub cert_pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl SimCert {
    pub fn generate() -> std::io::Result<SimCert> {
        // Every host the app (and instagrapi) talks to, so the proxy mode can stand in for
        // all of them under their own names.
        let names = [
            "localhost",
            "127.0.0.1",
            "i.instagram.com",
            "b.i.instagram.com",
            "www.instagram.com",
            "instagram.com",
        ]
        .map(str::to_owned)
        .to_vec();
        // A CA of its own that signs the server certificate: every TLS stack trusts such a
        // CA given as a file (OpenSSL and BoringSSL refuse a self-signed server certificate
        // as its own anchor, rustls takes either).
        let err = std::io::Error::other;
        let ca_key = rcgen::KeyPair::generate().map_err(err)?;
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "icf Instagram simulator CA");
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let mut leaf = rcgen::CertificateParams::new(names).map_err(err)?;
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "i.instagram.com");
        leaf.use_authority_key_identifier_extension = true;
        let cert = leaf.signed_by(&key, &issuer).map_err(err)?;
        Ok(SimCert {
            cert_pem: ca_cert.pem(),
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    pub(super) fn acceptor(&self) -> std::io::Result<TlsAcceptor> {
        let mut cfg = ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![self.der.clone()],
            PrivateKeyDer::Pkcs8(self.key.clone_key()),
        )
        .map_err(std::io::Error::other)?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(cfg)))
    }
}

/// A TCP listener that hands axum only connections that completed the TLS handshake.
pub(super) struct TlsListener {
    pub(super) tcp: TcpListener,
    pub(super) acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(s) => s,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handshake = self.acceptor.accept(stream);
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), handshake).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The proxy mode: the simulator is the client's HTTP proxy. It answers `CONNECT host:443`
/// for any host, then serves the tunnel with TLS under Instagram's names, so a client
/// configured exactly as in production (its own hosts, a proxy, one extra trusted
/// certificate) reaches the simulator, and the host it meant is kept (`:authority`/`Host`).
/// Handshakes run in their own tasks so one slow client does not hold up the others.
pub(super) struct ProxyListener {
    pub(super) rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    pub(super) addr: SocketAddr,
}

impl ProxyListener {
    pub(super) fn spawn(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<ProxyListener> {
        let addr = tcp.local_addr()?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let tunnel = async {
                        let stream = answer_connect(stream).await?;
                        acceptor.accept(stream).await
                    };
                    if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), tunnel).await
                    {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(ProxyListener { rx, addr })
    }
}

/// Reads the proxy request head and opens the tunnel; anything but CONNECT is refused.
async fn answer_connect(mut stream: TcpStream) -> std::io::Result<TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    // Byte by byte: the TLS ClientHello follows the head at once, and must stay unread.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other("no proxy request"));
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"CONNECT ") {
        stream
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Err(std::io::Error::other("not a CONNECT request"));
    }
    stream
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    Ok(stream)
}

impl axum::serve::Listener for ProxyListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task only ends with the runtime.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
