//! `/api/accounts/`: admins write, editors read. No response carries a password, a
//! session, a TOTP secret or a proxy credential.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use icf_core::account::{
    Account, check_account_password, check_posts_limit, parse_instagram_username,
    parse_registered_on, registered_at as registered_at_of, registered_from_age,
};
use icf_core::enums::{AccountStatus, Role};
use icf_core::ids::{AccountId, GroupId, ProxyId};
use icf_core::language::Language;
use icf_core::proxy::ProxySpec;
use icf_store::StoreError;
use icf_store::accounts::{AccountChanges, AccountFilter, AccountSort, NewAccount, ProxyChoice};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::import::{ImportError, ImportReport, new_device, new_proxy};
use crate::query::{Paged, Params};
use crate::state::AppState;

/// `Some(None)` when the field is `null`, `None` when it is absent.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    username: String,
    password: String,
    language: String,
    group_id: Option<GroupId>,
    /// A proxy of the pool; it must be free.
    proxy_id: Option<ProxyId>,
    /// A new proxy address, added to the pool and assigned.
    proxy_url: Option<String>,
    /// `false`: no proxy at all instead of a free one from the pool.
    #[serde(default = "yes")]
    auto_proxy: bool,
    posts_limit_per_day: Option<i64>,
    /// When the account was registered on Instagram (`2019-04-01` or an RFC 3339 time):
    /// its warm-up follows from its age. Unknown: it warms up as a new account.
    #[schema(example = "2019-04-01")]
    registered_at: Option<String>,
    /// The account's age in days, instead of `registered_at`.
    age_days: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    password: Option<String>,
    language: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    group_id: Option<Option<GroupId>>,
    #[serde(default, deserialize_with = "nullable")]
    proxy_id: Option<Option<ProxyId>>,
    posts_limit_per_day: Option<i64>,
    /// When the account was registered on Instagram (`2019-04-01` or an RFC 3339 time);
    /// `null`: unknown (it warms up as a new account).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "2019-04-01")]
    registered_at: Option<Option<String>>,
    /// The account's age in days, instead of `registered_at`.
    age_days: Option<i64>,
    status: Option<AccountStatus>,
    status_reason: Option<String>,
}

/// The registration time from `registered_at` or `age_days` (not both): `None` when
/// neither is given, `Some(None)` when `registered_at` is `null`.
fn registration(
    registered_at: Option<Option<&str>>,
    age_days: Option<i64>,
) -> ApiResult<Option<Option<DateTime<Utc>>>> {
    let today = Utc::now().date_naive();
    let day = match (registered_at, age_days) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "age_days",
                "give registered_at or age_days, not both",
            ));
        }
        (Some(None), None) => return Ok(Some(None)),
        (Some(Some(raw)), None) => parse_registered_on(raw, "registered_at", today)?,
        (None, Some(days)) => registered_from_age(days, "age_days", today)?,
        (None, None) => return Ok(None),
    };
    Ok(Some(Some(registered_at_of(day))))
}

/// The account as the API shows it to `viewer`: warm-up and allowance under the configured
/// rules; for an editor without the proxy address and Instagram's challenge internals.
pub(crate) fn shown(state: &AppState, viewer: Role, mut account: Account) -> Account {
    account.apply_pacing(&state.app.pacing);
    match viewer {
        Role::Admin => account,
        Role::Editor => account.for_editor(),
    }
}

pub(crate) fn account_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("account"),
        StoreError::Conflict { field } if field == "proxy_id" => ApiError::Conflict {
            field: Some(field),
            message: "the proxy already serves another account".into(),
        },
        StoreError::Conflict { field } => ApiError::Conflict {
            message: format!("an account with this {field} already exists"),
            field: Some(field),
        },
        other => other.into(),
    }
}

async fn ensure_group(state: &AppState, id: GroupId) -> ApiResult<()> {
    match icf_store::groups::get(&state.app.db, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(ApiError::validation("group_id", "no such group")),
        Err(e) => Err(e.into()),
    }
}

/// A proxy of the pool that is free for `account` (or already serves it).
async fn ensure_free_proxy(
    state: &AppState,
    id: ProxyId,
    account: Option<AccountId>,
) -> ApiResult<()> {
    match icf_store::proxies::get(&state.app.db, id).await {
        Ok(p) => match p.proxy.assigned_account_id {
            Some(owner) if Some(owner) != account => Err(ApiError::Conflict {
                field: Some("proxy_id".into()),
                message: "the proxy already serves another account".into(),
            }),
            _ => Ok(()),
        },
        Err(StoreError::NotFound) => Err(ApiError::validation("proxy_id", "no such proxy")),
        Err(e) => Err(e.into()),
    }
}

/// The pool's proxy for an address, added if new; refused if it serves an account.
async fn proxy_for_url(state: &AppState, raw: &str) -> ApiResult<ProxyId> {
    let spec = ProxySpec::parse_with(raw, icf_core::enums::ProxyType::Http, "proxy_url")?;
    let new = new_proxy(&state.app.cipher, &spec, None);
    let existing = icf_store::proxies::find(
        &state.app.db,
        new.proxy_type,
        &new.host,
        new.port,
        &new.credentials_key,
    )
    .await?;
    match existing {
        Some(p) if p.proxy.assigned_account_id.is_some() => Err(ApiError::Conflict {
            field: Some("proxy_url".into()),
            message: "the proxy already serves another account".into(),
        }),
        Some(p) => Ok(p.proxy.id),
        None => Ok(icf_store::proxies::create(&state.app.db, &new).await?.id),
    }
}

pub(crate) async fn list_accounts(
    state: &AppState,
    viewer: Role,
    params: &Params,
    group: Option<GroupId>,
) -> ApiResult<Paged<Account>> {
    let page = params.page()?;
    let sort = match params.get("sort") {
        None | Some("username") => AccountSort::Username,
        Some("created_at") => AccountSort::CreatedAt,
        Some("last_post_at") => AccountSort::LastPostAt,
        Some("last_login_at") => AccountSort::LastLoginAt,
        Some("status") => AccountSort::Status,
        Some("language") => AccountSort::Language,
        Some(_) => {
            return Err(ApiError::validation(
                "sort",
                "expected username, created_at, last_post_at, last_login_at, status or language",
            ));
        }
    };
    let descending = match params.get("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::validation("order", "expected asc or desc")),
    };
    let search = params.get("search").or_else(|| params.get("q"));
    if search.is_some_and(|s| s.chars().count() > 64) {
        return Err(ApiError::validation(
            "search",
            "must be at most 64 characters long",
        ));
    }
    let filter = AccountFilter {
        group_id: group.or(params.parse::<GroupId>("group_id")?),
        status: params.parse::<AccountStatus>("status")?,
        language: params
            .get("language")
            .map(Language::parse)
            .transpose()?
            .map(|l| l.code().to_owned()),
        search: search.map(str::to_owned),
    };
    let (items, total) = icf_store::accounts::list(
        &state.app.db,
        &filter,
        sort,
        descending,
        page.per_page,
        page.offset(),
    )
    .await?;
    let items = items.into_iter().map(|a| shown(state, viewer, a)).collect();
    Ok(Paged::new(items, total, page))
}

/// Accounts, never with passwords, sessions or proxy credentials. Editors may read, without
/// the proxy address and with only the human side of a pending challenge.
#[utoipa::path(get, path = "/api/accounts/", tag = "accounts", security(("bearer" = [])), params(("page" = Option<i64>, Query, description = "1-based page", minimum = 1, maximum = 1000000), ("per_page" = Option<i64>, Query, description = "1–500, default 50", minimum = 1, maximum = 500),
        ("group_id" = Option<String>, Query), ("status" = Option<String>, Query), ("language" = Option<String>, Query),
        ("search" = Option<String>, Query, description = "Part of the username"),
        ("sort" = Option<String>, Query, description = "username, created_at, last_post_at, last_login_at, status, language"),
        ("order" = Option<String>, Query, description = "asc or desc")),
    responses((status = 200, body = Paged<icf_core::account::Account>), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Paged<Account>>> {
    list_accounts(&state, user.role, &params, None)
        .await
        .map(Json)
}

/// Adds an account. Without `proxy_id` or `proxy_url` a free proxy of the pool is assigned.
#[utoipa::path(post, path = "/api/accounts/", tag = "accounts", security(("bearer" = [])), request_body = CreateAccount,
    responses((status = 201, body = icf_core::account::Account), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateAccount>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let username = parse_instagram_username(&req.username)?;
    check_account_password(&req.password)?;
    let language = Language::parse(&req.language)?;
    let posts_limit_per_day = check_posts_limit(
        req.posts_limit_per_day
            .unwrap_or(i64::from(state.app.pacing.max_daily)),
        state.app.pacing.max_daily,
    )?;
    let registered_at =
        registration(req.registered_at.as_deref().map(Some), req.age_days)?.flatten();
    if req.proxy_id.is_some() && req.proxy_url.is_some() {
        return Err(ApiError::validation(
            "proxy_url",
            "give proxy_id or proxy_url, not both",
        ));
    }
    if let Some(g) = req.group_id {
        ensure_group(&state, g).await?;
    }
    if icf_store::accounts::find_by_username(&state.app.db, &username)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict {
            field: Some("username".into()),
            message: "an account with this username already exists".into(),
        });
    }
    let proxy = match (req.proxy_id, req.proxy_url.as_deref()) {
        (Some(id), _) => {
            ensure_free_proxy(&state, id, None).await?;
            ProxyChoice::Id(id)
        }
        (None, Some(url)) => ProxyChoice::Id(proxy_for_url(&state, url).await?),
        (None, None) if req.auto_proxy => ProxyChoice::Auto,
        (None, None) => ProxyChoice::Direct,
    };
    let account = icf_store::accounts::create(
        &state.app.db,
        &NewAccount {
            username,
            password_enc: state.app.cipher.encrypt(&req.password),
            language: language.code().to_owned(),
            group_id: req.group_id,
            proxy,
            posts_limit_per_day,
            registered_at,
        },
        &new_device,
    )
    .await
    .map_err(account_error)?;
    Ok((
        StatusCode::CREATED,
        Json(shown(&state, Role::Admin, account)),
    ))
}

#[utoipa::path(get, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<Account>> {
    Ok(Json(shown(
        &state,
        user.role,
        icf_store::accounts::get(&state.app.db, id)
            .await
            .map_err(account_error)?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpSecret {
    /// The base32 secret of the account's authenticator app (spaces allowed), or `null` to
    /// forget it. icf then answers Instagram's two-factor step with codes it generates.
    secret: Option<String>,
}

/// Stores the account's two-factor (TOTP) secret, encrypted; it is never shown again
/// (`has_totp` says whether one is set).
#[utoipa::path(put, path = "/api/accounts/{id}/totp", tag = "accounts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")), request_body = TotpSecret,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_totp(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(req): ApiJson<TotpSecret>,
) -> ApiResult<Json<Account>> {
    let token = match req.secret {
        None => None,
        Some(raw) => {
            let secret: String = raw
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            if secret.len() < 16
                || icf_instagram::crypto::totp_code(&secret, Utc::now().timestamp()).is_err()
            {
                return Err(ApiError::validation(
                    "secret",
                    "expected the base32 secret of an authenticator app (16 or more characters)",
                ));
            }
            Some(state.app.cipher.encrypt(&secret))
        }
    };
    icf_store::accounts::set_totp(&state.app.db, id, token.as_deref())
        .await
        .map_err(account_error)?;
    Ok(Json(shown(
        &state,
        Role::Admin,
        icf_store::accounts::get(&state.app.db, id)
            .await
            .map_err(account_error)?,
    )))
}

/// One change of an account's status.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusChange {
    old_status: Option<AccountStatus>,
    new_status: AccountStatus,
    /// Why, in plain words (Instagram's answer, a failed proxy, a person).
    reason: String,
    at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusHistory {
    /// Newest first, the last 200 changes.
    items: Vec<StatusChange>,
}

/// The account's status changes (`active`, `cooldown`, `login_required`, `banned`,
/// `proxy_error`): old and new status, the reason and the time.
#[utoipa::path(get, path = "/api/accounts/{id}/history", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 200, body = StatusHistory), (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<Json<StatusHistory>> {
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    let items = icf_store::accounts::status_history(&state.app.db, id, 200)
        .await?
        .into_iter()
        .map(|c| StatusChange {
            old_status: c.old_status,
            new_status: c.new_status,
            reason: c.reason,
            at: c.at,
        })
        .collect();
    Ok(Json(StatusHistory { items }))
}

#[utoipa::path(put, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")), request_body = UpdateAccount,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Account), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
    ApiJson(req): ApiJson<UpdateAccount>,
) -> ApiResult<Json<Account>> {
    icf_store::accounts::get(&state.app.db, id)
        .await
        .map_err(account_error)?;
    if let Some(p) = &req.password {
        check_account_password(p)?;
    }
    let language = req.language.as_deref().map(Language::parse).transpose()?;
    let posts_limit_per_day = req
        .posts_limit_per_day
        .map(|n| check_posts_limit(n, state.app.pacing.max_daily))
        .transpose()?;
    if let Some(Some(g)) = req.group_id {
        ensure_group(&state, g).await?;
    }
    if let Some(Some(p)) = req.proxy_id {
        ensure_free_proxy(&state, p, Some(id)).await?;
    }
    let registered_at = registration(
        req.registered_at.as_ref().map(|r| r.as_deref()),
        req.age_days,
    )?;
    let reason = req.status_reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(ApiError::validation(
            "status_reason",
            "must be at most 500 characters long",
        ));
    }
    icf_core::text::check_free_text("status_reason", &reason, icf_core::text::Lines::Many)?;
    let account = icf_store::accounts::update(
        &state.app.db,
        id,
        &AccountChanges {
            password_enc: req.password.as_deref().map(|p| state.app.cipher.encrypt(p)),
            language: language.map(|l| l.code().to_owned()),
            group_id: req.group_id,
            proxy_id: req.proxy_id,
            posts_limit_per_day,
            registered_at,
            status: req.status.map(|s| (s, reason)),
        },
    )
    .await
    .map_err(account_error)?;
    Ok(Json(shown(&state, Role::Admin, account)))
}

#[utoipa::path(delete, path = "/api/accounts/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Account id (UUID)")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<AccountId>,
) -> ApiResult<StatusCode> {
    icf_store::accounts::delete(&state.app.db, id)
        .await
        .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// What icf knows of an account's Instagram sign-in.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountState {
    id: AccountId,
    username: String,
    status: AccountStatus,
    status_reason: Option<String>,
    has_session: bool,
    #[schema(value_type = Option<Object>)]
    pending_challenge: Option<serde_json::Value>,
    cooldown_until: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    failed_attempts: i32,
    proxy: Option<String>,
}

impl AccountState {
    /// As `viewer` may see it (see [`shown`]).
    pub(crate) fn for_role(self, viewer: Role) -> Self {
        match viewer {
            Role::Admin => self,
            Role::Editor => Self {
                proxy: None,
                pending_challenge: self
                    .pending_challenge
                    .as_ref()
                    .map(icf_core::account::challenge_for_editor),
                ..self
            },
        }
    }
}

impl From<Account> for AccountState {
    fn from(a: Account) -> Self {
        Self {
            id: a.id,
            username: a.username,
            status: a.status,
            status_reason: a.status_reason,
            has_session: a.has_session,
            pending_challenge: a.pending_challenge,
            cooldown_until: a.cooldown_until,
            last_login_at: a.last_login_at,
            failed_attempts: a.failed_attempts,
            proxy: a.proxy,
        }
    }
}

/// An import file: the request body itself (`text/plain`, `text/csv`) or the `file`
/// field of a multipart form.
pub struct ImportBody(pub String);

impl<S: Send + Sync> FromRequest<S> for ImportBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let bytes = if is_multipart {
            let mut form = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?;
            let mut found = None;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?
            {
                if field.name() == Some("file") {
                    found = Some(
                        field
                            .bytes()
                            .await
                            .map_err(|e| ApiError::bad_request(Some("file"), e.body_text()))?,
                    );
                    break;
                }
            }
            found
                .ok_or_else(|| ApiError::validation("file", "the form has no field named 'file'"))?
        } else {
            Bytes::from_request(req, state).await.map_err(|e| {
                ApiError::bad_request(Some("file"), format!("cannot read the body: {e}"))
            })?
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::validation("file", "the file must be UTF-8 text"))?;
        if text.trim().is_empty() {
            return Err(ApiError::validation("file", "the file is empty"));
        }
        Ok(ImportBody(text))
    }
}

pub(crate) fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::TooLarge | ImportError::Nul { .. } => {
            ApiError::validation("file", e.to_string())
        }
        ImportError::Store(s) => s.into(),
    }
}

/// `POST /api/accounts/import[?dry_run=true][&language=en]`.
/// Bulk import: the body is the file (`text/plain` lines `username:password[:language[:group[:proxy_url]]]`,
/// `text/csv` with a header, or multipart with a `file` field). Re-importing creates nothing twice.
#[utoipa::path(post, path = "/api/accounts/import", tag = "accounts", security(("bearer" = [])),
    params(("dry_run" = Option<bool>, Query, description = "Report without saving")),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = crate::import::ImportReport), (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    _: AdminUser,
    params: Params,
    ImportBody(text): ImportBody,
) -> ApiResult<Json<ImportReport>> {
    let dry_run = params.flag("dry_run")?.unwrap_or(false);
    let language = match params.get("language") {
        Some(l) => Language::parse(l)?,
        None => Language::parse("en")?,
    };
    let limit = check_posts_limit(
        params
            .number::<i64>("posts_limit_per_day")?
            .unwrap_or(i64::from(state.app.pacing.max_daily)),
        state.app.pacing.max_daily,
    )?;
    let report = crate::import::import_accounts(
        &state.app.db,
        &state.app.cipher,
        &text,
        dry_run,
        &language,
        limit,
    )
    .await
    .map_err(import_error)?;
    Ok(Json(report))
}
