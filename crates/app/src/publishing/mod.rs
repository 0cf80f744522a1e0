//! Planning and publishing posts: the plan (every account's time, before anything is
//! sent), the publish that writes it with each language's final caption, the executions
//! it made and their totals, and cancelling or retrying them. The worker side of each
//! execution is `icf_engine::publish`.

pub(crate) mod approval;
pub mod cancel;
mod captions;
pub mod executions;
pub mod plan;
pub mod publish;
pub mod retry;
