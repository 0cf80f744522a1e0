//! The encryption key: valid, and the one the stored secrets were encrypted with.

use icf_crypto::Cipher;
use icf_store::Db;
use secrecy::SecretString;

use super::report::{Check, one_line};
use crate::config::Settings;

/// The keys `icf serve` would use: `ENCRYPTION_KEY`, else the file generated in the data
/// dir. The doctor never generates one.
fn resolve_keys(settings: &Settings) -> Result<Option<(SecretString, &'static str)>, String> {
    if let Some(keys) = &settings.auth.encryption_keys {
        return Ok(Some((keys.clone(), "ENCRYPTION_KEY")));
    }
    let path = settings.data_dir.join("encryption_key");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some((
            SecretString::from(text.trim().to_owned()),
            "the key file in ICF_DATA_DIR",
        ))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// How many stored secrets of each kind are tried: enough to catch a wrong key, few
/// enough to stay fast with thousands of accounts.
const SECRET_SAMPLE: usize = 50;

const NAME: &str = "encryption key";

pub(super) async fn encryption_key(settings: &Settings, db: Option<&Db>) -> Check {
    let fix_wrong = "set ENCRYPTION_KEY to the key the secrets were encrypted with; when \
                     rotating, list the new key first and the old one after it, comma-separated, \
                     then run `icf rotate-keys`";
    let keys = match resolve_keys(settings) {
        Ok(k) => k,
        Err(e) => {
            return Check::fail(
                NAME,
                e,
                "make the data dir readable by the user icf runs as",
            );
        }
    };
    let cipher = match &keys {
        Some((k, _)) => match Cipher::from_keys(k) {
            Ok(c) => Some(c),
            Err(e) => return Check::fail(NAME, e.to_string(), fix_wrong),
        },
        None => None,
    };
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked against stored secrets: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    let tokens = match sampled_secrets(db).await {
        Ok(t) => t,
        Err(check) => return check,
    };
    let Some(cipher) = cipher else {
        return if tokens.is_empty() {
            Check::warn(
                NAME,
                "ENCRYPTION_KEY is not set and none was generated yet; no secret is stored",
                "set ENCRYPTION_KEY (a Fernet key, see .env.example) before adding accounts, \
                 or let `icf serve` generate one into ICF_DATA_DIR and back that file up",
            )
        } else {
            Check::fail(
                NAME,
                format!(
                    "ENCRYPTION_KEY is not set and ICF_DATA_DIR has no key file, but {} \
                     secrets are stored",
                    tokens.len()
                ),
                fix_wrong,
            )
        };
    };
    let source = keys.map(|(_, s)| s).unwrap_or("ENCRYPTION_KEY");
    if tokens.is_empty() {
        return Check::ok(NAME, format!("{source} is valid; no secret is stored yet"));
    }
    let total = tokens.len();
    let failed = tokens.iter().filter(|t| cipher.decrypt(t).is_err()).count();
    if failed > 0 {
        return Check::fail(
            NAME,
            format!("{failed} of {total} sampled secrets do not decrypt with {source}"),
            fix_wrong,
        );
    }
    let old = tokens.iter().filter(|t| !cipher.is_current(t)).count();
    if old > 0 {
        return Check::warn(
            NAME,
            format!(
                "{total} sampled secrets decrypt; {old} are still under an older key of {source}"
            ),
            "run `icf rotate-keys`, then remove the old key from ENCRYPTION_KEY",
        );
    }
    Check::ok(
        NAME,
        format!("{total} sampled secrets decrypt with {source}"),
    )
}

/// Up to [`SECRET_SAMPLE`] accounts' secrets (password, session, TOTP) and as many proxies'
/// credentials; a failing read is the check's line.
async fn sampled_secrets(db: &Db) -> Result<Vec<String>, Check> {
    let mut tokens: Vec<String> = Vec::new();
    match icf_store::accounts::all_secrets(db).await {
        Ok(accounts) => {
            for (_, s) in accounts.into_iter().take(SECRET_SAMPLE) {
                tokens.push(s.password_enc);
                tokens.extend(s.session_data_enc);
                tokens.extend(s.totp_secret_enc);
            }
        }
        Err(e) => {
            return Err(Check::fail(
                NAME,
                format!("cannot read the accounts: {}", one_line(&e.to_string())),
                "check the database checks above",
            ));
        }
    }
    match icf_store::proxies::all_credentials(db).await {
        Ok(proxies) => tokens.extend(
            proxies
                .into_iter()
                .take(SECRET_SAMPLE)
                .map(|(_, token)| token),
        ),
        Err(e) => {
            return Err(Check::fail(
                NAME,
                format!("cannot read the proxies: {}", one_line(&e.to_string())),
                "check the database checks above",
            ));
        }
    }
    Ok(tokens)
}
