//! Secrets: encryption at rest with the master key, hashing of API keys and webhook secrets,
//! constant-time comparison, random tokens and signed links.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
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

fn open_with(key: &[u8; 32], bytes: &[u8], aad: &[u8]) -> Option<String> {
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let payload = Payload {
        msg: ciphertext,
        aad,
    };
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), payload)
        .ok()?;
    String::from_utf8(plain).ok()
}

/// Where a sealed value is stored: its table, column and row. It is sealed with the value as
/// associated data, so a sealed value copied into another row or column (by someone who can
/// write the database but not read the key) no longer opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedAt<'a> {
    /// The table.
    pub table: &'static str,
    /// The column.
    pub column: &'static str,
    /// The row's identity (its id, or the natural key it is found by).
    pub row: &'a str,
}

impl<'a> SealedAt<'a> {
    /// The place `table.column` of the row `row`.
    pub fn new(table: &'static str, column: &'static str, row: &'a str) -> Self {
        SealedAt { table, column, row }
    }

    fn aad(&self) -> String {
        format!("caly:{}.{}:{}", self.table, self.column, self.row)
    }
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

    fn seal_with(&self, version: &str, plaintext: &str, aad: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new(self.bytes().into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad,
        };
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("encryption of in-memory data cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{version}:{}:{}",
            key_id(self.bytes()),
            STANDARD.encode(out)
        )
    }

    /// Seals a value bound to no place, as Caly did before [`SealedAt`] (`v2:{key id}:` +
    /// base64(nonce ‖ ciphertext)): kept for the tests of the values still in databases.
    #[cfg(test)]
    fn encrypt(&self, plaintext: &str) -> String {
        self.seal_with("v2", plaintext, b"")
    }

    /// Seals a value stored at `at` under the current key, bound to that place:
    /// `v3:{key id}:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str, at: SealedAt<'_>) -> String {
        self.seal_with("v3", plaintext, at.aad().as_bytes())
    }

    /// Opens a value bound to no place (see `encrypt`).
    #[cfg(test)]
    fn decrypt(&self, sealed: &str) -> Result<String, CryptoError> {
        self.open_any(sealed, None)
    }

    /// Opens a value stored at `at`: sealed there by [`MasterKey::seal`], or sealed before
    /// values were bound to their place (`v2`, `v1`; `caly secrets reseal` upgrades them).
    pub fn open(&self, sealed: &str, at: SealedAt<'_>) -> Result<String, CryptoError> {
        self.open_any(sealed, Some(at))
    }

    fn open_any(&self, sealed: &str, at: Option<SealedAt<'_>>) -> Result<String, CryptoError> {
        let keys = std::iter::once(&self.0.current).chain(self.0.previous.iter());
        let (version, rest) = sealed.split_once(':').ok_or(CryptoError::Undecryptable)?;
        let aad = match (version, at) {
            ("v3", Some(at)) => at.aad(),
            ("v2" | "v1", _) => String::new(),
            _ => return Err(CryptoError::Undecryptable),
        };
        if version == "v1" {
            let bytes = STANDARD
                .decode(rest)
                .map_err(|_| CryptoError::Undecryptable)?;
            return keys
                .filter_map(|k| open_with(k.expose_secret(), &bytes, b""))
                .next()
                .ok_or(CryptoError::Undecryptable);
        }
        let (id, body) = rest.split_once(':').ok_or(CryptoError::Undecryptable)?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| CryptoError::Undecryptable)?;
        keys.map(|k| k.expose_secret())
            .find(|k| key_id(k) == id)
            .and_then(|k| open_with(k, &bytes, aad.as_bytes()))
            .ok_or(CryptoError::Undecryptable)
    }

    /// True when a stored value is not sealed under the current key and bound to its place
    /// (a reseal would rewrite it).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        !sealed.starts_with(&format!("v3:{}:", key_id(self.bytes())))
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

    const AT: SealedAt<'static> = SealedAt {
        table: "shopify_stores",
        column: "token_enc",
        row: "7",
    };

    #[test]
    fn a_rotated_key_opens_what_earlier_keys_sealed_until_resealed() {
        let old = MasterKey::generate();
        let sealed_old = old.seal("shpat_token", AT);
        let new = MasterKey::generate().with_previous(vec![old.clone()]);
        assert_eq!(new.open(&sealed_old, AT).unwrap(), "shpat_token");
        assert!(new.needs_reseal(&sealed_old));
        let resealed = new.seal(&new.open(&sealed_old, AT).unwrap(), AT);
        assert!(!new.needs_reseal(&resealed));
        let only_new = MasterKey::from_base64(&new.to_base64()).unwrap();
        assert_eq!(only_new.open(&resealed, AT).unwrap(), "shpat_token");
        assert!(
            only_new.open(&sealed_old, AT).is_err(),
            "the old key is gone"
        );
        assert!(!format!("{new:?}").contains(&old.to_base64()));
    }

    #[test]
    fn a_value_sealed_for_one_place_does_not_open_in_another() {
        let key = MasterKey::generate();
        let sealed = key.seal("shpat_token", AT);
        assert_eq!(key.open(&sealed, AT).unwrap(), "shpat_token");
        for elsewhere in [
            SealedAt { row: "8", ..AT },
            SealedAt {
                column: "client_secret_enc",
                ..AT
            },
            SealedAt {
                table: "llm_overrides",
                ..AT
            },
        ] {
            assert!(key.open(&sealed, elsewhere).is_err(), "{elsewhere:?}");
        }
        assert!(
            key.decrypt(&sealed).is_err(),
            "a bound value needs its place"
        );
        // Values sealed before binding still open (and want a reseal).
        let unbound = key.encrypt("legacy");
        assert_eq!(key.open(&unbound, AT).unwrap(), "legacy");
        assert!(key.needs_reseal(&unbound));
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
