//! Secrets at rest: Instagram passwords, sessions, TOTP secrets and proxy credentials are
//! stored as Fernet tokens, readable by Python's `cryptography.fernet` and back.
//!
//! `ENCRYPTION_KEY` holds one or more comma-separated keys: the first encrypts, every key
//! decrypts (MultiFernet), so a key can be rotated without a flag day.

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Why a key list or a token was refused. Never carries key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("ENCRYPTION_KEY holds no key")]
    NoKey,
    #[error(
        "key #{0} of ENCRYPTION_KEY is not a Fernet key (32 bytes in url-safe base64, as \
         Python's Fernet.generate_key() makes)"
    )]
    BadKey(usize),
    /// Wrong key, a damaged token, or a token stamped more than 60 s in the future.
    #[error("the secret cannot be decrypted with any key of ENCRYPTION_KEY")]
    Undecryptable,
    #[error("the decrypted secret is not UTF-8 text")]
    NotText,
}

/// Encrypts with the first key, decrypts with any. Cheap to clone.
#[derive(Clone)]
pub struct Cipher {
    multi: fernet::MultiFernet,
    /// Separately-kept first key, to tell whether a token is already under it.
    first: fernet::Fernet,
    /// Keys the fingerprints; derived from the first key so no new secret is needed.
    fingerprint_key: SecretString,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher { keys: <redacted> }")
    }
}

impl Cipher {
    /// Builds from `ENCRYPTION_KEY`'s value: keys separated by commas, blanks ignored.
    pub fn from_keys(keys: &SecretString) -> Result<Cipher, CryptoError> {
        let raw: Vec<&str> = keys
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        let first_raw = *raw.first().ok_or(CryptoError::NoKey)?;
        let fernets = raw
            .iter()
            .enumerate()
            .map(|(i, k)| fernet::Fernet::new(k).ok_or(CryptoError::BadKey(i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let first = fernets[0].clone();
        Ok(Cipher {
            multi: fernet::MultiFernet::new(fernets),
            first,
            fingerprint_key: SecretString::from(format!("icf-fingerprint:{first_raw}")),
        })
    }

    /// A fresh key in the format `ENCRYPTION_KEY` takes.
    pub fn generate_key() -> String {
        fernet::Fernet::generate_key()
    }

    /// A Fernet token of `plaintext` under the first key.
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.multi.encrypt(plaintext.as_bytes())
    }

    /// The plaintext of a token made under any of the keys.
    pub fn decrypt(&self, token: &str) -> Result<SecretString, CryptoError> {
        let bytes = self
            .multi
            .decrypt(token.trim())
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CryptoError::NotText)
    }

    /// Whether `token` already decrypts under the first key (rotation skips it).
    pub fn is_current(&self, token: &str) -> bool {
        self.first.decrypt(token.trim()).is_ok()
    }

    /// The token re-made under the first key; `None` when it already is.
    pub fn rotate(&self, token: &str) -> Result<Option<String>, CryptoError> {
        if self.is_current(token) {
            return Ok(None);
        }
        let plain = self.decrypt(token)?;
        Ok(Some(self.encrypt(plain.expose_secret())))
    }

    /// A keyed hash (HMAC-SHA256, hex) of `value`: equal inputs give equal outputs, so
    /// duplicates can be found without storing the value in clear. It depends on the
    /// first key, so key rotation recomputes stored fingerprints.
    pub fn fingerprint(&self, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.fingerprint_key.expose_secret().as_bytes())
                .expect("HMAC takes a key of any length");
        mac.update(value.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(keys: &str) -> Cipher {
        Cipher::from_keys(&SecretString::from(keys.to_owned())).unwrap()
    }

    #[test]
    fn round_trip_and_fresh_tokens_differ() {
        let c = cipher(&Cipher::generate_key());
        let a = c.encrypt("hunter2");
        let b = c.encrypt("hunter2");
        assert_ne!(a, b, "each token has its own IV");
        assert!(!a.contains("hunter2"));
        assert_eq!(c.decrypt(&a).unwrap().expose_secret(), "hunter2");
    }

    #[test]
    fn bad_keys_are_named_by_position_without_echo() {
        let good = Cipher::generate_key();
        let err = Cipher::from_keys(&SecretString::from(format!("{good},hunter2-not-a-key")))
            .unwrap_err();
        assert_eq!(err, CryptoError::BadKey(2));
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(
            Cipher::from_keys(&SecretString::from(" , ".to_owned())).unwrap_err(),
            CryptoError::NoKey
        );
    }

    #[test]
    fn a_token_of_another_key_is_refused() {
        let a = cipher(&Cipher::generate_key());
        let b = cipher(&Cipher::generate_key());
        assert_eq!(
            b.decrypt(&a.encrypt("x")).unwrap_err(),
            CryptoError::Undecryptable
        );
        assert_eq!(
            b.decrypt("garbage").unwrap_err(),
            CryptoError::Undecryptable
        );
    }

    #[test]
    fn rotation_moves_tokens_to_the_first_key() {
        let old = Cipher::generate_key();
        let new = Cipher::generate_key();
        let before = cipher(&old);
        let token = before.encrypt("secret");
        let both = cipher(&format!("{new},{old}"));
        assert!(!both.is_current(&token));
        let rotated = both.rotate(&token).unwrap().expect("re-encrypted");
        assert!(both.rotate(&rotated).unwrap().is_none(), "already current");
        let only_new = cipher(&new);
        assert_eq!(
            only_new.decrypt(&rotated).unwrap().expose_secret(),
            "secret"
        );
    }

    #[test]
    fn fingerprints_are_stable_per_key_and_hide_the_value() {
        let key = Cipher::generate_key();
        let a = cipher(&key);
        let b = cipher(&key);
        let other = cipher(&Cipher::generate_key());
        assert_eq!(a.fingerprint("puser0"), b.fingerprint("puser0"));
        assert_ne!(a.fingerprint("puser0"), a.fingerprint("puser1"));
        assert_ne!(a.fingerprint("puser0"), other.fingerprint("puser0"));
        assert_eq!(a.fingerprint("puser0").len(), 64);
    }
}
