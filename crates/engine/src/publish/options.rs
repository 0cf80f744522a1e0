//! A post's options as Instagram takes them for one execution: the alt texts in the
//! account's language, and what only Instagram knows — the venue of the post's place and
//! the ids of the people it tags or invites. Those are asked for once per post, through the
//! first account that publishes it, and kept on the post for every other account.

use std::collections::BTreeMap;
use std::time::Instant;

use icf_core::post_options::{PlaceInput, PostOptions};
use icf_instagram::{IgError, PostOptions as IgOptions, UserTag, Venue};
use icf_store::publishing::ExecutionRun;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::EngineError;

/// What was found for the post, as kept in `posts.resolved`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Resolved {
    #[serde(default)]
    venue: Option<Venue>,
    /// Username → Instagram user id (`None`: Instagram has no such user).
    #[serde(default)]
    user_ids: BTreeMap<String, Option<String>>,
}

/// Why the options cannot be sent as they are: the execution fails with this message.
pub(super) enum Unusable {
    Instagram(IgError),
    /// Something a person must change on the post (a username Instagram does not know).
    Post(String),
}

/// The options for `exec`'s publish, resolving on Instagram what the post does not know
/// yet.
pub(super) async fn for_instagram(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    options: &PostOptions,
) -> Result<Result<IgOptions, Unusable>, EngineError> {
    let mut out = IgOptions {
        alt_texts: exec
            .alt_text
            .iter()
            .map(|t| Some(t.clone()).filter(|t| !t.trim().is_empty()))
            .collect(),
        disable_comments: options.disable_comments,
        hide_like_counts: options.hide_like_counts,
        share_to_feed: options.share_to_feed,
        ..IgOptions::default()
    };
    let needs_users = !options.usertags.is_empty() || !options.collaborators.is_empty();
    if options.location.is_none() && !needs_users {
        return Ok(Ok(out));
    }
    let stored = icf_store::posts::resolved(&engine.db, exec.post_id).await?;
    let mut resolved: Resolved = stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let before = serde_json::to_value(&resolved).unwrap_or_default();
    let result = resolve(engine, exec, conn, options, &mut resolved, &mut out).await;
    let after = serde_json::to_value(&resolved).unwrap_or_default();
    if after != before {
        icf_store::posts::set_resolved(&engine.db, exec.post_id, &after).await?;
    }
    Ok(result.map(|()| out))
}

async fn resolve(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    options: &PostOptions,
    resolved: &mut Resolved,
    out: &mut IgOptions,
) -> Result<(), Unusable> {
    if let Some(place) = &options.location {
        if resolved.venue.is_none() {
            resolved.venue = Some(find_venue(engine, exec, conn, place).await?);
        }
        out.location = resolved.venue.clone();
    }
    let mut names: Vec<&str> = options
        .usertags
        .iter()
        .map(|t| t.username.as_str())
        .chain(options.collaborators.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if !resolved.user_ids.contains_key(name) {
            let id = user_id(engine, exec, conn, name).await?;
            resolved.user_ids.insert(name.to_owned(), id);
        }
    }
    let id_of = |name: &str| -> Result<String, Unusable> {
        resolved
            .user_ids
            .get(name)
            .cloned()
            .flatten()
            .ok_or_else(|| {
                Unusable::Post(format!(
                    "@{name} is not an Instagram user: correct the post's tags or collaborators"
                ))
            })
    };
    let items = out.alt_texts.len().max(1);
    let mut tags: Vec<Vec<UserTag>> = vec![Vec::new(); items];
    for t in &options.usertags {
        if tags.len() <= t.media_index {
            tags.resize(t.media_index + 1, Vec::new());
        }
        tags[t.media_index].push(UserTag {
            user_id: id_of(&t.username)?,
            x: t.x,
            y: t.y,
        });
    }
    if tags.iter().any(|t| !t.is_empty()) {
        out.usertags = tags;
    }
    out.coauthor_ids = options
        .collaborators
        .iter()
        .map(|c| id_of(c))
        .collect::<Result<_, _>>()?;
    Ok(())
}

/// Instagram's venue for the place: the one of that name near it, else the nearest.
async fn find_venue(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    place: &PlaceInput,
) -> Result<Venue, Unusable> {
    let started = Instant::now();
    let venues = conn.client.location_search(place.lat, place.lng).await;
    engine
        .log(
            exec.account_id,
            "location_search",
            started,
            json!({"execution_id": exec.id, "endpoint": "location_search",
                "found": venues.as_ref().map(|v| v.len()).ok()}),
            venues.as_ref().err(),
        )
        .await;
    let venues = venues.map_err(Unusable::Instagram)?;
    let wanted = place.name.to_lowercase();
    let named = venues
        .iter()
        .find(|v| v.name.to_lowercase() == wanted)
        .or_else(|| {
            venues
                .iter()
                .find(|v| v.name.to_lowercase().contains(&wanted))
        });
    named.or(venues.first()).cloned().ok_or_else(|| {
        Unusable::Post(format!(
            "Instagram knows no place near {}, {} for the post's location '{}'",
            place.lat, place.lng, place.name
        ))
    })
}

async fn user_id(
    engine: &Engine,
    exec: &ExecutionRun,
    conn: &mut Connection,
    name: &str,
) -> Result<Option<String>, Unusable> {
    let started = Instant::now();
    let found = conn.client.user_id_by_username(name).await;
    engine
        .log(
            exec.account_id,
            "user_lookup",
            started,
            json!({"execution_id": exec.id, "endpoint": "users/usernameinfo", "username": name,
                "found": found.as_ref().ok().map(Option::is_some)}),
            found.as_ref().err(),
        )
        .await;
    found.map_err(Unusable::Instagram)
}
