//! Reading the CAA (Bloks) login's answers (fact sheet §4.4–4.5): the `aac` of the
//! homepage step and the login embedded in `send_login_request`'s Bloks action. The Bloks
//! payload formats are the most volatile part of the protocol (§9.2.1); when Instagram
//! answers with the `CAA_LOGIN_FALLBACK:` marker, or asks for a two-step verification, the
//! caller continues with the legacy login, which answers typed errors.

use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
