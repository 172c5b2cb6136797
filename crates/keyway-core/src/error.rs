//! Errors: the OAuth error codes (RFC 6749, OpenID Connect, Google's pages) and the error of
//! core operations, which wraps them beside storage and input failures.

use crate::store::StoreError;

/// An OAuth protocol error, as sent to clients in `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthError {
    /// RFC 6749 §4.1.2.1 / §5.2: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: bad, expired, used or revoked code or refresh token.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: unknown grant type.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1 / §5.2: unknown or malformed scope.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user or server refused.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: `response_type` other than `code`.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: unexpected server condition.
    ServerError,
    /// RFC 6749 §4.1.2.1: overloaded or in maintenance.
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6: `prompt=none` but the user must act.
    InteractionRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and nobody is signed in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and several accounts could be meant.
    AccountSelectionRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and consent is needed.
    ConsentRequired,
    /// RFC 6750 §3.1 / RFC 7009 §2.2.1 (as Google uses it): the token is not valid.
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks a scope.
    InsufficientScope,
    /// Google: the redirect URI is not registered for the client.
    RedirectUriMismatch,
    /// Google: internal app, user outside its organization.
    OrgInternal,
    /// Google: an organization policy blocks the scope or client.
    AdminPolicyEnforced,
    /// Google: embedded browsers are not allowed.
    DisallowedUseragent,
}

impl OAuthError {
    /// The `error` value.
    pub const fn code(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::ServerError => "server_error",
            OAuthError::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthError::InteractionRequired => "interaction_required",
            OAuthError::LoginRequired => "login_required",
            OAuthError::AccountSelectionRequired => "account_selection_required",
            OAuthError::ConsentRequired => "consent_required",
            OAuthError::InvalidToken => "invalid_token",
            OAuthError::InsufficientScope => "insufficient_scope",
            OAuthError::RedirectUriMismatch => "redirect_uri_mismatch",
            OAuthError::OrgInternal => "org_internal",
            OAuthError::AdminPolicyEnforced => "admin_policy_enforced",
            OAuthError::DisallowedUseragent => "disallowed_useragent",
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The error of a core operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A protocol error with a description safe to show the client.
    #[error("{error}: {description}")]
    OAuth {
        /// The code.
        error: OAuthError,
        /// One sentence for `error_description`.
        description: String,
    },
    /// Bad input to a console operation (CLI or developer console); the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Something the operation refers to does not exist; the message names it.
    #[error("{0}")]
    NotFound(String),
    /// The store failed; logged, never shown.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// A protocol error.
    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        Error::OAuth {
            error,
            description: description.into(),
        }
    }
}

/// Shorthand for core results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
