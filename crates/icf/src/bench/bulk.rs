//! B9 bulk scheduling (issue #23): a month of posts from a spreadsheet — 500 rows, each
//! with its own photo in one ZIP, for a group of 300 accounts in three languages, scheduled
//! over 30 days — checked (dry run) and then imported through `POST /api/posts/bulk`.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use super::fanout::account_lines;
use super::figure::{Figure, ms};
use super::fixture::{Fixture, Store};

const ROWS: usize = 500;
const ACCOUNTS: usize = 300;

/// A 1080×1350 photo, different for every row (the decode and re-encode are the cost).
fn photo(i: usize) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(1080, 1350, |x, y| {
        image::Rgb([
            ((x + i as u32) % 251) as u8,
            ((y * 3 + i as u32) % 241) as u8,
            ((x ^ y) % 239) as u8,
        ])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )?;
    Ok(out)
}

fn spreadsheet() -> anyhow::Result<(String, Vec<u8>)> {
    let start = chrono::Utc::now() + chrono::Duration::hours(2);
    let mut csv = String::from("media,caption,original_language,groups,when,first_comment\n");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // JPEGs do not shrink: stored, as a phone's ZIP tool would.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..ROWS {
        let name = format!("day-{:02}/photo-{i:03}.jpg", i / 17);
        zip.start_file(&name, options)?;
        zip.write_all(&photo(i)?)?;
        let when = start + chrono::Duration::minutes((i * 86) as i64);
        csv.push_str(&format!(
            "{name},\"Tip {i}: ship small changes, often. #rust #devops\",en,Month,{},Question of the day {i}\n",
            when.to_rfc3339()
        ));
    }
    Ok((csv, zip.finish()?.into_inner()))
}

async fn import(fx: &Fixture, csv: &str, zip: &[u8], dry_run: bool) -> anyhow::Result<Value> {
    let form = reqwest::multipart::Form::new()
        .part(
            "csv",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("month.csv"),
        )
        .part(
            "media",
            reqwest::multipart::Part::bytes(zip.to_vec()).file_name("month.zip"),
        );
    let path = if dry_run {
        "/api/posts/bulk?dry_run=true"
    } else {
        "/api/posts/bulk"
    };
    let resp = fx
        .client
        .post(fx.url(path))
        .bearer_auth(&fx.token)
        .multipart(form)
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await.context("the import's answer")?;
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

pub async fn run(store: &Store) -> anyhow::Result<Vec<Figure>> {
    let (deepl, settings) = super::fixture::deepl().await?;
    let fx = Fixture::start(store, &settings).await?;
    fx.import_accounts(&account_lines(
        "bulk",
        "Month",
        0,
        ACCOUNTS,
        &["en", "es", "de"],
    ))
    .await?;
    let (csv, zip) = spreadsheet()?;
    let mb = zip.len() as f64 / 1e6;
    let mut out = Vec::new();
    for dry_run in [true, false] {
        let started = Instant::now();
        let body = import(&fx, &csv, &zip, dry_run).await?;
        let took = started.elapsed();
        let (what, n) = if dry_run {
            ("checked (dry run)", body["rows"].as_u64().unwrap_or(0))
        } else {
            (
                "imported and scheduled",
                body["created"].as_u64().unwrap_or(0),
            )
        };
        out.push(
            Figure::new(
                "B9",
                store,
                format!("{ROWS} rows with {ROWS} photos ({mb:.0} MB ZIP) for {ACCOUNTS} accounts in 3 languages, {what}"),
                format!("{n} posts in {}", ms(took)),
            )
            .goal("< 60 s", n as usize == ROWS && took.as_secs_f64() < 60.0),
        );
    }
    out.push(Figure::new(
        "B9",
        store,
        "translation requests for the import (one caption text per row, 2 languages)",
        format!("{} requests to DeepL", deepl.requests().len()),
    ));
    fx.finish().await?;
    Ok(out)
}
