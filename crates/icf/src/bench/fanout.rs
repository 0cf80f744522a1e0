//! B1 fan-out: one post to N accounts in 5 languages — the plan, every execution and every
//! job written — timed as the operator sees it: `POST /api/posts/{id}/publish`.

use std::time::Instant;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::json;

use super::figure::{Figure, ms};
use super::fixture::{Fixture, Store};

pub const LANGUAGES: [&str; 5] = ["en", "ru", "es", "de", "pt-BR"];

/// Import lines for `n` accounts of `group`, languages in turn, each with its own proxy
/// (numbered from `first`, so that several calls give distinct proxies).
pub fn account_lines(
    prefix: &str,
    group: &str,
    first: usize,
    n: usize,
    languages: &[&str],
) -> Vec<String> {
    (first..first + n)
        .map(|i| {
            let lang = languages[i % languages.len()];
            format!(
                "{prefix}_{i:05}:pw-{i:05}-secret:{lang}:{group}:socks5://u{i}:p{i}@10.{}.{}.{}:1080",
                i / 65_536 % 256,
                i / 256 % 256,
                i % 256
            )
        })
        .collect()
}

pub async fn run(store: &Store, accounts: usize) -> anyhow::Result<Vec<Figure>> {
    let (_deepl, settings) = super::fixture::deepl().await?;
    let fx = Fixture::start(store, &settings).await?;
    let mut out = Vec::new();

    let lines = account_lines("fan", "Fanout", 0, accounts, &LANGUAGES);
    let t = Instant::now();
    fx.import_accounts(&lines).await?;
    let import = t.elapsed();
    out.push(Figure::new(
        "B1",
        store,
        format!("import {accounts} accounts with proxies (API, files of 5,000)"),
        format!(
            "{} ({:.0} accounts/s)",
            ms(import),
            accounts as f64 / import.as_secs_f64()
        ),
    ));

    let group = fx.group_id("Fanout").await?;
    for round in 1..=2 {
        let post = fx
            .photo_post(&[&group], "A new course on Rust is out! 🔥", "en")
            .await?;
        fx.call(
            Method::POST,
            &format!("/api/posts/{post}/translate"),
            Some(json!({})),
        )
        .await
        .context("translating")?;
        let t = Instant::now();
        let plan = fx
            .call(
                Method::POST,
                &format!("/api/posts/{post}/publish"),
                Some(json!({"when": "now"})),
            )
            .await?;
        let took = t.elapsed();
        let created = plan["created"].as_u64().unwrap_or(0);
        if created != accounts as u64 {
            bail!(
                "publishing created {created} executions, not {accounts}: excluded {}",
                plan["excluded"]
            );
        }
        let what = if round == 1 {
            format!("publish: plan + {accounts} executions + {accounts} jobs")
        } else {
            "the same, a second post (plans around the first)".to_owned()
        };
        let goal_met = took.as_secs_f64() < 1.0;
        let f = Figure::new("B1", store, what, ms(took));
        out.push(if matches!(store, Store::Postgres(_)) {
            f.goal("< 1 s on PostgreSQL", goal_met)
        } else {
            f
        });
    }
    fx.finish().await?;
    Ok(out)
}
