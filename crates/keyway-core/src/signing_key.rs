//! Keys that sign ID tokens, kept in the database so every replica signs and publishes the same.

use crate::clock::Timestamp;

/// A signing key pair.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id (`kid` header).
    pub kid: String,
    /// JOSE algorithm, e.g. `RS256`.
    pub algorithm: String,
    /// The private key, PKCS#8 DER.
    pub private_key_der: Vec<u8>,
    /// The public key, SubjectPublicKeyInfo DER, published in the JWKS.
    pub public_key_der: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Once set, the key no longer signs but stays published until tokens it signed expire.
    pub retired_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key_der", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}
