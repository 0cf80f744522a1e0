//! The account's own feed: read before a photo's upload, as instagrapi does, and after a
//! crash to find a post whose configure answer was lost.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::client::InstagramClient;
use crate::client::request::Body;
use crate::error::IgError;
use crate::types::Published;

impl InstagramClient {
    /// The account's latest posts taken at or after `since`, optionally with exactly this
    /// caption: after a crash between configure and recording its answer, this tells
    /// whether the post exists.
    pub async fn recent_media(
        &mut self,
        since: DateTime<Utc>,
        caption: Option<&str>,
    ) -> Result<Vec<Published>, IgError> {
        let uid = self.require_login()?;
        let url = self.api(&format!("feed/user/{uid}/?count=12"));
        let v = self
            .call(Method::GET, url, Body::Empty, vec![], false)
            .await?;
        let items = v
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(items
            .iter()
            .filter_map(Published::from_media)
            .filter(|p| p.taken_at.is_none_or(|t| t >= since.timestamp()))
            .filter(|p| caption.is_none_or(|c| p.caption.as_deref() == Some(c)))
            .collect())
    }

    /// `feed/user/{id}/` as instagrapi's `user_medias_paginated_v1` asks for it.
    pub(super) async fn user_feed(&mut self, uid: &str) -> Result<Value, IgError> {
        let rank_token = format!("{uid}_{}", self.session.uuids.uuid);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("max_id", "")
            .append_pair("count", "20")
            .append_pair("rank_token", &rank_token)
            .append_pair("ranked_content", "true")
            .finish();
        let url = self.api(&format!("feed/user/{uid}/?{query}"));
        self.call(Method::GET, url, Body::Empty, vec![], false)
            .await
    }
}
