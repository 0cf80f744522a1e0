//! The files a bulk import's rows name: a ZIP's entries and files sent one by one, staged on
//! disk under their names. A row gets its own staged copy of each file it names (a hard
//! link where the disk allows), since preparing a file consumes it and two rows may share one.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use icf_media::MediaError;
use icf_media::storage::StagedUpload;
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// The most entries a ZIP may hold (folders and system files included).
const MAX_ENTRIES: usize = 5000;

#[derive(Default)]
pub(super) struct Bundle {
    /// By the name a row uses: the entry's path inside the ZIP (`march/a.jpg`) and, when no
    /// other entry shares it, its bare file name (`a.jpg`).
    by_name: HashMap<String, usize>,
    files: Vec<StagedUpload>,
}

impl Bundle {
    /// Stages a ZIP's entries and the separately sent files. `zip` is removed once read.
    pub async fn open(
        app: &App,
        zip: Option<StagedUpload>,
        sent: Vec<(String, StagedUpload)>,
    ) -> AppResult<Bundle> {
        let mut bundle = Bundle::default();
        if let Some(zip) = zip {
            let dir = app.media.staging_dir().to_owned();
            let max = app.uploads.max_file_bytes;
            let path = zip.path.clone();
            let extracted = tokio::task::spawn_blocking(move || extract(&path, &dir, max))
                .await
                .map_err(AppError::internal)?;
            zip.discard().await;
            let entries = extracted?;
            let mut bare: HashMap<String, usize> = HashMap::new();
            for (name, _) in &entries {
                *bare.entry(base_name(name).to_owned()).or_default() += 1;
            }
            for (name, staged) in entries {
                let base = base_name(&name).to_owned();
                let index = bundle.push(staged);
                if bare.get(&base) == Some(&1) {
                    bundle.by_name.insert(base, index);
                }
                bundle.by_name.insert(name, index);
            }
        }
        for (name, staged) in sent {
            let name = base_name(&name).to_owned();
            if bundle.by_name.contains_key(&name) {
                staged.discard().await;
                bundle.discard().await;
                return Err(AppError::validation(
                    "files",
                    format!("two files are called {name}"),
                ));
            }
            let index = bundle.push(staged);
            bundle.by_name.insert(name, index);
        }
        Ok(bundle)
    }

    fn push(&mut self, staged: StagedUpload) -> usize {
        self.files.push(staged);
        self.files.len() - 1
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// A staged copy of `name` for one row, which preparing it will consume.
    pub async fn copy_of(&self, app: &App, name: &str) -> Result<StagedUpload, MediaError> {
        let Some(f) = self.by_name.get(name).map(|i| &self.files[*i]) else {
            return Err(MediaError::NotFound(name.to_owned()));
        };
        let path = app
            .media
            .staging_dir()
            .join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        if tokio::fs::hard_link(&f.path, &path).await.is_err() {
            tokio::fs::copy(&f.path, &path).await?;
        }
        Ok(StagedUpload {
            path,
            size: f.size,
            sha256: f.sha256.clone(),
            head: f.head.clone(),
        })
    }

    /// Removes every staged file.
    pub async fn discard(self) {
        for f in self.files {
            f.discard().await;
        }
    }
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Whether an entry is something a person put there: not a folder, not macOS's
/// `__MACOSX/` copies or `._` companions, not a hidden file.
fn wanted(name: &str) -> bool {
    !name.ends_with('/') && !name.starts_with("__MACOSX/") && !base_name(name).starts_with('.')
}

/// Writes each wanted entry of the ZIP at `zip` to a new file in `dir` (the names inside
/// the archive never become paths), each at most `max` bytes as it is inflated, whatever
/// the archive claims.
fn extract(zip: &Path, dir: &Path, max: u64) -> AppResult<Vec<(String, StagedUpload)>> {
    let bad = |m: String| AppError::validation("media", m);
    let file = std::fs::File::open(zip).map_err(AppError::internal)?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("the file is not a ZIP: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(bad(format!(
            "the ZIP holds {} entries; at most {MAX_ENTRIES}",
            archive.len()
        )));
    }
    let mut out: Vec<(String, StagedUpload)> = Vec::new();
    let result = (|| {
        for i in 0..archive.len() {
            let mut entry = archive
                .by_index(i)
                .map_err(|e| bad(format!("cannot read the ZIP: {e}")))?;
            let Some(name) = entry
                .enclosed_name()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
            else {
                continue;
            };
            if entry.is_dir() || !wanted(&name) {
                continue;
            }
            let staged = stage_entry(&mut entry, dir, max).map_err(|e| match e {
                MediaError::FileTooLarge { limit_mb } => AppError::PayloadTooLarge {
                    field: "media".into(),
                    message: format!("media: {name} is larger than {limit_mb} MB"),
                },
                MediaError::NoSpace => AppError::InsufficientStorage {
                    field: "media".into(),
                    message: "media: no room left to unpack the ZIP".into(),
                },
                other => bad(format!("cannot unpack {name}: {other}")),
            })?;
            out.push((name, staged));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(out),
        Err(e) => {
            for (_, f) in out {
                let _ = std::fs::remove_file(f.path);
            }
            Err(e)
        }
    }
}

fn stage_entry(entry: &mut impl Read, dir: &Path, max: u64) -> Result<StagedUpload, MediaError> {
    let path: PathBuf = dir.join(format!("{}.part", uuid::Uuid::now_v7().simple()));
    let mut file = std::fs::File::create(&path)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(64);
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let result = (|| {
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max {
                return Err(MediaError::FileTooLarge {
                    limit_mb: max / (1024 * 1024),
                });
            }
            if head.len() < 64 {
                let take = (64 - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
        }
        file.flush()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(StagedUpload {
        path,
        size,
        sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        head,
    })
}
