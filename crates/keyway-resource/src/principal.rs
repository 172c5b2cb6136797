//! The validated caller: who the token speaks for, which client holds it, and what it may do.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::BearerError;

/// The identity behind a valid access token, put into the request's extensions by
/// [`crate::BearerLayer`] and taken out by handlers as an extractor.
///
/// ```
/// use keyway_resource::Principal;
///
/// let p = Principal {
///     sub: "110169484474386276334".into(),
///     client_id: "1234-abc.apps.keyway.test".into(),
///     scopes: vec!["email".into(), "https://www.googleapis.com/auth/drive.readonly".into()],
///     expires_at: 1_800_003_600,
/// };
/// assert!(p.has_any_scope(&["https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive.readonly"]));
/// assert!(!p.has_scope("https://www.googleapis.com/auth/youtube"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's stable subject id.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

impl Principal {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the token carries at least one of `scopes`.
    pub fn has_any_scope(&self, scopes: &[&str]) -> bool {
        scopes.iter().any(|s| self.has_scope(s))
    }

    /// `Ok` when one of `scopes` is granted, else the RFC 6750 `insufficient_scope` answer
    /// naming them; for handlers that check scopes themselves.
    pub fn require_any(&self, scopes: &[&str]) -> Result<(), BearerError> {
        if self.has_any_scope(scopes) {
            Ok(())
        } else {
            Err(BearerError::InsufficientScope(scopes.join(" ")))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = BearerError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Present only behind BearerLayer; a route mounted without it is a programming error,
        // answered as if no token had been sent rather than letting the request through.
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(BearerError::Missing)
    }
}
