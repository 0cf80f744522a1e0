//! `GET /api/queue`: the job queue at a glance, for admins (and the dashboard).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use icf_store::jobs::{QueueOverview, RunningJob, WorkerInfo};
use serde::Serialize;

use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// A worker that has not reported for this long is considered dead (workers report at
/// least every 15 s).
const WORKER_ALIVE_SECS: i64 = 60;
/// Running jobs listed at most; the counts always cover every job.
const RUNNING_LIMIT: i64 = 200;

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueView {
    /// Jobs per kind, per state (`queued`, `running`, `succeeded`, `failed`, `cancelled`).
    by_kind: BTreeMap<String, BTreeMap<String, i64>>,
    /// Jobs per state, all kinds together.
    totals: BTreeMap<String, i64>,
    /// How long the longest-waiting due job has been waiting, in seconds.
    oldest_waiting_age_secs: Option<i64>,
    oldest_waiting_since: Option<DateTime<Utc>>,
    #[schema(value_type = Vec<Object>)]
    running: Vec<RunningJob>,
    #[schema(value_type = Vec<Object>)]
    workers: Vec<WorkerInfo>,
    /// False when no worker reported within the last minute: queued jobs will not run.
    worker_alive: bool,
}

impl QueueView {
    fn new(q: QueueOverview, now: DateTime<Utc>) -> Self {
        let mut by_kind: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for c in q.counts {
            *totals.entry(c.state.clone()).or_default() += c.count;
            by_kind.entry(c.kind).or_default().insert(c.state, c.count);
        }
        QueueView {
            by_kind,
            totals,
            oldest_waiting_age_secs: q
                .oldest_waiting_since
                .map(|t| (now - t).num_seconds().max(0)),
            oldest_waiting_since: q.oldest_waiting_since,
            running: q.running,
            worker_alive: !q.workers.is_empty(),
            workers: q.workers,
        }
    }
}

/// Counts by kind and state, the oldest waiting job's age, running jobs with their worker,
/// and whether any worker is alive.
#[utoipa::path(get, path = "/api/queue", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, body = QueueView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn overview(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<QueueView>> {
    let now = Utc::now();
    let q = icf_store::jobs::overview(
        &state.app.db,
        now - chrono::Duration::seconds(WORKER_ALIVE_SECS),
        RUNNING_LIMIT,
    )
    .await?;
    Ok(Json(QueueView::new(q, now)))
}
