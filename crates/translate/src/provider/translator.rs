//! What every provider implements: one batch in, its translations out.

use futures_util::future::BoxFuture;
use icf_core::language::Language;

use super::kind::ProviderKind;
use crate::error::TranslateError;

/// One provider call: texts translated independently, results in the same order.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub texts: &'a [String],
    pub source: Language,
    pub target: Language,
    /// The texts carry `<x id="N"/>` placeholders (only when [`Translator::supports_markup`]).
    pub markup: bool,
    /// Untranslated context for every text (the whole caption when sending fragments).
    pub context: Option<&'a str>,
}

/// A translation service. Implementations split batches to the provider's limits and
/// retry transient failures themselves.
pub trait Translator: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// Whether texts into `target` may carry XML placeholders that come back in place.
    /// Exact once [`Translator::prepare`] has run.
    fn supports_markup(&self, target: Language) -> bool;

    /// Loads what the provider says about itself (its languages) once per process.
    fn prepare(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn translate<'a>(
        &'a self,
        batch: Batch<'a>,
    ) -> BoxFuture<'a, Result<Vec<String>, TranslateError>>;
}
