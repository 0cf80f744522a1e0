//! Waking the workers of this process after a commit that enqueued jobs. Apart from the
//! queue's SQL because committing a transaction (`Tx::commit`) rings it.

use std::sync::OnceLock;

use tokio::sync::Notify;

/// Signalled after a commit that enqueued jobs, for the workers of this process (the
/// only wake-up on SQLite, where there is one process). Workers must register interest
/// (`Notified::enable`) before they look for work, or a signal in between is missed.
pub fn local_wakeup() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

pub(crate) fn wake_local_workers() {
    local_wakeup().notify_waiters();
}
