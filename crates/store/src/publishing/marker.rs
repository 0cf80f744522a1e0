//! The never-twice marker: the upload id written on the execution before configure.

use chrono::Utc;
use icf_core::ids::ExecutionId;

use sqlx::types::Json;

use crate::conn::Conn;
use crate::{Db, DbUuid, StoreError, on_conn, on_pool};

/// Writes the upload marker (after the upload, before configure) unless one is already
/// there; `false` when another attempt of the same execution got there first (it will
/// configure, or has). Workers cut off from the database while holding a job can come back
/// after their lease was given to another worker; only one of the two may reach configure.
pub async fn claim_upload(db: &Db, id: ExecutionId, upload_id: &str) -> Result<bool, StoreError> {
    claim_upload_on(&mut db.acquire().await?, id, upload_id).await
}

/// [`claim_upload`] with the upload's log line, in one statement (PostgreSQL) or one
/// script (SQLite): one round trip instead of four (#20). Should the pair fail, the
/// marker alone is tried again: a log line never stops a publish.
pub async fn claim_upload_logged(
    db: &Db,
    id: ExecutionId,
    upload_id: &str,
    log: icf_core::activity::NewActivity,
) -> Result<bool, StoreError> {
    const MARKER: &str = "UPDATE post_executions SET upload_id = $2, updated_at = $3 \
        WHERE id = $1 AND upload_id IS NULL";
    const LOG: &str = "INSERT INTO activity_logs \
        (id, account_id, action, status, details, error_message, duration_ms, created_at) \
        VALUES ($4, $5, $6, $7, $8, $9, $10, $3)";
    let sql = match db {
        Db::Postgres(_) => {
            format!("WITH m AS ({MARKER} RETURNING id), l AS ({LOG}) SELECT id FROM m")
        }
        Db::Sqlite(_) => format!("{LOG}; {MARKER} RETURNING id"),
    };
    let (details, error) = crate::activity::redacted(&log);
    let mut conn = db.acquire().await?;
    let claimed = on_conn!(&mut conn, |c| sqlx::query(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(DbUuid::from(id))
    .bind(upload_id)
    .bind(Utc::now())
    .bind(DbUuid(uuid::Uuid::now_v7()))
    .bind(log.account_id.map(DbUuid::from))
    .bind(&log.action)
    .bind(log.status.as_str())
    .bind(Json(&details))
    .bind(error.as_deref())
    .bind(log.duration_ms.clamp(0, i64::from(i32::MAX)) as i32)
    .fetch_all(&mut *c)
    .await
    .map(|rows| rows.len()));
    match claimed {
        Ok(n) => Ok(n == 1),
        Err(e) => {
            tracing::warn!(error = %e, "cannot write the upload's activity log with its marker");
            claim_upload_on(&mut conn, id, upload_id).await
        }
    }
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
