//! The checks a post's fields get on creation and on edit alike.

use chrono::{DateTime, Utc};
use icf_core::ids::GroupId;
use icf_core::language::Language;

use crate::{App, AppError, AppResult};

/// A form value trimmed, or `None` when there is nothing in it.
pub(crate) fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A language icf supports (`en`, `ru`, `pt-BR`, `zh-Hans`…), stored by its canonical code.
pub(crate) fn check_language(field: &'static str, code: &str) -> AppResult<String> {
    Ok(Language::parse_field(code, field)?.code().to_owned())
}

/// The target groups of the upload form: a JSON array of ids, none twice.
pub(crate) fn parse_groups(raw: Option<&str>) -> AppResult<Vec<GroupId>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let ids: Vec<GroupId> = serde_json::from_str(raw).map_err(|_| {
        AppError::validation(
            "target_groups",
            "must be a JSON array of group ids, like [\"0192…\"]",
        )
    })?;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(AppError::validation(
            "target_groups",
            "a group is listed twice",
        ));
    }
    Ok(ids)
}

/// Every group exists; the first that does not is named.
pub(crate) async fn groups_exist(app: &App, groups: &[GroupId]) -> AppResult<()> {
    let missing = icf_store::posts::missing_groups(&app.db, groups).await?;
    if let Some(g) = missing.first() {
        return Err(AppError::validation(
            "target_groups",
            format!("no group with id {g}"),
        ));
    }
    Ok(())
}

pub(crate) fn parse_time(field: &'static str, raw: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::validation(field, "must be an RFC 3339 time, like 2026-12-01T09:30:00Z")
        })
}
