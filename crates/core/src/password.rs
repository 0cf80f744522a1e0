//! Operator password hashing with argon2id (OWASP's first choice).
//!
//! Instagram account passwords are *not* hashed here: icf must send them to Instagram,
//! so they are encrypted (Fernet) instead.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| HashError(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `phc`. A malformed stored hash counts as no match.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A valid hash of a random password, verified against when a username does not exist so
/// that the answer takes as long as for a real user (no user enumeration by timing).
pub fn dummy_hash() -> &'static str {
    use std::sync::OnceLock;
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("icf-dummy-password-for-timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse").unwrap();
        let b = hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse", &a));
        assert!(!verify("wrong horse", &a));
        assert!(!verify("correct horse", "not a hash"));
    }
}
