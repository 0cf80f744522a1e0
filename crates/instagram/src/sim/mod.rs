//! A simulator of Instagram's private API for tests and demos: the same paths, headers,
//! bodies and error shapes as the fact sheet documents, with accounts, sessions, uploads,
//! published media and fault injection. `icf sim instagram --listen ADDR` runs it alone.
//!
//! Control endpoints (not part of Instagram): `POST /__sim/accounts` (create or replace an
//! account and its faults; every account is also a user others can tag or invite),
//! `POST /__sim/venues` (a place `location_search` finds), `PUT /__sim/faults` (global
//! faults), `GET /__sim/media` (`?username=`: the posts with their options, comments and
//! the files received: `files: [{sha256, width, height, phash}]`), `GET
//! /__sim/media/{media_id}/files/{index}` (the bytes received), `GET /__sim/stats` (how many Instagram requests arrived), `POST` and `GET /__sim/trace`
//! (the recording mode: start, then take what was recorded).

// Handlers return Instagram's error answer as `Err(Response)` so `?` reads like the
// protocol's checks; the size of a Response does not matter in a test server.
#![allow(clippy::result_large_err)]

mod answers;
mod caa;
mod files;
mod handle;
mod login;
mod options;
mod publish;
pub mod record;
mod social;
mod state;
mod story;
mod tls;

pub use tls::SimCert;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use state::Sim;
pub use state::{
    Faults, SimAccount, SimComment, SimCover, SimFile, SimLocation, SimMedia, SimUsertag, SimVenue,
};

/// How the simulator is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain HTTP on its own address (`INSTAGRAM_API_URL=http://…`).
    Plain,
    /// HTTPS (h2 and http/1.1 offered) on its own address, with a fresh self-signed
    /// certificate for `localhost`, `127.0.0.1` and Instagram's hosts.
    Tls,
    /// The client's HTTP proxy: `CONNECT i.instagram.com:443` (or any host) is answered and
    /// the tunnel served with TLS under Instagram's own names, so a client runs exactly as
    /// in production (default hosts, a proxy, the certificate trusted).
    Proxy,
}

/// A running simulator.
pub struct Simulator {
    addr: SocketAddr,
    sim: Arc<Sim>,
    task: JoinHandle<()>,
    cert_pem: Option<String>,
    mode: Mode,
}

impl Simulator {
    /// Starts on `addr` (port 0 for a free one) with seed accounts.
    pub async fn start(addr: SocketAddr, seed: Vec<SimAccount>) -> std::io::Result<Simulator> {
        Self::start_mode(addr, seed, Mode::Plain).await
    }

    /// Starts behind TLS (h2 and http/1.1 offered) with a fresh self-signed certificate
    /// for `localhost`, `127.0.0.1` and Instagram's hosts; clients must trust
    /// [`Simulator::cert_pem`].
    pub async fn start_tls(addr: SocketAddr, seed: Vec<SimAccount>) -> std::io::Result<Simulator> {
        Self::start_mode(addr, seed, Mode::Tls).await
    }

    /// Starts as an HTTP proxy that stands in for Instagram's hosts ([`Mode::Proxy`]):
    /// clients use [`Simulator::proxy_url`] as their proxy, their normal
    /// `https://i.instagram.com` base and trust [`Simulator::cert_pem`].
    pub async fn start_proxy(
        addr: SocketAddr,
        seed: Vec<SimAccount>,
    ) -> std::io::Result<Simulator> {
        Self::start_mode(addr, seed, Mode::Proxy).await
    }

    pub async fn start_mode(
        addr: SocketAddr,
        seed: Vec<SimAccount>,
        mode: Mode,
    ) -> std::io::Result<Simulator> {
        let tcp = TcpListener::bind(addr).await?;
        let addr = tcp.local_addr()?;
        let sim = Arc::new(Sim::new(seed));
        let app = router(sim.clone());
        let (task, cert_pem) = match mode {
            Mode::Plain => (serve(tcp, app), None),
            Mode::Tls => {
                let cert = SimCert::generate()?;
                let listener = tls::TlsListener {
                    tcp,
                    acceptor: cert.acceptor()?,
                };
                (serve(listener, app), Some(cert.cert_pem))
            }
            Mode::Proxy => {
                let cert = SimCert::generate()?;
                let listener = tls::ProxyListener::spawn(tcp, cert.acceptor()?)?;
                (serve(listener, app), Some(cert.cert_pem))
            }
        };
        Ok(Simulator {
            addr,
            sim,
            task,
            cert_pem,
            mode,
        })
    }

    /// Records every Instagram request from now on (see [`Simulator::take_trace`]); with a
    /// file, each is also appended to it as a JSON line.
    pub fn record(&self, file: Option<std::fs::File>) {
        self.sim.recorder.start(file);
    }

    /// The requests recorded since the last call, in the order they arrived.
    pub fn take_trace(&self) -> Vec<Value> {
        self.sim.recorder.take()
    }

    /// The proxy URL clients use in [`Mode::Proxy`].
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The certificate to trust when the simulator runs with TLS.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `INSTAGRAM_API_URL`.
    pub fn base_url(&self) -> String {
        match self.mode {
            Mode::Plain => format!("http://{}", self.addr),
            Mode::Tls => format!("https://{}", self.addr),
            Mode::Proxy => "https://i.instagram.com".to_owned(),
        }
    }

    pub fn add_account(&self, account: SimAccount) {
        self.sim.upsert(account);
    }

    pub fn set_global_faults(&self, faults: Faults) {
        self.sim.set_global(faults);
    }

    pub fn media(&self, username: Option<&str>) -> Vec<SimMedia> {
        self.sim.media(username)
    }

    /// [`Simulator::media`] with every file's perceptual hash measured.
    pub async fn media_measured(&self, username: Option<&str>) -> Vec<SimMedia> {
        self.sim.measure_files().await;
        self.sim.media(username)
    }

    /// Seeds a venue that `location_search` finds near its point; the answer carries its
    /// stable `external_id`.
    pub fn add_venue(&self, name: &str, address: &str, lat: f64, lng: f64) -> SimVenue {
        self.sim.add_venue(SimVenue {
            name: name.into(),
            address: address.into(),
            lat,
            lng,
            external_id: 0,
        })
    }

    /// Instagram requests received so far (control endpoints excluded).
    pub fn request_count(&self) -> u64 {
        self.sim.request_count()
    }

    /// The `si_device_param_network_info` of the account's last CAA login.
    pub fn network_info(&self, username: &str) -> Option<serde_json::Value> {
        self.sim.network_info(username)
    }

    /// Instagram requests that arrived over HTTP/2.
    pub fn http2_request_count(&self) -> u64 {
        self.sim.http2_count()
    }

    /// Waits until the server stops (for the CLI).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn serve<L>(listener: L, app: Router) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "instagram simulator stopped");
        }
    })
}

/// Reads a seed file: a JSON array of accounts (`username`, `password`, `totp_secret`,
/// `faults`).
pub fn read_seed(path: &std::path::Path) -> Result<Vec<SimAccount>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The largest request the simulator reads (Instagram takes feed videos of several GB).
const SIM_MAX_BODY: usize = 1024 * 1024 * 1024;

fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/__sim/accounts", post(add_account))
        .route("/__sim/faults", put(set_faults))
        .route("/__sim/media", get(list_media))
        .route(
            "/__sim/media/{media_id}/files/{index}",
            get(files::file_bytes),
        )
        .route("/__sim/venues", post(add_venue))
        .route("/__sim/stats", get(stats))
        .route("/__sim/trace", post(start_trace).get(take_trace))
        .fallback(instagram)
        // Video uploads arrive in one body (rupload); axum's 2 MB default reset the
        // connection on any real-sized video.
        .layer(axum::extract::DefaultBodyLimit::max(SIM_MAX_BODY))
        // Instagram compresses its answers for clients that accept it (the app sends
        // `Accept-Encoding: gzip, deflate`).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .deflate(true),
        )
        .with_state(sim)
}

async fn add_account(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<SimAccount>(&body) {
        Ok(a) if !a.username.is_empty() => {
            let username = a.username.clone();
            sim.upsert(a);
            (
                StatusCode::CREATED,
                axum::Json(json!({"username": username})),
            )
                .into_response()
        }
        Ok(_) => bad_control("username", "required"),
        Err(e) => bad_control("body", &e.to_string()),
    }
}

/// `POST /__sim/venues` `{"name","address","lat","lng"}` → the venue with its id.
async fn add_venue(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<SimVenue>(&body) {
        Ok(v) if v.name.trim().is_empty() => bad_control("name", "required"),
        Ok(v) if !(v.lat.abs() <= 90.0 && v.lng.abs() <= 180.0) => {
            bad_control("lat", "not a point on Earth")
        }
        Ok(v) => (StatusCode::CREATED, axum::Json(sim.add_venue(v))).into_response(),
        Err(e) => bad_control("body", &e.to_string()),
    }
}

fn bad_control(field: &str, message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"error": {"code": "validation", "field": field, "message": message}})),
    )
        .into_response()
}

async fn set_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            sim.set_global(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control("body", &e.to_string()),
    }
}

#[derive(Deserialize)]
struct MediaQuery {
    username: Option<String>,
}

async fn list_media(State(sim): State<Arc<Sim>>, Query(q): Query<MediaQuery>) -> Response {
    sim.measure_files().await;
    axum::Json(json!({"items": sim.media(q.username.as_deref())})).into_response()
}

/// `POST /__sim/trace`: records from now on (in memory), forgetting what came before.
async fn start_trace(State(sim): State<Arc<Sim>>) -> Response {
    sim.recorder.start(None);
    sim.recorder.take();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__sim/trace` → `{"requests":[…]}`: what was recorded since the last call.
async fn take_trace(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(json!({"requests": sim.recorder.take()})).into_response()
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(json!({"requests": sim.request_count(), "http2_requests": sim.http2_count()}))
        .into_response()
}

async fn instagram(
    State(sim): State<Arc<Sim>>,
    version: axum::http::Version,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.note_version(version);
    sim.recorder.record(version, &method, &uri, &headers, &body);
    sim.handle(method, uri, headers, body).await
}
