//! Passwords: Argon2id hashes in PHC string form, and the checks around them.
//!
//! Hashing is deliberately slow (OWASP's Argon2id baseline: 19 MiB, 2 passes), so callers on
//! an async runtime run these functions in `spawn_blocking`. Verifying against a missing user
//! still does the full work on a fixed dummy hash, so response time does not reveal which
//! email addresses have accounts.

use std::sync::OnceLock;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::secret::{Secret, random_bytes};

/// Shortest password Keyway accepts (NIST SP 800-63B §5.1.1.2 asks for at least 8).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password Keyway hashes; bounds the work one request can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// An Argon2id hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored PHC string.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("the password is too long: use at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

fn argon2() -> Argon2<'static> {
    #[allow(clippy::expect_used)]
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the length rules and hashes a new password. Slow: call from `spawn_blocking`.
///
/// ```
/// use keyway_core::{Secret, password};
///
/// let hash = password::hash_password(&Secret::new("correct horse")).unwrap();
/// assert!(password::verify_password(Some(&hash), &Secret::new("correct horse")));
/// assert!(!password::verify_password(Some(&hash), &Secret::new("wrong horse")));
/// assert!(password::hash_password(&Secret::new("short")).is_err());
/// ```
pub fn hash_password(password: &Secret) -> Result<PasswordHash, PasswordError> {
    let pw = password.expose();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if pw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(hash_unchecked(pw))
}

fn hash_unchecked(pw: &str) -> PasswordHash {
    #[allow(clippy::expect_used)]
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    #[allow(clippy::expect_used)]
    let phc = argon2()
        .hash_password(pw.as_bytes(), &salt)
        .expect("Argon2 with valid parameters does not fail")
        .to_string();
    PasswordHash(phc)
}

/// Verifies a password against a stored hash; `None` (no such user) costs the same work and
/// returns `false`. Slow: call from `spawn_blocking`.
pub fn verify_password(stored: Option<&PasswordHash>, password: &Secret) -> bool {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    let pw = password.expose();
    if pw.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (
            DUMMY.get_or_init(|| hash_unchecked("keyway dummy password")),
            false,
        ),
    };
    let Ok(parsed) = PhcHash::new(&hash.0) else {
        return false;
    };
    let ok = argon2().verify_password(pw.as_bytes(), &parsed).is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id() {
        let a = hash_password(&Secret::new("a long password")).unwrap();
        let b = hash_password(&Secret::new("a long password")).unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!a.as_str().contains("a long password"));
    }

    #[test]
    fn unknown_users_never_verify() {
        assert!(!verify_password(
            None,
            &Secret::new("keyway dummy password")
        ));
        assert!(!verify_password(
            Some(&PasswordHash::from_stored("garbage".into())),
            &Secret::new("x")
        ));
    }

    #[test]
    fn length_limits() {
        assert_eq!(
            hash_password(&Secret::new("1234567")),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            hash_password(&Secret::new("x".repeat(1025))),
            Err(PasswordError::TooLong)
        );
    }
}
