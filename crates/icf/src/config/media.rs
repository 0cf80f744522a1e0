//! Uploaded media: where it is kept (a folder, or an S3-compatible bucket) and how large
//! and how many files icf takes on at once.

use std::path::{Path, PathBuf};

use icf_core::enums::MediaVariants;
use icf_media::storage::S3Settings;

use super::vars::{ConfigError, Vars};

/// Where uploads are kept and their limits.
#[derive(Clone)]
pub struct MediaSettings {
    /// `ICF_MEDIA_DIR` (default `$ICF_DATA_DIR/uploads`): uploaded media on disk.
    pub dir: PathBuf,
    /// `ICF_S3_BUCKET` and friends: keep media in S3-compatible storage instead.
    pub s3: Option<S3Settings>,
    /// `ICF_MAX_UPLOAD_MB` (default 1024): the largest file, videos included, and what one
    /// post's files may total.
    pub max_upload_mb: u64,
    /// `ICF_MAX_PHOTO_MB` (default 30): the largest photo.
    pub max_photo_mb: u64,
    /// `ICF_MAX_IMAGE_PIXELS` (default 50000000, i.e. 50 megapixels): the most pixels a
    /// photo may have, read from its header before it is decoded. The decoded buffer may
    /// take at most 4 bytes per pixel of it (an 8-bit RGBA image of that size), so a 16-bit
    /// image gets fewer pixels. One decode holds about 8 bytes per pixel of it at most.
    pub max_image_pixels: u64,
    /// `ICF_MEDIA_CONCURRENCY` (default 2): how many photo decodes and ffprobe/ffmpeg runs
    /// go at once; further uploads wait their turn. Bounds their memory together.
    pub concurrency: usize,
    /// `ICF_MEDIA_VARIANTS_DEFAULT` (default `light`): the media variants of a group made
    /// by hand or by an import when nothing says otherwise: `off`, `light` or `strong`.
    pub new_group_variants: MediaVariants,
    /// `ICF_VARIANT_CONCURRENCY` (default 1): how many media variants a worker makes at
    /// once (a video's re-encode takes a core; a photo's copy about 100 MB of the worker's
    /// memory at its peak, so one at a time keeps a worker under B4's 150 MB); further
    /// publishes wait their turn.
    pub variant_concurrency: usize,
}

impl MediaSettings {
    /// Media sits in the data dir unless `ICF_MEDIA_DIR` says otherwise.
    pub(crate) fn from_vars(vars: &Vars, data_dir: &Path) -> Result<Self, ConfigError> {
        let dir = vars
            .nonblank("ICF_MEDIA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("uploads"));
        let s3 = s3(vars)?;
        let max_upload_mb = vars.parse("ICF_MAX_UPLOAD_MB", 1024u64, "a number of megabytes")?;
        let max_photo_mb = vars.parse("ICF_MAX_PHOTO_MB", 30u64, "a number of megabytes")?;
        if max_upload_mb == 0 || max_photo_mb == 0 {
            return Err(ConfigError::new(
                if max_upload_mb == 0 {
                    "ICF_MAX_UPLOAD_MB"
                } else {
                    "ICF_MAX_PHOTO_MB"
                },
                "expected a number of megabytes above 0",
            ));
        }
        Ok(Self {
            dir,
            s3,
            max_upload_mb,
            max_photo_mb,
            max_image_pixels: vars.ranged(
                "ICF_MAX_IMAGE_PIXELS",
                icf_media::photo::DEFAULT_MAX_PIXELS,
                100_000,
                1_000_000_000,
            )?,
            concurrency: vars.ranged("ICF_MEDIA_CONCURRENCY", 2usize, 1, 64)?,
            new_group_variants: vars.parse(
                "ICF_MEDIA_VARIANTS_DEFAULT",
                MediaVariants::Light,
                "off, light or strong",
            )?,
            variant_concurrency: vars.ranged("ICF_VARIANT_CONCURRENCY", 1usize, 1, 64)?,
        })
    }
}

/// The bucket's settings when `ICF_S3_BUCKET` is set; its keys are then required.
fn s3(vars: &Vars) -> Result<Option<S3Settings>, ConfigError> {
    let Some(bucket) = vars.nonblank("ICF_S3_BUCKET") else {
        return Ok(None);
    };
    let need = |name: &'static str| {
        vars.nonblank(name)
            .ok_or_else(|| ConfigError::new(name, "required when ICF_S3_BUCKET is set"))
    };
    Ok(Some(S3Settings {
        bucket: bucket.trim().to_owned(),
        region: vars
            .nonblank("ICF_S3_REGION")
            .unwrap_or_else(|| "us-east-1".into()),
        endpoint: vars.nonblank("ICF_S3_ENDPOINT"),
        access_key_id: need("ICF_S3_ACCESS_KEY_ID")?,
        secret_access_key: need("ICF_S3_SECRET_ACCESS_KEY")?,
    }))
}
