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

/// A self-signed certificate for the simulator; clients trust `cert_pem`.
pub struct SimCert {
    pub cert_pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl SimCert {
    pub fn generate() -> std::io::Result<SimCert> {
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "i.instagram.com".to_owned(),
        ];
        let key = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        Ok(SimCert {
            cert_pem: key.cert.pem(),
            der: key.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()),
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
