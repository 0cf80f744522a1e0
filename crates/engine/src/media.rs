//! A post's stored files as the Instagram client's [`Media`]: photos read whole, videos
//! streamed from their file on every upload (a worker's memory does not grow with the
//! video), covers and carousel items in the post's order. Kept per process in a small
//! cache, so every account's attempt at one post shares one read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use icf_core::enums::MediaType;
use icf_core::ids::PostId;
use icf_core::post::{MediaKind, Post, PostMedia};
use icf_core::post_options::PostOptions;
use icf_instagram::{CarouselItem, Media, Photo, Video, VideoData};
use icf_media::{MediaKey, MediaStore};
use icf_store::Db;

use crate::error::EngineError;

/// A post as its executions publish it: the media, and the options beside them.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub media: Media,
    pub options: Arc<PostOptions>,
}

/// Posts' media by post, read once per process.
#[derive(Clone, Default)]
pub(crate) struct MediaCache(Arc<Mutex<HashMap<PostId, Prepared>>>);

impl MediaCache {
    /// A handful of posts go out at a time; past this the cache forgets rather than grows.
    const POSTS: usize = 16;

    /// The post's media from the cache, or read (the post from `db`, its files from
    /// `store`) and kept.
    pub(crate) async fn get_or_build(
        &self,
        db: &Db,
        store: &MediaStore,
        id: PostId,
    ) -> Result<Prepared, EngineError> {
        if let Some(m) = self.get(id) {
            return Ok(m);
        }
        let post = icf_store::posts::get(db, id).await?;
        let prepared = Prepared {
            media: build_media(store, &post).await?,
            options: Arc::new(post.options),
        };
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= Self::POSTS {
                cache.clear();
            }
            cache.insert(id, prepared.clone());
        }
        Ok(prepared)
    }

    fn get(&self, id: PostId) -> Option<Prepared> {
        self.0.lock().ok()?.get(&id).cloned()
    }
}

async fn read(store: &MediaStore, key: &str) -> Result<bytes::Bytes, EngineError> {
    let key = MediaKey::parse(key).map_err(|e| EngineError::Media(e.to_string()))?;
    store
        .get(&key)
        .await
        .map_err(|e| EngineError::Media(e.to_string()))
}

async fn photo(store: &MediaStore, m: &PostMedia) -> Result<Photo, EngineError> {
    Ok(Photo {
        jpeg: read(store, &m.key).await?,
        width: m.width,
        height: m.height,
    })
}

async fn video(store: &MediaStore, m: &PostMedia) -> Result<Video, EngineError> {
    let cover_key = m
        .cover_key
        .as_deref()
        .ok_or_else(|| EngineError::Media("the video has no cover".into()))?;
    let key = MediaKey::parse(&m.key).map_err(|e| EngineError::Media(e.to_string()))?;
    let (path, len) = store
        .file(&key)
        .await
        .map_err(|e| EngineError::Media(e.to_string()))?;
    let mp4 = VideoData::File { path, len };
    Ok(Video {
        mp4,
        width: m.width,
        height: m.height,
        duration_ms: (m.duration_s.unwrap_or(0.0) * 1000.0).round().max(0.0) as u64,
        cover: Photo {
            jpeg: read(store, cover_key).await?,
            width: m.width,
            height: m.height,
        },
    })
}

/// The post's stored files as the client's [`Media`].
pub async fn build_media(store: &MediaStore, post: &Post) -> Result<Media, EngineError> {
    let first = post
        .media
        .first()
        .ok_or_else(|| EngineError::Media("the post has no media".into()))?;
    Ok(match post.media_type {
        MediaType::Photo => Media::Photo(photo(store, first).await?),
        MediaType::Video => Media::Video(video(store, first).await?),
        MediaType::Reel => Media::Reel(video(store, first).await?),
        MediaType::Story => match first.kind {
            MediaKind::Photo => Media::StoryPhoto(photo(store, first).await?),
            MediaKind::Video => Media::StoryVideo(video(store, first).await?),
        },
        MediaType::Carousel => {
            let mut items = Vec::with_capacity(post.media.len());
            for m in &post.media {
                items.push(match m.kind {
                    MediaKind::Photo => CarouselItem::Photo(photo(store, m).await?),
                    MediaKind::Video => CarouselItem::Video(video(store, m).await?),
                });
            }
            Media::Carousel(items)
        }
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chrono::Utc;
    use icf_core::enums::{JobPriority, PostStatus};

    use super::*;

    async fn stored(store: &MediaStore, bytes: &'static [u8], ext: &str) -> String {
        let key = MediaKey::generate("posts", ext);
        store
            .put_bytes(&key, Bytes::from_static(bytes))
            .await
            .unwrap();
        key.as_str().to_owned()
    }

    fn item(key: String, kind: MediaKind, cover_key: Option<String>) -> PostMedia {
        PostMedia {
            key,
            kind,
            width: 1080,
            height: 1350,
            duration_s: (kind == MediaKind::Video).then_some(3.5),
            cover_key,
            size: 3,
            sha256: String::new(),
        }
    }

    fn post(media_type: MediaType, media: Vec<PostMedia>) -> Post {
        Post {
            id: PostId::new(),
            media,
            media_type,
            caption_original: "c".into(),
            original_language: "en".into(),
            target_groups: vec![],
            status: PostStatus::Pending,
            priority: JobPriority::Normal,
            scheduled_at: None,
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            posted_at: None,
            options: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_carousel_keeps_its_order_and_its_videos_their_covers() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(dir.path()).unwrap();
        let photo = stored(&store, b"jpg-1", "jpg").await;
        let video = stored(&store, b"mp4-2", "mp4").await;
        let cover = stored(&store, b"cover", "jpg").await;
        let p = post(
            MediaType::Carousel,
            vec![
                item(video, MediaKind::Video, Some(cover)),
                item(photo, MediaKind::Photo, None),
            ],
        );
        let Media::Carousel(items) = build_media(&store, &p).await.unwrap() else {
            panic!("not a carousel");
        };
        assert_eq!(items.len(), 2);
        match &items[0] {
            CarouselItem::Video(v) => {
                let VideoData::File { path, len } = &v.mp4 else {
                    panic!("a stored video is streamed from its file");
                };
                assert_eq!(std::fs::read(path).unwrap(), b"mp4-2");
                assert_eq!(*len, 5);
                assert_eq!(&v.cover.jpeg[..], b"cover");
                assert_eq!(v.duration_ms, 3500);
            }
            other => panic!("first item is the video: {other:?}"),
        }
        assert!(matches!(&items[1], CarouselItem::Photo(ph) if &ph.jpeg[..] == b"jpg-1"));
    }

    #[tokio::test]
    async fn a_video_without_cover_or_a_missing_file_is_a_media_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(dir.path()).unwrap();
        let video = stored(&store, b"mp4", "mp4").await;
        let p = post(MediaType::Reel, vec![item(video, MediaKind::Video, None)]);
        assert!(matches!(
            build_media(&store, &p).await,
            Err(EngineError::Media(_))
        ));
        let p = post(
            MediaType::Photo,
            vec![item("posts/gone.jpg".into(), MediaKind::Photo, None)],
        );
        assert!(matches!(
            build_media(&store, &p).await,
            Err(EngineError::Media(_))
        ));
        assert!(matches!(
            build_media(&store, &post(MediaType::Photo, vec![])).await,
            Err(EngineError::Media(_))
        ));
    }
}
