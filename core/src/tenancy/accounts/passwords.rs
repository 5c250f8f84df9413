//! Passwords: the strength rule and argon2id hashing (on a blocking thread: a hash takes tens
//! of milliseconds of CPU on purpose).

use crate::{CoreError, Rejection};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The fewest characters a password may have.
pub const MIN_LENGTH: usize = 10;
/// The most characters a password may have (argon2 would take anything; a cap bounds the work).
pub const MAX_LENGTH: usize = 128;

const COMMON: &[&str] = &[
    "password", "123456", "qwerty", "letmein", "welcome", "iloveyou", "admin", "abc123", "monkey",
    "dragon", "football", "baseball", "sunshine", "princess", "passw0rd",
];

/// Checks the strength rule: 10 to 128 characters, at least three kinds of character (lower
/// case, upper case, digits, others) unless it is 16 characters or longer, not mostly one
/// character, no common password, and not the email's name part.
pub fn check_strength(password: &str, email: &str) -> Result<(), Rejection> {
    let weak = |why: &str| Err(Rejection::WeakPassword(why.to_string()));
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return weak("Use at least 10 characters.");
    }
    if length > MAX_LENGTH {
        return weak("Use at most 128 characters.");
    }
    let kinds = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|k| *k)
    .count();
    if kinds < 3 && length < 16 {
        return weak(
            "Mix at least three of: lower case, upper case, digits, symbols (or use 16+ characters).",
        );
    }
    let lower = password.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return weak("Use more different characters.");
    }
    if COMMON.iter().any(|common| lower.contains(common)) {
        return weak("That password is too common.");
    }
    let name = email.split('@').next().unwrap_or("").to_lowercase();
    if name.len() >= 4 && lower.contains(&name) {
        return weak("Do not use your email address in the password.");
    }
    Ok(())
}

/// At most this many argon2 computations run at once in a process (one per core, at least
/// two): each takes 19 MiB and tens of milliseconds of CPU, so a flood of sign-ins or sign-ups
/// queues here instead of exhausting memory and the blocking pool.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes) and a random salt.
pub async fn hash(password: &SecretString) -> Result<String, CoreError> {
    let password = password.clone();
    let _permit = permits().acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| CoreError::Io(std::io::Error::other(e.to_string())))
    })
    .await
    .map_err(|e| CoreError::Io(std::io::Error::other(e)))?
}

/// Whether `password` matches a stored hash. A damaged hash never matches.
pub async fn verify(password: &SecretString, stored: &str) -> bool {
    let (password, stored) = (password.clone(), stored.to_string());
    let _permit = permits().acquire().await.expect("never closed");
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash no password matches, verified against when an account does not exist so that a
/// login for an unknown address takes as long as one for a known address.
pub const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zb1GWiIzW6PMR7+/9UwGWEnkIHNxmI1ePH+YtYB0fDg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        let email = "meera@store.example";
        assert!(check_strength("Short1!", email).is_err());
        assert!(
            check_strength("alllowercaseonly", email).is_ok(),
            "16+ chars of one kind pass"
        );
        assert!(
            check_strength("lowercase12", email).is_err(),
            "two kinds, under 16"
        );
        assert!(check_strength("Tr0ub4dor&3x", email).is_ok());
        assert!(
            check_strength("MyPassword123!", email).is_err(),
            "common word"
        );
        assert!(
            check_strength("Meera2026!xyz", email).is_err(),
            "email's name"
        );
        assert!(
            check_strength("Aa1!Aa1!Aa1!", email).is_err(),
            "too few distinct characters"
        );
        assert!(
            check_strength(&"Ab1!".repeat(40), email).is_err(),
            "too long"
        );
    }

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let password = SecretString::from("Tr0ub4dor&3x");
        let hashed = hash(&password).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify(&password, &hashed).await);
        assert!(!verify(&SecretString::from("Tr0ub4dor&3y"), &hashed).await);
        assert!(!verify(&password, "not a hash").await);
        assert!(!verify(&password, DECOY_HASH).await);
    }
}
