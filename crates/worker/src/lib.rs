//! icf's job runner, the replacement for Celery workers and Celery beat.
//!
//! A [`JobHandler`] runs one kind of job; a [`Registry`] holds the handlers and the
//! periodic jobs; a [`Worker`] claims jobs from the database queue
//! (`icf_store::jobs`) and runs them with leases, time limits, retries and a graceful
//! shutdown. Many workers, in one or many processes, share one queue.
//!
//! Delivery is at least once: a job whose worker dies runs again once its lease
//! expires. A handler must therefore be idempotent — see [`JobContext::succeed_in`]
//! for the simplest way, and `builtin::selftest` for an example.

pub mod builtin;
mod handler;
mod registry;
mod runner;

pub use handler::{JobContext, JobHandler, Outcome, TimeLimits, default_backoff};
pub use registry::Registry;
pub use runner::{Worker, WorkerConfig, WorkerError};

/// The job kinds of the specification (§3.3). Each is registered by the module that
/// implements it; the queue itself is generic.
pub mod kinds {
    pub const POST_TO_INSTAGRAM: &str = "post_to_instagram";
    pub const BATCH_POST: &str = "batch_post";
    pub const CHECK_ACCOUNT_STATUS: &str = "check_account_status";
    pub const CHECK_PROXY: &str = "check_proxy";
    pub const TRANSLATE_TEXT: &str = "translate_text";
    pub const CLEANUP_OLD_SESSIONS: &str = "cleanup_old_sessions";
    /// icf's own: deletes finished jobs past the retention.
    pub const PRUNE_FINISHED_JOBS: &str = "prune_finished_jobs";
    /// icf's own: an end-to-end check of the workers (`icf jobs selftest`).
    pub const SELFTEST: &str = "selftest";
}
