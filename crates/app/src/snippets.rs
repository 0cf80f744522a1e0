//! Caption snippets and hashtag sets (issue `[workflow]`): kept per group (or for every
//! group) and language, inserted from the composer. Editors and admins alike write them:
//! they are drafting material, like posts. A snippet's text keeps Instagram's caption
//! rules on its own; a caption it would push past them is refused when the post is saved
//! or published, as any caption is.

use icf_core::ids::{GroupId, SnippetId};
use icf_core::language::Language;
use icf_core::snippet::{Snippet, check_name, check_text};
use icf_store::StoreError;
use icf_store::snippets::{SnippetFields, SnippetFilter};
use serde::Deserialize;

use crate::input::nullable;
use crate::{App, AppError, AppResult};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSnippet {
    pub name: String,
    /// The group it is offered for; absent or `null`: every group.
    pub group_id: Option<GroupId>,
    /// The language of the captions it goes into (`en`, `es`…).
    pub language: String,
    pub text: String,
}

/// Fields to change; `group_id: null` offers it to every group.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSnippet {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<GroupId>))]
    pub group_id: Option<Option<GroupId>>,
    pub language: Option<String>,
    pub text: Option<String>,
}

fn snippet_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("snippet"),
        StoreError::Conflict { .. } => AppError::conflict(
            Some("name"),
            "a snippet with this name already exists for this group and language",
        ),
        other => other.into(),
    }
}

async fn checked(app: &App, f: SnippetFields) -> AppResult<SnippetFields> {
    let name = check_name(&f.name)?;
    let language = Language::parse_field(&f.language, "language")?
        .code()
        .to_owned();
    let text = check_text(&f.text, &app.caption_rules)?;
    if let Some(g) = f.group_id
        && !icf_store::posts::missing_groups(&app.db, &[g])
            .await?
            .is_empty()
    {
        return Err(AppError::validation("group_id", "no such group"));
    }
    Ok(SnippetFields {
        name,
        group_id: f.group_id,
        language,
        text,
    })
}

pub async fn create(app: &App, req: CreateSnippet) -> AppResult<Snippet> {
    let fields = checked(
        app,
        SnippetFields {
            name: req.name,
            group_id: req.group_id,
            language: req.language,
            text: req.text,
        },
    )
    .await?;
    icf_store::snippets::create(&app.db, &fields)
        .await
        .map_err(snippet_error)
}

pub async fn get(app: &App, id: SnippetId) -> AppResult<Snippet> {
    icf_store::snippets::get(&app.db, id)
        .await
        .map_err(snippet_error)
}

/// The snippets of a group (with those for every group) and a language, or all.
pub async fn list(
    app: &App,
    group_id: Option<GroupId>,
    language: Option<&str>,
) -> AppResult<Vec<Snippet>> {
    let language = language
        .map(|l| Language::parse_field(l, "language").map(|l| l.code().to_owned()))
        .transpose()?;
    Ok(icf_store::snippets::list(&app.db, &SnippetFilter { group_id, language }).await?)
}

pub async fn update(app: &App, id: SnippetId, req: UpdateSnippet) -> AppResult<Snippet> {
    let old = get(app, id).await?;
    let fields = checked(
        app,
        SnippetFields {
            name: req.name.unwrap_or(old.name),
            group_id: req.group_id.unwrap_or(old.group_id),
            language: req.language.unwrap_or(old.language),
            text: req.text.unwrap_or(old.text),
        },
    )
    .await?;
    icf_store::snippets::update(&app.db, id, &fields)
        .await
        .map_err(snippet_error)
}

pub async fn delete(app: &App, id: SnippetId) -> AppResult<()> {
    if icf_store::snippets::delete(&app.db, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("snippet"))
    }
}
