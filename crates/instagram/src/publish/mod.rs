//! Publishing (fact sheet §5): the upload (rupload) of a post's media (`upload`), the
//! irreversible configure step that makes it a post (`configure`, with the post's
//! `options`; stories in `story`), the account's recent media, which tells after a crash
//! whether a configure went through (`feed`), and the first comment (`comment`).

mod comment;
mod configure;
mod feed;
mod options;
mod story;
mod upload;

use crate::client::InstagramClient;
use crate::error::IgError;
use crate::types::{Media, PostOptions, Published};

impl InstagramClient {
    /// Upload then configure.
    pub async fn publish(&mut self, media: &Media, caption: &str) -> Result<Published, IgError> {
        let uploaded = self.upload(media).await?;
        self.configure(media, &uploaded, caption).await
    }

    /// Upload then configure with the post's options.
    pub async fn publish_with(
        &mut self,
        media: &Media,
        caption: &str,
        options: &PostOptions,
    ) -> Result<Published, IgError> {
        let uploaded = self.upload(media).await?;
        self.configure_with(media, &uploaded, caption, options)
            .await
    }
}
