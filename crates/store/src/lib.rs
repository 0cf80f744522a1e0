//! icf's storage: one facade over SQLite (the default, one process) and PostgreSQL
//! (production, many processes), with versioned migrations for both.
//!
//! Most SQL is one string shared by both engines (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`), run through [`on_pool!`] which type-checks it once per engine.
//! Engine-specific SQL is kept to the job queue's claim and wake-up.

pub mod accounts;
pub mod activity;
pub mod alerts;
pub mod conn;
pub mod db;
pub mod error;
pub mod executions;
pub mod first_comments;
pub mod glossaries;
pub mod groups;
pub mod import;
pub mod jobs;
pub mod maintenance;
pub mod post_translations;
pub mod posts;
pub mod proxies;
pub mod proxy_health;
pub mod publishing;
pub mod reviews;
pub mod revoked_tokens;
pub mod snippets;
pub mod stats;
pub mod translations;
pub mod tx;
pub mod types;
pub mod users;

pub use conn::Conn;
pub use db::{Db, DbKind, PoolSettings, Readiness};
pub use error::StoreError;
pub use tx::Tx;
pub use types::DbUuid;
