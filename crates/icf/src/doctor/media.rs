//! The media store: an object written, read back and removed.

use std::time::Duration;

use super::report::{Check, one_line};
use crate::config::Settings;

pub(super) async fn media_storage(settings: &Settings) -> Check {
    const NAME: &str = "media storage";
    let (place, fix) = match &settings.media.s3 {
        Some(s3) => (
            format!("S3 bucket {}", s3.bucket),
            "check ICF_S3_BUCKET (it must exist), ICF_S3_ENDPOINT, ICF_S3_REGION and the \
             access key's write permission on the bucket",
        ),
        None => (
            settings.media.dir.display().to_string(),
            "create ICF_MEDIA_DIR and make it writable by the user icf runs as \
             (e.g. `chown -R icf: /var/lib/icf`)",
        ),
    };
    let store = match crate::startup::media_store(settings) {
        Ok(s) => s,
        Err(e) => return Check::fail(NAME, format!("{place}: {e:#}"), fix),
    };
    // Uploads are staged on local disk first, whatever the store.
    let staging = store
        .staging_dir()
        .join(format!(".doctor-{}", uuid::Uuid::new_v4()));
    if let Err(e) = tokio::fs::write(&staging, b"icf doctor").await {
        return Check::fail(
            NAME,
            format!(
                "cannot write to the staging dir {}: {e}",
                store.staging_dir().display()
            ),
            "make ICF_MEDIA_DIR (its .staging folder) writable by the user icf runs as",
        );
    }
    let _ = tokio::fs::remove_file(&staging).await;
    let key = icf_media::storage::MediaKey::generate("doctor", "txt");
    let body = bytes::Bytes::from_static(b"icf doctor");
    let result = async {
        store.put_bytes(&key, body.clone()).await?;
        let back = store.get(&key).await?;
        store.delete(&key).await?;
        if settings.media.s3.is_none() {
            // The folder the probe created; removed only when empty.
            let _ = tokio::fs::remove_dir(settings.media.dir.join("doctor")).await;
        }
        Ok::<_, icf_media::MediaError>(back == body)
    };
    match tokio::time::timeout(Duration::from_secs(30), result).await {
        Ok(Ok(true)) => Check::ok(NAME, format!("{place} is writable")),
        Ok(Ok(false)) => Check::fail(
            NAME,
            format!("{place}: an object read back differs from what was written"),
            fix,
        ),
        Ok(Err(e)) => Check::fail(NAME, format!("{place}: {}", one_line(&e.to_string())), fix),
        Err(_) => Check::fail(NAME, format!("{place}: no answer within 30 s"), fix),
    }
}
