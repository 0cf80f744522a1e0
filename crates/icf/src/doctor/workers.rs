//! The workers: alive, and keeping up with the queue.

use chrono::Utc;
use icf_store::Db;

use super::report::{Check, one_line};
use crate::config::Settings;

/// A due job left waiting longer than this means nothing is running the queue.
const STUCK_AFTER_SECS: i64 = 300;

pub(super) async fn workers(settings: &Settings, db: Option<&Db>) -> Check {
    const NAME: &str = "workers";
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    // Workers report every lease period; two missed reports mean gone.
    let lease = i64::try_from(settings.worker.job_lease_secs).unwrap_or(60);
    let alive_since = Utc::now() - chrono::Duration::seconds(lease * 2);
    let q = match icf_store::jobs::overview(db, alive_since, 0).await {
        Ok(q) => q,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot read the queue: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    };
    let waiting_secs = q
        .oldest_waiting_since
        .map(|t| (Utc::now() - t).num_seconds().max(0));
    let detail = format!(
        "{} live worker{} ({} job slots); {}",
        q.workers.len(),
        if q.workers.len() == 1 { "" } else { "s" },
        q.workers
            .iter()
            .map(|w| i64::from(w.concurrency))
            .sum::<i64>(),
        match waiting_secs {
            Some(s) => format!("the oldest due job has waited {s} s"),
            None => "no job is waiting".to_owned(),
        }
    );
    match waiting_secs {
        Some(s) if s > STUCK_AFTER_SECS && q.workers.is_empty() => Check::fail(
            NAME,
            detail,
            "start workers: `icf worker` (or `icf serve` without --no-worker; with compose,              `docker compose up -d worker`)",
        ),
        Some(s) if s > STUCK_AFTER_SECS => Check::warn(
            NAME,
            detail,
            "the workers cannot keep up: add some (`--scale worker=N`, more icf-worker@N              units) or look for jobs stuck on one account (`icf jobs status`)",
        ),
        _ => Check::ok(NAME, detail),
    }
}
