//! Bearer tokens (JWT, HS256, signed with SECRET_KEY) and the extractors that demand them.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use icf_core::enums::Role;
use icf_core::ids::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, AuthSettings};

/// What a token says. `ver` must equal the user's `token_version`, so a password, role or
/// activity change revokes every token issued before it. `jti` names this one token, so
/// signing out revokes it alone (tokens issued before icf had `jti` have none).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub role: Role,
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<uuid::Uuid>,
}

pub fn issue_token(
    settings: &AuthSettings,
    user: UserId,
    role: Role,
    version: i32,
) -> Result<String, ApiError> {
    let now = Utc::now();
    let claims = Claims {
        sub: user,
        role,
        ver: version,
        iat: now.timestamp(),
        exp: (now + settings.token_ttl).timestamp(),
        jti: Some(uuid::Uuid::new_v4()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(settings.secret_key.expose_secret().as_bytes()),
    )
    .map_err(ApiError::internal)
}

fn decode_token(settings: &AuthSettings, token: &str) -> Result<Claims, ApiError> {
    // Only HS256 is accepted: `alg: none` and algorithm swaps fail here.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 5;
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(settings.secret_key.expose_secret().as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            ApiError::Unauthorized("the token has expired; sign in again")
        }
        _ => ApiError::Unauthorized("the token is not valid"),
    })
}

/// The signed-in operator. Rejects with 401 unless the request carries a valid token of
/// an active user whose token version still matches.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The person, as the use cases take them.
    pub fn actor(&self) -> icf_app::Actor {
        icf_app::Actor {
            id: self.id,
            username: self.username.clone(),
            role: self.role,
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = request_token(&parts.headers)?;
        user_for_token(state, &token).await
    }
}

/// The token a request carries: the `Authorization: Bearer` header, else the web UI's cookie.
pub fn request_token(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    match headers.get(header::AUTHORIZATION) {
        Some(value) => Ok(value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be 'Bearer <token>'",
            ))?
            .to_owned()),
        // The web UI's browser sends the same token as a SameSite cookie; the CSRF
        // layer keeps other sites from riding on it.
        None => crate::cookies::cookie_token(headers).ok_or(ApiError::Unauthorized(
            "sign in first: no Authorization header",
        )),
    }
}

/// The active user a token names, if the token is still valid.
pub async fn user_for_token(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
    let claims = decode_token(&state.auth, token)?;
    user_for_claims(state, &claims).await
}

async fn user_for_claims(state: &AppState, claims: &Claims) -> Result<CurrentUser, ApiError> {
    if let Some(jti) = claims.jti
        && icf_store::revoked_tokens::is_revoked(&state.app.db, jti).await?
    {
        return Err(ApiError::Unauthorized(
            "the token was signed out; sign in again",
        ));
    }
    let creds = match icf_store::users::get(&state.app.db, claims.sub).await {
        Ok(c) => c,
        Err(icf_store::StoreError::NotFound) => {
            return Err(ApiError::Unauthorized("the token is not valid"));
        }
        Err(e) => return Err(e.into()),
    };
    if !creds.user.is_active || creds.token_version != claims.ver {
        return Err(ApiError::Unauthorized(
            "the token is no longer valid; sign in again",
        ));
    }
    Ok(CurrentUser {
        id: creds.user.id,
        username: creds.user.username,
        role: creds.user.role,
    })
}

/// Signs a token out, server-side: it is refused from now on, while the user's other
/// sessions go on. A token without a `jti` (issued by an older icf) cannot be told apart
/// from the user's others, so all of that user's tokens are revoked instead.
pub async fn revoke_token(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
    let claims = decode_token(&state.auth, token)?;
    let user = user_for_claims(state, &claims).await?;
    let now = Utc::now();
    match claims.jti {
        Some(jti) => {
            let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)
                .ok_or(ApiError::Unauthorized("the token is not valid"))?
                // The decoder's leeway keeps a token a little past `exp`.
                + chrono::Duration::seconds(60);
            icf_store::revoked_tokens::revoke(&state.app.db, jti, user.id, expires_at, now).await?;
        }
        None => icf_store::users::revoke_tokens(&state.app.db, user.id).await?,
    }
    Ok(user)
}

/// A signed-in admin: 401 without a valid token, 403 for an editor.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !user.is_admin() {
            return Err(ApiError::Forbidden);
        }
        Ok(AdminUser(user))
    }
}

/// Checks a username and password (throttled per client address and per account, see
/// `icf_core::auth::LoginThrottle`) and
/// issues a token. The API and the web UI's sign-in form both go through here.
pub async fn sign_in(
    state: &AppState,
    client: IpAddr,
    username: &str,
    password: String,
) -> ApiResult<String> {
    let username = username.trim().to_lowercase();
    // The sign-in form's fields reach here unchecked; PostgreSQL cannot look up a NUL.
    crate::extract::refuse_nul("username", &username)?;
    // Reserve the attempt (counted as a failure) before the password is checked, in one
    // step under the lock: concurrent guesses cannot all pass the check first.
    let now = Utc::now();
    let attempt = throttle(state)?
        .reserve(&username, client, now)
        .map_err(|until| ApiError::TooManyRequests {
            retry_after_secs: (until - now).num_seconds().max(1) as u64,
        })?;

    let creds = icf_store::users::find_by_username(&state.app.db, &username).await?;
    let (hash, known) = match &creds {
        Some(c) => (c.password_hash.clone(), true),
        None => (icf_core::password::dummy_hash().to_owned(), false),
    };
    // argon2 is CPU-heavy by design; keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || icf_core::password::verify(&password, &hash))
        .await
        .map_err(ApiError::internal)?;

    let creds = match creds {
        Some(c) if known && matches && c.user.is_active => c,
        _ => {
            throttle(state)?.failed(attempt);
            // One message for unknown user, wrong password and disabled user alike.
            return Err(ApiError::Unauthorized(
                "wrong username or password, or the user is disabled",
            ));
        }
    };
    throttle(state)?.succeeded(attempt, Utc::now());
    icf_store::users::record_login(&state.app.db, creds.user.id).await?;
    let token = issue_token(
        &state.auth,
        creds.user.id,
        creds.user.role,
        creds.token_version,
    )?;
    tracing::info!(user = %creds.user.username, "signed in");
    Ok(token)
}

fn throttle(
    state: &AppState,
) -> ApiResult<std::sync::MutexGuard<'_, icf_core::auth::LoginThrottle>> {
    state
        .login_throttle
        .lock()
        .map_err(|_| ApiError::internal("login throttle poisoned"))
}
