use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process answers", example = json!({"status": "ok"}))))]
/// Alive: the process answers. Nothing else is checked, so a slow database does not get
/// the process restarted.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Database reachable, migrations applied",
     example = json!({"status": "ready", "database": "sqlite", "pending_migrations": 0})),
    (status = 503, description = "Not ready", body = crate::error::ErrorBody)))]
/// Ready: the database answers and every migration this binary knows is applied.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let readiness = state
        .app
        .db
        .readiness()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database unreachable: {e}")))?;
    if readiness.pending_migrations > 0 {
        return Err(ApiError::Unavailable(format!(
            "{} migration(s) not applied; run `icf migrate`",
            readiness.pending_migrations
        )));
    }
    Ok(Json(json!({
        "status": "ready",
        "database": readiness.kind.as_str(),
        "pending_migrations": 0,
    })))
}
