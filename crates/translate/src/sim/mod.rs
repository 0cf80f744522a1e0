//! Simulators of DeepL, Google Translation v2 and LibreTranslate, speaking each one's real
//! protocol (paths, field names, limits, error bodies) so that icf's clients are tested
//! against what the providers do, without the internet.
//!
//! "Translations" are deterministic and visibly marked: every non-empty line gets a
//! `[RU] ` prefix (the target code); XML placeholders and ignored tags pass through.
//!
//! Test hooks, on every simulator:
//! - `GET /__sim/requests`: every request seen on a translation endpoint, oldest first
//!   (`DELETE` clears them); the `Authorization` header is reduced to its scheme;
//! - `PUT /__sim/faults`: fault injection, see [`Faults`].
//!
//! Start one in-process with [`Sim::start`], or as `icf sim deepl --listen ADDR`.

mod deepl;
mod google;
mod libre;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::provider::ProviderKind;

pub use state::{Captured, Faults, SimState};

/// A running simulator.
pub struct Sim {
    pub kind: ProviderKind,
    pub addr: SocketAddr,
    state: Arc<SimState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Sim {
    /// Binds `addr` (port 0 picks one) and serves in the background until dropped.
    pub async fn start(kind: ProviderKind, addr: SocketAddr) -> std::io::Result<Sim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(SimState::default());
        let app = router(kind, state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Sim {
            kind,
            addr,
            state,
            server,
        })
    }

    /// The base URL to configure icf with (`DEEPL_API_URL`…).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults() = faults;
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn clear_requests(&self) {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Characters billed so far.
    pub fn characters_billed(&self) -> u64 {
        self.state.characters.load(Ordering::SeqCst)
    }
}

/// The simulator's routes, for serving from `icf sim`.
pub fn router(kind: ProviderKind, state: Arc<SimState>) -> Router {
    let provider = match kind {
        ProviderKind::DeepL => deepl::routes(),
        ProviderKind::Google => google::routes(),
        ProviderKind::LibreTranslate => libre::routes(),
    };
    provider
        .route("/__sim/requests", get(list_requests).delete(clear_requests))
        .route("/__sim/faults", get(get_faults).put(put_faults))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Runs a simulator on `addr` until `shutdown` completes.
pub async fn serve(
    kind: ProviderKind,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, provider = kind.as_str(), "simulator listening");
    axum::serve(listener, router(kind, Arc::new(SimState::default())))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn list_requests(State(state): State<Arc<SimState>>) -> Json<Vec<Captured>> {
    Json(
        state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
    )
}

async fn clear_requests(State(state): State<Arc<SimState>>) -> StatusCode {
    state
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(state): State<Arc<SimState>>) -> Json<Faults> {
    Json(state.faults().clone())
}

async fn put_faults(State(state): State<Arc<SimState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            *state.faults() = f.clone();
            Json(f).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "message": e.to_string() })),
        )
            .into_response(),
    }
}
