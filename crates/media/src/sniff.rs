//! The type of an upload, from its first bytes.

use crate::MediaError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Jpeg,
    Png,
    Webp,
    /// MP4 or QuickTime: ffprobe decides whether the streams inside are usable.
    Video,
}

impl MediaKind {
    pub fn is_photo(self) -> bool {
        !matches!(self, MediaKind::Video)
    }
}

/// What the bytes are. Names and Content-Type headers lie; magic numbers rarely do.
pub fn sniff(head: &[u8]) -> Result<MediaKind, MediaError> {
    if head.is_empty() {
        return Err(MediaError::Empty);
    }
    let Some(kind) = infer::get(head) else {
        return Err(MediaError::Unsupported {
            found: "(unknown)".into(),
        });
    };
    match kind.mime_type() {
        "image/jpeg" => Ok(MediaKind::Jpeg),
        "image/png" => Ok(MediaKind::Png),
        "image/webp" => Ok(MediaKind::Webp),
        "image/heif" | "image/heic" | "image/avif" => Err(MediaError::Heic),
        "video/mp4" | "video/quicktime" | "video/x-m4v" => Ok(MediaKind::Video),
        other => Err(MediaError::Unsupported {
            found: other.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_by_content_not_name() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F']).unwrap(),
            MediaKind::Jpeg
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(),
            MediaKind::Png
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), MediaKind::Webp);
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom").unwrap(),
            MediaKind::Video
        );
        assert!(matches!(
            sniff(b"hello, I am a .jpg"),
            Err(MediaError::Unsupported { .. })
        ));
        assert!(matches!(sniff(b""), Err(MediaError::Empty)));
        assert!(matches!(
            sniff(b"%PDF-1.7\n"),
            Err(MediaError::Unsupported { .. })
        ));
    }
}
