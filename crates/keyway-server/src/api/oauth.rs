//! What the JSON endpoints share: reading parameters from a form or JSON body (refusing
//! repeats), and answering in RFC 6749 §5.1/§5.2's shape with `Cache-Control: no-store`.

use axum::body::Bytes;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keyway_core::OAuthError;
use keyway_core::StoreError;
use keyway_core::token::{AuthMethod, TokenError, TokenFailure};
use serde::Serialize;

/// The parameters of one request.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// From a body: JSON when the content type says so (Google accepts it, and Rust Google
    /// crates send it), else form-encoded.
    pub fn from_body(headers: &HeaderMap, body: &Bytes) -> Result<Self, TokenError> {
        let is_json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return Ok(Self::from_query(body));
        }
        let invalid = || {
            TokenError::new(
                OAuthError::InvalidRequest,
                "The body is not a JSON object of parameters.",
            )
        };
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
        let obj = value.as_object().ok_or_else(invalid)?;
        let mut pairs = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
                _ => return Err(invalid()),
            };
            pairs.push((k.clone(), v));
        }
        Ok(Self(pairs))
    }

    /// From a query string (or a form body).
    pub fn from_query(raw: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(raw).into_owned().collect())
    }

    /// Adds the pairs of `other` (e.g. the query string of a POST).
    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// Whether `name` is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The single value of `name`: repeated is `invalid_request` (RFC 6749 §3.2), empty is
    /// absent.
    pub fn one(&self, name: &str) -> Result<Option<&str>, TokenError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(TokenError::new(
                OAuthError::InvalidRequest,
                format!("Parameter {name} appears more than once."),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// `200` with a JSON body.
pub fn json_ok(value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    no_store(([(CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response())
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// An error answer: `401` for `invalid_client` (with `WWW-Authenticate: Basic` when the
/// client tried Basic), else `400`.
pub fn json_error(e: &TokenError, method: Option<AuthMethod>) -> Response {
    let status = if e.error == OAuthError::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut r = json_ok(&ErrorBody {
        error: e.error.code(),
        error_description: &e.description,
    });
    *r.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED && method == Some(AuthMethod::Basic) {
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"keyway\""),
        );
    }
    r
}

/// The answer to any failure: protocol errors as JSON, store failures logged once and
/// answered `503 temporarily_unavailable` (with `Retry-After`) or `500 server_error`,
/// never with their text.
pub fn failure(f: TokenFailure, method: Option<AuthMethod>) -> Response {
    match f {
        TokenFailure::Protocol(e) => json_error(&e, method),
        TokenFailure::Store(e) => {
            tracing::error!(error = %e, "store failure at a token endpoint");
            let (status, code, text) = match e {
                StoreError::Unavailable(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    OAuthError::TemporarilyUnavailable,
                    "The service is unavailable; try again shortly.",
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    OAuthError::ServerError,
                    "An internal error occurred.",
                ),
            };
            let mut r = json_ok(&ErrorBody {
                error: code.code(),
                error_description: text,
            });
            *r.status_mut() = status;
            if status == StatusCode::SERVICE_UNAVAILABLE {
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            r
        }
    }
}
