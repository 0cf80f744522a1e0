//! `GET /api/events`: server-sent events with the queue counts and execution changes
//! (the fan-out is [`crate::live`]).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::live::LiveEvent;
use crate::state::AppState;

/// Live updates as `text/event-stream`. Events: `queue` (`{"waiting","running","retrying","failed"}`,
/// sent on connect and whenever the counts change) and `execution` (`{"id","post_id","account_id",
/// "status","updated_at"}` for every execution state change). Signed in by a bearer token or
/// the web UI's cookie.
#[utoipa::path(get, path = "/api/events", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "Server-sent events: `queue` and `execution`"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    _: CurrentUser,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.events.subscribe(&state.app.db);
    // A new page needs the current counts at once, not at the next change.
    let first = icf_store::stats::queue_figures(&state.app.db).await?;
    let initial = futures_util::stream::once(async move { Ok(LiveEvent::Queue(first).to_sse()) });
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => return Some((Ok(ev.to_sse()), rx)),
                // A slow page missed some; it refreshes on the next one.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    use futures_util::StreamExt;
    // Graceful shutdown waits for every open connection: the stream ends when it begins.
    let stream = initial
        .chain(rest)
        .take_until(state.shutdown.clone().cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
