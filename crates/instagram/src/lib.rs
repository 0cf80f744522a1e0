//! icf's native client for Instagram's private mobile API, as instagrapi 3.2.2 speaks it
//! (see `/INSTAGRAM.md` and the fact sheet): sessions in instagrapi's settings format,
//! per-account proxy-only transport, login with two-factor and challenges, publishing of
//! photos, videos, carousels, reels and stories with their options, and the error classes icf acts on. `sim` is a
//! simulator of the same protocol for tests and demos.
//!
//! The client is one type, [`InstagramClient`], whose methods live with their concern:
//! `client` (the connection, the standard headers, the request path and write-back),
//! `login` (legacy, CAA, two-factor, challenges), `publish` (upload, configure with the
//! post's options, stories, recent media, the first comment) and `lookup` (venues, user
//! ids); `types` holds what they take and give back.

pub mod app_profile;
pub mod client;
pub mod crypto;
pub mod error;
mod login;
mod lookup;
mod publish;
pub mod session;
pub mod sim;
pub mod transport;
pub mod types;
pub mod usdid;
pub mod wire;

pub use app_profile::{APP_ID, AppProfile, AppProfileError, AppProfiles};
pub use client::{ClientConfig, InstagramClient};
pub use error::{ErrorAnswer, ErrorClass, ErrorShape, IgError};
/// The CAA login's answer reading and network description (`icf_instagram::caa`).
pub use login::caa;
pub use session::Session;
pub use transport::{ProxyEndpoint, ProxyScheme, TransportOptions};
pub use types::{
    AccountInfo, CarouselItem, ChallengeAsk, ChallengePending, Comment, Credentials, LoginOutcome,
    Media, Photo, PostOptions, Published, TwoFactorPending, Uploaded, UserTag, Venue, Video,
    VideoData,
};
