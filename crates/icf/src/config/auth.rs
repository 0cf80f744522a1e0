//! The keys: the one that signs sign-in tokens, the ones that encrypt secrets at rest, and
//! how long a sign-in lasts. Keys left unset are generated into the data dir on first start
//! ([`AuthSettings::ensure_keys`]), so a single machine needs no setup.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::vars::{ConfigError, Vars};

/// The signing and encryption keys, and how long a sign-in lasts.
#[derive(Clone)]
pub struct AuthSettings {
    /// `SECRET_KEY`: signs the JWTs. Generated into the data dir when unset.
    pub secret_key: Option<SecretString>,
    /// `ENCRYPTION_KEY`: comma-separated Fernet keys, first encrypts, all decrypt.
    /// Generated into the data dir when unset.
    pub encryption_keys: Option<SecretString>,
    /// `ICF_TOKEN_TTL_MINUTES` (default 720): how long a sign-in lasts.
    pub token_ttl_minutes: u32,
    /// `ICF_REQUIRE_APPROVAL` (default false): editors' posts wait for an admin's approval
    /// before they are published or scheduled.
    pub require_approval: bool,
}

impl AuthSettings {
    pub(crate) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let secret_key = vars.secret("SECRET_KEY");
        if let Some(key) = &secret_key
            && key.expose_secret().len() < 32
        {
            return Err(ConfigError::new(
                "SECRET_KEY",
                "expected at least 32 characters (it signs the sign-in tokens); \
                 generate one with `openssl rand -hex 32`",
            ));
        }
        let encryption_keys = vars.secret("ENCRYPTION_KEY");
        if let Some(keys) = &encryption_keys {
            validate_fernet_keys(keys.expose_secret())?;
        }
        Ok(Self {
            secret_key,
            encryption_keys,
            token_ttl_minutes: token_ttl_minutes(vars)?,
            require_approval: vars.parse("ICF_REQUIRE_APPROVAL", false, "true or false")?,
        })
    }

    /// Fills in the keys left unset from files in `data_dir` (which must exist),
    /// generating them (mode 0600) on first start. Returns the variables that were
    /// generated, so the caller can warn.
    pub(crate) fn ensure_keys(
        &mut self,
        data_dir: &Path,
    ) -> Result<Vec<&'static str>, ConfigError> {
        let mut generated = Vec::new();
        if self.secret_key.is_none() {
            let (key, fresh) =
                load_or_generate(&data_dir.join("secret_key"), "SECRET_KEY", || {
                    use rand::RngCore;
                    let mut bytes = [0u8; 32];
                    rand::rng().fill_bytes(&mut bytes);
                    bytes.iter().map(|b| format!("{b:02x}")).collect()
                })?;
            self.secret_key = Some(key);
            if fresh {
                generated.push("SECRET_KEY");
            }
        }
        if self.encryption_keys.is_none() {
            let (key, fresh) = load_or_generate(
                &data_dir.join("encryption_key"),
                "ENCRYPTION_KEY",
                fernet::Fernet::generate_key,
            )?;
            // A file edited by hand is checked as strictly as the variable.
            validate_fernet_keys(key.expose_secret())?;
            self.encryption_keys = Some(key);
            if fresh {
                generated.push("ENCRYPTION_KEY");
            }
        }
        Ok(generated)
    }
}

fn token_ttl_minutes(vars: &Vars) -> Result<u32, ConfigError> {
    let minutes = vars.parse("ICF_TOKEN_TTL_MINUTES", 720u32, "a number of minutes")?;
    if minutes == 0 {
        return Err(ConfigError::new(
            "ICF_TOKEN_TTL_MINUTES",
            "expected a number of minutes above 0",
        ));
    }
    Ok(minutes)
}

fn validate_fernet_keys(keys: &str) -> Result<(), ConfigError> {
    for (i, key) in keys.split(',').map(str::trim).enumerate() {
        if fernet::Fernet::new(key).is_none() {
            return Err(ConfigError::new(
                "ENCRYPTION_KEY",
                format!(
                    "key #{} is not a Fernet key (expected 32 bytes in url-safe base64, \
                     as Python's Fernet.generate_key() makes)",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Reads a key file, or writes a new one readable only by the owner.
fn load_or_generate(
    path: &Path,
    variable: &'static str,
    generate: impl FnOnce() -> String,
) -> Result<(SecretString, bool), ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((SecretString::from(text.trim().to_owned()), false));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(ConfigError::new(
                variable,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    }
    let value = generate();
    write_private(path, &value)
        .map_err(|e| ConfigError::new(variable, format!("cannot write {}: {e}", path.display())))?;
    Ok((SecretString::from(value), true))
}

fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    // create_new: two processes starting at once must not overwrite each other's key.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(value.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
