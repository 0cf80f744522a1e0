//! The HTTP client, retry policy and retry loop the providers share, and the helpers
//! that keep their error messages short and free of URLs (keys travel in some).

use std::time::{Duration, Instant};

use rand::Rng;

use super::kind::ProviderKind;
use crate::error::TranslateError;

/// Backoff between attempts, as DeepL's official clients do it: first delay 1 s, ×1.6 per
/// attempt, capped at 120 s, ±23 % jitter, measured from the start of the previous
/// attempt; at most 5 retries. Tests shrink the delays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub multiplier: f64,
    pub max_delay: Duration,
    pub jitter: f64,
    pub max_retries: u32,
    /// Per attempt; a slower answer counts as a network failure and is retried.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            multiplier: 1.6,
            max_delay: Duration::from_secs(120),
            jitter: 0.23,
            max_retries: 5,
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based), with jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        let base = self.initial_delay.as_secs_f64() * self.multiplier.powi(retry as i32);
        let base = base.min(self.max_delay.as_secs_f64());
        let u: f64 = rand::rng().random_range(-1.0..=1.0);
        Duration::from_secs_f64((base * (1.0 + self.jitter * u)).max(0.0))
    }
}

/// What a provider's answer means for the retry loop.
pub(crate) enum Verdict<T> {
    Done(T),
    Retry(String),
    Fail(TranslateError),
}

impl<T> Verdict<T> {
    /// The same verdict about another kind of result (a failure or a retry stays one; a
    /// success is mapped).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Verdict<U> {
        match self {
            Verdict::Done(v) => Verdict::Done(f(v)),
            Verdict::Retry(why) => Verdict::Retry(why),
            Verdict::Fail(e) => Verdict::Fail(e),
        }
    }
}

/// The HTTP client and retry loop shared by the providers.
pub(crate) struct Http {
    pub kind: ProviderKind,
    pub client: reqwest::Client,
    pub retry: RetryPolicy,
}

impl Http {
    pub(super) fn new(kind: ProviderKind, retry: RetryPolicy) -> Result<Http, TranslateError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("icf/", env!("CARGO_PKG_VERSION")))
            .timeout(retry.timeout)
            .pool_idle_timeout(Duration::from_secs(9))
            .build()
            .map_err(|e| TranslateError::Unavailable {
                provider: kind,
                message: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Http {
            kind,
            client,
            retry,
        })
    }

    /// Sends the request `build` makes until `judge` accepts the answer, a failure is not
    /// worth retrying, or the retries run out.
    pub async fn send<T>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        judge: impl Fn(u16, &str) -> Verdict<T>,
    ) -> Result<T, TranslateError> {
        let mut retry = 0;
        loop {
            let started = Instant::now();
            let problem = match build(&self.client).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.text().await {
                        Ok(body) => match judge(status, &body) {
                            Verdict::Done(v) => return Ok(v),
                            Verdict::Fail(e) => return Err(e),
                            Verdict::Retry(why) => why,
                        },
                        Err(e) => format!("the answer was cut off ({})", short(&e)),
                    }
                }
                Err(e) => short(&e),
            };
            if retry >= self.retry.max_retries {
                return Err(TranslateError::Unavailable {
                    provider: self.kind,
                    message: format!("{problem}; gave up after {} attempts", retry + 1),
                });
            }
            let deadline = started + self.retry.delay(retry);
            tracing::warn!(provider = self.kind.as_str(), %problem, retry, "translation request failed; retrying");
            tokio::time::sleep_until(deadline.into()).await;
            retry += 1;
        }
    }
}

/// A network error without the URL, which may carry a key in its query (Google).
fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        format!("network error: {}", e.without_url_ref())
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut s = self.to_string();
        if let Some(url) = self.url() {
            s = s.replace(url.as_str(), "<url>");
        }
        s
    }
}

/// The trimmed, length-limited message a provider put in an error body.
pub(crate) fn clip(message: &str) -> String {
    let m = message.trim();
    if m.chars().count() > 300 {
        format!("{}…", m.chars().take(300).collect::<String>())
    } else {
        m.to_owned()
    }
}

/// Splits `texts` into consecutive chunks of at most `max_texts` whose `size` stays under
/// `max_bytes`. A single text over the limit is its own chunk (the provider refuses it).
pub(crate) fn chunks(
    texts: &[String],
    max_texts: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, t) in texts.iter().enumerate() {
        // JSON escaping can double some characters; count generously.
        let size = t.len() * 2 + 8;
        if i > start && (i - start >= max_texts || bytes + size > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < texts.len() {
        out.push(start..texts.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_1_6_within_the_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        for retry in 0..12 {
            let base = (1.6f64.powi(retry as i32)).min(120.0);
            let d = p.delay(retry).as_secs_f64();
            assert!(
                d >= base * 0.77 - 1e-9 && d <= base * 1.23 + 1e-9,
                "{retry}: {d}"
            );
        }
    }

    #[test]
    fn chunks_respect_count_and_size() {
        let texts: Vec<String> = (0..120).map(|i| format!("text {i}")).collect();
        let c = chunks(&texts, 50, 1 << 20);
        assert_eq!(c, vec![0..50, 50..100, 100..120]);
        let big: Vec<String> = (0..4).map(|_| "x".repeat(1000)).collect();
        assert_eq!(chunks(&big, 50, 4100), vec![0..2, 2..4]);
        assert_eq!(chunks(&big[..1], 50, 10), vec![0..1]);
    }

    #[test]
    fn provider_names_parse() {
        for k in [
            ProviderKind::DeepL,
            ProviderKind::Google,
            ProviderKind::LibreTranslate,
        ] {
            assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProviderKind::parse("bing"), None);
    }
}
