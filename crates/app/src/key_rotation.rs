//! Key rotation: every secret at rest re-encrypted under the first key of
//! `ENCRYPTION_KEY`. Safe to interrupt and run again: tokens already under the first key
//! are left alone, and the others still decrypt with the old key until it is removed.

use icf_core::proxy::ProxyCredentials;
use icf_crypto::{Cipher, CryptoError};
use icf_store::{Db, StoreError};
use secrecy::ExposeSecret;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// Secrets re-encrypted (passwords, sessions, TOTP secrets, proxy credentials).
    pub rotated: usize,
    /// Secrets already under the first key.
    pub current: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Crypto { what: String, source: CryptoError },
}

fn rotate_one(
    cipher: &Cipher,
    token: &mut String,
    report: &mut RotationReport,
    what: impl Fn() -> String,
) -> Result<bool, RotationError> {
    match cipher.rotate(token) {
        Ok(Some(new)) => {
            *token = new;
            report.rotated += 1;
            Ok(true)
        }
        Ok(None) => {
            report.current += 1;
            Ok(false)
        }
        Err(source) => Err(RotationError::Crypto {
            what: what(),
            source,
        }),
    }
}

pub async fn rotate_keys(db: &Db, cipher: &Cipher) -> Result<RotationReport, RotationError> {
    let mut report = RotationReport::default();
    for (id, mut secrets) in icf_store::accounts::all_secrets(db).await? {
        let what = || format!("account {id}");
        let mut changed = rotate_one(cipher, &mut secrets.password_enc, &mut report, what)?;
        if let Some(t) = secrets.session_data_enc.as_mut() {
            changed |= rotate_one(cipher, t, &mut report, what)?;
        }
        if let Some(t) = secrets.totp_secret_enc.as_mut() {
            changed |= rotate_one(cipher, t, &mut report, what)?;
        }
        if changed {
            icf_store::accounts::set_secrets(db, id, &secrets).await?;
        }
    }
    for (id, mut token) in icf_store::proxies::all_credentials(db).await? {
        let what = || format!("proxy {id}");
        rotate_one(cipher, &mut token, &mut report, what)?;
        // The duplicate-finding fingerprint is keyed by the first key: recompute it.
        let plain = cipher
            .decrypt(&token)
            .map_err(|source| RotationError::Crypto {
                what: what(),
                source,
            })?;
        let key = ProxyCredentials::from_plain(plain.expose_secret())
            .map(|c| cipher.fingerprint(&c.username))
            .unwrap_or_default();
        icf_store::proxies::set_credentials(db, id, &token, &key).await?;
    }
    Ok(report)
}
