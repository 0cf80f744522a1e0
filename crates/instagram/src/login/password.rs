//! The password as Instagram wants it: encrypted with a key fetched for every password
//! sent (§4.3).

use chrono::Utc;

use crate::client::InstagramClient;
use crate::crypto::{PasswordKey, encrypt_password};
use crate::error::{IgError, classify};

impl InstagramClient {
    /// `GET qe/sync/` with the web session, for every password sent, as instagrapi's
    /// `password_publickeys` does: the key arrives in response headers (§4.3).
    async fn fetch_password_key(&mut self) -> Result<PasswordKey, IgError> {
        let url = self.api("qe/sync/");
        let (status, headers, body) = self.public_get(url).await?;
        if let Some(e) = classify(status, &body) {
            return Err(IgError::Api(e));
        }
        let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
        match (
            get("ig-set-password-encryption-key-id"),
            get("ig-set-password-encryption-pub-key"),
        ) {
            (Some(id), Some(key)) => Ok(PasswordKey::from_headers(id, key)?),
            _ => Err(IgError::Protocol(
                "qe/sync/ gave no password encryption key".into(),
            )),
        }
    }

    /// `#PWD_INSTAGRAM:4:`: the password encrypted with a freshly fetched key, as both
    /// logins send it.
    pub(super) async fn encrypted_password(&mut self, password: &str) -> Result<String, IgError> {
        let key = self.fetch_password_key().await?;
        Ok(encrypt_password(password, &key, Utc::now().timestamp())?)
    }
}
