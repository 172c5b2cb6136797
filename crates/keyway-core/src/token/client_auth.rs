//! Client authentication at the token, revocation and introspection endpoints: a client id
//! and secret in the body or in HTTP Basic (RFC 6749 §2.3.1), never both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{TokenFailure, TokenResult, fail};
use crate::client::OAuthClient;
use crate::error::OAuthError;
use crate::ids::ClientId;
use crate::secret::Secret;
use crate::store::Store;

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Basic`.
    Basic,
    /// `client_id` and `client_secret` in the body.
    Post,
}

/// Credentials taken from a request.
#[derive(Debug)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub secret: Secret,
    /// Where they came from.
    pub method: AuthMethod,
}

impl ClientCredentials {
    /// Takes the credentials from the `Authorization` header and the body's `client_id` and
    /// `client_secret`. Both mechanisms at once is `invalid_request` (RFC 6749 §2.3); none,
    /// or a malformed header, is `invalid_client`. A body `client_id` beside Basic is
    /// tolerated when it names the same client (several libraries send it).
    ///
    /// ```
    /// use keyway_core::token::{AuthMethod, ClientCredentials};
    ///
    /// // "client%3A1:p%40ss" — both halves form-encoded, as RFC 6749 §2.3.1 asks.
    /// let header = "Basic Y2xpZW50JTNBMTpwJTQwc3M=";
    /// let c = ClientCredentials::from_request(Some(header), None, None).unwrap();
    /// assert_eq!((c.client_id.as_str(), c.secret.expose(), c.method), ("client:1", "p@ss", AuthMethod::Basic));
    /// assert!(ClientCredentials::from_request(Some(header), Some("client:1"), Some("p@ss")).is_err());
    /// ```
    pub fn from_request(
        authorization: Option<&str>,
        body_id: Option<&str>,
        body_secret: Option<&str>,
    ) -> TokenResult<Self> {
        match authorization {
            Some(header) => {
                if body_secret.is_some() {
                    return fail(
                        OAuthError::InvalidRequest,
                        "The client authenticated with more than one mechanism: use HTTP Basic or the body, not both.",
                    );
                }
                let (id, secret) = parse_basic(header).ok_or_else(|| {
                    TokenFailure::Protocol(super::TokenError::new(
                        OAuthError::InvalidClient,
                        "Malformed HTTP Basic credentials.",
                    ))
                })?;
                if body_id.is_some_and(|b| b != id) {
                    return fail(
                        OAuthError::InvalidRequest,
                        "client_id in the body differs from the one in HTTP Basic.",
                    );
                }
                Ok(Self {
                    client_id: id,
                    secret: Secret::new(secret),
                    method: AuthMethod::Basic,
                })
            }
            None => match (body_id, body_secret) {
                (Some(id), Some(secret)) => Ok(Self {
                    client_id: id.to_owned(),
                    secret: Secret::new(secret),
                    method: AuthMethod::Post,
                }),
                (Some(_), None) => fail(OAuthError::InvalidClient, "The client secret is missing."),
                _ => fail(
                    OAuthError::InvalidClient,
                    "The client did not authenticate.",
                ),
            },
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| -> Option<String> {
        let plus_as_space = s.replace('+', " ");
        url::form_urlencoded::parse(format!("x={plus_as_space}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    let id = decode(id)?;
    (!id.is_empty()).then_some((id, decode(secret)?))
}

/// Finds the client and checks its secret in constant time; unknown, disabled and wrong are
/// all the same `invalid_client`.
pub async fn authenticate_client(
    store: &dyn Store,
    credentials: &ClientCredentials,
) -> TokenResult<OAuthClient> {
    let client = match ClientId::parse(&credentials.client_id) {
        Ok(id) => store.find_client(&id).await?,
        Err(_) => None,
    };
    match client {
        Some(c) if c.enabled && c.secret_matches(credentials.secret.expose()) => Ok(c),
        _ => fail(
            OAuthError::InvalidClient,
            "The OAuth client was not found, is disabled, or its secret is wrong.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let c = ClientCredentials::from_request(Some(&basic("a%2Bb:s+t%25")), None, None).unwrap();
        assert_eq!((c.client_id.as_str(), c.secret.expose()), ("a+b", "s t%"));
        for bad in [
            "Basic !!!",
            "Basic",
            "Bearer abc",
            &basic("no-colon"),
            &basic(":secret"),
        ] {
            assert!(
                ClientCredentials::from_request(Some(bad), None, None).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn mixing_or_missing_mechanisms_is_refused() {
        let err = |r: TokenResult<ClientCredentials>| match r {
            Err(TokenFailure::Protocol(e)) => e.error,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(ClientCredentials::from_request(
                Some(&basic("a:b")),
                None,
                Some("b")
            )),
            OAuthError::InvalidRequest
        );
        assert_eq!(
            err(ClientCredentials::from_request(
                Some(&basic("a:b")),
                Some("c"),
                None
            )),
            OAuthError::InvalidRequest
        );
        assert!(ClientCredentials::from_request(Some(&basic("a:b")), Some("a"), None).is_ok());
        assert_eq!(
            err(ClientCredentials::from_request(None, Some("a"), None)),
            OAuthError::InvalidClient
        );
        assert_eq!(
            err(ClientCredentials::from_request(None, None, None)),
            OAuthError::InvalidClient
        );
        let body = ClientCredentials::from_request(None, Some("a"), Some("b")).unwrap();
        assert_eq!(body.method, AuthMethod::Post);
    }
}
