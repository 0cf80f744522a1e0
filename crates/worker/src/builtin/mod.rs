//! Job kinds of the queue itself.

mod prune;
mod selftest;

pub use prune::PruneFinishedJobs;
pub use selftest::Selftest;
