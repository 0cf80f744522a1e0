//! Media for icf: what an upload really is (from its bytes, never its name), the JPEG
//! Instagram wants, video facts from `ffprobe`, cover frames from `ffmpeg`, and where the
//! files live (a local folder or S3-compatible storage).

pub mod photo;
pub mod sniff;
pub mod storage;
pub mod variant;
pub mod video;

pub use photo::{AspectFit, PhotoOptions, PreparedPhoto, prepare_photo};
pub use sniff::{MediaKind, sniff};
pub use storage::{MediaKey, MediaStore, StoredMedia};
pub use variant::{
    Measured, Strength, VariantSeed, hamming, phash_jpeg, photo_variant, video_phash, video_variant,
};
pub use video::{VideoInfo, VideoLimits, VideoProduct};

/// Why a file cannot become Instagram media. Messages are for the person who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("unsupported file type {found}: upload JPEG, PNG or WebP photos, or MP4/MOV videos")]
    Unsupported { found: String },
    #[error("HEIC photos are not supported yet: export the photo as JPEG")]
    Heic,
    #[error("the image cannot be read: {0}")]
    BadImage(String),
    #[error("the image is {width}×{height} pixels, more than the {max}×{max} icf accepts")]
    TooLarge { width: u32, height: u32, max: u32 },
    /// More pixels than `ICF_MAX_IMAGE_PIXELS`, checked from the header before decoding.
    #[error(
        "the image is {width}×{height} pixels ({:.1} megapixels), more than the {:.1} \
         megapixels icf accepts; make it smaller",
        megapixels(u64::from(*width) * u64::from(*height)),
        megapixels(*max_pixels)
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// Decoding would need a buffer larger than the budget (16-bit images need twice the
    /// memory of 8-bit ones), checked from the header before decoding.
    #[error(
        "the image is {width}×{height} pixels at {bits_per_pixel} bits per pixel: decoding it \
         takes {} MB, more than the {} MB icf allows for one image; save it with 8 bits per \
         channel or make it smaller",
        bytes.div_ceil(1_000_000),
        max_bytes / 1_000_000
    )]
    TooMuchMemory {
        width: u32,
        height: u32,
        bits_per_pixel: u16,
        bytes: u64,
        max_bytes: u64,
    },
    #[error(
        "the aspect ratio {ratio:.2}:1 is outside Instagram's range for {what} \
         ({range}); crop or pad the photo"
    )]
    AspectRatio {
        ratio: f64,
        what: &'static str,
        range: &'static str,
    },
    #[error("the video cannot be read: {0}")]
    BadVideo(String),
    #[error("{0}")]
    VideoRejected(String),
    #[error("the file is larger than the {limit_mb} MB limit")]
    FileTooLarge { limit_mb: u64 },
    #[error("invalid media key: {0}")]
    BadKey(String),
    #[error("media not found: {0}")]
    NotFound(String),
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("storage error: {0}")]
    Storage(String),
    /// The disk (or the volume the media lives on) is full: the operator must make room.
    #[error("the media storage is full: free some space, then upload again")]
    NoSpace,
    /// The client's upload stopped before the end of the file.
    #[error("the upload was cut off before the end of the file")]
    Interrupted,
    #[error("i/o error: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for MediaError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            MediaError::NoSpace
        } else {
            MediaError::Io(e)
        }
    }
}

fn megapixels(pixels: u64) -> f64 {
    pixels as f64 / 1_000_000.0
}

/// Whether an error (or one of its causes) is the disk being full.
pub(crate) fn is_storage_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
        {
            return true;
        }
        cause = c.source();
    }
    false
}
