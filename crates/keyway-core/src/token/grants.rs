//! The two grants: redeeming an authorization code, and refreshing.

use super::{TokenError, TokenFailure, TokenResponse, TokenResult, TokenSettings, fail};
use crate::client::OAuthClient;
use crate::clock::Clock;
use crate::error::OAuthError;
use crate::grant::{NewAccessToken, Redemption};
use crate::scope::ScopeSet;
use crate::secret::{SecretHash, SecretKind};
use crate::store::Store;

/// The parameters of an `authorization_code` request.
#[derive(Debug, Default)]
pub struct CodeParams<'a> {
    /// `code`.
    pub code: Option<&'a str>,
    /// `redirect_uri`.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier`.
    pub code_verifier: Option<&'a str>,
}

const INVALID_CODE: &str = "The authorization code is invalid, expired, already used or revoked.";

/// Redeems a code for `client` (already authenticated). A code used twice is refused and
/// every token issued from it is revoked (RFC 6749 §4.1.2); the checks that can fail run
/// before the code is burnt, and burning it stores the tokens in the same transaction.
pub async fn exchange_code(
    store: &dyn Store,
    clock: &dyn Clock,
    settings: &TokenSettings,
    client: &OAuthClient,
    params: CodeParams<'_>,
) -> TokenResult<TokenResponse> {
    let Some(code_text) = params.code else {
        return fail(
            OAuthError::InvalidRequest,
            "Missing required parameter: code",
        );
    };
    if !SecretKind::AuthorizationCode.is_kind_of(code_text) || code_text.len() > 256 {
        return fail(OAuthError::InvalidGrant, INVALID_CODE);
    }
    let Some(code) = store.find_code(&SecretHash::of(code_text)).await? else {
        return fail(OAuthError::InvalidGrant, INVALID_CODE);
    };
    if code.used_at.is_some() {
        store.delete_code_tokens(code.id).await?;
        return fail(OAuthError::InvalidGrant, INVALID_CODE);
    }
    let now = clock.now();
    if code.client_id != client.client_id || now >= code.expires_at {
        return fail(OAuthError::InvalidGrant, INVALID_CODE);
    }
    match params.redirect_uri {
        Some(uri) if code.redirect_uri.matches(uri) => {}
        _ => {
            return fail(
                OAuthError::InvalidGrant,
                "redirect_uri must be the one the authorization request used.",
            );
        }
    }
    match (&code.pkce, params.code_verifier) {
        (None, None) => {}
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => {}
        (Some(_), _) => {
            return fail(
                OAuthError::InvalidGrant,
                "The code_verifier is missing or does not match the code_challenge.",
            );
        }
        (None, Some(_)) => {
            return fail(
                OAuthError::InvalidGrant,
                "A code_verifier was sent, but the authorization request had no code_challenge.",
            );
        }
    }

    let access = SecretKind::AccessToken.generate();
    let refresh = code
        .issue_refresh_token
        .then(|| SecretKind::RefreshToken.generate());
    let expires_at = now + settings.access_token_lifetime;
    let outcome = store
        .redeem_code(
            &code,
            NewAccessToken {
                hash: access.hash(),
                scopes: code.scopes.clone(),
                expires_at,
            },
            refresh.as_ref().map(|r| r.hash()),
            settings.refresh_limits,
            now,
        )
        .await?;
    if outcome == Redemption::AlreadyUsed {
        // Lost a race with another redemption (or the grant was revoked meanwhile).
        store.delete_code_tokens(code.id).await?;
        return fail(OAuthError::InvalidGrant, INVALID_CODE);
    }
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        expires_in: settings.access_token_lifetime.as_secs(),
        token_type: "Bearer",
        scope: code.scopes.to_string(),
        refresh_token: refresh.map(|r| r.expose().to_owned()),
        id_token: None,
    })
}

/// Issues a new access token from a refresh token of `client`. A `scope` narrower than the
/// token's down-scopes the new access token; scopes beyond it are dropped, not refused (Google
/// answers with what was granted). Refresh tokens do not rotate.
pub async fn refresh(
    store: &dyn Store,
    clock: &dyn Clock,
    settings: &TokenSettings,
    client: &OAuthClient,
    refresh_token: Option<&str>,
    scope: Option<&str>,
) -> TokenResult<TokenResponse> {
    let Some(text) = refresh_token else {
        return fail(
            OAuthError::InvalidRequest,
            "Missing required parameter: refresh_token",
        );
    };
    let invalid = || {
        TokenFailure::Protocol(TokenError::new(
            OAuthError::InvalidGrant,
            "Token has been expired or revoked.",
        ))
    };
    if !SecretKind::RefreshToken.is_kind_of(text) || text.len() > 512 {
        return Err(invalid());
    }
    let record = store
        .find_refresh_token(&SecretHash::of(text))
        .await?
        .ok_or_else(invalid)?;
    if record.client_id != client.client_id {
        return Err(invalid());
    }
    let scopes = match scope.map(ScopeSet::parse) {
        None => record.scopes.clone(),
        Some(Err(_)) => {
            return fail(
                OAuthError::InvalidScope,
                "The scope parameter is malformed.",
            );
        }
        Some(Ok(asked)) => {
            let narrowed = asked.intersection(&record.scopes);
            if narrowed.is_empty() {
                record.scopes.clone()
            } else {
                narrowed
            }
        }
    };
    let now = clock.now();
    let access = SecretKind::AccessToken.generate();
    let new = NewAccessToken {
        hash: access.hash(),
        scopes: scopes.clone(),
        expires_at: now + settings.access_token_lifetime,
    };
    store
        .insert_refreshed_access_token(&record, new, now)
        .await?
        .ok_or_else(invalid)?;
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        expires_in: settings.access_token_lifetime.as_secs(),
        token_type: "Bearer",
        scope: scopes.to_string(),
        refresh_token: None,
        id_token: None,
    })
}
