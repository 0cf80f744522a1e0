//! Bringing and taking an account's session in instagrapi's settings format
//! (`dump_settings()`): an agency's existing sessions skip a fresh login, and a session
//! can move to another tool. Sessions are secrets: admins only, and every move is logged.

use std::time::Instant;

use icf_core::ids::AccountId;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::accounts::view::{AccountState, account_error, stored};
use crate::{App, AppError, AppResult};

/// The account's session as instagrapi's `dump_settings()` writes it. `by` (the admin) is
/// recorded in the account's activity log.
pub async fn export(app: &App, id: AccountId, by: &str) -> AppResult<Value> {
    let secrets = icf_store::accounts::get_secrets(&app.db, id)
        .await
        .map_err(account_error)?;
    let token = secrets
        .session_data_enc
        .ok_or(AppError::NotFound("session"))?;
    let plain = app.cipher.decrypt(&token).map_err(AppError::internal)?;
    let value =
        icf_engine::interop::export_settings(plain.expose_secret()).map_err(AppError::internal)?;
    log(app, id, "session_export", json!({ "by": by })).await;
    Ok(value)
}

/// Stores a session made by instagrapi's `dump_settings()`, encrypted; the account's
/// device and proxy stay. `by` (the admin) is recorded in the account's activity log.
pub async fn import(
    app: &App,
    id: AccountId,
    by: &str,
    settings: &Value,
) -> AppResult<AccountState> {
    if !settings.is_object() {
        return Err(AppError::validation(
            "session",
            "expected instagrapi's settings JSON object",
        ));
    }
    stored(app, id).await?;
    let session = icf_engine::interop::import_settings(&settings.to_string()).map_err(|e| {
        AppError::validation("session", format!("not an instagrapi settings file: {e}"))
    })?;
    let token = app.cipher.encrypt(&session.settings);
    icf_store::publishing::set_session(&app.db, id, &token)
        .await
        .map_err(account_error)?;
    log(
        app,
        id,
        "session_import",
        json!({ "by": by, "logged_in": session.logged_in }),
    )
    .await;
    Ok(stored(app, id).await?.into())
}

/// An entry in the account's activity log. Through the engine when there is one (the
/// same log as its Instagram calls), else straight to the store; a failure to log does
/// not undo what was done.
async fn log(app: &App, id: AccountId, action: &str, details: Value) {
    if let Some(engine) = &app.engine {
        engine.log(id, action, Instant::now(), details, None).await;
    } else {
        let _ = icf_store::activity::record(
            &app.db,
            icf_core::activity::NewActivity {
                account_id: Some(id),
                action: action.into(),
                status: icf_core::enums::ActivityStatus::Success,
                details,
                error_message: None,
                duration_ms: 0,
            },
        )
        .await;
    }
}
