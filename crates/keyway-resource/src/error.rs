//! RFC 6750 §3 answers: `401` with `WWW-Authenticate: Bearer` (and `error="invalid_token"`
//! when a token was sent), `403` with `error="insufficient_scope"` and the scope needed, and a
//! JSON body in Google's API error shape so Google's client libraries report it sensibly.

use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No token at all.
    Missing,
    /// A token in both the header and the query (RFC 6750 §2: one method only).
    Ambiguous,
    /// Unknown, expired or revoked.
    InvalidToken,
    /// Valid, but lacking a scope; carries the scopes that would do.
    InsufficientScope(String),
    /// The validator could not reach its authority (introspection or tokeninfo down).
    Unavailable,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, challenge, message, google_status) = match &self {
            BearerError::Missing => (
                StatusCode::UNAUTHORIZED,
                "Bearer realm=\"keyway\"".to_owned(),
                "Request is missing required authentication credential.",
                "UNAUTHENTICATED",
            ),
            BearerError::Ambiguous => (
                StatusCode::BAD_REQUEST,
                "Bearer realm=\"keyway\", error=\"invalid_request\", error_description=\"use one method to send the token\"".to_owned(),
                "The access token was sent in more than one way.",
                "INVALID_ARGUMENT",
            ),
            BearerError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "Bearer realm=\"keyway\", error=\"invalid_token\", error_description=\"The access token is invalid or expired\"".to_owned(),
                "Request had invalid authentication credentials.",
                "UNAUTHENTICATED",
            ),
            BearerError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                format!("Bearer realm=\"keyway\", error=\"insufficient_scope\", scope=\"{scope}\""),
                "Request had insufficient authentication scopes.",
                "PERMISSION_DENIED",
            ),
            BearerError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Bearer realm=\"keyway\"".to_owned(),
                "The token could not be checked; try again shortly.",
                "UNAVAILABLE",
            ),
        };
        let body = json!({"error": {"code": status.as_u16(), "message": message, "status": google_status}});
        let mut r = (status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(WWW_AUTHENTICATE, v);
        }
        r
    }
}
