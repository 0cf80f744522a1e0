//! Bulk scheduling (issue `[workflow]`): a spreadsheet of posts (one per row, `rows`) and
//! the files it names (a ZIP or files sent one by one, `bundle`). Every row is checked as a
//! publish would check it and its files prepared (`check`); a dry run reports and keeps
//! nothing, a real run is all or nothing: the drafts are written in one transaction, then
//! each row with a `when` is published, scheduled, or (an editor's, where approvals are on)
//! submitted for review. If one of those fails, every post of the import is deleted again.

mod bundle;
mod check;
pub mod rows;

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use icf_core::enums::{JobPriority, PostStatus};
use icf_core::ids::PostId;
use icf_core::review::PublishRight;
use icf_media::MediaError;
use icf_media::storage::{StagedUpload, stage_stream};
use serde::Serialize;

use self::bundle::Bundle;
use self::check::{Prepared, When, check_row};
use self::rows::RowError;
use crate::publishing::publish::{PublishOptions, publish_with};
use crate::{Actor, App, AppError, AppResult};

/// The largest spreadsheet taken, in bytes.
pub const MAX_CSV_BYTES: usize = 10 * 1024 * 1024;

/// One post of the import, as checked or as created.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkPost {
    pub row: usize,
    pub media_type: icf_core::enums::MediaType,
    pub media_count: usize,
    /// The languages its accounts speak (its captions were checked in each).
    pub languages: Vec<String>,
    /// `null`: a draft; otherwise when it goes out (now: the import's time).
    pub when: Option<DateTime<Utc>>,
    /// After a real import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<PostId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PostStatus>,
}

/// What an import found or did.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkReport {
    pub dry_run: bool,
    /// Posts read from the spreadsheet.
    pub rows: usize,
    /// Posts created (0 on a dry run or when anything was wrong).
    pub created: usize,
    /// Every problem, by row and column; nothing was created when there is one.
    pub errors: Vec<RowError>,
    pub posts: Vec<BulkPost>,
}

/// An import on its way in: the spreadsheet and the files staged so far. End it with
/// [`BulkUpload::run`], or [`BulkUpload::discard`] when the request cannot be read.
pub struct BulkUpload<'a> {
    app: &'a App,
    csv: Option<Vec<u8>>,
    zip: Option<StagedUpload>,
    files: Vec<(String, StagedUpload)>,
}

impl<'a> BulkUpload<'a> {
    pub fn new(app: &'a App) -> Self {
        Self {
            app,
            csv: None,
            zip: None,
            files: Vec::new(),
        }
    }

    pub fn set_csv(&mut self, bytes: Vec<u8>) -> AppResult<()> {
        if self.csv.is_some() {
            return Err(AppError::validation("csv", "send one spreadsheet"));
        }
        if bytes.len() > MAX_CSV_BYTES {
            return Err(AppError::validation("csv", "at most 10 MB"));
        }
        self.csv = Some(bytes);
        Ok(())
    }

    async fn stage<S, E>(&self, field: &str, body: S) -> AppResult<StagedUpload>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let max = self.app.uploads.max_file_bytes;
        stage_stream(self.app.media.staging_dir(), body, max)
            .await
            .map_err(|e| match e {
                MediaError::FileTooLarge { limit_mb } => AppError::PayloadTooLarge {
                    field: field.into(),
                    message: format!("{field}: at most {limit_mb} MB"),
                },
                other => crate::posts::media::media_error_named(field, other),
            })
    }

    /// Streams the ZIP of the rows' files to the staging directory.
    pub async fn add_zip<S, E>(&mut self, body: S) -> AppResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if self.zip.is_some() {
            return Err(AppError::validation("media", "send one ZIP"));
        }
        self.zip = Some(self.stage("media", body).await?);
        Ok(())
    }

    /// Streams one file, sent on its own under `name`, to the staging directory.
    pub async fn add_file<S, E>(&mut self, name: &str, body: S) -> AppResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if name.trim().is_empty() {
            return Err(AppError::validation(
                "files",
                "each file needs its file name",
            ));
        }
        let staged = self.stage("files", body).await?;
        self.files.push((name.trim().to_owned(), staged));
        Ok(())
    }

    /// Removes everything staged.
    pub async fn discard(self) {
        if let Some(z) = self.zip {
            z.discard().await;
        }
        for (_, f) in self.files {
            f.discard().await;
        }
    }

    /// Checks every row, then (unless `dry_run`) creates and publishes them all, for
    /// `actor`. Problems come back in the report (`errors`), not as an error: the caller
    /// answers 422 with it.
    pub async fn run(mut self, actor: &Actor, dry_run: bool) -> AppResult<BulkReport> {
        let app = self.app;
        let Some(csv) = self.csv.take() else {
            self.discard().await;
            return Err(AppError::validation(
                "csv",
                "required: the spreadsheet, as CSV",
            ));
        };
        let rows = match rows::read(&csv) {
            Ok(r) => r,
            Err(errors) => {
                self.discard().await;
                return Ok(report(dry_run, 0, errors, Vec::new()));
            }
        };
        let bundle = Bundle::open(app, self.zip.take(), std::mem::take(&mut self.files)).await?;
        let result = check_all(app, rows, &bundle).await;
        bundle.discard().await;
        let (prepared, errors) = result?;
        let count = prepared.len() + errors.len();
        if !errors.is_empty() || dry_run {
            let posts = prepared.iter().map(|p| summary(p, None)).collect();
            for p in prepared {
                p.cleanup.run(app).await;
            }
            return Ok(report(dry_run, count, errors, posts));
        }
        create_all(app, actor, prepared).await
    }
}

fn report(
    dry_run: bool,
    rows: usize,
    mut errors: Vec<RowError>,
    posts: Vec<BulkPost>,
) -> BulkReport {
    errors.sort_by(|a, b| a.row.cmp(&b.row).then(a.column.cmp(&b.column)));
    BulkReport {
        dry_run,
        rows,
        created: 0,
        errors,
        posts,
    }
}

fn summary(p: &Prepared, created: Option<(PostId, PostStatus)>) -> BulkPost {
    BulkPost {
        row: p.line,
        media_type: p.new_post.media_type,
        media_count: p.new_post.media.len(),
        languages: p.languages.clone(),
        when: match p.when {
            When::Draft => None,
            When::Now => Some(Utc::now()),
            When::At(t) => Some(t),
        },
        post_id: created.map(|c| c.0),
        status: created.map(|c| c.1),
    }
}

/// Every row checked, a few at once (file conversion is bounded by the media permits
/// anyway), in the spreadsheet's order.
async fn check_all(
    app: &App,
    rows: Vec<rows::Row>,
    bundle: &Bundle,
) -> AppResult<(Vec<Prepared>, Vec<RowError>)> {
    let groups: HashMap<String, icf_core::ids::GroupId> = icf_store::groups::list(&app.db)
        .await?
        .into_iter()
        .map(|g| (g.name.to_lowercase(), g.id))
        .collect();
    let now = Utc::now();
    let width = app.uploads.media_concurrency.max(1) * 2;
    let results: Vec<Result<Prepared, RowError>> = futures_util::stream::iter(rows)
        .map(|row| check_row(app, row, &groups, bundle, now))
        .buffered(width)
        .collect()
        .await;
    let mut prepared = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(p) => prepared.push(p),
            Err(e) => errors.push(e),
        }
    }
    Ok((prepared, errors))
}

/// Writes every draft in one transaction, then publishes, schedules or submits those with
/// a `when`, in the spreadsheet's order (each plan sees the ones before it). A failure
/// there deletes every post of the import and reports the row.
async fn create_all(app: &App, actor: &Actor, prepared: Vec<Prepared>) -> AppResult<BulkReport> {
    let mut tx = app.db.begin().await?;
    let mut posts = Vec::with_capacity(prepared.len());
    let mut written = Ok(());
    for p in &prepared {
        let new = icf_store::posts::NewPost {
            created_by: Some(actor.id),
            ..p.new_post.clone()
        };
        match icf_store::posts::create_in(&mut tx, new).await {
            Ok(post) => posts.push(post.id),
            Err(e) => {
                written = Err(e);
                break;
            }
        }
    }
    let written = match written {
        Ok(()) => tx.commit().await,
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        for p in prepared {
            p.cleanup.run(app).await;
        }
        return Err(e.into());
    }
    // The stored files belong to the posts now.
    let mut summaries = Vec::with_capacity(prepared.len());
    for (p, id) in prepared.iter().zip(&posts) {
        let status = match go_out(app, actor, *id, p.when).await {
            Ok(s) => s,
            Err(e) => {
                for id in &posts {
                    let _ = crate::posts::delete::delete(app, *id).await;
                }
                let message = format!("{e}: nothing was imported");
                return Ok(report(
                    false,
                    prepared.len(),
                    vec![RowError::new(p.line, "", message)],
                    Vec::new(),
                ));
            }
        };
        summaries.push(summary(p, Some((*id, status))));
    }
    tracing::info!(posts = posts.len(), "bulk import created its posts");
    Ok(BulkReport {
        dry_run: false,
        rows: prepared.len(),
        created: posts.len(),
        errors: Vec::new(),
        posts: summaries,
    })
}

/// Publishes, schedules or submits one imported draft, as its `when` and the actor's role
/// say; the status it ends in.
async fn go_out(app: &App, actor: &Actor, id: PostId, when: When) -> AppResult<PostStatus> {
    let start = match when {
        When::Draft => return Ok(PostStatus::Draft),
        When::Now => None,
        When::At(t) => Some(t),
    };
    let options = PublishOptions {
        start,
        priority: JobPriority::Normal,
    };
    match app.approval.publish_right(actor.role, PostStatus::Draft) {
        PublishRight::NeedsApproval => {
            crate::posts::review::submit(app, actor, id, options).await?;
            Ok(PostStatus::InReview)
        }
        _ => {
            publish_with(app, id, options, None).await?;
            Ok(PostStatus::Pending)
        }
    }
}
