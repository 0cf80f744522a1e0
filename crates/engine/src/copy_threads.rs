//! The threads photo copies are made on (`variants.rs`).

use std::sync::{Arc, Mutex, mpsc};

/// The copies' threads cannot take or finish a job.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CopiesStopped(pub String);

/// The threads photo copies are made on: at most `count` (the copies' concurrency), started
/// when first needed and kept while the engine is.
///
/// Why not `spawn_blocking`: glibc's allocator gives each thread that allocates its own
/// arena (up to 8 per core), and an arena keeps much of what a copy freed. A copy of a
/// 1080×1920 cover peaks at ~44 MB in process, and ~41 MB of it stayed resident in its
/// thread's arena afterwards (the resize's 31 MB buffer, freed, raises glibc's mmap and trim
/// thresholds); the runtime's blocking pool runs each job on whichever of its threads is
/// free, so four covers in a row on four threads held 170 MB, on one thread 48 MB
/// (`cargo run --release -p icf-media --example variant_memory -- covers-threads`). On a
/// fixed few threads, what the allocator keeps is bounded by `count` copies, whatever
/// `MALLOC_ARENA_MAX` says.
#[derive(Clone)]
pub(crate) struct CopyThreads {
    count: usize,
    jobs: Arc<Mutex<Option<mpsc::Sender<Job>>>>,
}

type Job = Box<dyn FnOnce() + Send>;

impl CopyThreads {
    pub(crate) fn new(count: usize) -> Self {
        CopyThreads {
            count: count.max(1),
            jobs: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `work` on one of the threads and waits for its answer.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CopiesStopped> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.sender()?
            .send(job)
            .map_err(|_| CopiesStopped("the photo copies' threads stopped".into()))?;
        // Dropped unanswered: the work panicked (the thread goes on with the next job).
        answered
            .await
            .map_err(|_| CopiesStopped("a photo copy stopped".into()))
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, CopiesStopped> {
        let mut jobs = self
            .jobs
            .lock()
            .map_err(|_| CopiesStopped("the photo copies' threads stopped".into()))?;
        if let Some(sender) = jobs.as_ref() {
            return Ok(sender.clone());
        }
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..self.count {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("icf-copies-{i}"))
                .spawn(move || {
                    // The lock is held only while waiting for the next job. The threads end
                    // when the engine (the sender) is gone.
                    loop {
                        let next = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = next else { return };
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .map_err(|e| CopiesStopped(format!("no thread for photo copies: {e}")))?;
        }
        *jobs = Some(sender.clone());
        Ok(sender)
    }
}
