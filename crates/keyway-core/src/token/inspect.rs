//! Revocation, Google's tokeninfo and RFC 7662 introspection.

use serde::Serialize;

use super::{TokenResult, fail};
use crate::client::OAuthClient;
use crate::clock::Clock;
use crate::error::OAuthError;
use crate::grant::AccessType;
use crate::secret::{SecretHash, SecretKind};
use crate::store::Store;

/// Revokes the grant behind `token` (an access or a refresh token): every scope, every token
/// of every client of that project for that user. Google answers an unknown, malformed,
/// expired or already revoked token with 400 `invalid_token`, and so does Keyway. When the
/// caller authenticated as a client, only tokens of that client's project are revoked.
pub async fn revoke(
    store: &dyn Store,
    clock: &dyn Clock,
    token: Option<&str>,
    caller: Option<&OAuthClient>,
) -> TokenResult<()> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return fail(
            OAuthError::InvalidRequest,
            "Missing required parameter: token",
        );
    };
    let gone = || fail(OAuthError::InvalidToken, "Token expired or revoked");
    let hash = SecretHash::of(token);
    let found = if SecretKind::AccessToken.is_kind_of(token) {
        store
            .find_access_token(&hash)
            .await?
            .filter(|t| clock.now() < t.expires_at)
            .map(|t| (t.grant_id, t.client_id))
    } else if SecretKind::RefreshToken.is_kind_of(token) {
        store
            .find_refresh_token(&hash)
            .await?
            .map(|t| (t.grant_id, t.client_id))
    } else {
        None
    };
    let Some((grant_id, client_id)) = found else {
        return gone();
    };
    if let Some(caller) = caller
        && let Some(owner) = store.find_client(&client_id).await?
        && owner.project_id != caller.project_id
    {
        return gone();
    }
    if !store.delete_grant(grant_id).await? {
        return gone();
    }
    Ok(())
}

/// Google's tokeninfo: every value a string.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// The client the token was issued to.
    pub azp: String,
    /// The audience (the same client).
    pub aud: String,
    /// The user.
    pub sub: String,
    /// Granted scopes.
    pub scope: String,
    /// Expiry, epoch seconds.
    pub exp: String,
    /// Seconds left.
    pub expires_in: String,
    /// The user's email, when an email scope was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `"true"` with `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
    /// `online` or `offline`.
    pub access_type: String,
}

/// Describes a live access token; anything else (refresh tokens included) is `invalid_token`.
pub async fn token_info(
    store: &dyn Store,
    clock: &dyn Clock,
    access_token: Option<&str>,
) -> TokenResult<TokenInfo> {
    let invalid = || fail(OAuthError::InvalidToken, "Invalid Value");
    let Some(token) =
        access_token.filter(|t| SecretKind::AccessToken.is_kind_of(t) && t.len() <= 2048)
    else {
        return invalid();
    };
    let now = clock.now();
    let Some(t) = store
        .find_access_token(&SecretHash::of(token))
        .await?
        .filter(|t| now < t.expires_at)
    else {
        return invalid();
    };
    // Google answers `email` only to a token whose scopes reveal it.
    let email = (t.scopes.contains("email")
        || t.scopes
            .contains("https://www.googleapis.com/auth/userinfo.email"))
    .then_some((t.email, t.email_verified));
    Ok(TokenInfo {
        azp: t.client_id.to_string(),
        aud: t.client_id.to_string(),
        sub: t.sub.to_string(),
        scope: t.scopes.to_string(),
        exp: t.expires_at.as_unix().to_string(),
        expires_in: now.seconds_until(t.expires_at).to_string(),
        email_verified: email.as_ref().map(|(_, verified)| verified.to_string()),
        email: email.map(|(email, _)| email.to_string()),
        access_type: match t.access_type {
            AccessType::Online => "online",
            AccessType::Offline => "offline",
        }
        .to_owned(),
    })
}

/// RFC 7662's answer: `{"active": false}` alone for anything not live and the caller's.
#[derive(Debug, Clone, Serialize)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Expiry (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

impl Introspection {
    fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            sub: None,
            aud: None,
            exp: None,
            iat: None,
            token_type: None,
        }
    }
}

/// Introspects a token for an authenticated client; tokens of other clients are inactive to it.
pub async fn introspect(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &OAuthClient,
    token: Option<&str>,
) -> TokenResult<Introspection> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return fail(
            OAuthError::InvalidRequest,
            "Missing required parameter: token",
        );
    };
    let hash = SecretHash::of(token);
    let now = clock.now();
    if SecretKind::AccessToken.is_kind_of(token)
        && let Some(t) = store.find_access_token(&hash).await?
        && now < t.expires_at
        && t.client_id == caller.client_id
    {
        return Ok(Introspection {
            active: true,
            scope: Some(t.scopes.to_string()),
            client_id: Some(t.client_id.to_string()),
            sub: Some(t.sub.to_string()),
            aud: Some(t.client_id.to_string()),
            exp: Some(t.expires_at.as_unix()),
            iat: Some(t.issued_at.as_unix()),
            token_type: Some("Bearer"),
        });
    }
    if SecretKind::RefreshToken.is_kind_of(token)
        && let Some(t) = store.find_refresh_token(&hash).await?
        && t.client_id == caller.client_id
    {
        return Ok(Introspection {
            active: true,
            scope: Some(t.scopes.to_string()),
            client_id: Some(t.client_id.to_string()),
            sub: Some(t.sub.to_string()),
            aud: Some(t.client_id.to_string()),
            exp: None,
            iat: Some(t.created_at.as_unix()),
            token_type: Some("refresh_token"),
        });
    }
    Ok(Introspection::inactive())
}
