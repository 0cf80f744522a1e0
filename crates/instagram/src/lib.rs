//! icf's native client for Instagram's private mobile API, as instagrapi 3.2.2 speaks it
//! (see `/INSTAGRAM.md` and the fact sheet): sessions in instagrapi's settings format,
//! per-account proxy-only transport, login with two-factor and challenges, publishing of
//! photos, videos, carousels and reels, and the error classes icf acts on. `sim` is a
//! simulator of the same protocol for tests and demos.

pub mod app_profile;
pub mod caa;
pub mod client;
pub mod crypto;
pub mod error;
mod headers;
pub mod session;
pub mod sim;
pub mod transport;
pub mod wire;

pub use app_profile::{AppProfile, AppProfileError, AppProfiles};
pub use client::{
    AccountInfo, CarouselItem, ChallengeAsk, ChallengePending, ClientConfig, Credentials,
    InstagramClient, LoginOutcome, Media, Photo, Published, TwoFactorPending, Uploaded, Video,
    VideoData,
};
pub use error::{ApiError, ApiErrorKind, ErrorClass, IgError};
pub use session::Session;
pub use transport::{ProxyScheme, ProxySpec, TransportOptions};
