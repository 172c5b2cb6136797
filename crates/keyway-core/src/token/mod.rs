//! The token side of the protocol: client authentication (RFC 6749 §2.3), the
//! `authorization_code` and `refresh_token` grants (§4.1.3, §6), revocation (RFC 7009, as
//! Google answers it), Google's tokeninfo and RFC 7662 introspection.
//!
//! Tokens are opaque: 256 random bits behind a kind prefix (`kwat_`, `kwrt_`), stored only as
//! SHA-256. Validating one is a single lookup on a unique index, and revoking a grant deletes
//! its rows, so a revocation holds at once on every replica (see `docs/tokens.md`).

mod client_auth;
mod grants;
mod inspect;

use std::time::Duration;

use serde::Serialize;

pub use client_auth::{AuthMethod, ClientCredentials, authenticate_client};
pub use grants::{CodeParams, exchange_code, refresh};
pub use inspect::{Introspection, TokenInfo, introspect, revoke, token_info};

use crate::error::OAuthError;
use crate::grant::RefreshTokenLimits;

/// A token-endpoint error: the code, a description safe to send, and whether HTTP Basic was
/// used (a 401 then carries `WWW-Authenticate: Basic`, RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The `error` code.
    pub error: OAuthError,
    /// The `error_description`.
    pub description: String,
}

impl TokenError {
    /// An error with a description.
    pub fn new(error: OAuthError, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

/// A successful token response, in Google's shape: `expires_in` always a number and
/// `token_type` always present; `refresh_token` only when one was issued; `id_token` when
/// OpenID Connect adds it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The granted scopes, space-delimited.
    pub scope: String,
    /// A new refresh token (offline access; never on a refresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Lifetimes and limits of issued tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    /// Access-token lifetime.
    pub access_token_lifetime: Duration,
    /// Refresh-token limits.
    pub refresh_limits: RefreshTokenLimits,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(3600),
            refresh_limits: RefreshTokenLimits::default(),
        }
    }
}

/// The result of a token operation.
pub type TokenResult<T> = Result<T, TokenFailure>;

/// Why a token operation failed: a protocol error for the client, or a store failure to log.
#[derive(Debug)]
pub enum TokenFailure {
    /// Sent to the client as JSON.
    Protocol(TokenError),
    /// Logged; the client gets `server_error` or `temporarily_unavailable`.
    Store(crate::store::StoreError),
}

impl From<TokenError> for TokenFailure {
    fn from(e: TokenError) -> Self {
        TokenFailure::Protocol(e)
    }
}

impl From<crate::store::StoreError> for TokenFailure {
    fn from(e: crate::store::StoreError) -> Self {
        TokenFailure::Store(e)
    }
}

/// Shorthand for a protocol failure.
pub(crate) fn fail<T>(error: OAuthError, description: &str) -> TokenResult<T> {
    Err(TokenFailure::Protocol(TokenError::new(error, description)))
}
