//! icf's job runner, the replacement for Celery workers and Celery beat.
//!
//! A [`JobHandler`] runs one kind of job; a [`Registry`] holds the handlers and the
//! periodic jobs; a [`Worker`] claims jobs from the database queue
//! (`icf_store::jobs`) and runs them with leases, time limits, retries and a graceful
//! shutdown. Many workers, in one or many processes, share one queue.
//!
//! The queue runs any kind; icf's own kinds and their payloads are defined once, in
//! `icf_core::jobs`, and a handler reads its payload with [`parse_payload`].
//!
//! Delivery is at least once: a job whose worker dies runs again once its lease
//! expires. A handler must therefore be idempotent — see [`JobContext::succeed_in`]
//! for the simplest way, and `builtin::selftest` for an example.

pub mod builtin;
mod handler;
mod registry;
mod runner;

pub use handler::{JobContext, JobHandler, Outcome, TimeLimits, default_backoff, parse_payload};
pub use registry::Registry;
pub use runner::{Worker, WorkerConfig, WorkerError};
