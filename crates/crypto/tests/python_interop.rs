//! Tokens must cross between icf and Python's `cryptography.fernet` both ways.

use std::process::Command;

use icf_crypto::Cipher;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("fixtures/fernet-vectors.json");
    serde_json::from_str(text).unwrap()
}

fn cipher(keys: &str) -> Cipher {
    Cipher::from_keys(&SecretString::from(keys.to_owned())).unwrap()
}

#[test]
fn python_tokens_decrypt() {
    let v = vectors();
    let c = cipher(v["key"].as_str().unwrap());
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        let plain = c.decrypt(case["token"].as_str().unwrap()).unwrap();
        assert_eq!(plain.expose_secret(), case["plaintext"].as_str().unwrap());
    }
}

#[test]
fn python_token_under_the_old_key_needs_both_keys() {
    let v = vectors();
    let key = v["key"].as_str().unwrap();
    let old = v["old_key"].as_str().unwrap();
    let token = v["rotation_case"]["token"].as_str().unwrap();
    let expected = v["rotation_case"]["plaintext"].as_str().unwrap();
    assert!(
        cipher(key).decrypt(token).is_err(),
        "new key alone cannot read it"
    );
    let both = cipher(&format!("{key},{old}"));
    assert_eq!(both.decrypt(token).unwrap().expose_secret(), expected);
    // After rotation the new key alone reads it.
    let rotated = both.rotate(token).unwrap().unwrap();
    assert_eq!(
        cipher(key).decrypt(&rotated).unwrap().expose_secret(),
        expected
    );
}

/// Python decrypts what icf encrypts. CI sets `ICF_REQUIRE_PYTHON_CRYPTO=1` (and
/// `pip install cryptography`), so there a missing module fails instead of skipping.
#[test]
fn rust_tokens_decrypt_in_python() {
    let required = std::env::var("ICF_REQUIRE_PYTHON_CRYPTO").is_ok_and(|v| v == "1");
    let probe = Command::new("python3")
        .args(["-c", "import cryptography.fernet"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "ICF_REQUIRE_PYTHON_CRYPTO=1 but python3 cannot import cryptography"
        );
        eprintln!("skipped: python3 with the cryptography package is not available");
        return;
    }
    let v = vectors();
    let key = v["key"].as_str().unwrap();
    let c = cipher(key);
    let plaintexts = ["IgPass-Very-Secret-42", "пароль с юникодом 🔥", "", "a:b@c"];
    for plain in plaintexts {
        let token = c.encrypt(plain);
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys\nfrom cryptography.fernet import Fernet\n\
                 sys.stdout.buffer.write(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()))",
                key,
                &token,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "python refused the token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);
    }
}
