//! `translate_text`: a caption into many languages in the background, for batches too large
//! to wait for in one HTTP request. Results land in the translation cache, so reading them
//! afterwards costs no provider request.

use std::sync::Arc;
use std::time::Duration;

use icf_core::jobs::{self, JobPayload};
use icf_core::language::Language;
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use serde_json::Value;

use crate::service::{Translation, translate_caption};

/// Runs [`jobs::TranslateText`].
pub struct TranslateText {
    pub translation: Arc<Translation>,
}

/// Provider trouble that may pass: worth another attempt later.
fn transient(code: &str) -> bool {
    matches!(
        code,
        "provider_unavailable" | "cache_failed" | "invalid_response"
    )
}

impl JobHandler for TranslateText {
    fn kind(&self) -> &'static str {
        jobs::TranslateText::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        4
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let p: jobs::TranslateText = match parse_payload(payload) {
            Ok(p) => p,
            Err(abandon) => return abandon,
        };
        let Ok(source) = Language::parse(&p.source_lang) else {
            return Outcome::Abandon(format!("unknown source language {}", p.source_lang));
        };
        let targets: Vec<Language> = p
            .target_langs
            .iter()
            .filter_map(|l| Language::parse(l).ok())
            .collect();
        let results =
            translate_caption(&ctx.db, &self.translation, &p.text, source, &targets).await;
        // Languages that succeeded are cached; a retry only asks again for the others.
        let retry: Vec<&str> = results
            .iter()
            .filter(|r| r.error.as_ref().is_some_and(|e| transient(e.code)))
            .map(|r| r.language.code())
            .collect();
        if retry.is_empty() {
            return Outcome::Success;
        }
        let unavailable = results.iter().any(|r| {
            r.error
                .as_ref()
                .is_some_and(|e| e.code == "provider_unavailable")
        });
        if unavailable {
            // The client already retried with backoff; give the provider a minute.
            Outcome::RetryAfter(Duration::from_secs(60))
        } else {
            Outcome::Failure(format!("not translated yet: {}", retry.join(", ")))
        }
    }
}
