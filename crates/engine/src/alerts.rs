//! Alerts: what needs a person (an account banned or waiting for a challenge code, the
//! proxy reserve empty, a post failing on too many accounts, no worker alive, and, when
//! asked, a post completed) goes to webhooks and optionally a Telegram chat. Events are
//! stored; the first of a kind queues a `deliver_alerts` job one grouping window later,
//! which sends every event of the kind gathered by then as one message, so 500 bans make
//! one message. A failed delivery is retried with the job's backoff (a webhook may then
//! see a group twice, never miss it).

use std::time::Duration;

use chrono::Utc;
use icf_core::ids::PostId;
use icf_core::jobs::{self, JobPayload};
use icf_store::jobs::NewJob;
use icf_store::{Db, StoreError};
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    AccountBanned,
    ChallengeRequired,
    ProxyReserveEmpty,
    PostFailing,
    PostCompleted,
    NoWorker,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::AccountBanned => "account_banned",
            AlertKind::ChallengeRequired => "challenge_required",
            AlertKind::ProxyReserveEmpty => "proxy_reserve_empty",
            AlertKind::PostFailing => "post_failing",
            AlertKind::PostCompleted => "post_completed",
            AlertKind::NoWorker => "no_worker",
        }
    }

    fn title(kind: &str) -> &'static str {
        match kind {
            "account_banned" => "accounts banned or disabled",
            "challenge_required" => "accounts waiting for a challenge or two-factor code",
            "proxy_reserve_empty" => "accounts left without a working proxy (the reserve is empty)",
            "post_failing" => "posts that failed on too many accounts",
            "post_completed" => "posts completed",
            "no_worker" => "no worker is alive while jobs are due",
            _ => "alerts",
        }
    }
}

/// A Telegram bot and chat to notify.
#[derive(Clone)]
pub struct Telegram {
    /// `https://api.telegram.org`, or a stand-in in tests.
    pub api_url: String,
    pub token: SecretString,
    pub chat_id: String,
}

/// Where alerts go and which are sent.
#[derive(Clone)]
pub struct AlertSettings {
    pub webhooks: Vec<String>,
    pub telegram: Option<Telegram>,
    /// Events of one kind within this window go out as one message.
    pub group_window: Duration,
    /// A post whose failed executions exceed this share of its accounts is reported.
    pub failed_share: f64,
    /// Also report every completed post (the publishing issue's completion webhook).
    pub post_completed: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            telegram: None,
            group_window: Duration::from_secs(300),
            failed_share: 0.2,
            post_completed: false,
        }
    }
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertSettings")
            .field("webhooks", &self.webhooks.len())
            .field("telegram", &self.telegram.is_some())
            .field("group_window", &self.group_window)
            .finish()
    }
}

impl AlertSettings {
    pub fn enabled(&self) -> bool {
        !self.webhooks.is_empty() || self.telegram.is_some()
    }
}

/// Records an event and queues its group's delivery. Nothing when no alert target is
/// configured; a failure is logged, never the caller's failure.
pub async fn raise(
    db: &Db,
    settings: &AlertSettings,
    kind: AlertKind,
    subject: &str,
    message: &str,
) {
    if !settings.enabled() {
        return;
    }
    if let Err(e) = try_raise(db, settings, kind, subject, message).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "cannot record an alert");
    }
}

async fn try_raise(
    db: &Db,
    settings: &AlertSettings,
    kind: AlertKind,
    subject: &str,
    message: &str,
) -> Result<(), StoreError> {
    icf_store::alerts::raise(
        db,
        kind.as_str(),
        subject,
        message,
        delivery(settings, kind.as_str()),
    )
    .await
}

/// A delivery of the kind's events one window from now; one at a time per kind.
fn delivery(settings: &AlertSettings, kind: &str) -> NewJob {
    let at = Utc::now() + chrono::Duration::from_std(settings.group_window).unwrap_or_default();
    NewJob::of(&jobs::DeliverAlerts {
        kind: kind.to_owned(),
    })
    .run_at(at)
    .max_attempts(8)
    .concurrency_key(format!("alerts:{kind}"))
}

/// A post just ended: report it when too many of its accounts failed (and, when asked,
/// when it completed).
pub async fn post_ended(db: &Db, settings: &AlertSettings, post: PostId, status: &str) {
    if !settings.enabled() {
        return;
    }
    let Ok((caption, ok, failed)) = icf_store::alerts::post_outcome(db, post).await else {
        return;
    };
    let total = ok + failed;
    let excerpt: String = caption.chars().take(60).collect();
    let counts = format!("{ok}/{total} published, {failed} failed");
    if total > 0 && failed as f64 > settings.failed_share * total as f64 {
        raise(
            db,
            settings,
            AlertKind::PostFailing,
            &format!("post {post}"),
            &format!("\"{excerpt}\": {counts}"),
        )
        .await;
    } else if status == "completed" && settings.post_completed {
        raise(
            db,
            settings,
            AlertKind::PostCompleted,
            &format!("post {post}"),
            &format!("\"{excerpt}\": {counts}"),
        )
        .await;
    }
}

/// Watches for "no worker alive while jobs are due" (run by `icf serve`), reporting it
/// at most once an hour.
pub async fn watch_workers(db: Db, settings: AlertSettings, every: Duration) {
    if !settings.enabled() {
        return;
    }
    loop {
        tokio::time::sleep(every).await;
        let now = Utc::now();
        let Ok((alive, due)) =
            icf_store::alerts::workers_and_due_jobs(&db, now - chrono::Duration::minutes(2)).await
        else {
            continue;
        };
        if alive == 0 && due > 0 {
            let already = icf_store::alerts::raised_since(
                &db,
                AlertKind::NoWorker.as_str(),
                "workers",
                now - chrono::Duration::hours(1),
            )
            .await
            .unwrap_or(true);
            if !already {
                raise(
                    &db,
                    &settings,
                    AlertKind::NoWorker,
                    "workers",
                    &format!("{due} jobs are due and no worker has been seen for 2 minutes"),
                )
                .await;
            }
        }
    }
}

/// Sends the unsent events of one kind as one message to every target.
pub struct DeliverAlerts {
    pub settings: AlertSettings,
    pub client: reqwest::Client,
}

impl DeliverAlerts {
    pub fn new(settings: AlertSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Self { settings, client }
    }

    async fn post(&self, url: &str, body: &Value) -> Result<(), String> {
        let resp = self
            .client
            .post(url)
            .json(body)
            .send()
            .await
            // Without the URL: a Telegram URL holds the bot token.
            .map_err(|e| e.without_url().to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the target answered HTTP {}",
                resp.status().as_u16()
            ))
        }
    }
}

impl JobHandler for DeliverAlerts {
    fn kind(&self) -> &'static str {
        jobs::DeliverAlerts::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        8
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let kind = match parse_payload::<jobs::DeliverAlerts>(payload) {
            Ok(p) => p.kind,
            Err(abandon) => return abandon,
        };
        let events = match icf_store::alerts::unsent(&ctx.db, &kind, 500).await {
            Ok(e) => e,
            Err(e) => return Outcome::Failure(e.to_string()),
        };
        if events.is_empty() {
            return Outcome::Success;
        }
        // One line per subject, however often it was raised in the window.
        let mut items: Vec<&icf_store::alerts::AlertEvent> = Vec::new();
        for e in &events {
            if !items.iter().any(|i| i.subject == e.subject) {
                items.push(e);
            }
        }
        let title = AlertKind::title(&kind);
        let mut text = format!("icf: {} ({})", title, items.len());
        for i in items.iter().take(20) {
            text.push_str(&format!("\n- {}: {}", i.subject, i.message));
        }
        if items.len() > 20 {
            text.push_str(&format!("\n…and {} more", items.len() - 20));
        }
        let body = json!({
            "event": kind,
            "title": title,
            "count": items.len(),
            "items": items.iter().map(|i| json!({
                "subject": i.subject, "message": i.message, "at": i.created_at,
            })).collect::<Vec<_>>(),
            "text": text,
        });
        for url in &self.settings.webhooks {
            if let Err(e) = self.post(url, &body).await {
                return Outcome::Failure(format!("webhook: {e}"));
            }
        }
        if let Some(t) = &self.settings.telegram {
            let url = format!(
                "{}/bot{}/sendMessage",
                t.api_url.trim_end_matches('/'),
                t.token.expose_secret()
            );
            let msg = json!({"chat_id": t.chat_id, "text": text});
            if let Err(e) = self.post(&url, &msg).await {
                return Outcome::Failure(format!("telegram: {e}"));
            }
        }
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
        if let Err(e) = icf_store::alerts::mark_sent(&ctx.db, &ids).await {
            return Outcome::Failure(e.to_string());
        }
        // More than one message's worth, or raised while this one was sent: the next
        // window's delivery takes them.
        if icf_store::alerts::unsent(&ctx.db, &kind, 1)
            .await
            .is_ok_and(|rest| !rest.is_empty())
            && let Err(e) =
                icf_store::jobs::enqueue_now(&ctx.db, &delivery(&self.settings, &kind)).await
        {
            tracing::warn!(error = %e, "cannot queue the next alert delivery");
        }
        Outcome::Success
    }
}
