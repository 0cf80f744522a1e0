//! The live event fan-out behind `GET /api/events`.
//!
//! One poller per process reads the database about once a second and fans out over a
//! broadcast channel, so a page sees work done by workers in other processes too. The
//! poller runs only while someone listens.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::Event;
use chrono::{DateTime, Utc};
use icf_core::ids::ExecutionId;
use icf_store::Db;
use icf_store::executions::ExecutionChange;
use icf_store::stats::QueueFigures;
use tokio::sync::broadcast;

const TICK: Duration = Duration::from_secs(1);
/// Each read looks this far behind the newest change seen, so a transaction that commits
/// late with an earlier `updated_at` (another worker process) is not missed.
const OVERLAP_SECS: i64 = 5;
/// Changes read per tick at most; the rest follow on the next tick.
const BATCH: i64 = 500;

/// What the stream carries.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Queue(QueueFigures),
    Execution(ExecutionChange),
}

impl LiveEvent {
    pub(crate) fn to_sse(&self) -> Event {
        let (name, data) = match self {
            LiveEvent::Queue(q) => ("queue", serde_json::to_string(q)),
            LiveEvent::Execution(e) => ("execution", serde_json::to_string(e)),
        };
        Event::default()
            .event(name)
            .data(data.unwrap_or_else(|_| "{}".into()))
    }
}

/// The per-process fan-out. Cheap to clone; the web state holds one.
#[derive(Clone, Default)]
pub struct EventHub {
    sender: Arc<Mutex<Option<broadcast::Sender<LiveEvent>>>>,
}

impl EventHub {
    /// A receiver of every event from now on; starts the poller when nobody listened.
    pub fn subscribe(&self, db: &Db) -> broadcast::Receiver<LiveEvent> {
        let mut guard = match self.sender.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(tx) = guard.as_ref() {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(1024);
        *guard = Some(tx.clone());
        tokio::spawn(poll(self.sender.clone(), tx, db.clone()));
        rx
    }
}

async fn poll(
    slot: Arc<Mutex<Option<broadcast::Sender<LiveEvent>>>>,
    tx: broadcast::Sender<LiveEvent>,
    db: Db,
) {
    let mut since: DateTime<Utc> = Utc::now();
    // Changes already sent within the overlap window, to send each once.
    let mut sent: HashSet<(ExecutionId, DateTime<Utc>)> = HashSet::new();
    let mut last_queue: Option<QueueFigures> = None;
    let mut interval = tokio::time::interval(TICK);
    loop {
        interval.tick().await;
        {
            // Stop when the last listener left; a later subscriber starts a new poller.
            let mut guard = match slot.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            if tx.receiver_count() == 0 {
                if guard.as_ref().is_some_and(|s| s.same_channel(&tx)) {
                    *guard = None;
                }
                return;
            }
        }
        match icf_store::stats::queue_figures(&db).await {
            Ok(q) if last_queue.as_ref() != Some(&q) => {
                last_queue = Some(q.clone());
                let _ = tx.send(LiveEvent::Queue(q));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "live events: cannot read the queue"),
        }
        let from = since - chrono::Duration::seconds(OVERLAP_SECS);
        match icf_store::executions::changed_since(&db, from, BATCH).await {
            Ok(changes) => {
                for change in changes {
                    since = since.max(change.updated_at);
                    if sent.insert((change.id, change.updated_at)) {
                        let _ = tx.send(LiveEvent::Execution(change));
                    }
                }
                let from = since - chrono::Duration::seconds(OVERLAP_SECS);
                sent.retain(|(_, at)| *at > from);
            }
            Err(e) => tracing::warn!(error = %e, "live events: cannot read executions"),
        }
    }
}
