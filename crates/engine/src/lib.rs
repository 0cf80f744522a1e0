//! What icf does with Instagram, shared by the job handlers and the account routes: an
//! account is reached only through its own proxy, with its own device and its session
//! (kept encrypted and written back after every call); every call leaves an activity log
//! (endpoint, outcome, duration, never a secret); Instagram's verdicts change the account's
//! status with history.
//!
//! [`Engine`] (`engine.rs`) is what every action reaches; its methods are grouped by
//! concern: `connection` (an account's proxy, device and session; `clients` keeps its
//! client between actions), `session` (login, codes,
//! session checks), `status` (what Instagram's verdicts do to the account), `media` (a
//! post's files as Instagram gets them), `proxy_health` (checks and failover). The job
//! handlers are `publish` (`post_to_instagram`), `login`, `checks`, `proxy_health`,
//! `maintenance` and `alerts`.

pub mod alerts;
pub mod checks;
pub mod clients;
mod connection;
mod copy_threads;
mod engine;
mod error;
pub mod first_comment;
pub mod interop;
pub mod login;
pub mod maintenance;
mod media;
pub mod proxy_check;
pub mod proxy_health;
pub mod publish;
mod session;
mod settings;
mod status;
pub mod variants;

pub use clients::{ClientCache, ClientCacheSettings};
pub use connection::Connection;
pub use engine::Engine;
pub use error::{EngineError, class_name};
pub use media::Prepared;
pub use publish::PostToInstagram;
pub use settings::{Cooldowns, EngineSettings, VariantSettings};
