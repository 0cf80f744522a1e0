//! Adding, changing and deleting an account, and its two-factor secret. Admins only (the
//! surfaces check the role); every result is the admin's view of the account.

use chrono::{DateTime, Utc};
use icf_core::account::{
    Account, check_account_password, check_posts_limit, parse_instagram_username,
    parse_registered_on, registered_at as registered_at_of, registered_from_age,
};
use icf_core::enums::{AccountStatus, ProxyType, Role};
use icf_core::ids::{AccountId, GroupId, ProxyId};
use icf_core::language::Language;
use icf_core::proxy::ProxySpec;
use icf_store::StoreError;
use icf_store::accounts::{AccountChanges, NewAccount, ProxyChoice};
use serde::Deserialize;

use super::view::{account_error, shown, stored};
use crate::import::{new_device, new_proxy};
use crate::input::nullable;
use crate::{App, AppError, AppResult};

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub username: String,
    pub password: String,
    pub language: String,
    pub group_id: Option<GroupId>,
    /// A proxy of the pool; it must be free.
    pub proxy_id: Option<ProxyId>,
    /// A new proxy address, added to the pool and assigned.
    pub proxy_url: Option<String>,
    /// `false`: no proxy at all instead of a free one from the pool.
    #[serde(default = "yes")]
    pub auto_proxy: bool,
    pub posts_limit_per_day: Option<i64>,
    /// When the account was registered on Instagram (`2019-04-01` or an RFC 3339 time):
    /// its warm-up follows from its age. Unknown: it warms up as a new account.
    #[cfg_attr(feature = "openapi", schema(example = "2019-04-01"))]
    pub registered_at: Option<String>,
    /// The account's age in days, instead of `registered_at`.
    pub age_days: Option<i64>,
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub password: Option<String>,
    pub language: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub group_id: Option<Option<GroupId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub proxy_id: Option<Option<ProxyId>>,
    pub posts_limit_per_day: Option<i64>,
    /// When the account was registered on Instagram (`2019-04-01` or an RFC 3339 time);
    /// `null`: unknown (it warms up as a new account).
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, example = "2019-04-01")
    )]
    pub registered_at: Option<Option<String>>,
    /// The account's age in days, instead of `registered_at`.
    pub age_days: Option<i64>,
    pub status: Option<AccountStatus>,
    pub status_reason: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpSecret {
    /// The base32 secret of the account's authenticator app (spaces allowed), or `null` to
    /// forget it. icf then answers Instagram's two-factor step with codes it generates.
    pub secret: Option<String>,
}

/// The registration time from `registered_at` or `age_days` (not both): `None` when
/// neither is given, `Some(None)` when `registered_at` is `null`.
fn registration(
    registered_at: Option<Option<&str>>,
    age_days: Option<i64>,
) -> AppResult<Option<Option<DateTime<Utc>>>> {
    let today = Utc::now().date_naive();
    let day = match (registered_at, age_days) {
        (Some(_), Some(_)) => {
            return Err(AppError::validation(
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

async fn ensure_group(app: &App, id: GroupId) -> AppResult<()> {
    match icf_store::groups::get(&app.db, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(AppError::validation("group_id", "no such group")),
        Err(e) => Err(e.into()),
    }
}

/// A proxy of the pool that is free for `account` (or already serves it).
async fn ensure_free_proxy(app: &App, id: ProxyId, account: Option<AccountId>) -> AppResult<()> {
    match icf_store::proxies::get(&app.db, id).await {
        Ok(p) => match p.proxy.assigned_account_id {
            Some(owner) if Some(owner) != account => Err(AppError::conflict(
                Some("proxy_id"),
                "the proxy already serves another account",
            )),
            _ => Ok(()),
        },
        Err(StoreError::NotFound) => Err(AppError::validation("proxy_id", "no such proxy")),
        Err(e) => Err(e.into()),
    }
}

/// The pool's proxy for an address, added if new; refused if it serves an account.
async fn proxy_for_url(app: &App, raw: &str) -> AppResult<ProxyId> {
    let spec = ProxySpec::parse_with(raw, ProxyType::Http, "proxy_url")?;
    let new = new_proxy(&app.cipher, &spec, None);
    let existing = icf_store::proxies::find(
        &app.db,
        new.proxy_type,
        &new.host,
        new.port,
        &new.credentials_key,
    )
    .await?;
    match existing {
        Some(p) if p.proxy.assigned_account_id.is_some() => Err(AppError::conflict(
            Some("proxy_url"),
            "the proxy already serves another account",
        )),
        Some(p) => Ok(p.proxy.id),
        None => Ok(icf_store::proxies::create(&app.db, &new).await?.id),
    }
}

/// Adds an account. Without `proxy_id` or `proxy_url` a free proxy of the pool is assigned
/// (unless `auto_proxy` is off); the account gets a fresh emulated phone for its life.
pub async fn create(app: &App, req: CreateAccount) -> AppResult<Account> {
    let username = parse_instagram_username(&req.username)?;
    check_account_password(&req.password)?;
    let language = Language::parse(&req.language)?;
    let posts_limit_per_day = check_posts_limit(
        req.posts_limit_per_day
            .unwrap_or(i64::from(app.pacing.max_daily)),
        app.pacing.max_daily,
    )?;
    let registered_at =
        registration(req.registered_at.as_deref().map(Some), req.age_days)?.flatten();
    if req.proxy_id.is_some() && req.proxy_url.is_some() {
        return Err(AppError::validation(
            "proxy_url",
            "give proxy_id or proxy_url, not both",
        ));
    }
    if let Some(g) = req.group_id {
        ensure_group(app, g).await?;
    }
    if icf_store::accounts::find_by_username(&app.db, &username)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            Some("username"),
            "an account with this username already exists",
        ));
    }
    let proxy = match (req.proxy_id, req.proxy_url.as_deref()) {
        (Some(id), _) => {
            ensure_free_proxy(app, id, None).await?;
            ProxyChoice::Id(id)
        }
        (None, Some(url)) => ProxyChoice::Id(proxy_for_url(app, url).await?),
        (None, None) if req.auto_proxy => ProxyChoice::Auto,
        (None, None) => ProxyChoice::Direct,
    };
    let account = icf_store::accounts::create(
        &app.db,
        &NewAccount {
            username,
            password_enc: app.cipher.encrypt(&req.password),
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
    Ok(shown(app, Role::Admin, account))
}

/// Changes what `req` names. A status set by hand is recorded in the history with
/// `status_reason`.
pub async fn update(app: &App, id: AccountId, req: UpdateAccount) -> AppResult<Account> {
    stored(app, id).await?;
    if let Some(p) = &req.password {
        check_account_password(p)?;
    }
    let language = req.language.as_deref().map(Language::parse).transpose()?;
    let posts_limit_per_day = req
        .posts_limit_per_day
        .map(|n| check_posts_limit(n, app.pacing.max_daily))
        .transpose()?;
    if let Some(Some(g)) = req.group_id {
        ensure_group(app, g).await?;
    }
    if let Some(Some(p)) = req.proxy_id {
        ensure_free_proxy(app, p, Some(id)).await?;
    }
    let registered_at = registration(
        req.registered_at.as_ref().map(|r| r.as_deref()),
        req.age_days,
    )?;
    let reason = req.status_reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(AppError::validation(
            "status_reason",
            "must be at most 500 characters long",
        ));
    }
    icf_core::text::check_free_text("status_reason", &reason, icf_core::text::Lines::Many)?;
    let account = icf_store::accounts::update(
        &app.db,
        id,
        &AccountChanges {
            password_enc: req.password.as_deref().map(|p| app.cipher.encrypt(p)),
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
    Ok(shown(app, Role::Admin, account))
}

pub async fn delete(app: &App, id: AccountId) -> AppResult<()> {
    icf_store::accounts::delete(&app.db, id)
        .await
        .map_err(account_error)
}

/// Stores the account's two-factor (TOTP) secret encrypted, or forgets it (`None`). It is
/// never shown again; `has_totp` says whether one is set.
pub async fn set_totp(app: &App, id: AccountId, secret: Option<String>) -> AppResult<Account> {
    let token = match secret {
        None => None,
        Some(raw) => {
            let secret: String = raw
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            // Checked now, so that a mistyped secret is refused here rather than at the
            // account's next login, where nobody watches.
            if secret.len() < 16 || !icf_engine::interop::totp_secret_works(&secret) {
                return Err(AppError::validation(
                    "secret",
                    "expected the base32 secret of an authenticator app (16 or more characters)",
                ));
            }
            Some(app.cipher.encrypt(&secret))
        }
    };
    icf_store::accounts::set_totp(&app.db, id, token.as_deref())
        .await
        .map_err(account_error)?;
    Ok(shown(app, Role::Admin, stored(app, id).await?))
}
