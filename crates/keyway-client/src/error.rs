//! The one error type of this crate.

use std::fmt;

/// The endpoint a request went to, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The token endpoint, exchanging an authorization code.
    Exchange,
    /// The token endpoint, refreshing an access token.
    Refresh,
    /// The revocation endpoint.
    Revoke,
    /// The token information endpoint.
    TokenInfo,
    /// The issuer's JWKS (its public signing keys), for ID-token verification.
    Jwks,
    /// The issuer's OpenID Connect discovery document.
    Discovery,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exchange => "code exchange",
            Self::Refresh => "token refresh",
            Self::Revoke => "revocation",
            Self::TokenInfo => "token information",
            Self::Jwks => "JWKS",
            Self::Discovery => "OpenID discovery",
        })
    }
}

/// Everything that can go wrong. The server's `error` and `error_description` are kept
/// verbatim; [`Error::is_retryable`] tells transient failures from final ones.
///
/// No variant ever contains a token, code or client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user pressed *Cancel* on the consent page: the callback carried
    /// `error=access_denied`.
    #[error("the user denied access{}", suffix(.description))]
    AccessDenied {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The callback carried an error other than `access_denied` (`login_required`,
    /// `consent_required`, `interaction_required`, `account_selection_required`,
    /// `unsupported_response_type`, `server_error`, …).
    #[error("the authorization server returned `{error}`{}", suffix(.description))]
    Authorization {
        /// The `error` parameter, verbatim.
        error: String,
        /// The `error_description` parameter, if any.
        description: Option<String>,
    },
    /// A refresh was refused with `invalid_grant`: the refresh token was revoked, expired or
    /// evicted. Only a new authorization (the user consenting again) can fix it.
    #[error("consent is needed again (`{error}`{})", suffix(.description))]
    ConsentRequired {
        /// The `error` field, verbatim (`invalid_grant`).
        error: String,
        /// The `error_description` field, if any.
        description: Option<String>,
    },
    /// The server answered an endpoint with an OAuth error body
    /// (`{"error": …, "error_description": …}`).
    #[error("{endpoint} failed with HTTP {status}: `{error}`{}", suffix(.description))]
    OAuth {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The `error` field, verbatim.
        error: String,
        /// The `error_description` field, if any.
        description: Option<String>,
    },
    /// The server answered with an error status and a body that is not an OAuth error.
    #[error("{endpoint} failed with HTTP {status}")]
    Status {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
    },
    /// A success response lacked a field or was not the expected JSON.
    #[error("unexpected {endpoint} response: {message}")]
    InvalidResponse {
        /// Which endpoint.
        endpoint: Endpoint,
        /// What was wrong.
        message: String,
    },
    /// The callback's `state` did not match the one this authorization was started with
    /// (or was missing): a forged or replayed callback (CSRF). Refuse it.
    #[error("the callback's state does not match this authorization")]
    StateMismatch,
    /// The callback's `iss` names another authorization server than the one this
    /// authorization was sent to (a mix-up attack, RFC 9207). Refuse it.
    #[error("the callback's issuer `{received}` is not the expected `{expected}`")]
    IssuerMismatch {
        /// The issuer the authorization was sent to.
        expected: String,
        /// The `iss` parameter received.
        received: String,
    },
    /// The callback could not be understood (no `code`, a parameter given twice, …).
    #[error("invalid callback: {0}")]
    InvalidCallback(String),
    /// A refresh was needed but the credentials hold no refresh token (ask for
    /// `access_type=offline`).
    #[error("the credentials have no refresh token")]
    NoRefreshToken,
    /// client_secret.json lacks a required key.
    #[error("client secrets: missing key `{key}`")]
    MissingKey {
        /// The key's path, e.g. `web.client_id`.
        key: String,
    },
    /// client_secret.json (or authorized-user JSON) is malformed.
    #[error("invalid {what}: {message}")]
    InvalidConfig {
        /// What was being read (`client secrets`, `authorized user credentials`).
        what: &'static str,
        /// What was wrong.
        message: String,
    },
    /// An HTTP transport failure (connection refused, timeout, TLS, …).
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// Reading or writing a file failed, or the loopback server could not listen.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A token store's database failed (the [`SqliteTokenStore`](crate::SqliteTokenStore)'s
    /// SQLite errors, or your own [`TokenStore`](crate::TokenStore)'s).
    #[error("token store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An ID token was refused (see [`IdTokenVerifier`](crate::IdTokenVerifier)): a bad
    /// signature, an algorithm other than RS256, another issuer or audience, expired, a
    /// `nonce` mismatch, malformed, …. Final: never retry with the same token.
    #[error("ID token refused: {reason}")]
    IdToken {
        /// Why.
        reason: crate::IdTokenReason,
    },
    /// [`Flow::run_local_server`](crate::Flow::run_local_server): no redirect reached the
    /// loopback server in time (the user did not finish signing in).
    #[error("no authorization response reached the local server within {}s", .timeout.as_secs())]
    LocalServerTimeout {
        /// The time waited.
        timeout: std::time::Duration,
    },
}

fn suffix(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

impl Error {
    /// Whether trying the same request again later may succeed: `server_error`,
    /// `temporarily_unavailable`, HTTP 5xx, timeouts and connection failures. Everything else
    /// (refusals, consent needed, mismatches, malformed input) is final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Authorization { error, .. } | Self::OAuth { error, .. }
                if is_transient_code(error) =>
            {
                true
            }
            Self::OAuth { status, .. } | Self::Status { status, .. } => *status >= 500,
            Self::Http(e) => e.is_timeout() || e.is_connect(),
            _ => false,
        }
    }

    /// Whether the user has to go through the authorization flow again.
    pub fn is_consent_required(&self) -> bool {
        matches!(self, Self::ConsentRequired { .. })
    }

    /// The server's `error` code, verbatim, when the server sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::AccessDenied { .. } => Some("access_denied"),
            Self::Authorization { error, .. }
            | Self::ConsentRequired { error, .. }
            | Self::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server's `error_description`, verbatim, when the server sent one.
    pub fn error_description(&self) -> Option<&str> {
        match self {
            Self::AccessDenied { description }
            | Self::Authorization { description, .. }
            | Self::ConsentRequired { description, .. }
            | Self::OAuth { description, .. } => description.as_deref(),
            _ => None,
        }
    }
}

fn is_transient_code(code: &str) -> bool {
    matches!(code, "server_error" | "temporarily_unavailable")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(status: u16, error: &str) -> Error {
        Error::OAuth {
            endpoint: Endpoint::Refresh,
            status,
            error: error.into(),
            description: None,
        }
    }

    #[test]
    fn retryable_codes_and_statuses() {
        assert!(oauth(400, "temporarily_unavailable").is_retryable());
        assert!(oauth(500, "server_error").is_retryable());
        assert!(oauth(503, "whatever").is_retryable());
        assert!(
            Error::Status {
                endpoint: Endpoint::Revoke,
                status: 502
            }
            .is_retryable()
        );
        assert!(
            Error::Authorization {
                error: "server_error".into(),
                description: None
            }
            .is_retryable()
        );
        assert!(!oauth(400, "invalid_request").is_retryable());
        assert!(!oauth(401, "invalid_client").is_retryable());
        assert!(
            !Error::ConsentRequired {
                error: "invalid_grant".into(),
                description: None
            }
            .is_retryable()
        );
        assert!(!Error::StateMismatch.is_retryable());
        assert!(
            !Error::Status {
                endpoint: Endpoint::Revoke,
                status: 404
            }
            .is_retryable()
        );
    }

    #[test]
    fn keeps_the_servers_words() {
        let e = Error::OAuth {
            endpoint: Endpoint::Exchange,
            status: 400,
            error: "invalid_grant".into(),
            description: Some("Bad Request".into()),
        };
        assert_eq!(e.error_code(), Some("invalid_grant"));
        assert_eq!(e.error_description(), Some("Bad Request"));
        assert_eq!(
            e.to_string(),
            "code exchange failed with HTTP 400: `invalid_grant`: Bad Request"
        );
        let denied = Error::AccessDenied { description: None };
        assert_eq!(denied.error_code(), Some("access_denied"));
        assert_eq!(denied.to_string(), "the user denied access");
    }
}
