//! Each account's own copy of a post's media (issue `[originality]`): made when the
//! account's execution runs, kept on the worker's disk while the execution may still need
//! it (a retry re-sends the very same bytes), removed when it ends. A copy is deterministic
//! for (post, account, media item), so a worker that lost its disk, or another machine,
//! makes the same bytes again; the account's place among the post's accounts (its slot)
//! keeps every two accounts' copies provably apart (`icf_media::variant`).
//!
//! At most `concurrency` copies are made at once per worker (a video's re-encode takes a
//! core), which also bounds their memory; the others wait their turn. Photo copies (and
//! videos' covers) are made in process on threads of their own (`crate::copy_threads`), not on
//! the runtime's blocking threads: see there why.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use icf_core::enums::{MediaVariants, PostStatus};
use icf_core::ids::PostId;
use icf_core::variants::{MediaVariantRecord, phash_hex};
use icf_instagram::{CarouselItem, Media, Photo, Video, VideoData};
use icf_media::variant::{Measured, Strength, VariantSeed, photo_variant, video_variant};
use icf_media::{MediaError, MediaStore};
use icf_store::publishing::{self, ExecutionRun};
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::error::EngineError;

/// The strength an execution's media get: the post's own setting, else the account's
/// group's, else none.
pub(crate) fn strength(post: Option<MediaVariants>, exec: &ExecutionRun) -> Option<Strength> {
    match post.or(exec.group_variants)? {
        MediaVariants::Off => None,
        MediaVariants::Light => Some(Strength::Light),
        MediaVariants::Strong => Some(Strength::Strong),
    }
}

/// What went wrong making a copy: the media itself or a tool (for a person), the worker's
/// disk (worth another attempt), or the database.
#[derive(Debug)]
pub(crate) enum VariantError {
    Media(String),
    Disk(String),
    Store(EngineError),
}

impl From<crate::copy_threads::CopiesStopped> for VariantError {
    fn from(e: crate::copy_threads::CopiesStopped) -> Self {
        VariantError::Media(e.0)
    }
}

impl From<MediaError> for VariantError {
    fn from(e: MediaError) -> Self {
        let msg = format!("the account's own copy of the media cannot be made: {e}");
        match e {
            MediaError::NoSpace | MediaError::Io(_) => VariantError::Disk(msg),
            _ => VariantError::Media(msg),
        }
    }
}

impl From<EngineError> for VariantError {
    fn from(e: EngineError) -> Self {
        VariantError::Store(e)
    }
}

impl From<icf_store::StoreError> for VariantError {
    fn from(e: icf_store::StoreError) -> Self {
        VariantError::Store(e.into())
    }
}

/// The execution's own copy of `media` at `strength`, each file replaced by its variant,
/// recorded on the execution before anything is uploaded.
pub(crate) async fn for_execution(
    engine: &Engine,
    exec: &ExecutionRun,
    media: &Media,
    strength: Strength,
) -> Result<Media, VariantError> {
    let slot = publishing::variant_slot(&engine.db, exec).await?;
    let maker = Maker {
        engine,
        exec,
        strength,
        slot,
        dir: post_dir(&engine.media, exec.post_id),
    };
    tokio::fs::create_dir_all(&maker.dir)
        .await
        .map_err(MediaError::from)?;
    let mut records = Vec::new();
    let out = match media {
        Media::Photo(p) => Media::Photo(maker.photo(0, p, &mut records).await?),
        Media::StoryPhoto(p) => Media::StoryPhoto(maker.photo(0, p, &mut records).await?),
        Media::Video(v) => Media::Video(maker.video(0, v, &mut records).await?),
        Media::Reel(v) => Media::Reel(maker.video(0, v, &mut records).await?),
        Media::StoryVideo(v) => Media::StoryVideo(maker.video(0, v, &mut records).await?),
        Media::Carousel(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(match item {
                    CarouselItem::Photo(p) => {
                        CarouselItem::Photo(maker.photo(i, p, &mut records).await?)
                    }
                    CarouselItem::Video(v) => {
                        CarouselItem::Video(maker.video(i, v, &mut records).await?)
                    }
                });
            }
            Media::Carousel(out)
        }
    };
    publishing::set_variants(&engine.db, exec.id, &records).await?;
    Ok(out)
}

/// The folder of one post's copies on this worker.
fn post_dir(store: &MediaStore, post: PostId) -> PathBuf {
    store.variants_dir().join(post.to_string())
}

/// Removes the execution's copies: it ended and will not upload them again.
pub(crate) async fn forget(engine: &Engine, exec: &ExecutionRun) {
    let dir = post_dir(&engine.media, exec.post_id);
    let prefix = format!("{}-", exec.account_id);
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}

/// Removes a post's copies once it ended (whatever an execution left behind).
pub(crate) async fn post_ended(engine: &Engine, post: PostId) {
    let _ = tokio::fs::remove_dir_all(post_dir(&engine.media, post)).await;
}

/// Removes the copies of posts no longer going out: what a worker that stopped mid-post
/// left on this machine while others finished the post. Run when a worker starts.
pub async fn sweep(engine: Engine) {
    let Ok(mut entries) = tokio::fs::read_dir(engine.media.variants_dir()).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let Ok(id) = entry.file_name().to_string_lossy().parse::<PostId>() else {
            continue;
        };
        let open = match icf_store::posts::get(&engine.db, id).await {
            Ok(p) => matches!(p.status, PostStatus::Pending | PostStatus::Posting),
            Err(icf_store::StoreError::NotFound) => false,
            // Unknown: leave it for the next start.
            Err(_) => true,
        };
        if !open {
            let _ = tokio::fs::remove_dir_all(entry.path()).await;
        }
    }
}

/// Makes one execution's copies, file by file.
struct Maker<'a> {
    engine: &'a Engine,
    exec: &'a ExecutionRun,
    strength: Strength,
    slot: u32,
    dir: PathBuf,
}

impl Maker<'_> {
    /// The seed of item `index`'s copy (`part` tells a video from its cover).
    fn seed(&self, index: usize, part: &str) -> VariantSeed {
        let mut h = Sha256::new();
        h.update(b"icf media variant 1\0");
        h.update(self.exec.post_id.to_string().as_bytes());
        h.update(b"\0");
        h.update(self.exec.account_id.to_string().as_bytes());
        h.update(b"\0");
        h.update((index as u64).to_le_bytes());
        h.update(part.as_bytes());
        VariantSeed {
            key: h.finalize().into(),
            slot: self.slot,
        }
    }

    fn path(&self, index: usize, part: &str, ext: &str) -> PathBuf {
        self.dir
            .join(format!("{}-{index}{part}.{ext}", self.exec.account_id))
    }

    /// A photo's copy: kept from an earlier attempt, or made now.
    async fn photo_copy(
        &self,
        index: usize,
        part: &str,
        original: &Bytes,
    ) -> Result<(Bytes, Measured), VariantError> {
        let file = self.path(index, part, "jpg");
        let sidecar = self.path(index, part, "json");
        if let Some(kept) = read_kept(&file, &sidecar).await {
            return Ok(kept);
        }
        let _permit = self.engine.variant_permits.acquire().await;
        let (original, strength, seed) = (original.clone(), self.strength, self.seed(index, part));
        let (jpeg, measured) = self
            .engine
            .copy_threads
            .run(move || photo_variant(&original, strength, &seed))
            .await??;
        keep(&file, &jpeg).await?;
        keep(&sidecar, &serde_json::to_vec(&measured).unwrap_or_default()).await?;
        Ok((Bytes::from(jpeg), measured))
    }

    async fn photo(
        &self,
        index: usize,
        p: &Photo,
        records: &mut Vec<MediaVariantRecord>,
    ) -> Result<Photo, VariantError> {
        let (jpeg, measured) = self.photo_copy(index, "", &p.jpeg).await?;
        records.push(record(index, self.strength, &measured, None));
        Ok(Photo {
            jpeg,
            width: measured.width,
            height: measured.height,
        })
    }

    async fn video(
        &self,
        index: usize,
        v: &Video,
        records: &mut Vec<MediaVariantRecord>,
    ) -> Result<Video, VariantError> {
        let file = self.path(index, "", "mp4");
        let sidecar = self.path(index, "", "json");
        let measured = match read_sidecar(&file, &sidecar).await {
            Some(m) => m,
            None => {
                let _permit = self.engine.variant_permits.acquire().await;
                let source = video_source(&self.dir, &v.mp4).await?;
                let tmp = file.with_extension("part.mp4");
                let made =
                    video_variant(source.path(), &tmp, self.strength, &self.seed(index, "")).await;
                source.done().await;
                let measured = match made {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&tmp).await;
                        return Err(e.into());
                    }
                };
                tokio::fs::rename(&tmp, &file)
                    .await
                    .map_err(MediaError::from)?;
                keep(&sidecar, &serde_json::to_vec(&measured).unwrap_or_default()).await?;
                measured
            }
        };
        let len = tokio::fs::metadata(&file)
            .await
            .map_err(MediaError::from)?
            .len();
        // The cover is a copy too (a story video has none that is sent, but making it
        // costs a photo's copy and keeps the code one path).
        let (cover, cover_measured) = self.photo_copy(index, "-cover", &v.cover.jpeg).await?;
        records.push(record(
            index,
            self.strength,
            &measured,
            Some(cover_measured.sha256),
        ));
        Ok(Video {
            mp4: VideoData::File { path: file, len },
            width: measured.width,
            height: measured.height,
            duration_ms: v.duration_ms,
            cover: Photo {
                jpeg: cover,
                width: v.cover.width,
                height: v.cover.height,
            },
        })
    }
}

fn record(
    index: usize,
    strength: Strength,
    m: &Measured,
    cover_sha256: Option<String>,
) -> MediaVariantRecord {
    MediaVariantRecord {
        index,
        strength: match strength {
            Strength::Light => MediaVariants::Light,
            Strength::Strong => MediaVariants::Strong,
        },
        sha256: m.sha256.clone(),
        width: m.width,
        height: m.height,
        phash: phash_hex(m.phash),
        distance: m.distance,
        ssim: m.ssim,
        cover_sha256,
    }
}

/// A copy made by an earlier attempt: the file and what was measured of it. Only the
/// complete pair counts (both are written whole, the file first).
async fn read_kept(file: &Path, sidecar: &Path) -> Option<(Bytes, Measured)> {
    let measured = read_sidecar(file, sidecar).await?;
    let bytes = tokio::fs::read(file).await.ok()?;
    Some((Bytes::from(bytes), measured))
}

async fn read_sidecar(file: &Path, sidecar: &Path) -> Option<Measured> {
    if !tokio::fs::try_exists(file).await.unwrap_or(false) {
        return None;
    }
    let text = tokio::fs::read(sidecar).await.ok()?;
    serde_json::from_slice(&text).ok()
}

/// Written beside, then renamed: a crash never leaves half a copy that looks whole.
async fn keep(path: &Path, bytes: &[u8]) -> Result<(), VariantError> {
    let tmp = path.with_extension("part");
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(MediaError::from)?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(MediaError::from)?;
    Ok(())
}

/// The original video as a file ffmpeg can read: the stored file itself, or the bytes
/// written out for the time of the re-encode.
enum VideoSource {
    Stored(PathBuf),
    Written(PathBuf),
}

impl VideoSource {
    fn path(&self) -> &Path {
        match self {
            VideoSource::Stored(p) | VideoSource::Written(p) => p,
        }
    }

    async fn done(self) {
        if let VideoSource::Written(p) = self {
            let _ = tokio::fs::remove_file(p).await;
        }
    }
}

async fn video_source(dir: &Path, data: &VideoData) -> Result<VideoSource, VariantError> {
    match data {
        VideoData::File { path, .. } => Ok(VideoSource::Stored(path.clone())),
        VideoData::Bytes(b) => {
            let path = dir.join(format!("source-{}.mp4", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&path, b).await.map_err(MediaError::from)?;
            Ok(VideoSource::Written(path))
        }
    }
}
