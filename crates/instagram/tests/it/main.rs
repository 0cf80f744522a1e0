//! End-to-end tests of the Instagram client against the simulator, through real proxies.

mod common;
mod conformance;
mod errors;
mod login;
mod publish;
mod session;
mod trace_diff;
mod transport;
