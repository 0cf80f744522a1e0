//! Figures for the dashboard and `/api/stats/*`. Counting is done in SQL; time bucketing
//! is done in Rust over the (already filtered) timestamps, so one query text serves both
//! engines.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use icf_core::jobs::JobKind;
use serde::Serialize;

use crate::{Db, DbUuid, StoreError, on_pool};

async fn counts(db: &Db, sql: &'static str) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
    Ok(rows.into_iter().collect())
}

/// Successes and failures of executions that ended in `[since, now]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Outcomes {
    pub success: i64,
    pub failed: i64,
    /// success / (success + failed); `None` when nothing ended.
    pub success_rate: Option<f64>,
}

async fn outcomes(db: &Db, since: DateTime<Utc>) -> Result<Outcomes, StoreError> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT status, COUNT(*) FROM post_executions WHERE status IN ('success', 'failed') \
         AND updated_at >= $1 GROUP BY status"
    )
    .bind(since)
    .fetch_all(pool)
    .await?);
    let get = |s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
    let (success, failed) = (get("success"), get("failed"));
    let total = success + failed;
    Ok(Outcomes {
        success,
        failed,
        success_rate: (total > 0).then(|| success as f64 / total as f64),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueFigures {
    /// Due or scheduled, never tried.
    pub waiting: i64,
    pub running: i64,
    /// Queued again after a failed attempt.
    pub retrying: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub accounts_by_status: BTreeMap<String, i64>,
    pub posts_by_status: BTreeMap<String, i64>,
    pub proxies_by_status: BTreeMap<String, i64>,
    pub last_24h: Outcomes,
    pub last_7d: Outcomes,
    /// Mean duration of successful publishing attempts over 7 days, in milliseconds.
    pub avg_publish_ms: Option<f64>,
    pub queue: QueueFigures,
}

/// Publishing jobs waiting, running, retrying and failed: the dashboard's live queue.
pub async fn queue_figures(db: &Db) -> Result<QueueFigures, StoreError> {
    let queue_rows: Vec<(String, bool, i64)> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT state, attempts > 0, COUNT(*) FROM jobs WHERE state IN ('queued', 'running', 'failed') \
         GROUP BY state, attempts > 0"
    )
    .fetch_all(pool)
    .await?
    });
    let mut queue = QueueFigures::default();
    for (state, tried, n) in queue_rows {
        match (state.as_str(), tried) {
            ("queued", false) => queue.waiting += n,
            ("queued", true) => queue.retrying += n,
            ("running", _) => queue.running += n,
            _ => queue.failed += n,
        }
    }
    Ok(queue)
}

pub async fn overview(db: &Db, now: DateTime<Utc>) -> Result<Overview, StoreError> {
    let average = async {
        let avg: Option<f64> = on_pool!(db, |pool| {
            sqlx::query_scalar(
            "SELECT AVG(CAST(a.duration_ms AS DOUBLE PRECISION)) FROM job_attempts a JOIN jobs j ON j.id = a.job_id \
             WHERE j.kind = $2 AND a.outcome = 'succeeded' AND a.started_at >= $1"
        )
        .bind(now - Duration::days(7))
        .bind(JobKind::PostToInstagram.as_str())
        .fetch_one(pool)
        .await?
        });
        Ok::<_, StoreError>(avg)
    };
    // The figures are independent: asked at once on several connections, the dashboard
    // waits for the slowest query, not for the sum of eight round trips.
    let (queue, avg, accounts, posts, proxies, last_24h, last_7d) = tokio::try_join!(
        queue_figures(db),
        average,
        counts(db, "SELECT status, COUNT(*) FROM accounts GROUP BY status"),
        counts(db, "SELECT status, COUNT(*) FROM posts GROUP BY status"),
        counts(db, "SELECT status, COUNT(*) FROM proxies GROUP BY status"),
        outcomes(db, now - Duration::hours(24)),
        outcomes(db, now - Duration::days(7)),
    )?;
    Ok(Overview {
        accounts_by_status: accounts,
        posts_by_status: posts,
        proxies_by_status: proxies,
        last_24h,
        last_7d,
        avg_publish_ms: avg,
        queue,
    })
}

/// One account's publishing record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountStats {
    pub account_id: uuid::Uuid,
    pub username: String,
    pub status: String,
    pub posts: i64,
    pub failures: i64,
    pub success_rate: Option<f64>,
    pub last_error: Option<String>,
    pub last_post_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: DbUuid,
    username: String,
    status: String,
    last_post_at: Option<DateTime<Utc>>,
    posts: i64,
    failures: i64,
}

/// Every account, the most troubled first: most failures, then lowest success rate.
pub async fn accounts(db: &Db, limit: i64) -> Result<Vec<AccountStats>, StoreError> {
    let rows: Vec<AccountRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT a.id, a.username, a.status, a.last_post_at, \
         COALESCE(SUM(CASE WHEN e.status = 'success' THEN 1 ELSE 0 END), 0) AS posts, \
         COALESCE(SUM(CASE WHEN e.status = 'failed' THEN 1 ELSE 0 END), 0) AS failures \
         FROM accounts a LEFT JOIN post_executions e ON e.account_id = a.id \
         GROUP BY a.id, a.username, a.status, a.last_post_at"
    )
    .fetch_all(pool)
    .await?);
    let mut out: Vec<AccountStats> = rows
        .into_iter()
        .map(|r| {
            let total = r.posts + r.failures;
            AccountStats {
                account_id: r.id.0,
                username: r.username,
                status: r.status,
                posts: r.posts,
                failures: r.failures,
                success_rate: (total > 0).then(|| r.posts as f64 / total as f64),
                last_error: None,
                last_post_at: r.last_post_at,
            }
        })
        .collect();
    // Troubled: a banned or blocked account first, then failures, then the rate.
    let healthy = |s: &str| s == "active";
    out.sort_by(|a, b| {
        healthy(&a.status)
            .cmp(&healthy(&b.status))
            .then(b.failures.cmp(&a.failures))
            .then(
                a.success_rate
                    .unwrap_or(1.0)
                    .total_cmp(&b.success_rate.unwrap_or(1.0)),
            )
            .then(a.username.cmp(&b.username))
    });
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    for a in &mut out {
        if a.failures > 0 {
            a.last_error = on_pool!(db, |pool| sqlx::query_scalar(
                "SELECT error_message FROM post_executions WHERE account_id = $1 AND status = 'failed' \
                 ORDER BY updated_at DESC LIMIT 1"
            )
            .bind(DbUuid(a.account_id))
            .fetch_optional(pool)
            .await?)
            .flatten();
        }
    }
    Ok(out)
}

/// Published executions over time and by group and language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostStats {
    /// `YYYY-MM-DDTHH:00Z` → published, over the last 48 hours.
    pub by_hour: BTreeMap<String, i64>,
    /// `YYYY-MM-DD` → published, over the last 30 days.
    pub by_day: BTreeMap<String, i64>,
    pub by_group: BTreeMap<String, i64>,
    pub by_language: BTreeMap<String, i64>,
}

pub async fn posts(db: &Db, now: DateTime<Utc>) -> Result<PostStats, StoreError> {
    let since = now - Duration::days(30);
    let rows: Vec<(DateTime<Utc>, String, Option<String>)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT e.posted_at, e.language, g.name FROM post_executions e \
         JOIN accounts a ON a.id = e.account_id LEFT JOIN groups g ON g.id = a.group_id \
         WHERE e.status = 'success' AND e.posted_at >= $1"
    )
    .bind(since)
    .fetch_all(pool)
    .await?);
    let mut stats = PostStats {
        by_hour: BTreeMap::new(),
        by_day: BTreeMap::new(),
        by_group: BTreeMap::new(),
        by_language: BTreeMap::new(),
    };
    for (at, lang, group) in rows {
        if at >= now - Duration::hours(48) {
            *stats
                .by_hour
                .entry(at.format("%Y-%m-%dT%H:00Z").to_string())
                .or_default() += 1;
        }
        *stats
            .by_day
            .entry(at.format("%Y-%m-%d").to_string())
            .or_default() += 1;
        *stats
            .by_group
            .entry(group.unwrap_or_else(|| "(no group)".into()))
            .or_default() += 1;
        *stats.by_language.entry(lang).or_default() += 1;
    }
    Ok(stats)
}

/// Raw figures for the Prometheus endpoint.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    /// (kind, state, count)
    pub jobs: Vec<(String, String, i64)>,
    pub oldest_waiting_secs: Option<f64>,
    pub accounts: Vec<(String, i64)>,
    pub proxies: Vec<(String, i64)>,
    pub posts: Vec<(String, i64)>,
    /// (status, error class or "", count)
    pub executions: Vec<(String, String, i64)>,
    /// Durations (ms) of publishing attempts of the last 24 h, with their outcome.
    pub publish_attempts: Vec<(String, i64)>,
    pub translation_cache_entries: i64,
    pub translation_cache_hits: i64,
}

pub async fn metrics(db: &Db, now: DateTime<Utc>) -> Result<MetricsSnapshot, StoreError> {
    let jobs: Vec<(String, String, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state"
    )
    .fetch_all(pool)
    .await?);
    let oldest: Option<DateTime<Utc>> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1"
    )
    .bind(now)
    .fetch_one(pool)
    .await?);
    let executions: Vec<(String, String, i64)> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT status, COALESCE(error_class, ''), COUNT(*) FROM post_executions GROUP BY status, COALESCE(error_class, '')"
    )
    .fetch_all(pool)
    .await?
    });
    let attempts: Vec<(Option<String>, Option<i32>)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT a.outcome, a.duration_ms FROM job_attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.kind = $2 AND a.started_at >= $1 AND a.duration_ms IS NOT NULL LIMIT 100000",
        )
        .bind(now - Duration::hours(24))
        .bind(JobKind::PostToInstagram.as_str())
        .fetch_all(pool)
        .await?
    });
    // PostgreSQL sums BIGINTs into NUMERIC: cast the sum back.
    let (entries, hits): (i64, i64) = on_pool!(db, |pool| sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM translations_cache"
    )
    .fetch_one(pool)
    .await?);
    let pairs = |m: BTreeMap<String, i64>| m.into_iter().collect::<Vec<_>>();
    Ok(MetricsSnapshot {
        jobs,
        oldest_waiting_secs: oldest.map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
        accounts: pairs(counts(db, "SELECT status, COUNT(*) FROM accounts GROUP BY status").await?),
        proxies: pairs(counts(db, "SELECT status, COUNT(*) FROM proxies GROUP BY status").await?),
        posts: pairs(counts(db, "SELECT status, COUNT(*) FROM posts GROUP BY status").await?),
        executions,
        publish_attempts: attempts
            .into_iter()
            .filter_map(|(o, d)| Some((o.unwrap_or_default(), i64::from(d?))))
            .collect(),
        translation_cache_entries: entries,
        translation_cache_hits: hits,
    })
}

/// Per group name: executions that ended (published or failed) since `since`.
pub async fn group_outcomes(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, Outcomes>, StoreError> {
    let rows: Vec<(Option<String>, String, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT g.name, e.status, COUNT(*) FROM post_executions e \
         JOIN accounts a ON a.id = e.account_id LEFT JOIN groups g ON g.id = a.group_id \
         WHERE e.status IN ('success', 'failed') AND e.updated_at >= $1 GROUP BY g.name, e.status"
    )
    .bind(since)
    .fetch_all(pool)
    .await?);
    let mut out: BTreeMap<String, Outcomes> = BTreeMap::new();
    for (group, status, n) in rows {
        let o = out
            .entry(group.unwrap_or_else(|| "(no group)".into()))
            .or_default();
        if status == "success" {
            o.success += n;
        } else {
            o.failed += n;
        }
    }
    for o in out.values_mut() {
        let total = o.success + o.failed;
        o.success_rate = (total > 0).then(|| o.success as f64 / total as f64);
    }
    Ok(out)
}
