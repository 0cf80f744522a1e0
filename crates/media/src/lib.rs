//! Media for icf: what an upload really is (from its bytes, never its name), the JPEG
//! Instagram wants, video facts from `ffprobe`, cover frames from `ffmpeg`, and where the
//! files live (a local folder or S3-compatible storage).

pub mod photo;
pub mod sniff;
pub mod storage;
pub mod video;

pub use photo::{AspectFit, PhotoOptions, PreparedPhoto, prepare_photo};
pub use sniff::{MediaKind, sniff};
pub use storage::{MediaKey, MediaStore, StoredMedia};
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
    #[error(
        "the aspect ratio {ratio:.2}:1 is outside Instagram's range for feed photos \
         (4:5 to 1.91:1); crop or pad the photo"
    )]
    AspectRatio { ratio: f64 },
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
    /// The upload's body broke off or was malformed: the client's fault, not the disk's.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
