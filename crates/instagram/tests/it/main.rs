//! End-to-end tests of the Instagram client against the simulator, through real proxies.

mod common;
mod errors;
mod login;
mod publish;
mod session;
mod transport;
