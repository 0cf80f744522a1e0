//! Caption translation for icf.
//!
//! - [`caption`]: pure tokenizer and validator that keep hashtags, mentions, links, emoji
//!   and line breaks byte-identical through translation;
//! - [`provider`]: the [`Translator`] trait and the DeepL, Google and LibreTranslate clients
//!   (retries with backoff and jitter, per-language support);
//! - [`service`]: the cached, single-flight translation of a caption into many languages,
//!   callable from an HTTP handler or a job with a `&Db`;
//! - [`terms`], [`glossaries`]: glossary terms found, protected or sent to DeepL's own
//!   glossaries, and the cache entries a glossary change makes unreachable;
//! - [`sim`]: simulators of the three providers' HTTP APIs for tests and demos.

pub mod caption;
pub mod error;
pub mod glossaries;
pub mod job;
pub mod provider;
pub mod service;
pub mod sim;
pub mod terms;

pub use error::TranslateError;
pub use provider::{ProviderConfig, ProviderKind, RetryPolicy, Translator};
pub use service::{LanguageResult, Translation, TranslationConfig};
