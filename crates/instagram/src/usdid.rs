//! The USDID device identity instagrapi 3.x registers and then sends as `X-Meta-Usdid` on
//! every request (fact sheet §1.5): a P-256 key kept in the session under `usdid`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::app_profile::APP_ID;
use crate::wire::compact_json;

/// The USDID identity kept in the session under `usdid` (§1.5).
#[derive(Clone)]
pub struct Usdid {
    pub usdid: String,
    pub kid: String,
    key: SigningKey,
    pub registered: bool,
}

impl Usdid {
    pub fn generate() -> Usdid {
        let mut kid = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut kid);
        Usdid {
            usdid: uuid::Uuid::new_v4().to_string(),
            kid: URL_SAFE_NO_PAD.encode(kid),
            key: SigningKey::random(&mut rsa::rand_core::OsRng),
            registered: false,
        }
    }

    pub fn from_settings(v: &Value) -> Option<Usdid> {
        let pem = v.get("private_key")?.as_str()?;
        Some(Usdid {
            usdid: v.get("usdid")?.as_str()?.to_owned(),
            kid: v.get("kid")?.as_str()?.to_owned(),
            key: SigningKey::from_pkcs8_pem(pem).ok()?,
            registered: v
                .get("registered")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    pub fn to_settings(&self) -> Value {
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .unwrap_or_default();
        json!({"usdid": self.usdid, "kid": self.kid, "private_key": pem, "registered": self.registered})
    }

    fn sign(&self, msg: &str) -> String {
        let sig: DerSignature = self.key.sign(msg.as_bytes());
        URL_SAFE_NO_PAD.encode(sig.as_bytes())
    }

    /// `X-Meta-Usdid: {usdid}.{expires}.{sig}`.
    pub fn header(&self, expires: i64) -> String {
        let msg = format!("{}.{expires}", self.usdid);
        let sig = self.sign(&msg);
        format!("{msg}.{sig}")
    }

    /// The registration token (a JWS-like envelope, §1.5).
    pub fn registration_token(&self, now: i64) -> String {
        let spki = self
            .key
            .verifying_key()
            .to_public_key_der()
            .map(|d| STANDARD.encode(d.as_bytes()))
            .unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(compact_json(&json!({
            "sub": self.usdid, "iat": now, "aud": APP_ID, "exp": now + 3600, "pub": spki, "alg": "ES256"
        })));
        let protected = URL_SAFE_NO_PAD.encode(compact_json(&json!({
            "typ": "JWT", "alg": "ES256", "kid": self.kid, "aid": APP_ID, "ver": "1"
        })));
        let signature = self.sign(&format!("{protected}.{payload}"));
        URL_SAFE_NO_PAD.encode(compact_json(&json!({
            "payload": payload,
            "signatures": [{"protected": protected, "signature": signature}]
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usdid_survives_the_settings_and_signs_verifiably() {
        use p256::ecdsa::signature::Verifier;
        let u = Usdid::generate();
        let back = Usdid::from_settings(&u.to_settings()).unwrap();
        assert_eq!(back.usdid, u.usdid);
        let h = back.header(1_764_003_600);
        let (msg, sig) = h.rsplit_once('.').unwrap();
        assert_eq!(msg, format!("{}.1764003600", u.usdid));
        let sig =
            p256::ecdsa::DerSignature::from_bytes(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        u.key.verifying_key().verify(msg.as_bytes(), &sig).unwrap();
        let token: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(u.registration_token(1_764_000_000))
                .unwrap(),
        )
        .unwrap();
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token["payload"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["sub"], u.usdid.as_str());
        assert_eq!(payload["exp"], 1_764_003_600);
    }
}
