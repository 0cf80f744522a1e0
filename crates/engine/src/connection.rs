//! Reaching Instagram as one account: only through the account's own proxy (never a
//! direct connection), with its own device and carrier, and its session — decrypted on
//! the way in and written back, encrypted, after every call, so the cookies and headers of
//! every answer survive a restart.

use icf_core::account::Account;
use icf_core::device::Device;
use icf_core::enums::ProxyType;
use icf_core::ids::AccountId;
use icf_core::proxy::ProxyCredentials;
use icf_instagram::{ClientConfig, IgError, InstagramClient, ProxyEndpoint, ProxyScheme, Session};
use icf_store::publishing;
use secrecy::{ExposeSecret, SecretString};

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
        let spec = ProxyEndpoint::new(scheme, stored.proxy.host.clone(), stored.proxy.port, auth);
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
