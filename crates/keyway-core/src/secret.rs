//! Secrets: client secrets, codes, tokens, session ids and passwords.
//!
//! A secret lives in memory as a [`Secret`] (its `Debug` prints `[redacted]`, it has no
//! `PartialEq`) and at rest only as a [`SecretHash`]. Every value Keyway hands out carries
//! 256 bits from the operating system's CSPRNG (RFC 6749 §10.10 asks for at least 128) and a
//! prefix naming its kind, so secret scanners can recognise a leaked one and a value of one
//! kind is never mistaken for another (SECURITY-TESTS 2.b-16).
//!
//! The hash is a plain SHA-256: the inputs are uniformly random 256-bit values, so a slow
//! password hash would add latency on the token endpoint without adding any resistance to a
//! brute-force search that is already infeasible. Passwords, which people choose, use Argon2id
//! instead (see [`crate::password`]).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret value held in memory. `Debug` never shows it and it cannot be compared with `==`;
/// use [`Secret::ct_eq`], or hash it.
///
/// ```
/// use keyway_core::Secret;
///
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "[redacted]");
/// assert!(s.ct_eq("hunter2"));
/// ```
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send or hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `other` in time that does not depend on where the two differ.
    pub fn ct_eq(&self, other: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), other.as_bytes())
    }

    /// The SHA-256 of the secret: the only form in which it is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Compares two byte strings in time independent of their contents (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The SHA-256 of a secret, the key by which stored codes, tokens and client secrets are found.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Hashes a presented value, e.g. a token from an `Authorization` header.
    pub fn of(value: &str) -> Self {
        Self(Sha256::digest(value.as_bytes()).into())
    }

    /// Wraps 32 bytes read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Wraps a stored slice, refusing one of the wrong length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// The 32 bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison (use this, not `==`, when one side came from a request).
    pub fn ct_eq(&self, other: &SecretHash) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix of a hash identifies a row in logs without helping anyone find the secret.
        write!(
            f,
            "SecretHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// The kinds of secret Keyway issues, each with its own recognisable prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretKind {
    /// An OAuth client's secret (`kwcs_`).
    ClientSecret,
    /// An authorization code (`kwac_`).
    AuthorizationCode,
    /// An access token (`kwat_`).
    AccessToken,
    /// A refresh token (`kwrt_`).
    RefreshToken,
    /// A browser session id (`kwss_`).
    Session,
    /// A CSRF token (`kwcf_`).
    Csrf,
    /// The handle of an authorization flow in progress (`kwfl_`).
    FlowHandle,
}

impl SecretKind {
    /// The prefix every value of this kind starts with.
    pub const fn prefix(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "kwcs_",
            SecretKind::AuthorizationCode => "kwac_",
            SecretKind::AccessToken => "kwat_",
            SecretKind::RefreshToken => "kwrt_",
            SecretKind::Session => "kwss_",
            SecretKind::Csrf => "kwcf_",
            SecretKind::FlowHandle => "kwfl_",
        }
    }

    /// A fresh value: the prefix and 256 random bits, base64url without padding
    /// (48 characters, all in RFC 6749 Appendix A's VSCHAR set).
    ///
    /// ```
    /// use keyway_core::SecretKind;
    ///
    /// let token = SecretKind::AccessToken.generate();
    /// assert!(token.expose().starts_with("kwat_"));
    /// assert_eq!(token.expose().len(), 5 + 43);
    /// ```
    pub fn generate(self) -> Secret {
        let bytes = random_bytes::<32>();
        Secret(format!(
            "{}{}",
            self.prefix(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// Whether `value` has this kind's prefix; a cheap pre-check before any lookup.
    pub fn is_kind_of(self, value: &str) -> bool {
        value.starts_with(self.prefix())
    }
}

/// `N` bytes from the operating system's CSPRNG.
///
/// # Panics
/// If the operating system cannot provide randomness, which leaves nothing safe to do.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_secrets_are_distinct_and_carry_256_bits() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let s = SecretKind::AuthorizationCode.generate();
            let body = s.expose().strip_prefix("kwac_").expect("prefix");
            let decoded = URL_SAFE_NO_PAD.decode(body).expect("base64url");
            assert_eq!(decoded.len(), 32);
            assert!(seen.insert(s.expose().to_owned()), "duplicate secret");
        }
    }

    #[test]
    fn every_kind_has_a_distinct_prefix() {
        let kinds = [
            SecretKind::ClientSecret,
            SecretKind::AuthorizationCode,
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::Session,
            SecretKind::Csrf,
            SecretKind::FlowHandle,
        ];
        let prefixes: HashSet<_> = kinds.iter().map(|k| k.prefix()).collect();
        assert_eq!(prefixes.len(), kinds.len());
        let token = SecretKind::RefreshToken.generate();
        assert!(SecretKind::RefreshToken.is_kind_of(token.expose()));
        assert!(!SecretKind::AccessToken.is_kind_of(token.expose()));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretKind::ClientSecret.generate();
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert!(!format!("{:?}", s.hash()).contains(s.expose()));
    }

    #[test]
    fn hashes_compare_by_value() {
        let s = Secret::new("kwat_abc");
        assert!(s.hash().ct_eq(&SecretHash::of("kwat_abc")));
        assert!(!s.hash().ct_eq(&SecretHash::of("kwat_abd")));
        assert!(s.ct_eq("kwat_abc"));
        assert!(!s.ct_eq("kwat_ab"));
        let round = SecretHash::from_slice(s.hash().as_bytes()).expect("32 bytes");
        assert_eq!(round, s.hash());
        assert!(SecretHash::from_slice(&[0u8; 31]).is_none());
    }
}
