//! Removing secrets from anything that is logged or stored as a log: passwords, session
//! cookies, authorization headers, TOTP secrets, proxy credentials, API keys.
//!
//! Applied where activity logs are written, so no caller can forget it.

const MASK: &str = "[redacted]";

/// Key names whose values are secret, compared case-insensitively after removing `-` and `_`.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "encpassword",
    "newpassword",
    "oldpassword",
    "sessionid",
    "session",
    "sessiondata",
    "cookie",
    "cookies",
    "setcookie",
    "authorization",
    "proxyauthorization",
    "authorizationdata",
    "token",
    "accesstoken",
    "refreshtoken",
    "csrftoken",
    "xcsrftoken",
    "igwwwclaim",
    "xigwwwclaim",
    "totp",
    "totpsecret",
    "secret",
    "apikey",
    "authkey",
    "deeplauthkey",
    "key",
    "proxyurl",
    "proxypassword",
    "credentials",
    "verificationcode",
    "code2fa",
];

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a field of this name holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = normalise(key);
    SECRET_KEYS.contains(&k.as_str())
        || k.ends_with("password")
        || k.ends_with("secret")
        || k.ends_with("token")
}

/// A copy of `value` with every secret field masked and every string cleaned by
/// [`redact_text`].
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() {
                        Value::String(MASK.into())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

/// Masks secrets inside free text: credentials in URLs (`socks5://user:pass@host`), bearer
/// tokens, `key=value` and `"key":"value"` pairs with secret key names, and Instagram's
/// encrypted password envelopes.
pub fn redact_text(text: &str) -> String {
    let mut out = mask_url_credentials(text);
    out = mask_after(&out, "Bearer ", |c| {
        !c.is_whitespace() && c != '"' && c != '\''
    });
    out = mask_after(&out, "#PWD_INSTAGRAM", |c| {
        !c.is_whitespace() && c != '"' && c != '&'
    });
    mask_pairs(&out)
}

/// `scheme://user:pass@host` → `scheme://user:[redacted]@host`.
fn mask_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ',' | ')' | '>'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(MASK);
                    }
                    None => out.push_str(MASK),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_after(text: &str, marker: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let (head, tail) = rest.split_at(i + marker.len());
        out.push_str(head);
        let end = tail.find(|c: char| !keep(c)).unwrap_or(tail.len());
        if end > 0 {
            out.push_str(MASK);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `password=…`, `password: …`, `"password":"…"`, `sessionid=…;` with any secret key name.
fn mask_pairs(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_alphanumeric() || c == '_' || c == '-' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_alphanumeric() || bytes[i] == '_' || bytes[i] == '-')
            {
                i += 1;
            }
            let word: String = bytes[start..i].iter().collect();
            out.push_str(&word);
            if !is_secret_key(&word) {
                continue;
            }
            // Optional closing quote, spaces, then `=` or `:`.
            let mut j = i;
            if j < bytes.len() && bytes[j] == '"' {
                j += 1;
            }
            while j < bytes.len() && bytes[j] == ' ' {
                j += 1;
            }
            if j < bytes.len() && (bytes[j] == '=' || bytes[j] == ':') {
                j += 1;
                while j < bytes.len() && bytes[j] == ' ' {
                    j += 1;
                }
                let quoted = j < bytes.len() && bytes[j] == '"';
                if quoted {
                    j += 1;
                }
                let value_start = j;
                while j < bytes.len() {
                    let v = bytes[j];
                    let stop = if quoted {
                        v == '"'
                    } else {
                        v.is_whitespace() || matches!(v, '&' | ';' | ',' | '}' | '"')
                    };
                    if stop {
                        break;
                    }
                    j += 1;
                }
                let sep: String = bytes[i..value_start].iter().collect();
                out.push_str(&sep);
                if j > value_start {
                    out.push_str(MASK);
                }
                i = j;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_in_text_are_masked() {
        let cases = [
            ("via socks5://bob:hunter2@10.0.0.1:1080 failed", "hunter2"),
            (
                "Authorization: Bearer IGT:2:eyJkc191c2VyX2lkIjoi",
                "IGT:2:eyJ",
            ),
            (
                "enc_password=#PWD_INSTAGRAM:4:1700000000:AbCdEf== sent",
                "AbCdEf",
            ),
            ("Cookie: sessionid=123%3Aabc; csrftoken=zzz", "123%3Aabc"),
            ("{\"password\": \"s3cr3t-pw\"}", "s3cr3t-pw"),
            ("DeepL-Auth-Key abc:fx and api_key=k-123", "k-123"),
            ("totp_secret: JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"),
        ];
        for (text, secret) in cases {
            let clean = redact_text(text);
            assert!(!clean.contains(secret), "{text} → {clean}");
            assert!(clean.contains(MASK), "{clean}");
        }
        assert_eq!(
            redact_text("posted media 123 for @anna"),
            "posted media 123 for @anna"
        );
        assert_eq!(
            redact_text("http://example.com/path"),
            "http://example.com/path"
        );
    }

    #[test]
    fn secret_fields_in_json_are_masked_at_any_depth() {
        let v = json!({
            "endpoint": "accounts/login/",
            "request": {"username": "anna", "enc_password": "#PWD_INSTAGRAM:4:1:xyz", "headers": {"Authorization": "Bearer abc", "X-IG-App-ID": "567067343352427"}},
            "cookies": {"sessionid": "42%3Aqq"},
            "proxy": "http://u:p4ss@127.0.0.1:3128",
            "list": [{"token": "t"}],
            "status": 200
        });
        let r = redact_json(&v);
        let text = r.to_string();
        for secret in ["xyz", "Bearer abc", "42%3Aqq", "p4ss", "\"t\""] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        assert_eq!(r["request"]["username"], "anna");
        assert_eq!(r["request"]["headers"]["X-IG-App-ID"], "567067343352427");
        assert_eq!(r["status"], 200);
    }
}
