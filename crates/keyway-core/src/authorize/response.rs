//! What the authorization endpoint answers: error pages, and redirects built with a URL API
//! (never string formatting), carrying `state` and `iss` (RFC 9207).

use url::Url;

use crate::error::OAuthError;
use crate::redirect_uri::RedirectUri;

/// Why an authorization request cannot go on, and who is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Shown to the user as "Error NNN: code"; never redirected (the redirect URI is not
    /// verified, or Google shows this error itself).
    Page {
        /// HTTP status (400, 401 or 403).
        status: u16,
        /// The error code.
        error: OAuthError,
        /// One sentence saying what is wrong and how to fix it.
        description: String,
        /// A request detail worth showing (e.g. the `redirect_uri` that was sent).
        detail: Option<(&'static str, String)>,
    },
    /// Sent back to the verified redirect URI.
    Redirect {
        /// Where to.
        redirect_uri: RedirectUri,
        /// The request's `state`, returned as sent.
        state: Option<String>,
        /// The error code.
        error: OAuthError,
        /// `error_description`.
        description: String,
    },
}

impl Rejection {
    /// A 400 page.
    pub fn page(error: OAuthError, description: impl Into<String>) -> Self {
        Rejection::Page {
            status: 400,
            error,
            description: description.into(),
            detail: None,
        }
    }

    /// The page for an unknown or disabled client ("Error 401: invalid_client").
    pub fn invalid_client() -> Self {
        Rejection::Page {
            status: 401,
            error: OAuthError::InvalidClient,
            description: "The OAuth client was not found or is disabled. Check the client_id the app sends against the console.".into(),
            detail: None,
        }
    }
}

/// Keeps only RFC 6749 §5.2's characters for `error_description` (`%x20-21 / %x23-5B /
/// %x5D-7E`): no quotes, backslashes, controls or non-ASCII reach the client.
fn sanitize_description(d: &str) -> String {
    d.chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .take(300)
        .collect()
}

/// The redirect for an error: `error`, `error_description`, `state` (if sent) and `iss`.
///
/// ```
/// use keyway_core::authorize::error_redirect_url;
/// use keyway_core::{OAuthError, RedirectUri};
///
/// let uri = RedirectUri::from_stored("https://app.example.com/cb?x=1".into());
/// let url = error_redirect_url(&uri, OAuthError::AccessDenied, "The user refused.", Some("a b&c"), "https://auth.example.com");
/// assert_eq!(
///     url.as_str(),
///     "https://app.example.com/cb?x=1&error=access_denied&error_description=The+user+refused.&state=a+b%26c&iss=https%3A%2F%2Fauth.example.com"
/// );
/// ```
pub fn error_redirect_url(
    redirect_uri: &RedirectUri,
    error: OAuthError,
    description: &str,
    state: Option<&str>,
    issuer: &str,
) -> Url {
    build(redirect_uri, |q| {
        q.append_pair("error", error.code());
        q.append_pair("error_description", &sanitize_description(description));
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", issuer);
    })
}

/// The redirect for success: `code`, `scope`, `state`, `authuser`, `prompt`, `iss`.
pub fn success_redirect_url(
    redirect_uri: &RedirectUri,
    code: &str,
    scope: &str,
    state: Option<&str>,
    authuser: u32,
    consent_shown: bool,
    issuer: &str,
) -> Url {
    build(redirect_uri, |q| {
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("code", code);
        q.append_pair("scope", scope);
        q.append_pair("authuser", &authuser.to_string());
        q.append_pair("prompt", if consent_shown { "consent" } else { "none" });
        q.append_pair("iss", issuer);
    })
}

fn build(
    redirect_uri: &RedirectUri,
    add: impl FnOnce(&mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>),
) -> Url {
    // Registered URIs passed the registration rules, so they parse; the fallback keeps this
    // total without a panic path.
    let mut url = Url::parse(redirect_uri.as_str())
        .unwrap_or_else(|_| Url::parse("about:blank").unwrap_or_else(|_| unreachable!()));
    {
        let mut q = url.query_pairs_mut();
        add(&mut q);
    }
    url
}
