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

/// The 32-byte key that seals third-party secrets. Never logged: it is a [`SecretBox`], whose
/// `Debug` redacts it, and it is zeroed when dropped.
#[derive(Clone, Debug)]
pub struct MasterKey(Arc<SecretBox<[u8; 32]>>);

impl MasterKey {
    fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = Box::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut_slice());
        MasterKey(Arc::new(SecretBox::new(key)))
    }

    /// Loads a key from its base64 text.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(MasterKey(Arc::new(SecretBox::new(Box::new(key)))))
    }

    /// The key as base64 text, for writing the key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes())
    }

    /// Seals a secret: `v1:` + base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.bytes().into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption of in-memory data cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Opens a secret sealed by [`MasterKey::encrypt`].
    pub fn decrypt(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix("v1:")
            .ok_or(CryptoError::Undecryptable)?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| CryptoError::Undecryptable)?;
        if bytes.len() < 24 {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new(self.bytes().into());
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)
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
    fn constant_time_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
