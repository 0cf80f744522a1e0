//! `/api/groups/`: admins write, editors read.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use icf_core::account::{Account, Group, check_description, parse_group_name};
use icf_core::ids::GroupId;
use icf_core::pacing::ActiveHours;
use icf_store::StoreError;
use icf_store::groups::OnDelete;
use serde::{Deserialize, Serialize};

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, IdPath};
use crate::query::{Paged, Params};
use crate::routes::accounts::list_accounts;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupList {
    items: Vec<Group>,
    total: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    name: String,
    #[serde(default)]
    description: String,
    /// A daily posting window (`08:00-23:00`) in each account's own time zone: nothing of
    /// the group is published outside it. Absent or `null`: any hour.
    #[schema(example = "08:00-23:00")]
    active_hours: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    name: Option<String>,
    description: Option<String>,
    /// `08:00-23:00`, or `null` (or an empty string) for any hour.
    #[serde(default, deserialize_with = "crate::routes::accounts::nullable")]
    #[schema(value_type = Option<String>, example = "08:00-23:00")]
    active_hours: Option<Option<String>>,
}

/// A window from the API: `None` (or an empty string) is no window.
fn active_hours(raw: Option<&str>) -> ApiResult<Option<ActiveHours>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => Ok(Some(ActiveHours::parse(r)?)),
    }
}

pub(crate) fn group_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("group"),
        StoreError::Conflict { field } => ApiError::Conflict {
            message: format!("a group with this {field} already exists"),
            field: Some(field),
        },
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/groups/", tag = "groups", security(("bearer" = [])), responses((status = 200, body = GroupList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> ApiResult<Json<GroupList>> {
    let items = icf_store::groups::list(&state.app.db).await?;
    Ok(Json(GroupList {
        total: items.len(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/groups/", tag = "groups", security(("bearer" = [])), request_body = CreateGroup,
    responses((status = 403, body = crate::error::ErrorBody), (status = 201, body = icf_core::account::Group), (status = 409, description = "Name taken (case-insensitive)", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(req): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    let name = parse_group_name(&req.name)?;
    let description = check_description(&req.description)?;
    let hours = active_hours(req.active_hours.as_deref())?;
    let group = icf_store::groups::create(&state.app.db, &name, &description, hours)
        .await
        .map_err(group_not_found)?;
    Ok((StatusCode::CREATED, Json(group)))
}

#[utoipa::path(get, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")),
    responses((status = 200, body = icf_core::account::Group), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _: CurrentUser,
    IdPath(id): IdPath<GroupId>,
) -> ApiResult<Json<Group>> {
    Ok(Json(
        icf_store::groups::get(&state.app.db, id)
            .await
            .map_err(group_not_found)?,
    ))
}

#[utoipa::path(put, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")), request_body = UpdateGroup,
    responses((status = 403, body = crate::error::ErrorBody), (status = 200, body = icf_core::account::Group), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GroupId>,
    ApiJson(req): ApiJson<UpdateGroup>,
) -> ApiResult<Json<Group>> {
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
    let group = icf_store::groups::update(
        &state.app.db,
        id,
        name.as_deref(),
        description.as_deref(),
        hours,
    )
    .await
    .map_err(group_not_found)?;
    Ok(Json(group))
}

/// `DELETE /api/groups/{id}?on_accounts=ungroup|move|delete[&target_group_id=…]`.
/// Without `on_accounts`, a group that still has accounts is refused with 409.
#[utoipa::path(delete, path = "/api/groups/{id}", tag = "groups", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("on_accounts" = Option<String>, Query, description = "ungroup, move or delete; required when the group has accounts"),
           ("target_group_id" = Option<String>, Query, description = "With on_accounts=move")),
    responses((status = 403, body = crate::error::ErrorBody), (status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The group has accounts", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    IdPath(id): IdPath<GroupId>,
    params: Params,
) -> ApiResult<StatusCode> {
    let mode = match params.get("on_accounts") {
        None => OnDelete::Refuse,
        Some("ungroup") => OnDelete::Ungroup,
        Some("delete") => OnDelete::DeleteAccounts,
        Some("move") => {
            let target = params.parse::<GroupId>("target_group_id")?.ok_or_else(|| {
                ApiError::validation("target_group_id", "required with on_accounts=move")
            })?;
            if target == id {
                return Err(ApiError::validation(
                    "target_group_id",
                    "must be another group",
                ));
            }
            OnDelete::MoveTo(target)
        }
        Some(_) => {
            return Err(ApiError::validation(
                "on_accounts",
                "expected ungroup, move or delete",
            ));
        }
    };
    match icf_store::groups::delete(&state.app.db, id, mode).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Constraint(message)) if message.contains("target group") => {
            Err(ApiError::validation("target_group_id", message))
        }
        Err(StoreError::Constraint(message)) => Err(ApiError::Conflict {
            field: Some("on_accounts".into()),
            message,
        }),
        Err(e) => Err(group_not_found(e)),
    }
}

/// `GET /api/groups/{id}/accounts`: the account list, filtered to the group.
#[utoipa::path(get, path = "/api/groups/{id}/accounts", tag = "groups", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "Group id (UUID)")),
    responses((status = 200, body = Paged<icf_core::account::Account>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    user: CurrentUser,
    IdPath(id): IdPath<GroupId>,
    params: Params,
) -> ApiResult<Json<Paged<Account>>> {
    icf_store::groups::get(&state.app.db, id)
        .await
        .map_err(group_not_found)?;
    list_accounts(&state, user.role, &params, Some(id))
        .await
        .map(Json)
}
