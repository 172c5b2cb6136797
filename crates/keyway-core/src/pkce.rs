//! PKCE (RFC 7636): code challenges and their verification.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::constant_time_eq;

/// `code_challenge_method` (RFC 7636 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    /// `BASE64URL(SHA256(verifier)) == challenge`.
    S256,
    /// `verifier == challenge`.
    #[serde(rename = "plain")]
    Plain,
}

impl ChallengeMethod {
    /// `S256` or `plain`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChallengeMethod::S256 => "S256",
            ChallengeMethod::Plain => "plain",
        }
    }

    /// Parses the parameter (case-sensitive, as RFC 7636 defines it).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S256" => Some(ChallengeMethod::S256),
            "plain" => Some(ChallengeMethod::Plain),
            _ => None,
        }
    }
}

/// A challenge bound to an authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkceChallenge {
    /// The `code_challenge` value.
    pub challenge: String,
    /// How the verifier maps to it.
    pub method: ChallengeMethod,
}

/// Whether `s` has RFC 7636 §4.1's shape: 43 to 128 characters of `[A-Za-z0-9-._~]`.
/// Challenges have the same shape (§4.2).
pub fn is_valid_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl PkceChallenge {
    /// Checks a `code_verifier` in constant time.
    ///
    /// ```
    /// use keyway_core::pkce::{ChallengeMethod, PkceChallenge};
    ///
    /// // RFC 7636 Appendix B.
    /// let c = PkceChallenge {
    ///     challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
    ///     method: ChallengeMethod::S256,
    /// };
    /// assert!(c.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    /// assert!(!c.verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    /// ```
    pub fn verify(&self, verifier: &str) -> bool {
        if !is_valid_verifier(verifier) {
            return false;
        }
        match self.method {
            ChallengeMethod::S256 => {
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                constant_time_eq(computed.as_bytes(), self.challenge.as_bytes())
            }
            ChallengeMethod::Plain => {
                constant_time_eq(verifier.as_bytes(), self.challenge.as_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_shape() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"~._-".repeat(32)));
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn plain_compares_exactly() {
        let v = "x".repeat(50);
        let c = PkceChallenge {
            challenge: v.clone(),
            method: ChallengeMethod::Plain,
        };
        assert!(c.verify(&v));
        assert!(!c.verify(&"y".repeat(50)));
    }
}
