//! `GET /api/logs/`: the activity log, newest first, with a cursor (admins only: it
//! describes every account).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use icf_core::activity::ActivityLog;
use icf_core::enums::ActivityStatus;
use icf_core::ids::AccountId;
use icf_store::activity::{Cursor, LogFilter};
use serde::{Deserialize, Serialize};

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only this account's entries.
    account_id: Option<AccountId>,
    /// Only this action (`login`, `configure`, `check_proxy`, …).
    action: Option<String>,
    status: Option<ActivityStatus>,
    /// From this time (RFC 3339), inclusive.
    from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LogPage {
    items: Vec<ActivityLog>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/logs/", tag = "monitoring", security(("bearer" = [])), params(LogParams), responses(
    (status = 200, body = LogPage), (status = 400, body = crate::error::ErrorBody),
    (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<LogPage>> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be between 1 and 200",
        ));
    }
    let after = p
        .cursor
        .as_deref()
        .map(|c| {
            Cursor::decode(c)
                .ok_or_else(|| ApiError::bad_request(Some("cursor"), "not a cursor from this API"))
        })
        .transpose()?;
    let filter = LogFilter {
        account_id: p.account_id,
        action: p.action,
        status: p.status,
        from: p.from,
        to: p.to,
    };
    let (items, next) = icf_store::activity::page(&state.app.db, &filter, after, limit).await?;
    Ok(Json(LogPage {
        items,
        next_cursor: next.map(|c| c.encode()),
    }))
}
