//! Secrets: encryption at rest with the master key, hashing of API keys and webhook secrets,
//! constant-time comparison, random tokens and signed links.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Why a secret could not be decrypted or a key not loaded.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The master key is not 32 bytes of base64.
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The ciphertext is damaged or was sealed with another key.
    #[error("a stored secret could not be decrypted (wrong master key or damaged data)")]
    Undecryptable,
}

/// The 32-byte key that seals third-party secrets, and the earlier keys that still open what
/// they sealed during a rotation. Never logged: keys are [`SecretBox`]es, whose `Debug` redacts
/// them, and they are zeroed when dropped.
///
/// Sealed text is `v2:{key id}:{base64(nonce ‖ ciphertext)}`, the key id being the first 8 hex
/// digits of the key's SHA-256, so the right key is picked directly; text sealed before key ids
/// (`v1:…`) is tried with each key.
#[derive(Clone, Debug)]
pub struct MasterKey(Arc<Keys>);

#[derive(Debug)]
struct Keys {
    current: SecretBox<[u8; 32]>,
    previous: Vec<SecretBox<[u8; 32]>>,
}

fn key_id(key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(key))[..8].to_string()
}

fn open_with(key: &[u8; 32], bytes: &[u8]) -> Option<String> {
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), ciphertext)
        .ok()?;
    String::from_utf8(plain).ok()
}

impl MasterKey {
    fn bytes(&self) -> &[u8; 32] {
        self.0.current.expose_secret()
    }

    fn from_bytes(key: Box<[u8; 32]>) -> Self {
        MasterKey(Arc::new(Keys {
            current: SecretBox::new(key),
            previous: Vec::new(),
        }))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = Box::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut_slice());
        Self::from_bytes(key)
    }

    /// Loads a key from its base64 text.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::from_bytes(Box::new(key)))
    }

    /// This key, with earlier keys that still open what they sealed.
    pub fn with_previous(self, previous: Vec<MasterKey>) -> Self {
        let previous = previous
            .iter()
            .map(|k| SecretBox::new(Box::new(*k.bytes())))
            .collect();
        MasterKey(Arc::new(Keys {
            current: SecretBox::new(Box::new(*self.bytes())),
            previous,
        }))
    }

    /// The key as base64 text, for writing the key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes())
    }

    /// Seals a secret under the current key: `v2:{key id}:` + base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.bytes().into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption of in-memory data cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("v2:{}:{}", key_id(self.bytes()), STANDARD.encode(out))
    }

    /// Opens a secret sealed by [`MasterKey::encrypt`] under this key or a previous one.
    pub fn decrypt(&self, sealed: &str) -> Result<String, CryptoError> {
        let keys = std::iter::once(&self.0.current).chain(self.0.previous.iter());
        if let Some(rest) = sealed.strip_prefix("v2:") {
            let (id, body) = rest.split_once(':').ok_or(CryptoError::Undecryptable)?;
            let bytes = STANDARD
                .decode(body)
                .map_err(|_| CryptoError::Undecryptable)?;
            return keys
                .map(|k| k.expose_secret())
                .find(|k| key_id(k) == id)
                .and_then(|k| open_with(k, &bytes))
                .ok_or(CryptoError::Undecryptable);
        }
        let body = sealed
            .strip_prefix("v1:")
            .ok_or(CryptoError::Undecryptable)?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| CryptoError::Undecryptable)?;
        keys.filter_map(|k| open_with(k.expose_secret(), &bytes))
            .next()
            .ok_or(CryptoError::Undecryptable)
    }

    /// True when `sealed` is not sealed under the current key (a reseal would rewrite it).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        !sealed.starts_with(&format!("v2:{}:", key_id(self.bytes())))
    }

    /// HMAC-SHA256 of `message` under a key derived from the master key for `purpose`.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let mut derive =
            <Hmac<Sha256> as Mac>::new_from_slice(self.bytes()).expect("any key length works");
        derive.update(purpose.as_bytes());
        let sub_key = derive.finalize().into_bytes();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&sub_key).expect("any key length works");
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// SHA-256 hex digest of a high-entropy secret (API keys, webhook secrets).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// SHA-256 hex digest of arbitrary text (duplicate-delivery keys).
pub fn digest_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A random URL-safe token with a readable prefix, e.g. `caly_key_…` (32 random bytes).
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_resist_tampering() {
        let key = MasterKey::generate();
        let sealed = key.encrypt("exotel-token");
        assert_ne!(sealed, "exotel-token");
        assert_eq!(key.decrypt(&sealed).unwrap(), "exotel-token");
        assert!(MasterKey::generate().decrypt(&sealed).is_err());
        let reloaded = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(reloaded.decrypt(&sealed).unwrap(), "exotel-token");
        assert!(format!("{key:?}").to_lowercase().contains("redacted"));
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }

    #[test]
    fn a_rotated_key_opens_what_earlier_keys_sealed_until_resealed() {
        let old = MasterKey::generate();
        let sealed_old = old.encrypt("shpat_token");
        let new = MasterKey::generate().with_previous(vec![old.clone()]);
        assert_eq!(new.decrypt(&sealed_old).unwrap(), "shpat_token");
        assert!(new.needs_reseal(&sealed_old));
        let resealed = new.encrypt(&new.decrypt(&sealed_old).unwrap());
        assert!(!new.needs_reseal(&resealed));
        let only_new = MasterKey::from_base64(&new.to_base64()).unwrap();
        assert_eq!(only_new.decrypt(&resealed).unwrap(), "shpat_token");
        assert!(
            only_new.decrypt(&sealed_old).is_err(),
            "the old key is gone"
        );
        assert!(!format!("{new:?}").contains(&old.to_base64()));
    }

    #[test]
    fn secrets_sealed_before_key_ids_still_open() {
        let key = MasterKey::generate();
        let mut nonce = [7u8; 24].to_vec();
        let cipher = XChaCha20Poly1305::new(key.bytes().into());
        let body = cipher
            .encrypt(XNonce::from_slice(&nonce.clone()), b"legacy".as_slice())
            .unwrap();
        nonce.extend_from_slice(&body);
        let legacy = format!("v1:{}", STANDARD.encode(nonce));
        assert_eq!(key.decrypt(&legacy).unwrap(), "legacy");
        assert!(key.needs_reseal(&legacy));
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
