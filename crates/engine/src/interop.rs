//! An account's session and device as other tools and people read them: instagrapi's
//! settings format in and out (an agency's existing sessions skip a fresh login), the
//! name instagrapi gives the device's time zone, and whether a two-factor secret works.
//! Here, not in the application layer, because these are Instagram's formats: only the
//! engine talks to `icf-instagram`.

use icf_instagram::Session;

/// A session read from instagrapi's settings JSON, ready to be stored (encrypt it first).
pub struct ImportedSession {
    /// The session in icf's stored form (instagrapi's `dump_settings()` layout).
    pub settings: String,
    /// Whether it holds a signed-in user (a session id), or only a device.
    pub logged_in: bool,
}

/// Reads a session made by instagrapi's `dump_settings()`. The error says where and what
/// kind of mistake, never the value (it may be a session id).
pub fn import_settings(json: &str) -> Result<ImportedSession, String> {
    let session = Session::import(json).map_err(|e| e.to_string())?;
    Ok(ImportedSession {
        settings: session.export(),
        logged_in: session.is_logged_in(),
    })
}

/// A stored session (decrypted) as instagrapi's settings JSON.
pub fn export_settings(stored: &str) -> Result<serde_json::Value, String> {
    let session = Session::import(stored).map_err(|e| e.to_string())?;
    serde_json::from_str(&session.export()).map_err(|e| e.to_string())
}

/// `GMT-04:00` from -14400, as instagrapi names a device's time zone.
pub fn timezone_name(offset_secs: i32) -> String {
    icf_instagram::session::timezone_name(offset_secs)
}

/// Whether `secret` (base32, no spaces) gives authenticator codes, so that icf can answer
/// Instagram's two-factor step with it.
pub fn totp_secret_works(secret: &str) -> bool {
    icf_instagram::crypto::totp_code(secret, chrono::Utc::now().timestamp()).is_ok()
}
