//! Groups of accounts: admins write, editors read. A group may keep its accounts to a
//! daily posting window, read on each account's own clock.

use icf_core::account::{Group, check_description, parse_group_name};
use icf_core::enums::MediaVariants;
use icf_core::ids::GroupId;
use icf_core::pacing::ActiveHours;
use icf_store::StoreError;
use icf_store::groups::{GroupChanges, NewGroup, OnDelete};
use serde::Deserialize;

use crate::input::nullable;
use crate::{App, AppError, AppResult};

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A daily posting window (`08:00-23:00`) in each account's own time zone: nothing of
    /// the group is published outside it. Absent or `null`: any hour.
    #[cfg_attr(feature = "openapi", schema(example = "08:00-23:00"))]
    pub active_hours: Option<String>,
    /// Each account's own copy of a post's media: `off` (one file for all), `light`
    /// (invisible changes: the default, unless the server sets another) or `strong`.
    /// A post's own `media_variants` wins.
    pub media_variants: Option<MediaVariants>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `08:00-23:00`, or `null` (or an empty string) for any hour.
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, example = "08:00-23:00")
    )]
    pub active_hours: Option<Option<String>>,
    /// `off`, `light` or `strong`.
    pub media_variants: Option<MediaVariants>,
}

/// A window as written (`08:00-23:00`): `None` (or an empty string) is no window.
fn active_hours(raw: Option<&str>) -> AppResult<Option<ActiveHours>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => Ok(Some(ActiveHours::parse(r)?)),
    }
}

fn group_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("group"),
        StoreError::Conflict { field } => AppError::Conflict {
            message: format!("a group with this {field} already exists"),
            field: Some(field),
        },
        other => other.into(),
    }
}

/// Every group, with its accounts counted by language and status.
pub async fn list(app: &App) -> AppResult<Vec<Group>> {
    Ok(icf_store::groups::list(&app.db).await?)
}

pub async fn get(app: &App, id: GroupId) -> AppResult<Group> {
    icf_store::groups::get(&app.db, id)
        .await
        .map_err(group_error)
}

/// A new group; its name is unique regardless of case.
pub async fn create(app: &App, req: CreateGroup) -> AppResult<Group> {
    let name = parse_group_name(&req.name)?;
    let description = check_description(&req.description)?;
    let hours = active_hours(req.active_hours.as_deref())?;
    let new = NewGroup {
        name: &name,
        description: &description,
        hours,
        media_variants: req.media_variants.unwrap_or(app.uploads.new_group_variants),
    };
    icf_store::groups::create(&app.db, new)
        .await
        .map_err(group_error)
}

pub async fn update(app: &App, id: GroupId, req: UpdateGroup) -> AppResult<Group> {
    let name = req.name.as_deref().map(parse_group_name).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    let hours = req
        .active_hours
        .map(|h| active_hours(h.as_deref()))
        .transpose()?;
    let changes = GroupChanges {
        name: name.as_deref(),
        description: description.as_deref(),
        hours,
        media_variants: req.media_variants,
    };
    icf_store::groups::update(&app.db, id, changes)
        .await
        .map_err(group_error)
}

/// Deletes the group; its accounts are kept out of it, moved or deleted as `mode` says
/// (a group with accounts is refused with [`OnDelete::Refuse`]).
pub async fn delete(app: &App, id: GroupId, mode: OnDelete) -> AppResult<()> {
    if mode == OnDelete::MoveTo(id) {
        return Err(AppError::validation(
            "target_group_id",
            "must be another group",
        ));
    }
    match icf_store::groups::delete(&app.db, id, mode).await {
        Ok(_) => Ok(()),
        Err(StoreError::Constraint(message)) if message.contains("target group") => {
            Err(AppError::validation("target_group_id", message))
        }
        Err(StoreError::Constraint(message)) => {
            Err(AppError::conflict(Some("on_accounts"), message))
        }
        Err(e) => Err(group_error(e)),
    }
}
