//! The HTTP server loop: hyper's HTTP/1.1 server with the limits `axum::serve` lacks.
//!
//! `axum::serve` sets no timer, so hyper's header timeout never fires and a client that
//! sends half a request line holds its connection (and a file descriptor) for ever. Here
//! every connection has a deadline for its request head (which also closes idle
//! keep-alive connections), request bodies an idle timeout per piece, and the number of
//! open connections a cap, so slow clients cannot exhaust the process's file descriptors.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// How long slow clients may take, and how many connections may be open at once.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// The whole request head must arrive within this; idle keep-alive connections close
    /// after it.
    pub header_timeout: Duration,
    /// The longest wait for the next piece of a request body.
    pub body_timeout: Duration,
    /// Open connections at most; further ones wait in the listen queue.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` is cancelled, then stops accepting, lets
/// in-flight requests finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    stop: CancellationToken,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Every connection task holds a receiver; the loop waits for them all on shutdown.
    let (close_tx, close_rx) = watch::channel(());
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let body_timeout = limits.body_timeout;
        let service = router.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(|b| Body::new(TimeoutBody::new(body_timeout, b)));
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let stop = stop.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                }
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                }
            }
            drop(permit);
            drop(close_rx);
        });
    }
    drop(listener);
    drop(close_rx);
    close_tx.closed().await;
}

/// Connection errors (the peer gave up) are ignored; others (out of file descriptors)
/// are logged and the loop pauses a moment rather than spinning.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Runs `serve` after `shutdown` completes by cancelling `stop` (what long-lived responses
/// also watch).
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    stop: CancellationToken,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    serve(listener, router, limits, stop).await;
}
