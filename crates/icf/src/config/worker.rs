//! The job queue's workers: leases, polling, shutdown, concurrency and how long finished
//! work is kept.

use super::vars::{ConfigError, Vars};

/// How workers take, hold and keep jobs.
#[derive(Clone)]
pub struct WorkerSettings {
    /// `MAX_CONCURRENT_TASKS` (default 50): publishing jobs running at once, across every
    /// worker process.
    pub max_concurrent_tasks: u32,
    /// `ICF_JOB_LEASE_SECS` (default 60): how long a worker holds a job without renewing
    /// it; a job whose worker died runs again about this long after.
    pub job_lease_secs: u64,
    /// `ICF_WORKER_POLL_SECS` (default 5): the safety-net poll of idle workers.
    pub poll_secs: u64,
    /// `ICF_WORKER_SHUTDOWN_GRACE_SECS` (default 30): on SIGTERM, how long running jobs
    /// may finish before they are given back to the queue.
    pub shutdown_grace_secs: u64,
    /// `ICF_JOB_RETENTION_DAYS` (default 14): finished jobs older than this are pruned.
    pub job_retention_days: u32,
    /// `ICF_LOG_RETENTION_DAYS` (default 90, 0–3650): activity logs older than this are
    /// deleted by the periodic upkeep; 0 keeps them.
    pub log_retention_days: u32,
    /// `ICF_CLIENT_CACHE_SIZE` (default 1000, 0–100000): accounts whose Instagram client
    /// (parsed session, signatures, open connections) a worker process keeps between their
    /// actions; 0 builds a client for every action.
    pub client_cache_size: u32,
    /// `ICF_CLIENT_IDLE_SECS` (default 600, 1–86400): a kept client unused this long is
    /// dropped, with its connections.
    pub client_idle_secs: u64,
}

impl WorkerSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            max_concurrent_tasks: vars.ranged("MAX_CONCURRENT_TASKS", 50u32, 1, 1000)?,
            job_lease_secs: vars.ranged("ICF_JOB_LEASE_SECS", 60u64, 1, 3600)?,
            poll_secs: vars.ranged("ICF_WORKER_POLL_SECS", 5u64, 1, 300)?,
            shutdown_grace_secs: vars.ranged("ICF_WORKER_SHUTDOWN_GRACE_SECS", 30u64, 0, 3600)?,
            job_retention_days: vars.ranged("ICF_JOB_RETENTION_DAYS", 14u32, 1, 3650)?,
            log_retention_days: vars.ranged("ICF_LOG_RETENTION_DAYS", 90u32, 0, 3650)?,
            client_cache_size: vars.ranged("ICF_CLIENT_CACHE_SIZE", 1000u32, 0, 100_000)?,
            client_idle_secs: vars.ranged("ICF_CLIENT_IDLE_SECS", 600u64, 1, 86_400)?,
        })
    }
}
