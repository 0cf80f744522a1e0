//! `post_to_instagram`: one post on one account, exactly once.
//!
//! The upload id is written on the execution before the irreversible configure step. An
//! attempt that finds one already written (the previous one crashed or lost configure's
//! answer) first asks Instagram for the account's recent media with this caption: found →
//! success; not found or not answerable → failed "unconfirmed", never a blind second post.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use icf_core::enums::{AccountStatus, ExecutionStatus, MediaType};
use icf_core::ids::ExecutionId;
use icf_core::jobs::{self, JobPayload};
use icf_core::pacing::{
    AccountPacing, Deferral, SpacingScope, Wait, check_before_publish, random_spacing,
};
use icf_core::post::{MediaKind, Post, PostMedia};
use icf_instagram::{
    CarouselItem, ErrorClass, IgError, LoginOutcome, Media, Photo, Video, VideoData,
};
use icf_media::{MediaKey, MediaStore};
use icf_store::publishing::{self, ExecutionRun};
use icf_worker::{JobContext, JobHandler, Outcome, TimeLimits, default_backoff, parse_payload};
use serde_json::{Value, json};

use crate::proxy_health::Failover;
use crate::{Connection, Engine, EngineError, class_name};

/// One initial attempt and at most 3 retries (specification §7).
pub const MAX_ATTEMPTS: u32 = 4;

pub const UNCONFIRMED: &str =
    "unconfirmed — check the account before reposting (configure may have published it)";

pub struct PostToInstagram {
    pub engine: Engine,
}

impl JobHandler for PostToInstagram {
    fn kind(&self) -> &'static str {
        jobs::PostToInstagram::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        MAX_ATTEMPTS
    }

    /// A video's configure polls while Instagram transcodes (up to 50 × 13 s in
    /// instagrapi): more than the default 5 minutes. A stop mid-configure is safe (the
    /// upload id is recorded), but it ends as "unconfirmed" more often than needed.
    fn limits(&self) -> TimeLimits {
        TimeLimits {
            soft: Duration::from_secs(12 * 60),
            hard: Duration::from_secs(15 * 60),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        default_backoff(attempt) / self.engine.settings.speed.max(1)
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let id = match parse_payload::<jobs::PostToInstagram>(payload) {
            Ok(p) => p.execution_id,
            Err(abandon) => return abandon,
        };
        match self.attempt(&ctx, id).await {
            Ok(o) => o,
            Err(e) => {
                // A database hiccup may pass; an undecryptable secret or an unreadable
                // device will not. Either way the execution must not stay `posting`.
                let permanent = !matches!(e, EngineError::Store(_));
                let last = ctx.attempt() >= ctx.max_attempts().min(MAX_ATTEMPTS as i32);
                if !permanent && !last {
                    return Outcome::Failure(e.to_string());
                }
                let msg = e.to_string();
                let db = &self.engine.db;
                if publishing::mark_failed(db, id, "internal", &msg)
                    .await
                    .is_ok()
                    && let Ok(exec) = publishing::execution(db, id).await
                {
                    let _ = publishing::finish_post_if_done(db, exec.post_id).await;
                }
                Outcome::Abandon(msg)
            }
        }
    }
}

/// How an attempt ended for the execution.
enum End {
    Published,
    Retry(String),
    /// Not yet (pacing, a cooldown): moved, not failed.
    Defer(DateTime<Utc>, String),
    Failed(String),
}

impl PostToInstagram {
    async fn attempt(&self, ctx: &JobContext, id: ExecutionId) -> Result<Outcome, EngineError> {
        let engine = &self.engine;
        let exec = match publishing::execution(&engine.db, id).await {
            Ok(e) => e,
            Err(icf_store::StoreError::NotFound) => {
                return Ok(Outcome::Abandon("the execution no longer exists".into()));
            }
            Err(e) => return Err(e.into()),
        };
        if !matches!(
            exec.status,
            ExecutionStatus::Queued | ExecutionStatus::Posting
        ) {
            return Ok(Outcome::Success);
        }
        let end = self.publish(&exec).await?;
        // The last attempt of the job, or of the execution: moves continue in new jobs,
        // whose attempts start again, and the specification's 3 retries are the execution's
        // (jobs queued before this handler existed may also allow more).
        let last = ctx.attempt() >= ctx.max_attempts().min(MAX_ATTEMPTS as i32)
            || (matches!(end, End::Retry(_))
                && publishing::attempts(&engine.db, exec.id).await? >= MAX_ATTEMPTS as i32);
        let outcome = match end {
            End::Published => {
                engine.cool_down_at_the_limit(exec.account_id).await?;
                Outcome::Success
            }
            End::Defer(until, why) => {
                let mut tx = engine.db.begin().await?;
                publishing::defer_in(&mut tx, &exec, until, &why, ctx.job_id()).await?;
                if ctx.succeed_in(&mut tx).await? {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                return Ok(Outcome::Success);
            }
            End::Retry(msg) if !last => {
                publishing::note_retry(&engine.db, exec.id, "retryable", &msg).await?;
                Outcome::Failure(msg)
            }
            End::Retry(msg) => {
                publishing::mark_failed(&engine.db, exec.id, "retryable", &msg).await?;
                Outcome::Abandon(msg)
            }
            End::Failed(msg) => Outcome::Abandon(msg),
        };
        if !matches!(outcome, Outcome::Failure(_) | Outcome::RetryAfter(_))
            && let Some(status) = publishing::finish_post_if_done(&engine.db, exec.post_id).await?
        {
            crate::alerts::post_ended(&engine.db, &engine.settings.alerts, exec.post_id, status)
                .await;
        }
        Ok(outcome)
    }

    async fn publish(&self, exec: &ExecutionRun) -> Result<End, EngineError> {
        let engine = &self.engine;
        let now = Utc::now();
        let account = icf_store::accounts::get(&engine.db, exec.account_id).await?;
        if account.status == AccountStatus::Cooldown
            && account.cooldown_until.is_none_or(|until| until <= now)
        {
            engine
                .set_state(
                    account.id,
                    AccountStatus::Active,
                    "the cooldown is over",
                    None,
                    None,
                )
                .await?;
        }
        let busy = publishing::busy_times(
            &engine.db,
            exec.account_id,
            exec.id,
            now,
            engine.settings.pacing.window,
        )
        .await?;
        let (active_hours, utc_offset) =
            publishing::posting_window(&engine.db, exec.account_id).await?;
        let pacing = AccountPacing {
            id: account.id,
            status: account.status,
            cooldown_until: account.cooldown_until,
            age_days: account.account_age_days,
            posts_limit_per_day: u32::try_from(account.posts_limit_per_day).unwrap_or(0),
            busy,
            active_hours,
            utc_offset,
        };
        match check_before_publish(&engine.settings.pacing, &pacing, now) {
            Ok(()) => {}
            Err(Deferral::Until(at, wait)) => {
                let why = format!("moved by pacing ({})", json!(wait).as_str().unwrap_or(""));
                engine
                    .log(
                        account.id,
                        "publish_deferred",
                        Instant::now(),
                        json!({"execution_id": exec.id, "until": at, "waits_for": wait}),
                        None,
                    )
                    .await;
                return Ok(End::Defer(at, why));
            }
            Err(Deferral::Never(why)) => {
                let msg = format!(
                    "the account cannot post ({})",
                    json!(why).as_str().unwrap_or("")
                );
                publishing::mark_failed(&engine.db, exec.id, "account", &msg).await?;
                return Ok(End::Failed(msg));
            }
        }
        // The random 2–5 min between the publishes of a scope, enforced here too and not
        // only by the plan: after downtime every overdue job is due at once, and they must
        // go out spaced exactly as a fresh plan would space them. A retry that only asks
        // Instagram whether the last attempt published posts nothing and is not spaced.
        let rules = &engine.settings.pacing;
        if exec.upload_id.is_none() && rules.min_spacing > chrono::Duration::zero() {
            let now = Utc::now();
            let scope = self.spacing_scope(exec);
            if let Some(last) =
                publishing::claim_spacing(&engine.db, &scope, now, rules.min_spacing).await?
            {
                let until = last + random_spacing(rules, &mut rand::rng());
                engine
                    .log(
                        account.id,
                        "publish_deferred",
                        Instant::now(),
                        json!({"execution_id": exec.id, "until": until, "waits_for": Wait::Spacing}),
                        None,
                    )
                    .await;
                return Ok(End::Defer(until, "moved by pacing (spacing)".into()));
            }
        }
        publishing::mark_posting(&engine.db, exec.id).await?;
        publishing::mark_post_posting(&engine.db, exec.post_id).await?;

        let mut conn = match engine.connect(exec.account_id).await {
            Ok(c) => c,
            Err(EngineError::Instagram(e)) => return self.on_error(exec, None, e).await,
            Err(e) => return Err(e),
        };
        let end = self.with_session(exec, &mut conn).await;
        engine.save_session(&conn).await?;
        end
    }

    /// Which publishes the random spacing separates from this one (see `SpacingScope`).
    fn spacing_scope(&self, exec: &ExecutionRun) -> String {
        match self.engine.settings.pacing.scope {
            SpacingScope::Post => format!("post:{}", exec.post_id),
            SpacingScope::Global => "global".to_owned(),
        }
    }

    async fn with_session(
        &self,
        exec: &ExecutionRun,
        conn: &mut Connection,
    ) -> Result<End, EngineError> {
        let engine = &self.engine;
        let mut relogged = false;
        loop {
            match engine.ensure_login(conn).await {
                Ok(LoginOutcome::LoggedIn(_)) => {}
                Ok(_) => {
                    let msg = "the account needs a login step by a person (code or challenge)";
                    publishing::mark_failed(&engine.db, exec.id, "challenge", msg).await?;
                    return Ok(End::Failed(msg.into()));
                }
                // Already applied to the account by the login itself.
                Err(EngineError::Instagram(e)) => return self.on_error(exec, None, e).await,
                Err(e) => return Err(e),
            }
            let exec = publishing::execution(&engine.db, exec.id).await?;
            match self.publish_logged_in(&exec, conn).await? {
                Err(e) if e.class() == ErrorClass::Relogin && !relogged => {
                    // Once, with the same device and proxy.
                    relogged = true;
                    if let Err(e) = conn.clear_login() {
                        return self.on_error(&exec, Some(conn), e).await;
                    }
                    continue;
                }
                Err(e) => return self.on_error(&exec, Some(conn), e).await,
                Ok(end) => return Ok(end),
            }
        }
    }

    async fn publish_logged_in(
        &self,
        exec: &ExecutionRun,
        conn: &mut Connection,
    ) -> Result<Result<End, IgError>, EngineError> {
        let engine = &self.engine;
        let id = conn.account.id;
        if exec.upload_id.is_some() {
            return Ok(self.confirm(exec, conn).await);
        }
        let post = icf_store::posts::get(&engine.db, exec.post_id).await?;
        let media = match engine.post_media(&post).await {
            Ok(m) => m,
            Err(e) => {
                let msg = e.to_string();
                publishing::mark_failed(&engine.db, exec.id, "bad_media", &msg).await?;
                return Ok(Ok(End::Failed(msg)));
            }
        };
        let started = Instant::now();
        let uploaded = match conn.client.upload(&media).await {
            Ok(u) => u,
            Err(e) => {
                engine
                    .log(
                        id,
                        "upload",
                        started,
                        json!({"execution_id": exec.id, "endpoint": "media/configure"}),
                        Some(&e),
                    )
                    .await;
                return Ok(Err(e));
            }
        };
        engine
            .log(
                id,
                "upload",
                started,
                json!({"execution_id": exec.id, "endpoint": "rupload", "upload_id": uploaded.upload_id}),
                None,
            )
            .await;
        engine.save_session(conn).await?;
        // The marker: from here on a lost answer is checked, never blindly repeated. It is
        // the last step before configure, so that a crash between the two (which ends as
        // "unconfirmed", for a person to check) has as narrow a window as can be.
        // Written only if no other attempt wrote one since this one began: a worker that lost
        // its lease in a database outage and came back must not configure beside the worker
        // now holding the job. The one that finds the marker taken stops; the next attempt
        // checks Instagram for whatever the other one published.
        if !publishing::claim_upload(&engine.db, exec.id, &uploaded.upload_id).await? {
            return Ok(Ok(End::Retry(
                "another attempt of this execution reached configure first".into(),
            )));
        }
        let started = Instant::now();
        match conn
            .client
            .configure(&media, &uploaded, &exec.caption)
            .await
        {
            Ok(p) => {
                engine
                    .log(
                        id,
                        "configure",
                        started,
                        json!({"execution_id": exec.id, "endpoint": "media/configure", "media_id": p.media_id, "code": p.code}),
                        None,
                    )
                    .await;
                let scope = self.spacing_scope(exec);
                publishing::mark_success(
                    &engine.db,
                    exec,
                    &p.media_id,
                    &p.code,
                    Utc::now(),
                    &scope,
                )
                .await?;
                Ok(Ok(End::Published))
            }
            Err(e) => {
                engine
                    .log(
                        id,
                        "configure",
                        started,
                        json!({"execution_id": exec.id, "endpoint": "media/configure"}),
                        Some(&e),
                    )
                    .await;
                if !e.maybe_applied() {
                    // Instagram surely did not publish: the next attempt starts afresh.
                    publishing::release_upload(&engine.db, exec.id, &uploaded.upload_id).await?;
                }
                Ok(Err(e))
            }
        }
    }

    /// A previous attempt reached configure: is the media on the account?
    async fn confirm(&self, exec: &ExecutionRun, conn: &mut Connection) -> Result<End, IgError> {
        let engine = &self.engine;
        let since = exec.upload_at.unwrap_or(exec.created_at) - chrono::Duration::minutes(5);
        let started = Instant::now();
        let found = conn.client.recent_media(since, Some(&exec.caption)).await;
        engine
            .log(
                conn.account.id,
                "recent_media",
                started,
                json!({"execution_id": exec.id, "endpoint": "feed/user", "found": found.as_ref().map(|v| v.len()).ok()}),
                found.as_ref().err(),
            )
            .await;
        let result = match found {
            Ok(items) => match items.first() {
                Some(p) => publishing::mark_success(
                    &engine.db,
                    exec,
                    &p.media_id,
                    &p.code,
                    p.taken_at
                        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                        .unwrap_or_else(Utc::now),
                    &self.spacing_scope(exec),
                )
                .await
                .map(|_| End::Published),
                None => publishing::mark_unconfirmed(&engine.db, exec, UNCONFIRMED)
                    .await
                    .map(|_| End::Failed(UNCONFIRMED.into())),
            },
            Err(e) if e.class() == ErrorClass::Retryable => Ok(End::Retry(e.to_string())),
            Err(_) => publishing::mark_unconfirmed(&engine.db, exec, UNCONFIRMED)
                .await
                .map(|_| End::Failed(UNCONFIRMED.into())),
        };
        // A store failure here leaves the marker: the next attempt asks again.
        result.or_else(|e| Ok(End::Retry(e.to_string())))
    }

    /// What an Instagram error means for the execution (and the account).
    async fn on_error(
        &self,
        exec: &ExecutionRun,
        conn: Option<&Connection>,
        e: IgError,
    ) -> Result<End, EngineError> {
        let engine = &self.engine;
        let class = engine.class_of(&e);
        let msg = e.to_string();
        // Login errors were applied to the account by the login; connecting fails only
        // on the proxy.
        if conn.is_some() || matches!(class, ErrorClass::Proxy) {
            engine.apply_class(exec.account_id, class, &e).await?;
        }
        let fail = |m: String| async move {
            publishing::mark_failed(&engine.db, exec.id, class_name(class), &m).await?;
            Ok::<_, EngineError>(End::Failed(m))
        };
        // Failures that say nothing about the account's standing still count: many in a
        // row pause it, as a person would stop and look.
        if matches!(
            class,
            ErrorClass::Retryable | ErrorClass::Relogin | ErrorClass::Failed
        ) && let Some(until) = engine.count_failure(exec.account_id).await?
        {
            if matches!(class, ErrorClass::Failed) {
                return fail(msg).await;
            }
            return Ok(End::Defer(
                until,
                format!("too many failed actions in a row, the account pauses: {msg}"),
            ));
        }
        match class {
            ErrorClass::Retryable => Ok(End::Retry(msg)),
            ErrorClass::Cooldown { until } => Ok(End::Defer(
                until,
                format!("the account is cooling down: {msg}"),
            )),
            ErrorClass::Relogin => Ok(End::Retry(msg)),
            ErrorClass::Challenge => fail(format!("Instagram asks for a challenge: {msg}")).await,
            ErrorClass::Banned => fail(format!("the account is banned or disabled: {msg}")).await,
            ErrorClass::Proxy => {
                // Checked now: a dead proxy is replaced from the reserve and the attempt
                // retried through the new one; a passing check was a hiccup, retried too.
                match engine.ensure_proxy(exec.account_id, Duration::ZERO).await? {
                    Failover::Switched(_) => Ok(End::Retry(format!(
                        "the account's proxy failed ({msg}); moved to a reserve proxy"
                    ))),
                    Failover::Kept => Ok(End::Retry(msg)),
                    Failover::NoneFree | Failover::Left => {
                        fail(format!("the account's proxy failed: {msg}")).await
                    }
                }
            }
            ErrorClass::BadMedia => fail(format!("Instagram refused the media: {msg}")).await,
            ErrorClass::Credentials => fail(format!("the password was refused: {msg}")).await,
            ErrorClass::Outdated => {
                fail(format!(
                    "Instagram no longer accepts the emulated app version: {msg}"
                ))
                .await
            }
            ErrorClass::Failed => fail(msg).await,
        }
    }
}

async fn read(store: &MediaStore, key: &str) -> Result<bytes::Bytes, EngineError> {
    let key = MediaKey::parse(key).map_err(|e| EngineError::Media(e.to_string()))?;
    store
        .get(&key)
        .await
        .map_err(|e| EngineError::Media(e.to_string()))
}

async fn photo(store: &MediaStore, m: &PostMedia) -> Result<Photo, EngineError> {
    Ok(Photo {
        jpeg: read(store, &m.key).await?,
        width: m.width,
        height: m.height,
    })
}

async fn video(store: &MediaStore, m: &PostMedia) -> Result<Video, EngineError> {
    let cover_key = m
        .cover_key
        .as_deref()
        .ok_or_else(|| EngineError::Media("the video has no cover".into()))?;
    let key = MediaKey::parse(&m.key).map_err(|e| EngineError::Media(e.to_string()))?;
    let (path, len) = store
        .file(&key)
        .await
        .map_err(|e| EngineError::Media(e.to_string()))?;
    let mp4 = VideoData::File { path, len };
    Ok(Video {
        mp4,
        width: m.width,
        height: m.height,
        duration_ms: (m.duration_s.unwrap_or(0.0) * 1000.0).round().max(0.0) as u64,
        cover: Photo {
            jpeg: read(store, cover_key).await?,
            width: m.width,
            height: m.height,
        },
    })
}

/// The post's stored files as the client's [`Media`].
pub async fn build_media(store: &MediaStore, post: &Post) -> Result<Media, EngineError> {
    let first = post
        .media
        .first()
        .ok_or_else(|| EngineError::Media("the post has no media".into()))?;
    Ok(match post.media_type {
        MediaType::Photo => Media::Photo(photo(store, first).await?),
        MediaType::Video => Media::Video(video(store, first).await?),
        MediaType::Reel => Media::Reel(video(store, first).await?),
        MediaType::Carousel => {
            let mut items = Vec::with_capacity(post.media.len());
            for m in &post.media {
                items.push(match m.kind {
                    MediaKind::Photo => CarouselItem::Photo(photo(store, m).await?),
                    MediaKind::Video => CarouselItem::Video(video(store, m).await?),
                });
            }
            Media::Carousel(items)
        }
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use icf_core::enums::{JobPriority, PostStatus};
    use icf_core::ids::PostId;

    use super::*;

    async fn stored(store: &MediaStore, bytes: &'static [u8], ext: &str) -> String {
        let key = MediaKey::generate("posts", ext);
        store
            .put_bytes(&key, Bytes::from_static(bytes))
            .await
            .unwrap();
        key.as_str().to_owned()
    }

    fn item(key: String, kind: MediaKind, cover_key: Option<String>) -> PostMedia {
        PostMedia {
            key,
            kind,
            width: 1080,
            height: 1350,
            duration_s: (kind == MediaKind::Video).then_some(3.5),
            cover_key,
            size: 3,
            sha256: String::new(),
        }
    }

    fn post(media_type: MediaType, media: Vec<PostMedia>) -> Post {
        Post {
            id: PostId::new(),
            media,
            media_type,
            caption_original: "c".into(),
            original_language: "en".into(),
            target_groups: vec![],
            status: PostStatus::Pending,
            priority: JobPriority::Normal,
            scheduled_at: None,
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            posted_at: None,
        }
    }

    #[tokio::test]
    async fn a_carousel_keeps_its_order_and_its_videos_their_covers() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(dir.path()).unwrap();
        let photo = stored(&store, b"jpg-1", "jpg").await;
        let video = stored(&store, b"mp4-2", "mp4").await;
        let cover = stored(&store, b"cover", "jpg").await;
        let p = post(
            MediaType::Carousel,
            vec![
                item(video, MediaKind::Video, Some(cover)),
                item(photo, MediaKind::Photo, None),
            ],
        );
        let Media::Carousel(items) = build_media(&store, &p).await.unwrap() else {
            panic!("not a carousel");
        };
        assert_eq!(items.len(), 2);
        match &items[0] {
            CarouselItem::Video(v) => {
                let VideoData::File { path, len } = &v.mp4 else {
                    panic!("a stored video is streamed from its file");
                };
                assert_eq!(std::fs::read(path).unwrap(), b"mp4-2");
                assert_eq!(*len, 5);
                assert_eq!(&v.cover.jpeg[..], b"cover");
                assert_eq!(v.duration_ms, 3500);
            }
            other => panic!("first item is the video: {other:?}"),
        }
        assert!(matches!(&items[1], CarouselItem::Photo(ph) if &ph.jpeg[..] == b"jpg-1"));
    }

    #[tokio::test]
    async fn a_video_without_cover_or_a_missing_file_is_a_media_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(dir.path()).unwrap();
        let video = stored(&store, b"mp4", "mp4").await;
        let p = post(MediaType::Reel, vec![item(video, MediaKind::Video, None)]);
        assert!(matches!(
            build_media(&store, &p).await,
            Err(EngineError::Media(_))
        ));
        let p = post(
            MediaType::Photo,
            vec![item("posts/gone.jpg".into(), MediaKind::Photo, None)],
        );
        assert!(matches!(
            build_media(&store, &p).await,
            Err(EngineError::Media(_))
        ));
        assert!(matches!(
            build_media(&store, &post(MediaType::Photo, vec![])).await,
            Err(EngineError::Media(_))
        ));
    }
}
