//! Requests to the authorization server's endpoints and the parsing of their answers.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use url::Url;

use crate::error::{Endpoint, Error, Result};

/// Builds the HTTP client this crate uses by default: rustls, a 30-second timeout, and no
/// redirects followed (a token request must never be replayed to another host).
///
/// reqwest is built here without a built-in crypto provider: this function installs rustls's
/// *ring* provider as the process default when no default is installed yet. Applications
/// that want another provider install it before calling this, or build their own
/// `reqwest::Client` and pass it to [`Flow::with_http_client`](crate::Flow::with_http_client)
/// and [`AuthorizedClient::with_http_client`](crate::AuthorizedClient::with_http_client).
pub fn default_http_client() -> Result<reqwest::Client> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: some provider is then installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// An OAuth error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Turns a non-success answer into an error, keeping the server's `error` and
/// `error_description` when the body carries them.
pub(crate) fn error_from(endpoint: Endpoint, status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) if endpoint == Endpoint::Refresh && b.error == "invalid_grant" => {
            Error::ConsentRequired {
                error: b.error,
                description: b.error_description,
            }
        }
        Ok(b) => Error::OAuth {
            endpoint,
            status,
            error: b.error,
            description: b.error_description,
        },
        Err(_) => Error::Status { endpoint, status },
    }
}

/// POSTs a form and returns the body of a 2xx answer, or the error it describes.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    endpoint: Endpoint,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<Vec<u8>> {
    let response = http
        .post(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    if (200..300).contains(&status) {
        Ok(body.to_vec())
    } else {
        Err(error_from(endpoint, status, &body))
    }
}

/// A successful token endpoint answer (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_at: Option<SystemTime>,
    pub refresh_token: Option<String>,
    pub scope: Option<Vec<String>>,
    pub id_token: Option<String>,
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

impl TokenResponse {
    /// Parses a 2xx token response received at `now`. The expiry is kept to the
    /// microsecond, the precision of the JSON form.
    pub(crate) fn parse(endpoint: Endpoint, body: &[u8], now: SystemTime) -> Result<Self> {
        let invalid = |message: String| Error::InvalidResponse { endpoint, message };
        let raw: RawTokenResponse =
            serde_json::from_slice(body).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let access_token = raw
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| invalid("no access_token".into()))?;
        if let Some(t) = &raw.token_type
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(invalid(format!("unsupported token_type `{t}`")));
        }
        // A number per RFC 6749; some servers send a string.
        let expires_in = match raw.expires_in {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        Ok(Self {
            access_token,
            expires_at: expires_in
                .map(|s| crate::time::truncate_micros(now + Duration::from_secs(s))),
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
            scope: raw.scope.map(|s| split_scopes(&s)),
            id_token: raw.id_token.filter(|t| !t.is_empty()),
        })
    }
}

/// Splits a space-delimited scope string.
pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    s.split_ascii_whitespace().map(str::to_owned).collect()
}

/// The URL of a sibling endpoint of the token endpoint (`/revoke`, `/tokeninfo`): Google's
/// live at `oauth2.googleapis.com`, any other server's on the token endpoint's origin.
pub(crate) fn sibling_endpoint(token_uri: &Url, name: &str) -> Url {
    let google = matches!(
        token_uri.host_str(),
        Some("oauth2.googleapis.com" | "accounts.google.com" | "www.googleapis.com")
    );
    let base = if google {
        Url::parse("https://oauth2.googleapis.com/").expect("a valid URL")
    } else {
        token_uri.clone()
    };
    base.join(&format!("/{name}")).expect("a valid path")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: SystemTime = SystemTime::UNIX_EPOCH;

    #[test]
    fn parses_a_full_token_response() {
        let r = TokenResponse::parse(
            Endpoint::Exchange,
            br#"{"access_token":"at","expires_in":3599,"token_type":"Bearer",
                "scope":"openid  email","refresh_token":"rt","id_token":"jwt"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(r.access_token, "at");
        assert_eq!(r.expires_at, Some(NOW + Duration::from_secs(3599)));
        assert_eq!(r.refresh_token.as_deref(), Some("rt"));
        assert_eq!(r.scope, Some(vec!["openid".into(), "email".into()]));
        assert_eq!(r.id_token.as_deref(), Some("jwt"));
    }

    #[test]
    fn tolerates_missing_optional_fields_and_string_expiry() {
        let r = TokenResponse::parse(
            Endpoint::Refresh,
            br#"{"access_token":"at","expires_in":"60"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(r.expires_at, Some(NOW + Duration::from_secs(60)));
        assert_eq!((r.refresh_token, r.scope, r.id_token), (None, None, None));
        let r = TokenResponse::parse(Endpoint::Refresh, br#"{"access_token":"at"}"#, NOW).unwrap();
        assert_eq!(r.expires_at, None);
    }

    #[test]
    fn refuses_a_response_without_a_bearer_access_token() {
        for body in [
            &br#"{"expires_in":1}"#[..],
            br#"{"access_token":""}"#,
            br#"{"access_token":"a","token_type":"mac"}"#,
            b"<html>",
        ] {
            let e = TokenResponse::parse(Endpoint::Exchange, body, NOW).unwrap_err();
            assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
        }
    }

    #[test]
    fn error_bodies_keep_the_servers_words() {
        let body = br#"{"error":"invalid_grant","error_description":"Bad Request"}"#;
        match error_from(Endpoint::Exchange, 400, body) {
            Error::OAuth {
                status,
                error,
                description,
                endpoint,
            } => {
                assert_eq!((status, endpoint), (400, Endpoint::Exchange));
                assert_eq!(error, "invalid_grant");
                assert_eq!(description.as_deref(), Some("Bad Request"));
            }
            other => panic!("{other:?}"),
        }
        // invalid_grant on a refresh: the user must consent again.
        let e = error_from(Endpoint::Refresh, 400, body);
        assert!(e.is_consent_required(), "{e:?}");
        assert_eq!(e.error_description(), Some("Bad Request"));
        // Other refresh errors stay OAuth errors.
        let e = error_from(Endpoint::Refresh, 401, br#"{"error":"invalid_client"}"#);
        assert!(matches!(e, Error::OAuth { status: 401, .. }), "{e:?}");
        // A body that is not an OAuth error.
        let e = error_from(Endpoint::Revoke, 502, b"Bad Gateway");
        assert!(matches!(e, Error::Status { status: 502, .. }));
        assert!(e.is_retryable());
    }

    #[test]
    fn sibling_endpoints() {
        let keyway = Url::parse("https://keyway.example.com/token").unwrap();
        assert_eq!(
            sibling_endpoint(&keyway, "revoke").as_str(),
            "https://keyway.example.com/revoke"
        );
        let old = Url::parse("https://accounts.google.com/o/oauth2/token").unwrap();
        assert_eq!(
            sibling_endpoint(&old, "tokeninfo").as_str(),
            "https://oauth2.googleapis.com/tokeninfo"
        );
    }
}
