//! The never-twice marker: the upload id written on the execution before configure.

use chrono::Utc;
use icf_core::ids::ExecutionId;

use crate::conn::Conn;
use crate::{Db, DbUuid, StoreError, on_conn, on_pool};

/// Writes the upload marker (after the upload, before configure) unless one is already
/// there; `false` when another attempt of the same execution got there first (it will
/// configure, or has). Workers cut off from the database while holding a job can come back
/// after their lease was given to another worker; only one of the two may reach configure.
pub async fn claim_upload(db: &Db, id: ExecutionId, upload_id: &str) -> Result<bool, StoreError> {
    claim_upload_on(&mut db.acquire().await?, id, upload_id).await
}

/// [`claim_upload`] with the upload's log line written first, on one connection: one
/// round trip to the pool instead of two (#20). A log line that cannot be written is
/// reported (`tracing`) and does not stop the publish.
pub async fn claim_upload_logged(
    db: &Db,
    id: ExecutionId,
    upload_id: &str,
    log: icf_core::activity::NewActivity,
) -> Result<bool, StoreError> {
    let mut conn = db.acquire().await?;
    if let Err(e) = crate::activity::record_on(&mut conn, log).await {
        tracing::warn!(error = %e, "cannot write an activity log");
    }
    claim_upload_on(&mut conn, id, upload_id).await
}

async fn claim_upload_on(
    conn: &mut Conn,
    id: ExecutionId,
    upload_id: &str,
) -> Result<bool, StoreError> {
    let claimed = on_conn!(conn, |c| sqlx::query(
        "UPDATE post_executions SET upload_id = $2, updated_at = $3 \
         WHERE id = $1 AND upload_id IS NULL"
    )
    .bind(DbUuid::from(id))
    .bind(upload_id)
    .bind(Utc::now())
    .execute(c)
    .await?
    .rows_affected());
    Ok(claimed == 1)
}

/// Takes this attempt's marker away again: Instagram surely did not publish.
pub async fn release_upload(db: &Db, id: ExecutionId, upload_id: &str) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE post_executions SET upload_id = NULL, updated_at = $3 \
         WHERE id = $1 AND upload_id = $2"
    )
    .bind(DbUuid::from(id))
    .bind(upload_id)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}
