//! What icf does with Instagram, shared by the job handlers and the account routes: an
//! account is reached only through its own proxy, with its own device and its session
//! (kept encrypted and written back after every call); every call leaves an activity log
//! (endpoint, outcome, duration, never a secret); Instagram's verdicts change the account's
//! status with history.

pub mod alerts;
pub mod checks;
pub mod login;
pub mod maintenance;
pub mod proxy_check;
pub mod proxy_health;
pub mod publish;
pub mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use icf_core::account::Account;
use icf_core::activity::NewActivity;
use icf_core::device::Device;
use icf_core::enums::{AccountStatus, ActivityStatus, ProxyType};
use icf_core::ids::{AccountId, PostId};
use icf_core::pacing::PacingRules;
use icf_core::proxy::ProxyCredentials;
use icf_crypto::Cipher;
use icf_instagram::{
    AppProfiles, ClientConfig, Credentials, ErrorClass, IgError, InstagramClient, LoginOutcome,
    Media, ProxyScheme, ProxySpec, Session,
};
use icf_media::MediaStore;
use icf_store::publishing::{self, InstagramState};
use icf_store::{Db, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub use publish::PostToInstagram;

/// Everything the engine can fail with, other than Instagram's own answers.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored secret cannot be decrypted (was ENCRYPTION_KEY changed?)")]
    Crypto(#[from] icf_crypto::CryptoError),
    #[error("the post's media cannot be read: {0}")]
    Media(String),
    #[error("the account's stored device is unreadable: {0}")]
    Device(String),
    #[error(transparent)]
    Instagram(#[from] IgError),
}

impl EngineError {
    /// Instagram's class of the failure, if it came from Instagram (or the proxy).
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            EngineError::Instagram(e) => Some(e.class()),
            _ => None,
        }
    }
}

/// Instagram settings that are not per account.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub client: ClientConfig,
    pub app_profiles: AppProfiles,
    pub pacing: PacingRules,
    /// Divides publish retry delays (demos and tests; 1 in production).
    pub speed: u32,
    /// Where and how long proxy checks go.
    pub proxy_check: proxy_check::ProxyCheckSettings,
    /// An account's proxy is checked again before it acts when its last check is older.
    pub proxy_recheck: std::time::Duration,
    /// How long Instagram's slow-down answers pause an account.
    pub cooldowns: Cooldowns,
    /// After this many failed actions in a row the account pauses for
    /// [`Cooldowns::failed_attempts`]; 0 never.
    pub max_failed_attempts: u32,
    /// Where what needs a person is reported.
    pub alerts: alerts::AlertSettings,
}

/// Cooldown lengths icf chooses (Instagram does not say how long to wait).
#[derive(Debug, Clone)]
pub struct Cooldowns {
    /// "Please wait a few minutes before you try again."
    pub please_wait: chrono::Duration,
    /// `feedback_required`: an action block.
    pub feedback: chrono::Duration,
    /// After `max_failed_attempts` failures in a row.
    pub failed_attempts: chrono::Duration,
}

impl Default for Cooldowns {
    fn default() -> Self {
        Self {
            please_wait: icf_instagram::error::PLEASE_WAIT_COOLDOWN,
            feedback: icf_instagram::error::FEEDBACK_COOLDOWN,
            failed_attempts: chrono::Duration::hours(1),
        }
    }
}

/// Gives a session made for `device` the calling code of the device's country.
/// `Session::new` leaves instagrapi's default (1, the US), which sessions icf made before
/// carriers existed still hold; the legacy login sends it. A session whose country is not
/// the device's (one imported from instagrapi) keeps what it says, as Instagram knows it.
fn align_calling_code(session: &mut Session, device: &Device) {
    if session.country == device.country
        && let Some(code) = device.calling_code()
    {
        session.country_code = code;
    }
}

/// The engine: cheap to clone, one per process.
#[derive(Clone)]
pub struct Engine {
    pub db: Db,
    pub cipher: Cipher,
    pub media: MediaStore,
    pub settings: Arc<EngineSettings>,
    /// A post's media, read once per process and shared by every account's attempt.
    media_cache: Arc<Mutex<HashMap<PostId, Media>>>,
}

/// An account ready to talk to Instagram.
pub struct Connection {
    pub account: Account,
    password: SecretString,
    totp: Option<SecretString>,
    proxy: ProxySpec,
    /// The process's client settings with this account's own SIM carrier.
    cfg: ClientConfig,
    pub client: InstagramClient,
}

impl Connection {
    /// Forgets the dead login but keeps the device, its carrier and the cookies, for one
    /// fresh login.
    pub fn clear_login(&mut self) -> Result<(), IgError> {
        let mut session = self.client.session().clone();
        session.clear_login();
        self.client = InstagramClient::new(session, &self.proxy, self.cfg.clone())?;
        Ok(())
    }
}

impl Engine {
    pub fn new(db: Db, cipher: Cipher, media: MediaStore, settings: EngineSettings) -> Engine {
        Engine {
            db,
            cipher,
            media,
            settings: Arc::new(settings),
            media_cache: Arc::default(),
        }
    }

    /// Loads the account with its secrets, session (or a fresh one from its stored
    /// device) and proxy. No proxy is a proxy error: never a direct connection.
    pub async fn connect(&self, id: AccountId) -> Result<Connection, EngineError> {
        // A proxy not checked for a while is checked first, and replaced if it fails, so
        // the account does not meet Instagram through a dead address.
        if !self.settings.proxy_recheck.is_zero() {
            self.ensure_proxy(id, self.settings.proxy_recheck).await?;
        }
        let account = icf_store::accounts::get(&self.db, id).await?;
        let secrets = icf_store::accounts::get_secrets(&self.db, id).await?;
        let wire = publishing::account_wire(&self.db, id).await?;
        let password = self.cipher.decrypt(&secrets.password_enc)?;
        let totp = secrets
            .totp_secret_enc
            .as_deref()
            .map(|t| self.cipher.decrypt(t))
            .transpose()?;
        let device: Result<Device, _> = serde_json::from_value(wire.device.clone());
        let session = match secrets.session_data_enc.as_deref() {
            Some(token) => {
                let plain = self.cipher.decrypt(token)?;
                let mut session = Session::import(plain.expose_secret())
                    .map_err(|e| EngineError::Device(format!("stored session: {e}")))?;
                if let Ok(device) = &device {
                    align_calling_code(&mut session, device);
                }
                session
            }
            None => match &device {
                Ok(device) => self.fresh_session(device),
                Err(e) => return Err(EngineError::Device(e.to_string())),
            },
        };
        let cfg = match &device {
            Ok(device) => self.account_config(id, device).await?,
            // A logged-in session carries everything else it needs; only the carrier is
            // lost, and instagrapi's own constant is sent instead.
            Err(e) => {
                tracing::warn!(account = %id, error = %e, "the stored device is unreadable");
                self.settings.client.clone()
            }
        };
        let proxy_id = wire
            .proxy_id
            .ok_or_else(|| IgError::Proxy("the account has no proxy".into()))?;
        let stored = icf_store::proxies::get(&self.db, proxy_id).await?;
        let auth = match &stored.credentials_enc {
            Some(token) => {
                let plain = self.cipher.decrypt(token)?;
                ProxyCredentials::from_plain(plain.expose_secret())
                    .map(|c| (c.username, c.password))
            }
            None => None,
        };
        let scheme = match stored.proxy.proxy_type {
            ProxyType::Http => ProxyScheme::Http,
            ProxyType::Socks5 => ProxyScheme::Socks5,
        };
        let spec = ProxySpec::new(scheme, stored.proxy.host.clone(), stored.proxy.port, auth);
        let client = InstagramClient::new(session, &spec, cfg.clone())?;
        Ok(Connection {
            account,
            password,
            totp,
            proxy: spec,
            cfg,
            client,
        })
    }

    /// A logged-out session for the device: its locale, country, calling code and time
    /// zone (name derived from the offset, as instagrapi does) are the device's own.
    fn fresh_session(&self, device: &Device) -> Session {
        let mut session = Session::new(device, self.settings.app_profiles.default_profile());
        align_calling_code(&mut session, device);
        session
    }

    /// The client settings for one account: the process's, with the SIM carrier of the
    /// account's device in the CAA login. A device stored before carriers existed gets its
    /// derived carrier written into it on first use, so that carrier stays for the
    /// account's life even if `carriers.json` changes later.
    async fn account_config(
        &self,
        id: AccountId,
        device: &Device,
    ) -> Result<ClientConfig, EngineError> {
        let mut cfg = self.settings.client.clone();
        let Some(carrier) = device.carrier() else {
            return Ok(cfg);
        };
        if device.network.is_none() {
            let mut kept = device.clone();
            kept.network = Some(carrier.clone());
            let json =
                serde_json::to_value(&kept).map_err(|e| EngineError::Device(e.to_string()))?;
            publishing::set_device(&self.db, id, &json).await?;
        }
        cfg.caa_network_info = Some(icf_instagram::caa::network_info(
            &carrier.mcc_mnc,
            &carrier.name,
        ));
        Ok(cfg)
    }

    /// Writes the session back, encrypted: cookies and headers of every answer survive a
    /// restart.
    pub async fn save_session(&self, conn: &Connection) -> Result<(), EngineError> {
        let token = self.cipher.encrypt(&conn.client.session().export());
        publishing::set_session(&self.db, conn.account.id, &token).await?;
        Ok(())
    }

    /// One activity log line for an Instagram action. Failing to log never fails the
    /// action.
    pub async fn log(
        &self,
        account: AccountId,
        action: &str,
        started: Instant,
        details: Value,
        error: Option<&IgError>,
    ) {
        let entry = NewActivity {
            account_id: Some(account),
            action: action.to_owned(),
            status: if error.is_some() {
                ActivityStatus::Failed
            } else {
                ActivityStatus::Success
            },
            details,
            error_message: error.map(ToString::to_string),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        if let Err(e) = icf_store::activity::record(&self.db, entry).await {
            tracing::warn!(error = %e, "cannot write an activity log");
        }
    }

    /// Logs in with the account's password (and TOTP secret), recording the outcome on the
    /// account: active when logged in, `login_required` with what Instagram asks when a
    /// two-factor code or a challenge is pending. A passed challenge logs in once more,
    /// never in a loop.
    pub async fn login(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        let mut outcome = self.login_once(conn).await?;
        if outcome == LoginOutcome::ChallengePassed {
            outcome = self.login_once(conn).await?;
        }
        self.record_login(conn.account.id, &outcome).await?;
        Ok(outcome)
    }

    async fn login_once(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        let started = Instant::now();
        let username = conn.account.username.clone();
        let r = conn
            .client
            .login(Credentials {
                username: &username,
                password: conn.password.expose_secret(),
                totp_secret: conn.totp.as_ref().map(|t| t.expose_secret()),
            })
            .await;
        self.save_session(conn).await?;
        match r {
            Ok(outcome) => {
                self.log(
                    conn.account.id,
                    "login",
                    started,
                    json!({"endpoint": "accounts/login", "outcome": outcome_name(&outcome)}),
                    None,
                )
                .await;
                Ok(outcome)
            }
            Err(e) => {
                self.log(
                    conn.account.id,
                    "login",
                    started,
                    json!({"endpoint": "accounts/login"}),
                    Some(&e),
                )
                .await;
                self.apply_error(conn.account.id, &e).await?;
                Err(e.into())
            }
        }
    }

    async fn record_login(&self, id: AccountId, outcome: &LoginOutcome) -> Result<(), EngineError> {
        match outcome {
            LoginOutcome::LoggedIn(_) => publishing::mark_logged_in(&self.db, id).await?,
            LoginOutcome::TwoFactorRequired(p) => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "two-factor code required",
                    None,
                    Some(json!({"kind": "two_factor", "details": p})),
                )
                .await?
            }
            LoginOutcome::ChallengeRequired(c) => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "Instagram asks for a challenge",
                    None,
                    Some(json!({"kind": "challenge", "details": c})),
                )
                .await?
            }
            LoginOutcome::ChallengePassed => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    "the challenge was passed but Instagram gave no session: log in again",
                    None,
                    None,
                )
                .await?
            }
        }
        Ok(())
    }

    /// Answers the pending two-factor code or challenge with the code a person received.
    /// `Ok(None)` when nothing is pending.
    pub async fn submit_code(
        &self,
        conn: &mut Connection,
        code: &str,
    ) -> Result<Option<LoginOutcome>, EngineError> {
        let Some(pending) = conn.account.pending_challenge.clone() else {
            return Ok(None);
        };
        let started = Instant::now();
        let details = pending.get("details").cloned().unwrap_or(Value::Null);
        let r = match pending.get("kind").and_then(Value::as_str) {
            Some("two_factor") => match serde_json::from_value(details) {
                Ok(p) => conn.client.submit_two_factor_code(&p, code).await,
                Err(_) => return Ok(None),
            },
            Some("challenge") => match serde_json::from_value(details) {
                Ok(p) => conn.client.submit_challenge_code(&p, code).await,
                // A challenge met while publishing carries no path to answer: log in.
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.save_session(conn).await?;
        self.log(
            conn.account.id,
            "submit_code",
            started,
            json!({"kind": pending.get("kind")}),
            r.as_ref().err(),
        )
        .await;
        let mut outcome = match r {
            Ok(o) => o,
            Err(e) => {
                self.apply_error(conn.account.id, &e).await?;
                return Err(e.into());
            }
        };
        if outcome == LoginOutcome::ChallengePassed {
            outcome = self.login_once(conn).await?;
        }
        self.record_login(conn.account.id, &outcome).await?;
        Ok(Some(outcome))
    }

    /// The cheap session check (`accounts/current_user`), logged. `Ok(false)` when the
    /// session holds no login or Instagram says it is dead.
    pub async fn check_session(&self, conn: &mut Connection) -> Result<bool, EngineError> {
        if !conn.client.session().is_logged_in() {
            return Ok(false);
        }
        let started = Instant::now();
        let r = conn.client.check_session().await;
        self.save_session(conn).await?;
        self.log(
            conn.account.id,
            "check_session",
            started,
            json!({}),
            r.as_ref().err(),
        )
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.class() == ErrorClass::Relogin => Ok(false),
            Err(e) => {
                self.apply_error(conn.account.id, &e).await?;
                Err(e.into())
            }
        }
    }

    /// Logs in unless the session is already logged in.
    pub async fn ensure_login(&self, conn: &mut Connection) -> Result<LoginOutcome, EngineError> {
        if conn.client.session().is_logged_in() {
            let user_id = conn.client.session().user_id().unwrap_or_default();
            return Ok(LoginOutcome::LoggedIn(icf_instagram::AccountInfo {
                user_id,
                username: conn.account.username.clone(),
            }));
        }
        self.login(conn).await
    }

    /// Changes the account's status with history.
    pub async fn set_state(
        &self,
        id: AccountId,
        status: AccountStatus,
        reason: &str,
        cooldown_until: Option<chrono::DateTime<Utc>>,
        pending_challenge: Option<Value>,
    ) -> Result<(), EngineError> {
        let challenge = pending_challenge.is_some();
        publishing::set_state(
            &self.db,
            id,
            &InstagramState {
                status,
                reason: reason.to_owned(),
                cooldown_until,
                pending_challenge,
            },
        )
        .await?;
        let kind = match status {
            AccountStatus::Banned => Some(alerts::AlertKind::AccountBanned),
            AccountStatus::LoginRequired if challenge => Some(alerts::AlertKind::ChallengeRequired),
            _ => None,
        };
        if let Some(kind) = kind
            && self.settings.alerts.enabled()
        {
            let username = icf_store::accounts::get(&self.db, id)
                .await
                .map(|a| a.username)
                .unwrap_or_else(|_| id.to_string());
            alerts::raise(&self.db, &self.settings.alerts, kind, &username, reason).await;
        }
        Ok(())
    }

    /// What an Instagram error means for the account itself.
    pub async fn apply_error(&self, id: AccountId, e: &IgError) -> Result<(), EngineError> {
        self.apply_class(id, self.class_of(e), e).await
    }

    /// Counts one more failed action of the account; at the threshold the account cools
    /// down (its counter starts again) and the end of the pause is returned.
    pub async fn count_failure(
        &self,
        id: AccountId,
    ) -> Result<Option<chrono::DateTime<Utc>>, EngineError> {
        let n = icf_store::maintenance::note_failed_attempt(&self.db, id).await?;
        let max = self.settings.max_failed_attempts;
        if max == 0 || u32::try_from(n).unwrap_or(0) < max {
            return Ok(None);
        }
        let until = Utc::now() + self.settings.cooldowns.failed_attempts;
        self.set_state(
            id,
            AccountStatus::Cooldown,
            &format!("{n} failed actions in a row"),
            Some(until),
            None,
        )
        .await?;
        icf_store::maintenance::reset_failed_attempts(&self.db, id).await?;
        Ok(Some(until))
    }

    /// After a post: an account that has used its whole daily limit cools down until its
    /// rolling window frees a place (specification §3.2), so plans and the UI show why it
    /// waits.
    pub async fn cool_down_at_the_limit(&self, id: AccountId) -> Result<(), EngineError> {
        let now = Utc::now();
        let account = icf_store::accounts::get(&self.db, id).await?;
        let rules = &self.settings.pacing;
        let posted = icf_store::maintenance::posted_since(&self.db, id, now - rules.window).await?;
        let limit = u32::try_from(account.posts_limit_per_day).unwrap_or(0);
        if let Some(until) = icf_core::pacing::limit_reached_until(
            rules,
            account.account_age_days,
            limit,
            &posted,
            now,
        ) && account.status == AccountStatus::Active
        {
            let n = rules.daily_limit(account.account_age_days, limit);
            self.set_state(
                id,
                AccountStatus::Cooldown,
                &format!("daily limit reached: {n} in 24 h"),
                Some(until),
                None,
            )
            .await?;
        }
        Ok(())
    }

    /// Instagram's class of an error, with icf's configured cooldown lengths.
    pub fn class_of(&self, e: &IgError) -> ErrorClass {
        let now = Utc::now();
        match e.api_kind() {
            Some(icf_instagram::ApiErrorKind::PleaseWait) => ErrorClass::Cooldown {
                until: now + self.settings.cooldowns.please_wait,
            },
            Some(icf_instagram::ApiErrorKind::FeedbackRequired) => ErrorClass::Cooldown {
                until: now + self.settings.cooldowns.feedback,
            },
            _ => e.class_at(now),
        }
    }

    /// [`Engine::apply_error`] with the class already computed (a cooldown's end is
    /// computed once, so the account and the execution agree on it).
    pub async fn apply_class(
        &self,
        id: AccountId,
        class: ErrorClass,
        e: &IgError,
    ) -> Result<(), EngineError> {
        let reason = e.to_string();
        match class {
            ErrorClass::Cooldown { until } => {
                self.set_state(id, AccountStatus::Cooldown, &reason, Some(until), None)
                    .await
            }
            ErrorClass::Challenge => {
                self.set_state(
                    id,
                    AccountStatus::LoginRequired,
                    &reason,
                    None,
                    Some(json!({"kind": "challenge", "message": reason})),
                )
                .await
            }
            ErrorClass::Banned => {
                self.set_state(id, AccountStatus::Banned, &reason, None, None)
                    .await
            }
            ErrorClass::Proxy => {
                self.set_state(id, AccountStatus::ProxyError, &reason, None, None)
                    .await
            }
            ErrorClass::Credentials => {
                self.set_state(id, AccountStatus::LoginRequired, &reason, None, None)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// The post's media as Instagram gets it, read from storage once per process.
    pub async fn post_media(&self, post: &icf_core::post::Post) -> Result<Media, EngineError> {
        if let Some(m) = self.cache_get(post.id) {
            return Ok(m);
        }
        let media = publish::build_media(&self.media, post).await?;
        if let Ok(mut cache) = self.media_cache.lock() {
            // A handful of posts go out at a time; forget old ones rather than grow.
            if cache.len() >= 16 {
                cache.clear();
            }
            cache.insert(post.id, media.clone());
        }
        Ok(media)
    }

    fn cache_get(&self, id: PostId) -> Option<Media> {
        self.media_cache.lock().ok()?.get(&id).cloned()
    }
}

fn outcome_name(o: &LoginOutcome) -> &'static str {
    match o {
        LoginOutcome::LoggedIn(_) => "logged_in",
        LoginOutcome::TwoFactorRequired(_) => "two_factor_required",
        LoginOutcome::ChallengeRequired(_) => "challenge_required",
        LoginOutcome::ChallengePassed => "challenge_passed",
    }
}

/// The machine name of an error class, as `post_executions.error_class` stores it.
pub fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Retryable => "retryable",
        ErrorClass::Cooldown { .. } => "cooldown",
        ErrorClass::Relogin => "relogin",
        ErrorClass::Challenge => "challenge",
        ErrorClass::Banned => "banned",
        ErrorClass::Proxy => "proxy",
        ErrorClass::BadMedia => "bad_media",
        ErrorClass::Credentials => "credentials",
        ErrorClass::Outdated => "outdated",
        ErrorClass::Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_gets_the_calling_code_of_its_devices_country_unless_imported() {
        let device = Device::generate(&mut rand::rng(), "de", Some("DE"));
        let app = icf_core::device::AppProfile::default();
        let mut made = Session::new(&device, &app);
        assert_eq!(made.country_code, 1, "instagrapi's default before aligning");
        align_calling_code(&mut made, &device);
        assert_eq!((made.country.as_str(), made.country_code), ("DE", 49));
        assert_eq!(made.timezone_name.as_deref(), Some("GMT+01:00"));

        // A session imported from instagrapi says another country: it stays as it is.
        let mut imported = Session::import("{}").unwrap();
        align_calling_code(&mut imported, &device);
        assert_eq!(
            (imported.country.as_str(), imported.country_code),
            ("US", 1)
        );
    }
}
