//! A post's files, from the staging directory to media storage: photos become the JPEG
//! Instagram wants (EXIF orientation applied, at most 1440 px wide), videos are probed
//! with ffprobe and get a cover. Every file written is remembered until the post exists,
//! so a refused upload leaves nothing behind.

use std::path::PathBuf;

use icf_core::post::{MediaKind, PostMedia};
use icf_media::photo::{AspectFit, PhotoOptions};
use icf_media::storage::StagedUpload;
use icf_media::video::{VideoLimits, VideoProduct};
use icf_media::{MediaError, MediaKey};

use crate::{App, AppError};

/// Files written so far; removed unless the post is created.
#[derive(Default)]
pub(crate) struct Cleanup {
    pub(crate) staged: Vec<PathBuf>,
    pub(crate) stored: Vec<MediaKey>,
}

impl Cleanup {
    pub(crate) async fn run(self, app: &App) {
        for p in self.staged {
            let _ = tokio::fs::remove_file(p).await;
        }
        for k in self.stored {
            let _ = app.media.delete(&k).await;
        }
    }
}

/// What a media problem with the `index`-th file means to the uploader.
pub(crate) fn media_error(index: usize, e: MediaError) -> AppError {
    media_error_named(&format!("media[{index}]"), e)
}

/// What a media problem with the file sent as `field` means to the uploader.
pub(crate) fn media_error_named(field: &str, e: MediaError) -> AppError {
    let field = field.to_owned();
    match e {
        MediaError::FileTooLarge { .. } => AppError::PayloadTooLarge {
            message: format!("{field}: {e}"),
            field,
        },
        MediaError::Tool { .. } => AppError::Unavailable(e.to_string()),
        MediaError::NoSpace => {
            tracing::error!("media storage full: an upload was refused");
            AppError::InsufficientStorage {
                message: format!("{field}: {e}"),
                field,
            }
        }
        MediaError::Interrupted => AppError::BadRequest {
            message: format!("{field}: {e}"),
            field: Some(field),
        },
        MediaError::Storage(_)
        | MediaError::Io(_)
        | MediaError::BadKey(_)
        | MediaError::NotFound(_) => AppError::internal(e),
        other => AppError::validation(field, other.to_string()),
    }
}

pub(crate) async fn store_photo(
    app: &App,
    staged: StagedUpload,
    fit: AspectFit,
    story: bool,
    cleanup: &mut Cleanup,
) -> Result<PostMedia, MediaError> {
    if staged.size > app.uploads.max_photo_bytes {
        return Err(MediaError::FileTooLarge {
            limit_mb: app.uploads.max_photo_bytes / (1024 * 1024),
        });
    }
    // One of `ICF_MEDIA_CONCURRENCY` permits, held by the decoding thread itself: were the
    // request dropped (the client gone), the decode would go on and must still count.
    let permit = media_permit(app).await?;
    let bytes = tokio::fs::read(&staged.path).await?;
    // A story keeps its tall 9:16 frame, at most 1080 px wide (instagrapi's story rules).
    let defaults = PhotoOptions::default();
    let options = PhotoOptions {
        fit,
        min_aspect: if story {
            icf_media::photo::STORY_MIN_ASPECT
        } else {
            defaults.min_aspect
        },
        max_width: if story { 1080 } else { defaults.max_width },
        ..defaults
    }
    .with_pixel_budget(app.uploads.max_image_pixels);
    let prepared = tokio::task::spawn_blocking(move || {
        let prepared = icf_media::prepare_photo(&bytes, &options);
        drop(bytes);
        drop(permit);
        prepared
    })
    .await
    .map_err(|e| MediaError::Storage(e.to_string()))??;
    let key = MediaKey::generate("posts", "jpg");
    let stored = app.media.put_bytes(&key, prepared.jpeg.into()).await?;
    cleanup.stored.push(key.clone());
    let _ = tokio::fs::remove_file(&staged.path).await;
    Ok(PostMedia {
        key: key.to_string(),
        kind: MediaKind::Photo,
        width: prepared.width,
        height: prepared.height,
        duration_s: None,
        cover_key: None,
        size: stored.size,
        sha256: stored.sha256,
    })
}

/// Waits for one of the permits that bound concurrent decodes and transcodes.
async fn media_permit(app: &App) -> Result<tokio::sync::OwnedSemaphorePermit, MediaError> {
    app.media_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| MediaError::Storage(e.to_string()))
}

pub(crate) async fn store_video(
    app: &App,
    staged: StagedUpload,
    product: VideoProduct,
    frame_at: Option<f64>,
    cleanup: &mut Cleanup,
) -> Result<PostMedia, MediaError> {
    // ffprobe and ffmpeg take a permit too (they are killed if the request is dropped).
    let permit = media_permit(app).await?;
    let info = icf_media::video::probe(&staged.path).await?;
    info.check(product, &VideoLimits::default())?;
    let cover_path = staged.path.with_extension("cover.jpg");
    cleanup.staged.push(cover_path.clone());
    // The operator's frame, else one a second in (or halfway through a shorter video).
    let at = frame_at.unwrap_or((info.duration_s / 2.0).min(1.0));
    icf_media::video::extract_cover(&staged.path, &cover_path, at).await?;
    drop(permit);
    let cover_size = tokio::fs::metadata(&cover_path).await?.len();

    let key = MediaKey::generate("posts", "mp4");
    let stored = app
        .media
        .put_file(&key, &staged.path, staged.size, &staged.sha256)
        .await?;
    cleanup.stored.push(key.clone());
    let cover_key = MediaKey::generate("posts", "jpg");
    app.media
        .put_file(&cover_key, &cover_path, cover_size, "")
        .await?;
    cleanup.stored.push(cover_key.clone());
    Ok(PostMedia {
        key: key.to_string(),
        kind: MediaKind::Video,
        width: info.width,
        height: info.height,
        duration_s: Some(info.duration_s),
        cover_key: Some(cover_key.to_string()),
        size: stored.size,
        sha256: stored.sha256,
    })
}

/// Makes the uploaded `cover` image the video's cover (`[post-options]`): fitted to the
/// video's size, stored, and the frame cover it replaces removed.
pub(crate) async fn replace_cover(
    app: &App,
    video: &mut PostMedia,
    cover: StagedUpload,
    cleanup: &mut Cleanup,
) -> Result<(), MediaError> {
    let out = cover.path.with_extension("fitted.jpg");
    cleanup.staged.push(out.clone());
    let permit = media_permit(app).await?;
    icf_media::video::fit_cover(&cover.path, &out, video.width, video.height).await?;
    drop(permit);
    let size = tokio::fs::metadata(&out).await?.len();
    let key = MediaKey::generate("posts", "jpg");
    app.media.put_file(&key, &out, size, "").await?;
    cleanup.stored.push(key.clone());
    if let Some(old) = video.cover_key.replace(key.to_string())
        && let Ok(old) = MediaKey::parse(&old)
    {
        let _ = app.media.delete(&old).await;
        cleanup.stored.retain(|k| *k != old);
    }
    let _ = tokio::fs::remove_file(&cover.path).await;
    let _ = tokio::fs::remove_file(&out).await;
    Ok(())
}

/// Takes the stored video's cover again at `at_ms` (the default frame when `None`), stores
/// it, and removes the cover it replaces.
pub(crate) async fn new_cover_frame_media(
    app: &App,
    video: &mut PostMedia,
    at_ms: Option<u64>,
) -> Result<(), MediaError> {
    let key = MediaKey::parse(&video.key)?;
    let (path, _) = app.media.file(&key).await?;
    let duration = video.duration_s.unwrap_or(0.0);
    let at = at_ms.map_or((duration / 2.0).min(1.0), |ms| ms as f64 / 1000.0);
    let out = app
        .media
        .staging_dir()
        .join(format!("{}.cover.jpg", icf_core::ids::PostId::new()));
    let permit = media_permit(app).await?;
    let made = icf_media::video::extract_cover(&path, &out, at).await;
    drop(permit);
    made?;
    let size = tokio::fs::metadata(&out).await?.len();
    let cover = MediaKey::generate("posts", "jpg");
    let stored = app.media.put_file(&cover, &out, size, "").await;
    let _ = tokio::fs::remove_file(&out).await;
    stored?;
    if let Some(old) = video.cover_key.replace(cover.to_string())
        && let Ok(old) = MediaKey::parse(&old)
    {
        let _ = app.media.delete(&old).await;
    }
    Ok(())
}
