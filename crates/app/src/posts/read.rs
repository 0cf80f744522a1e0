//! Reading posts: one, or a page of them newest first.

use icf_core::enums::PostStatus;
use icf_core::ids::PostId;
use icf_core::post::Post;
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// A page of posts and how many there are in all.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostList {
    pub items: Vec<Post>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The posts (of one status, if given), `limit` of them from `offset`: at most 500 a page.
pub async fn list(
    app: &App,
    status: Option<PostStatus>,
    limit: i64,
    offset: i64,
) -> AppResult<PostList> {
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_request(
            Some("limit"),
            "limit must be between 1 and 500",
        ));
    }
    if offset < 0 {
        return Err(AppError::bad_request(
            Some("offset"),
            "offset must not be negative",
        ));
    }
    let (items, total) = icf_store::posts::list(&app.db, status, limit, offset).await?;
    Ok(PostList {
        items,
        total,
        limit,
        offset,
    })
}

pub async fn get(app: &App, id: PostId) -> AppResult<Post> {
    icf_store::posts::get(&app.db, id)
        .await
        .map_err(AppError::missing("post"))
}

/// One of the post's media as a picture for previews: a photo's JPEG, a video's or reel's
/// cover. `index` counts from 0 in the post's order.
pub async fn preview(app: &App, id: PostId, index: usize) -> AppResult<bytes::Bytes> {
    let post = get(app, id).await?;
    let item = post.media.get(index).ok_or(AppError::NotFound("media"))?;
    let key = item.cover_key.as_deref().unwrap_or(&item.key);
    let key = icf_media::MediaKey::parse(key).map_err(AppError::internal)?;
    app.media.get(&key).await.map_err(|e| match e {
        icf_media::MediaError::NotFound(_) => AppError::NotFound("media"),
        other => AppError::internal(other),
    })
}
