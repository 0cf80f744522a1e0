//! Publishing (fact sheet §5): the upload (rupload) of a post's media (`upload`), the
//! irreversible configure step that makes it a post (`configure`), and the account's recent
//! media, which tells after a crash whether a configure went through (`feed`).

mod configure;
mod feed;
mod upload;

use crate::client::InstagramClient;
use crate::error::IgError;
use crate::types::{Media, Published};

impl InstagramClient {
    /// Upload then configure.
    pub async fn publish(&mut self, media: &Media, caption: &str) -> Result<Published, IgError> {
        let uploaded = self.upload(media).await?;
        self.configure(media, &uploaded, caption).await
    }
}
