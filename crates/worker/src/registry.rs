//! The job kinds a worker can run, and the periodic jobs it schedules.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use icf_core::jobs::JobPayload;
use icf_store::jobs::NewJob;
use serde_json::Value;

use crate::handler::{ErasedHandler, JobHandler};

/// A job enqueued once per `every` (Celery beat's schedule).
#[derive(Debug, Clone)]
pub(crate) struct Periodic {
    pub kind: &'static str,
    pub every: Duration,
    pub payload: Value,
}

/// Handlers by kind, and periodic jobs.
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) handlers: BTreeMap<&'static str, Arc<dyn ErasedHandler>>,
    pub(crate) periodic: Vec<Periodic>,
    /// Global caps set by configuration, overriding the handlers' own.
    pub(crate) caps: BTreeMap<&'static str, u32>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a handler; a second handler for the same kind replaces the first.
    pub fn register<H: JobHandler>(&mut self, handler: H) -> &mut Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    /// Enqueues `kind` once per `every` (rounded to whole seconds, at least one),
    /// aligned on the Unix epoch. Every worker tries; a unique key per period makes
    /// exactly one enqueue win, so no leader process is needed.
    pub fn every(&mut self, kind: &'static str, every: Duration, payload: Value) -> &mut Self {
        self.periodic.push(Periodic {
            kind,
            every: Duration::from_secs(every.as_secs().max(1)),
            payload,
        });
        self
    }

    /// [`Registry::every`] for one of icf's kinds, with its typed payload.
    pub fn every_job<P: JobPayload>(&mut self, every: Duration, payload: &P) -> &mut Self {
        self.every(P::KIND.as_str(), every, payload.to_json())
    }

    /// Caps the jobs of `kind` running at once across every worker (e.g.
    /// `MAX_CONCURRENT_TASKS` for Instagram actions), whatever its handler says.
    pub fn cap(&mut self, kind: &'static str, max_running: u32) -> &mut Self {
        self.caps.insert(kind, max_running.max(1));
        self
    }

    /// The global cap in force for `kind`.
    pub(crate) fn cap_of(&self, kind: &str) -> Option<u32> {
        self.caps
            .get(kind)
            .copied()
            .or_else(|| self.handlers.get(kind).and_then(|h| h.global_cap()))
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// A new job of a registered kind, carrying that kind's max attempts.
    pub fn new_job(&self, kind: &str, payload: Value) -> NewJob {
        let job = NewJob::new(kind, payload);
        match self.handlers.get(kind) {
            Some(h) => job.max_attempts(h.max_attempts()),
            None => job,
        }
    }

    /// [`Registry::new_job`] for one of icf's kinds, with its typed payload.
    pub fn job<P: JobPayload>(&self, payload: &P) -> NewJob {
        self.new_job(P::KIND.as_str(), payload.to_json())
    }
}
