//! What every provider implements: one batch in, its translations out.

use futures_util::future::BoxFuture;
use icf_core::glossary::GlossaryEntry;
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
    /// The provider's own glossary to apply (made by [`Translator::create_glossary`]).
    pub glossary_id: Option<&'a str>,
}

/// A glossary to upload to a provider that keeps glossaries of its own.
#[derive(Debug, Clone, Copy)]
pub struct GlossaryUpload<'a> {
    pub name: &'a str,
    pub source: Language,
    pub target: Language,
    pub entries: &'a [GlossaryEntry],
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

    /// Whether the provider applies glossaries of its own from `source` into `target`
    /// (DeepL, for its glossary languages). Otherwise icf protects the terms itself and
    /// puts the glossary's translations in place (`crate::terms`).
    fn has_glossaries(&self, _source: Language, _target: Language) -> bool {
        false
    }

    /// Uploads a glossary; returns the provider's id for it.
    fn create_glossary<'a>(
        &'a self,
        _glossary: GlossaryUpload<'a>,
    ) -> BoxFuture<'a, Result<String, TranslateError>> {
        let kind = self.kind();
        Box::pin(async move {
            Err(TranslateError::Rejected {
                provider: kind,
                status: 0,
                message: "this provider keeps no glossaries".into(),
            })
        })
    }

    /// Deletes an uploaded glossary; one the provider no longer knows is gone already.
    fn delete_glossary<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<(), TranslateError>> {
        Box::pin(async { Ok(()) })
    }
}
