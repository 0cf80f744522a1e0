//! The CAA (Bloks) login instagrapi 3.x tries first (fact sheet §4.4–4.5), with its USDID
//! device identity (§1.5). The Bloks payload formats are the most volatile part of the
//! protocol (§9.2.1); when Instagram answers with the `CAA_LOGIN_FALLBACK:` marker, or asks
//! for a two-step verification, the caller continues with the legacy login, which answers
//! typed errors.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::client::APP_ID;
use crate::wire::compact_json;

/// The embedded login result of a CAA answer (§4.5).
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedLogin {
    pub logged_in_user: Value,
    pub headers: serde_json::Map<String, Value>,
    pub cookies: Vec<(String, String)>,
}

/// What the final CAA step answered.
#[derive(Debug, Clone, PartialEq)]
pub enum CaaAnswer {
    LoggedIn(EmbeddedLogin),
    TwoStep,
    Fallback,
    NoSession,
}

/// `aac` from `layout.bloks_payload.data[]` (`bloks_extract_aac`).
pub fn extract_aac(v: &Value) -> Option<String> {
    let data = v.pointer("/layout/bloks_payload/data")?.as_array()?;
    let node = data.iter().find(|n| {
        n.pointer("/data/key").and_then(Value::as_str) == Some("CAA_ACCOUNT_ACCESS_CONTEXT:aac")
    })?;
    if let Some(s) = node.pointer("/data/initial").and_then(Value::as_str) {
        return Some(s.to_owned());
    }
    let lispy = node.pointer("/data/initial_lispy")?.as_str()?;
    string_literals(lispy).into_iter().next()
}

/// Every JSON string literal in a Bloks program text, decoded, in order.
fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let mut stream = serde_json::Deserializer::from_str(&text[i..]).into_iter::<String>();
            if let Some(Ok(s)) = stream.next() {
                out.push(s);
                i += stream.byte_offset();
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Reads the answer of `send_login_request` (`bloks_extract_login_response`).
pub fn read_login_answer(v: &Value) -> CaaAnswer {
    let action = v
        .pointer("/layout/bloks_payload/action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    for lit in string_literals(action) {
        if !lit.contains("login_response") {
            continue;
        }
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(&lit) else {
            continue;
        };
        let decode = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        let response = decode("login_response");
        let headers = match decode("headers") {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let cookies = obj
            .get("cookies")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l
                    .strip_prefix("Set-Cookie:")
                    .or_else(|| l.strip_prefix("set-cookie:"))
                    .unwrap_or(l);
                let pair = l.split(';').next()?.trim();
                let (k, v) = pair.split_once('=')?;
                (!k.is_empty()).then(|| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        return CaaAnswer::LoggedIn(EmbeddedLogin {
            logged_in_user: response
                .get("logged_in_user")
                .cloned()
                .unwrap_or(Value::Null),
            headers,
            cookies,
        });
    }
    let text = v.to_string();
    if text.contains("com.bloks.www.ap.two_step_verification.entrypoint_async")
        || text.contains("two_step_verification_context")
    {
        CaaAnswer::TwoStep
    } else if text.contains("CAA_LOGIN_FALLBACK:") {
        CaaAnswer::Fallback
    } else {
        CaaAnswer::NoSession
    }
}

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

/// The network description instagrapi 3.2.2 sends (`_caa_device_network_info`): one SIM of
/// T-Mobile US on Wi-Fi, the same for every client. icf sends [`network_info`] with the
/// carrier of the account's proxy country instead; this is its fallback.
pub fn device_network_info() -> Value {
    network_info("310260", "T-Mobile")
}

/// instagrapi's network description with another carrier: `sim_operator` is the SIM's
/// MCC+MNC (`"26201"`), `operator_name` the carrier's display name. The shape, key order
/// and JSON types are instagrapi's; only the carrier differs.
pub fn network_info(sim_operator: &str, operator_name: &str) -> Value {
    json!({
        "active_subscriptions_info": null,
        "default_subscription_info": {
            "network_type": null,
            "is_data_roaming": 1,
            "is_esim": null,
            "is_gsm_roaming": 0,
            "is_sim_sms_capable": null,
            "is_mobile_data_enabled": 1,
            "sim_carrier_id": 1,
            "sim_carrier_id_name": null,
            "sim_state": 5,
            "sim_operator": sim_operator,
            "sim_operator_name": operator_name,
            "signal_strength": null,
            "group_id_level_1": null,
            "network_operator": sim_operator,
        },
        "is_airplane_mode": 0,
        "is_active_network_cellular": 0,
        "is_device_sms_capable": 1,
        "sim_count": 1,
        "is_wifi": 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_comes_from_the_context_node() {
        let v = json!({"layout":{"bloks_payload":{"data":[
            {"data":{"key":"OTHER","initial":"x"}},
            {"data":{"key":"CAA_ACCOUNT_ACCESS_CONTEXT:aac","initial":"AAC-1"}}
        ]}}});
        assert_eq!(extract_aac(&v).as_deref(), Some("AAC-1"));
        let lispy = json!({"layout":{"bloks_payload":{"data":[
            {"data":{"key":"CAA_ACCOUNT_ACCESS_CONTEXT:aac","initial_lispy":"(bk.action.f \"AAC-2\" 1)"}}
        ]}}});
        assert_eq!(extract_aac(&lispy).as_deref(), Some("AAC-2"));
        assert_eq!(extract_aac(&json!({})), None);
    }

    #[test]
    fn the_embedded_login_is_found_inside_the_bloks_action() {
        let inner = json!({
            "login_response": json!({"logged_in_user": {"pk": 5, "username": "u"}}).to_string(),
            "headers": json!({"IG-Set-Authorization": "Bearer IGT:2:abc"}).to_string(),
            "cookies": "Set-Cookie: sessionid=5%3Aa; Path=/\nSet-Cookie: ds_user_id=5; Path=/",
        })
        .to_string();
        let action = format!(
            "(bk.action.core.TakeLast (bk.action.f \"other\") {})",
            serde_json::to_string(&inner).unwrap()
        );
        let v = json!({"layout":{"bloks_payload":{"action": action}}});
        let CaaAnswer::LoggedIn(l) = read_login_answer(&v) else {
            panic!()
        };
        assert_eq!(l.logged_in_user["username"], "u");
        assert_eq!(l.headers["IG-Set-Authorization"], "Bearer IGT:2:abc");
        assert_eq!(l.cookies[1], ("ds_user_id".to_owned(), "5".to_owned()));
        let fb = json!({"layout":{"bloks_payload":{"action":"(f \"CAA_LOGIN_FALLBACK:fallback_triggered\")"}}});
        assert_eq!(read_login_answer(&fb), CaaAnswer::Fallback);
        assert_eq!(
            read_login_answer(&json!({"layout":{}})),
            CaaAnswer::NoSession
        );
    }

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
