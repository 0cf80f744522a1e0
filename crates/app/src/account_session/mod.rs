//! An account's Instagram sign-in: log in now (through its own proxy, with its own
//! device) and answer a two-factor code or a challenge ([`login`]), check the session
//! cheaply ([`check`]), and bring or take a session in instagrapi's settings format
//! ([`transfer`]). Logins and checks run as jobs of the account, never beside its
//! publishing; the caller waits for them a while ([`JobAnswer`]).

pub mod check;
pub mod job;
pub mod login;
pub mod transfer;

pub use check::{SessionStatus, StatusAnswer};
pub use job::JobAnswer;
pub use login::{LoginAnswer, LoginResult};
