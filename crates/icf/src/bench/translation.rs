//! B6 translation cost: what one post to 1,000 accounts in 8 languages costs at the
//! provider (requests, billed characters), the first time and when the same caption is
//! published again (the cache's worth).

use reqwest::Method;
use serde_json::json;

use super::fanout::account_lines;
use super::figure::Figure;
use super::fixture::{Fixture, Store};

const LANGUAGES: [&str; 8] = ["en", "ru", "es", "de", "fr", "it", "pt-BR", "tr"];
const ACCOUNTS: usize = 1_000;
const CAPTION: &str = "Our new course on Rust is out! 🔥 Ten lessons, from ownership to async, \
    with exercises you can run in the browser. Link in bio. #rust #programming #course";

pub async fn run(store: &Store) -> anyhow::Result<Vec<Figure>> {
    let (deepl, settings) = super::fixture::deepl().await?;
    let fx = Fixture::start(store, &settings).await?;
    fx.import_accounts(&account_lines("tr", "Eight", 0, ACCOUNTS, &LANGUAGES))
        .await?;
    let group = fx.group_id("Eight").await?;
    let mut out = Vec::new();
    for (round, what) in [(1, "first time"), (2, "the same caption again (new post)")] {
        deepl.clear_requests();
        let before = deepl.characters_billed();
        let post = fx.photo_post(&[&group], CAPTION, "en").await?;
        let plan = fx
            .call(
                Method::POST,
                &format!("/api/posts/{post}/publish"),
                Some(json!({"when": "now"})),
            )
            .await?;
        let created = plan["created"].as_u64().unwrap_or(0);
        let requests = deepl.requests().len();
        let billed = deepl.characters_billed() - before;
        let chars = CAPTION.chars().count();
        let goal = if round == 1 {
            // One request per language at most, each billed once for the caption.
            (
                "≤ 7 requests, ≤ 7 × caption",
                requests <= 7 && billed <= 7 * chars as u64,
            )
        } else {
            ("0 requests (cache)", requests == 0)
        };
        out.push(
            Figure::new(
                "B6",
                store,
                format!("one post to {created} accounts in 8 languages, {what}"),
                format!("{requests} requests, {billed} characters billed (caption: {chars})"),
            )
            .goal(goal.0, goal.1),
        );
    }
    fx.finish().await?;
    Ok(out)
}
