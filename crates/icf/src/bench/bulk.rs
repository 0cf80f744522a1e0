//! B9 bulk scheduling (issue #23): an agency's month from a spreadsheet — 500 rows, each
//! with its own photo in one ZIP, for 25 clients' groups of 12 accounts in three languages
//! (20 posts per client, one every day and a half) — checked (dry run) and then imported
//! through `POST /api/posts/bulk`.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use super::fanout::account_lines;
use super::figure::{Figure, ms};
use super::fixture::{Fixture, Store};

const ROWS: usize = 500;
const GROUPS: usize = 25;
const PER_GROUP: usize = 12;

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
        let group = i % GROUPS;
        let minutes = (i / GROUPS) * 36 * 60 + group * 7;
        let when = start + chrono::Duration::minutes(minutes as i64);
        csv.push_str(&format!(
            "{name},\"Tip {i}: ship small changes, often. #rust #devops\",en,Client {group:02},{},Question of the day {i}\n",
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
    let mut lines = Vec::new();
    for g in 0..GROUPS {
        let group = format!("Client {g:02}");
        let first = g * PER_GROUP;
        lines.extend(account_lines(
            "bulk",
            &group,
            first,
            PER_GROUP,
            &["en", "es", "de"],
        ));
    }
    fx.import_accounts(&lines).await?;
    let (csv, zip) = spreadsheet()?;
    let mb = zip.len() as f64 / 1e6;
    let mut out = Vec::new();
    for dry_run in [true, false] {
        let started = Instant::now();
        let body = import(&fx, &csv, &zip, dry_run).await?;
        let took = started.elapsed();
        eprintln!(
            "  {} in {}",
            if dry_run { "dry run" } else { "import" },
            ms(took)
        );
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
                format!("{ROWS} rows with {ROWS} photos ({mb:.0} MB ZIP) for {GROUPS} groups of {PER_GROUP} accounts in 3 languages, {what}"),
                format!("{n} posts in {}", ms(took)),
            )
            .goal("< 60 s", n as usize == ROWS && took.as_secs_f64() < 60.0),
        );
    }
    out.push(Figure::new(
        "B9",
        store,
        "requests to DeepL (a caption and a first comment per row, 2 other languages)",
        format!("{} requests to DeepL", deepl.requests().len()),
    ));
    fx.finish().await?;
    Ok(out)
}
