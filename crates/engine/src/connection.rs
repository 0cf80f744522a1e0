//! Reaching Instagram as one account: only through the account's own proxy (never a
//! direct connection), with its own device and carrier, and its session — decrypted on
//! the way in and written back, encrypted, after every call, so the cookies and headers of
//! every answer survive a restart.

use icf_core::account::Account;
use icf_core::device::Device;
use icf_core::enums::{ProxyStatus, ProxyType};
use icf_core::ids::AccountId;
use icf_core::proxy::ProxyCredentials;
use icf_instagram::{ClientConfig, IgError, InstagramClient, ProxyEndpoint, ProxyScheme, Session};
use icf_store::publishing::{self, ConnectionParts, ProxyParts};
use secrecy::{ExposeSecret, SecretString};

use crate::clients::{Digest, Kept};
use crate::engine::Engine;
use crate::error::EngineError;

/// An account ready to talk to Instagram.
pub struct Connection {
    pub account: Account,
    pub(crate) password: SecretString,
    pub(crate) totp: Option<SecretString>,
    proxy: ProxyEndpoint,
    /// The process's client settings with this account's own SIM carrier.
    cfg: ClientConfig,
    pub client: InstagramClient,
    /// The stored session's token, and the text it holds: a session unchanged since is not
    /// written again, and a client kept with this token is valid while the database
    /// still holds it.
    token: Option<Digest>,
    saved: Option<Digest>,
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

impl Engine {
    /// Loads the account with its secrets, session (or a fresh one from its stored
    /// device) and proxy. No proxy is a proxy error: never a direct connection.
    pub async fn connect(&self, id: AccountId) -> Result<Connection, EngineError> {
        let (account, parts) = publishing::account_and_parts(&self.db, id).await?;
        self.connect_with(account, parts).await
    }

    /// [`Engine::connect`] with the account, and what else of it a connection needs,
    /// already read (a publish reads them for its pacing check).
    pub async fn connect_with(
        &self,
        account: Account,
        mut parts: ConnectionParts,
    ) -> Result<Connection, EngineError> {
        let id = account.id;
        // A proxy not checked for a while is checked first, and replaced if it fails, so
        // the account does not meet Instagram through a dead address.
        if self.proxy_needs_check(parts.proxy.as_ref()) {
            self.ensure_proxy(id, self.settings.proxy_recheck).await?;
            parts = publishing::connection_parts(&self.db, id).await?;
        }
        let secrets = parts.secrets;
        let password = self.cipher.decrypt(&secrets.password_enc)?;
        let totp = secrets
            .totp_secret_enc
            .as_deref()
            .map(|t| self.cipher.decrypt(t))
            .transpose()?;
        let stored = parts
            .proxy
            .ok_or_else(|| IgError::Proxy("the account has no proxy".into()))?;
        let proxy = self.proxy_endpoint(&stored)?;
        let token = secrets.session_data_enc;
        if let Some(kept) = self.clients.take(id, token.as_deref(), &proxy) {
            return Ok(Connection {
                account,
                password,
                totp,
                proxy,
                cfg: kept.cfg,
                client: kept.client,
                token: kept.token,
                saved: kept.saved,
            });
        }
        let device: Result<Device, _> = serde_json::from_value(parts.device);
        let (session, saved) = match token.as_deref() {
            Some(token) => {
                let plain = self.cipher.decrypt(token)?;
                let mut session = Session::import(plain.expose_secret())
                    .map_err(|e| EngineError::Device(format!("stored session: {e}")))?;
                if let Ok(device) = &device {
                    align_calling_code(&mut session, device);
                }
                (session, Some(Digest::of(plain.expose_secret())))
            }
            None => match &device {
                Ok(device) => (self.fresh_session(device), None),
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
        let client = InstagramClient::new(session, &proxy, cfg.clone())?;
        Ok(Connection {
            account,
            password,
            totp,
            proxy,
            cfg,
            client,
            token: token.as_deref().map(Digest::of),
            saved,
        })
    }

    /// Whether the account's proxy is to be checked before it is used: not checked
    /// within `proxy_recheck`, or not working at its last check.
    fn proxy_needs_check(&self, proxy: Option<&ProxyParts>) -> bool {
        let max_age = self.settings.proxy_recheck;
        let Some(proxy) = proxy.filter(|_| !max_age.is_zero()) else {
            return false;
        };
        let fresh = proxy.last_check_at.is_some_and(|at| {
            chrono::Utc::now() - at < chrono::Duration::from_std(max_age).unwrap_or_default()
        });
        !(fresh && proxy.status == ProxyStatus::Active)
    }

    /// The account's proxy as the transport dials it, its credentials decrypted.
    fn proxy_endpoint(&self, stored: &ProxyParts) -> Result<ProxyEndpoint, EngineError> {
        let auth = match &stored.credentials_enc {
            Some(token) => {
                let plain = self.cipher.decrypt(token)?;
                ProxyCredentials::from_plain(plain.expose_secret())
                    .map(|c| (c.username, c.password))
            }
            None => None,
        };
        let scheme = match stored.proxy_type {
            ProxyType::Http => ProxyScheme::Http,
            ProxyType::Socks5 => ProxyScheme::Socks5,
        };
        Ok(ProxyEndpoint::new(
            scheme,
            stored.host.clone(),
            stored.port,
            auth,
        ))
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

    /// Writes the session back, encrypted, unless the database already holds it as it
    /// is: cookies and headers of every answer survive a restart.
    pub async fn save_session(&self, conn: &mut Connection) -> Result<(), EngineError> {
        let plain = conn.client.session().export();
        let saved = Digest::of(&plain);
        if conn.saved == Some(saved) {
            return Ok(());
        }
        let token = self.cipher.encrypt(&plain);
        publishing::set_session(&self.db, conn.account.id, &token).await?;
        conn.token = Some(Digest::of(&token));
        conn.saved = Some(saved);
        Ok(())
    }

    /// The end of an account's action: the session written back and the client kept for
    /// its next action (see [`crate::clients`]).
    pub async fn finish(&self, mut conn: Connection) -> Result<(), EngineError> {
        self.save_session(&mut conn).await?;
        let id = conn.account.id;
        self.clients.keep(
            id,
            Kept {
                client: conn.client,
                cfg: conn.cfg,
                proxy: conn.proxy,
                token: conn.token,
                saved: conn.saved,
            },
        );
        Ok(())
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
