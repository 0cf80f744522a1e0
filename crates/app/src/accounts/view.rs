//! Accounts as a viewer may see them: one, a page of them, their status history, and
//! the state of their Instagram sign-in.

use chrono::{DateTime, Utc};
use icf_core::account::Account;
use icf_core::enums::{AccountStatus, Role};
use icf_core::ids::AccountId;
use icf_store::StoreError;
use icf_store::accounts::{AccountFilter, AccountSort};
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// The account as `viewer` may see it: warm-up and allowance under the configured rules;
/// for an editor without the proxy address and Instagram's challenge internals.
pub fn shown(app: &App, viewer: Role, mut account: Account) -> Account {
    account.apply_pacing(&app.pacing);
    match viewer {
        Role::Admin => account,
        Role::Editor => account.for_editor(),
    }
}

/// A store error about an account, in the words the API has always used.
pub(crate) fn account_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("account"),
        StoreError::Conflict { field } if field == "proxy_id" => AppError::Conflict {
            field: Some(field),
            message: "the proxy already serves another account".into(),
        },
        StoreError::Conflict { field } => AppError::Conflict {
            message: format!("an account with this {field} already exists"),
            field: Some(field),
        },
        other => other.into(),
    }
}

/// The stored account, or "account not found".
pub(crate) async fn stored(app: &App, id: AccountId) -> AppResult<Account> {
    icf_store::accounts::get(&app.db, id)
        .await
        .map_err(account_error)
}

/// Which accounts, in what order, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub filter: AccountFilter,
    pub sort: AccountSort,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// One page of accounts as `viewer` may see them, with the total across all pages.
pub async fn list(app: &App, viewer: Role, query: &AccountQuery) -> AppResult<(Vec<Account>, i64)> {
    let (items, total) = icf_store::accounts::list(
        &app.db,
        &query.filter,
        query.sort,
        query.descending,
        query.limit,
        query.offset,
    )
    .await?;
    let items = items.into_iter().map(|a| shown(app, viewer, a)).collect();
    Ok((items, total))
}

pub async fn get(app: &App, viewer: Role, id: AccountId) -> AppResult<Account> {
    Ok(shown(app, viewer, stored(app, id).await?))
}

/// How a line about an account names it: its username, or its id when it cannot be read
/// (deleted meanwhile).
pub async fn label(app: &App, id: AccountId) -> String {
    icf_store::accounts::get(&app.db, id)
        .await
        .map(|a| a.username)
        .unwrap_or_else(|_| id.to_string())
}

/// One change of an account's status.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub old_status: Option<AccountStatus>,
    pub new_status: AccountStatus,
    /// Why, in plain words (Instagram's answer, a failed proxy, a person).
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusHistory {
    /// Newest first, the last 200 changes.
    pub items: Vec<StatusChange>,
}

/// The account's last 200 status changes, newest first.
pub async fn history(app: &App, id: AccountId) -> AppResult<StatusHistory> {
    stored(app, id).await?;
    let items = icf_store::accounts::status_history(&app.db, id, 200)
        .await?
        .into_iter()
        .map(|c| StatusChange {
            old_status: c.old_status,
            new_status: c.new_status,
            reason: c.reason,
            at: c.at,
        })
        .collect();
    Ok(StatusHistory { items })
}

/// What icf knows of an account's Instagram sign-in.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountState {
    pub id: AccountId,
    pub username: String,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub has_session: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub pending_challenge: Option<serde_json::Value>,
    pub cooldown_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub failed_attempts: i32,
    pub proxy: Option<String>,
}

impl AccountState {
    /// As `viewer` may see it (see [`shown`]).
    pub fn for_role(self, viewer: Role) -> Self {
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

/// The account's emulated phone as people read it: the device icf made for it, and the
/// name instagrapi gives its time zone.
pub struct Phone {
    pub device: icf_core::device::Device,
    /// `GMT+01:00`.
    pub timezone: String,
}

/// The account's phone; `None` when its stored device cannot be read.
pub async fn phone(app: &App, id: AccountId) -> AppResult<Option<Phone>> {
    let wire = icf_store::publishing::account_wire(&app.db, id)
        .await
        .map_err(account_error)?;
    let device = serde_json::from_value::<icf_core::device::Device>(wire.device).ok();
    Ok(device.map(|device| Phone {
        timezone: icf_engine::interop::timezone_name(device.timezone_offset),
        device,
    }))
}
