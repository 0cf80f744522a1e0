//! End-to-end tests of the Instagram client against the simulator, through real proxies.

mod common;
mod conformance;
mod conformance_options;
mod errors;
mod login;
mod options;
mod publish;
mod session;
mod trace_diff;
mod transport;
