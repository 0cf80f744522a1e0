//! The files Instagram received, kept so that tests can check what each account really
//! got: every uploaded photo and video lands in the simulator's own folder, named by its
//! SHA-256 (the same file sent by many accounts is kept once), and `GET /__sim/media` lists
//! each post's files with their size and perceptual hash; `GET
//! /__sim/media/{media_id}/files/{index}` returns the bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::state::{Sim, SimFile};

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sim {
    fn file_path(&self, sha256: &str) -> PathBuf {
        self.files_dir.path().join(sha256)
    }

    /// Keeps an uploaded photo (already read as a JPEG of `width`×`height`).
    pub(super) fn keep_photo(&self, body: &[u8], width: u32, height: u32) -> SimFile {
        let sha256 = hex(&Sha256::digest(body));
        let path = self.file_path(&sha256);
        if !path.exists() {
            // A failed write only loses the bytes for `/files`; the upload itself stands.
            let _ = write_atomically(&path, body);
        }
        SimFile {
            sha256,
            width,
            height,
            phash: None,
            video: false,
        }
    }

    /// Keeps an uploaded video if `ffprobe` reads a video stream in it: `None` otherwise.
    pub(super) async fn keep_video(&self, body: &[u8]) -> Option<SimFile> {
        let sha256 = hex(&Sha256::digest(body));
        let path = self.file_path(&sha256);
        if !path.exists() {
            write_atomically(&path, body).ok()?;
        }
        let (width, height) = probe_video(&path).await?;
        Some(SimFile {
            sha256,
            width,
            height,
            phash: None,
            video: true,
        })
    }

    /// Measures the perceptual hash of every listed file that has none yet (once per
    /// distinct file).
    pub(super) async fn measure_files(&self) {
        let missing: Vec<(String, bool)> = {
            let g = self.lock();
            let mut seen = std::collections::HashSet::new();
            g.media
                .iter()
                .flat_map(|m| m.files.iter())
                .filter(|f| !g.phashes.contains_key(&f.sha256))
                .filter(|f| seen.insert(f.sha256.clone()))
                .map(|f| (f.sha256.clone(), f.video))
                .collect()
        };
        for (sha256, video) in missing {
            let path = self.file_path(&sha256);
            let hash = if video {
                icf_media::variant::video_phash(&path).await.ok()
            } else {
                let read = tokio::fs::read(&path).await.ok();
                tokio::task::spawn_blocking(move || {
                    read.and_then(|b| icf_media::variant::phash_jpeg(&b).ok())
                })
                .await
                .ok()
                .flatten()
            };
            if let Some(h) = hash {
                self.lock().phashes.insert(sha256, format!("{h:016x}"));
            }
        }
        let mut g = self.lock();
        let inner = &mut *g;
        for m in &mut inner.media {
            for f in &mut m.files {
                if f.phash.is_none() {
                    f.phash = inner.phashes.get(&f.sha256).cloned();
                }
            }
        }
    }
}

/// Written beside, then renamed: a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The displayed size of the first video stream, if `ffprobe` finds one.
async fn probe_video(path: &Path) -> Option<(u32, u32)> {
    let out = tokio::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_type,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.trim().split(',');
    if fields.next()? != "video" {
        return None;
    }
    let width = fields.next()?.trim().parse().ok()?;
    let height = fields.next()?.trim().parse().ok()?;
    Some((width, height))
}

/// `GET /__sim/media/{media_id}/files/{index}`: the bytes of item `index` of the post.
pub(super) async fn file_bytes(
    State(sim): State<Arc<Sim>>,
    UrlPath((media_id, index)): UrlPath<(String, usize)>,
) -> Response {
    let file = {
        let g = sim.lock();
        g.media
            .iter()
            .find(|m| m.media_id == media_id || m.pk == media_id)
            .and_then(|m| m.files.get(index).cloned())
    };
    let Some(file) = file else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"message": "no such media or file", "status": "fail"})),
        )
            .into_response();
    };
    match tokio::fs::read(sim.file_path(&file.sha256)).await {
        Ok(bytes) => {
            let kind = if file.video {
                "video/mp4"
            } else {
                "image/jpeg"
            };
            ([(header::CONTENT_TYPE, kind)], Body::from(bytes)).into_response()
        }
        Err(_) => (
            StatusCode::GONE,
            axum::Json(serde_json::json!({"message": "the file was not kept", "status": "fail"})),
        )
            .into_response(),
    }
}
