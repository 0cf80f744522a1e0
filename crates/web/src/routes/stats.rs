//! `/api/stats/*` (specification §6.5): what the dashboard shows.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Accounts and posts by status, success rates over 24 h and 7 days, the mean publish
/// duration and the queue (waiting, running, retrying, failed).
#[utoipa::path(get, path = "/api/stats/overview", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody)))]
pub async fn overview(
    State(state): State<AppState>,
    _: CurrentUser,
) -> ApiResult<Json<icf_store::stats::Overview>> {
    Ok(Json(
        icf_store::stats::overview(&state.app.db, Utc::now()).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountStatsParams {
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Per account: published posts, failures, success rate, last error; the most troubled first.
#[utoipa::path(get, path = "/api/stats/accounts", tag = "monitoring", security(("bearer" = [])),
    params(AccountStatsParams),
    responses((status = 200, body = Vec<Object>), (status = 400, body = crate::error::ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    _: CurrentUser,
    ApiQuery(p): ApiQuery<AccountStatsParams>,
) -> ApiResult<Json<Vec<icf_store::stats::AccountStats>>> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be between 1 and 1000",
        ));
    }
    Ok(Json(
        icf_store::stats::accounts(&state.app.db, limit).await?,
    ))
}

/// Published posts by hour (48 h) and day (30 days), per group and per language.
#[utoipa::path(get, path = "/api/stats/posts", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody)))]
pub async fn posts(
    State(state): State<AppState>,
    _: CurrentUser,
) -> ApiResult<Json<icf_store::stats::PostStats>> {
    Ok(Json(
        icf_store::stats::posts(&state.app.db, Utc::now()).await?,
    ))
}
