use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use icf_core::auth::User;
use serde::{Deserialize, Serialize};

use crate::auth::{CurrentUser, sign_in};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"username": "admin", "password": "correct horse battery"}))]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
}

/// Sign in. After five failed attempts from one client address, each further attempt from
/// it waits (30 s, doubling per failure, up to 15 minutes). An account takes at most ten
/// failures per 15 minutes (at most three from any one address) from addresses it has not
/// signed in from; a known address is not held by that. Waiting answers 429 with
/// `Retry-After`.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "Wrong username or password, or a disabled user", body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody),
    (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let client = state.client_ip(peer.ip(), &headers);
    let token = sign_in(&state, client, &req.username, req.password).await?;
    Ok(Json(TokenResponse {
        access_token: token,
        token_type: "bearer",
        expires_in: state.auth.token_ttl.num_seconds(),
    }))
}

/// Sign out: the token this request carries (bearer header, else the UI's cookie) is
/// revoked server-side and refused from now on; the user's other sessions go on.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "The token is revoked"),
    (status = 401, body = crate::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::http::StatusCode> {
    let token = crate::auth::request_token(&headers)?;
    let user = crate::auth::revoke_token(&state, &token).await?;
    tracing::info!(user = %user.username, "signed out");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The signed-in operator.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = icf_core::auth::User),
    (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<User>> {
    let creds = icf_store::users::get(&state.app.db, user.id).await?;
    Ok(Json(creds.user))
}
