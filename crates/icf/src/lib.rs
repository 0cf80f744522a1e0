//! The `icf` binary's library half: configuration, startup and the commands, so that
//! integration tests start exactly what `icf serve` starts.

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod serve;
pub mod startup;
pub mod telemetry;
