//! `#PWD_INSTAGRAM:4:` password encryption (fact sheet §4.3), TOTP codes (§4.7), and the
//! HMAC-SHA256 of a comment's breadcrumb.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac};
use rand::RngCore;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};

/// HMAC-SHA256 (RFC 2104) over the workspace's `sha2`: the `hmac` crate the workspace pins
/// is built on a newer `digest` than its `sha2`, so the two do not combine. Used for the
/// comment breadcrumb, whose key is instagrapi's public constant (no secret involved).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Why a password could not be encrypted or a code generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the password key from qe/sync is not a usable RSA public key")]
    BadPublicKey,
    #[error("encryption failed")]
    Encrypt,
    #[error("not a #PWD_INSTAGRAM:4: blob")]
    BadBlob,
    #[error("the TOTP secret is not base32")]
    BadTotpSecret,
}

/// The key Instagram hands out in `ig-set-password-encryption-key-id` /
/// `ig-set-password-encryption-pub-key` (base64 of a PEM).
#[derive(Clone, Debug)]
pub struct PasswordKey {
    pub key_id: u8,
    pub public_key: RsaPublicKey,
}

impl PasswordKey {
    pub fn from_headers(key_id: &str, pub_key_b64: &str) -> Result<PasswordKey, CryptoError> {
        let key_id: u8 = key_id
            .trim()
            .parse()
            .map_err(|_| CryptoError::BadPublicKey)?;
        let pem = STANDARD
            .decode(pub_key_b64.trim())
            .map_err(|_| CryptoError::BadPublicKey)?;
        let pem = String::from_utf8(pem).map_err(|_| CryptoError::BadPublicKey)?;
        let public_key = RsaPublicKey::from_public_key_pem(&pem)
            .or_else(|_| {
                use rsa::pkcs1::DecodeRsaPublicKey;
                RsaPublicKey::from_pkcs1_pem(&pem)
            })
            .map_err(|_| CryptoError::BadPublicKey)?;
        Ok(PasswordKey { key_id, public_key })
    }
}

/// `#PWD_INSTAGRAM:4:<ts>:<base64(0x01 | key id | iv | len u16 LE | rsa(key) | tag | aes(pw))>`.
pub fn encrypt_password(password: &str, key: &PasswordKey, ts: i64) -> Result<String, CryptoError> {
    let mut session_key = [0u8; 32];
    let mut iv = [0u8; 12];
    rand::rng().fill_bytes(&mut session_key);
    rand::rng().fill_bytes(&mut iv);
    let rsa_block = key
        .public_key
        .encrypt(&mut rsa::rand_core::OsRng, Pkcs1v15Encrypt, &session_key)
        .map_err(|_| CryptoError::Encrypt)?;
    let ts = ts.to_string();
    let cipher = Aes256Gcm::new_from_slice(&session_key).map_err(|_| CryptoError::Encrypt)?;
    // aes-gcm appends the 16-byte tag; Instagram wants it before the ciphertext.
    let mut sealed = cipher
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: password.as_bytes(),
                aad: ts.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Encrypt)?;
    let tag = sealed.split_off(sealed.len() - 16);
    let rsa_len = u16::try_from(rsa_block.len()).map_err(|_| CryptoError::Encrypt)?;
    let mut blob = Vec::with_capacity(1 + 1 + 12 + 2 + rsa_block.len() + 16 + sealed.len());
    blob.push(1);
    blob.push(key.key_id);
    blob.extend_from_slice(&iv);
    blob.extend_from_slice(&rsa_len.to_le_bytes());
    blob.extend_from_slice(&rsa_block);
    blob.extend_from_slice(&tag);
    blob.extend_from_slice(&sealed);
    Ok(format!("#PWD_INSTAGRAM:4:{ts}:{}", STANDARD.encode(blob)))
}

/// The server's side of [`encrypt_password`] (used by the simulator): the key id and the
/// password.
pub fn decrypt_password(
    enc: &str,
    private_key: &RsaPrivateKey,
) -> Result<(u8, String), CryptoError> {
    let rest = enc
        .strip_prefix("#PWD_INSTAGRAM:4:")
        .ok_or(CryptoError::BadBlob)?;
    let (ts, b64) = rest.split_once(':').ok_or(CryptoError::BadBlob)?;
    let blob = STANDARD.decode(b64).map_err(|_| CryptoError::BadBlob)?;
    if blob.len() < 1 + 1 + 12 + 2 + 16 || blob[0] != 1 {
        return Err(CryptoError::BadBlob);
    }
    let key_id = blob[1];
    let iv = &blob[2..14];
    let rsa_len = u16::from_le_bytes([blob[14], blob[15]]) as usize;
    let rsa_end = 16 + rsa_len;
    if blob.len() < rsa_end + 16 {
        return Err(CryptoError::BadBlob);
    }
    let session_key = private_key
        .decrypt(Pkcs1v15Encrypt, &blob[16..rsa_end])
        .map_err(|_| CryptoError::BadBlob)?;
    let tag = &blob[rsa_end..rsa_end + 16];
    let mut sealed = blob[rsa_end + 16..].to_vec();
    sealed.extend_from_slice(tag);
    let cipher = Aes256Gcm::new_from_slice(&session_key).map_err(|_| CryptoError::BadBlob)?;
    let plain = cipher
        .decrypt(
            Nonce::from_slice(iv),
            Payload {
                msg: &sealed,
                aad: ts.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::BadBlob)?;
    Ok((
        key_id,
        String::from_utf8(plain).map_err(|_| CryptoError::BadBlob)?,
    ))
}

fn base32_decode(secret: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in secret.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// RFC 6238 code of a raw key: HMAC-SHA1, 30 s step, `digits` digits.
fn totp_raw(key: &[u8], unix_time: i64, digits: u32) -> String {
    let counter = (unix_time.max(0) as u64) / 30;
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The 6-digit authenticator code of a base32 seed at `unix_time` (instagrapi `totp.py`).
pub fn totp_code(secret_base32: &str, unix_time: i64) -> Result<String, CryptoError> {
    let key = base32_decode(secret_base32).ok_or(CryptoError::BadTotpSecret)?;
    Ok(totp_raw(&key, unix_time, 6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test cases 1, 2 and 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn password_blob_has_instagrams_layout_and_decrypts_with_the_private_key() {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let key = PasswordKey::from_headers("41", &STANDARD.encode(pem)).unwrap();
        let enc = encrypt_password("hunter2", &key, 1_764_000_000).unwrap();
        assert!(enc.starts_with("#PWD_INSTAGRAM:4:1764000000:"));
        let blob = STANDARD.decode(enc.rsplit_once(':').unwrap().1).unwrap();
        // 1 + 1 + 12 + 2 + 256 + 16 + 7, as the fact sheet measured for a 7-character password.
        assert_eq!(blob.len(), 295);
        assert_eq!((blob[0], blob[1]), (1, 41));
        assert_eq!(u16::from_le_bytes([blob[14], blob[15]]), 256);
        assert_eq!(
            decrypt_password(&enc, &private).unwrap(),
            (41, "hunter2".to_owned())
        );
        // The timestamp is authenticated: changing it breaks the blob.
        let tampered = enc.replace(":1764000000:", ":1764000001:");
        assert_eq!(
            decrypt_password(&tampered, &private),
            Err(CryptoError::BadBlob)
        );
    }

    #[test]
    fn a_key_header_that_is_not_a_pem_is_rejected() {
        assert!(PasswordKey::from_headers("1", "bm90IGEga2V5").is_err());
        assert!(PasswordKey::from_headers("x", "").is_err());
    }

    #[test]
    fn totp_matches_the_rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B: seed "12345678901234567890", 8 digits.
        let key = b"12345678901234567890";
        assert_eq!(totp_raw(key, 59, 8), "94287082");
        assert_eq!(totp_raw(key, 1_111_111_109, 8), "07081804");
        assert_eq!(totp_raw(key, 20_000_000_000, 8), "65353130");
        // The same seed in base32, 6 digits as Instagram uses.
        let b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp_code(b32, 59).unwrap(), "287082");
        assert_eq!(
            totp_code("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", 59).unwrap(),
            "287082"
        );
        assert_eq!(
            totp_code("not base32!", 59),
            Err(CryptoError::BadTotpSecret)
        );
    }
}
