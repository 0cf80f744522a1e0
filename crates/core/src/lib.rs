//! The pure domain of icf.
//!
//! Everything here is plain data and rules: no database, no HTTP, no clock of its own
//! (callers pass `now`), so every rule can be tested with a fake clock.

pub mod account;
pub mod activity;
pub mod auth;
pub mod caption;
pub mod device;
pub mod enums;
pub mod execution;
pub mod glossary;
pub mod ids;
pub mod import;
pub mod jobs;
pub mod language;
pub mod pacing;
pub mod password;
pub mod post;
pub mod post_options;
pub mod proxy;
pub mod redact;
pub mod review;
pub mod snippet;
pub mod spintax;
pub mod text;
pub mod variants;

pub use enums::ParseEnumError;
