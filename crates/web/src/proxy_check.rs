//! Proxy checks live in the engine, where the `check_proxy` job runs them too.

pub use icf_engine::proxy_check::*;
