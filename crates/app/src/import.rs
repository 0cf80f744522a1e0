//! Adding accounts and proxies, one at a time or from a file: shared by the API, the web
//! UI and the `icf accounts import` / `icf proxies import` commands. The file imports take
//! the database and the cipher rather than an [`App`](crate::App): the CLI opens only those.

use icf_core::device::{AppProfile, Device};
use icf_core::enums::{MediaVariants, ProxyType};
use icf_core::import::{MAX_LINES, parse_accounts, parse_proxies};
use icf_core::language::Language;
use icf_core::proxy::ProxySpec;
use icf_crypto::Cipher;
use icf_store::accounts::NewDevice;
use icf_store::import::{ImportAccount, ImportProxy, LineOutcome};
use icf_store::proxies::NewProxy;
use icf_store::{Db, StoreError};
use serde::Serialize;

use crate::AppError;

/// A fresh emulated phone for an account (generated once, kept for the account's life).
pub fn new_device(language: &str, country: Option<&str>) -> NewDevice {
    let mut rng = rand::rng();
    let device = Device::generate(&mut rng, language, country);
    NewDevice {
        device_id: device.ids.android_device_id.clone(),
        user_agent: device.user_agent(&AppProfile::default()),
        locale: device.locale.clone(),
        timezone_offset: device.timezone_offset,
        device: serde_json::to_value(&device).unwrap_or(serde_json::Value::Null),
    }
}

/// The stored form of a proxy address: credentials encrypted, the user name fingerprinted.
pub fn new_proxy(cipher: &Cipher, spec: &ProxySpec, country: Option<String>) -> NewProxy {
    NewProxy {
        proxy_type: spec.proxy_type,
        host: spec.host.clone(),
        port: spec.port,
        credentials_enc: spec
            .credentials
            .as_ref()
            .map(|c| cipher.encrypt(&c.to_plain())),
        credentials_key: spec
            .credentials
            .as_ref()
            .map(|c| cipher.fingerprint(&c.username))
            .unwrap_or_default(),
        country,
    }
}

/// One line of an import report. Never holds a password.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineReport {
    pub line: usize,
    /// `created`, `duplicate` or `invalid`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The username or the masked proxy address of the line, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    pub total: usize,
    pub created: usize,
    pub duplicate: usize,
    pub invalid: usize,
    pub lines: Vec<LineReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file has more than {MAX_LINES} lines; split it")]
    TooLarge,
    /// PostgreSQL cannot store a NUL byte; no account or proxy line has a use for one.
    #[error("line {line} contains a NUL character")]
    Nul { line: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A file the import refuses as a whole is the `file` field's fault.
impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::TooLarge | ImportError::Nul { .. } => {
                AppError::validation("file", e.to_string())
            }
            ImportError::Store(s) => s.into(),
        }
    }
}

fn report(dry_run: bool, mut lines: Vec<LineReport>) -> ImportReport {
    lines.sort_by_key(|l| l.line);
    let count = |r: &str| lines.iter().filter(|l| l.result == r).count();
    ImportReport {
        dry_run,
        total: lines.len(),
        created: count("created"),
        duplicate: count("duplicate"),
        invalid: count("invalid"),
        lines,
    }
}

fn outcome_report(line: usize, outcome: LineOutcome, item: Option<String>) -> LineReport {
    let (result, reason) = match outcome {
        LineOutcome::Created => ("created", None),
        LineOutcome::Duplicate(r) => ("duplicate", Some(r)),
        LineOutcome::Invalid(r) => ("invalid", Some(r)),
    };
    LineReport {
        line,
        result,
        reason,
        item,
    }
}

/// What every import file must be before its lines are read: not too long, and free of NUL
/// (PostgreSQL cannot store one; the line number tells where it is).
fn check_file(text: &str) -> Result<(), ImportError> {
    if text.lines().count() > MAX_LINES {
        return Err(ImportError::TooLarge);
    }
    if let Some(line) = text.lines().position(|l| l.contains('\0')) {
        return Err(ImportError::Nul { line: line + 1 });
    }
    Ok(())
}

/// What an accounts import gives what its lines leave out.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    /// For lines without a language.
    pub language: Language,
    pub posts_limit_per_day: i32,
    /// The media variants of a group a line names and icf does not have yet.
    pub new_groups: MediaVariants,
}

/// Imports an accounts file (colon lines or CSV). Lines without a language get the
/// default's; lines without a proxy get a free one from the pool, if any.
pub async fn import_accounts(
    db: &Db,
    cipher: &Cipher,
    text: &str,
    dry_run: bool,
    defaults: &ImportDefaults,
) -> Result<ImportReport, ImportError> {
    let posts_limit_per_day = defaults.posts_limit_per_day;
    check_file(text)?;
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    let mut names = std::collections::HashMap::new();
    for (line, parsed) in parse_accounts(text, chrono::Utc::now().date_naive()) {
        match parsed {
            Ok(a) => {
                names.insert(line, a.username.clone());
                rows.push(ImportAccount {
                    line,
                    password_enc: cipher.encrypt(&a.password),
                    language: a
                        .language
                        .unwrap_or_else(|| defaults.language.code().to_owned()),
                    group: a.group,
                    proxy: a.proxy.as_ref().map(|p| new_proxy(cipher, p, None)),
                    username: a.username,
                    posts_limit_per_day,
                    registered_at: a.registered_on.map(icf_core::account::registered_at),
                });
            }
            Err(e) => lines.push(LineReport {
                line,
                result: "invalid",
                reason: Some(e.to_string()),
                item: None,
            }),
        }
    }
    let outcomes =
        icf_store::import::import_accounts(db, &rows, dry_run, &new_device, defaults.new_groups)
            .await?;
    for (line, outcome) in outcomes {
        lines.push(outcome_report(line, outcome, names.remove(&line)));
    }
    Ok(report(dry_run, lines))
}

/// Imports a proxies file. Lines written `host:port:user:pass` are of `default_type`.
pub async fn import_proxies(
    db: &Db,
    cipher: &Cipher,
    text: &str,
    dry_run: bool,
    default_type: ProxyType,
) -> Result<ImportReport, ImportError> {
    check_file(text)?;
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    let mut names = std::collections::HashMap::new();
    for (line, parsed) in parse_proxies(text, default_type) {
        match parsed {
            Ok(p) => {
                names.insert(line, p.proxy.masked());
                rows.push(ImportProxy {
                    line,
                    proxy: new_proxy(cipher, &p.proxy, p.country),
                });
            }
            Err(e) => lines.push(LineReport {
                line,
                result: "invalid",
                reason: Some(e.to_string()),
                item: None,
            }),
        }
    }
    let outcomes = icf_store::import::import_proxies(db, &rows, dry_run).await?;
    for (line, outcome) in outcomes {
        lines.push(outcome_report(line, outcome, names.remove(&line)));
    }
    Ok(report(dry_run, lines))
}
