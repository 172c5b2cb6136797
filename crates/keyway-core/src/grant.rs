//! Grants, authorization codes and tokens as they are stored.
//!
//! A grant is one user's combined authorization to one project. Codes and tokens hang off it,
//! so revoking the grant (deleting it) takes every code and token of every client of that
//! project for that user with it, in one step.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{ClientId, Email, ProjectId, Subject};
use crate::pkce::PkceChallenge;
use crate::redirect_uri::RedirectUri;
use crate::scope::ScopeSet;
use crate::secret::SecretHash;

/// `access_type` of the authorization request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessType {
    /// Access tokens only (the default).
    Online,
    /// Also a refresh token, on the first offline authorization or when consent was shown.
    Offline,
}

impl AccessType {
    /// `online` or `offline`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessType::Online => "online",
            AccessType::Offline => "offline",
        }
    }

    /// Parses the stored or requested form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(AccessType::Online),
            "offline" => Some(AccessType::Offline),
            _ => None,
        }
    }
}

/// One user's authorization to one project: the union of every scope allowed to any of the
/// project's clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Row id.
    pub id: i64,
    /// The user.
    pub sub: Subject,
    /// The project.
    pub project_id: ProjectId,
    /// Every scope allowed so far.
    pub scopes: ScopeSet,
    /// First authorization.
    pub created_at: Timestamp,
    /// Last time a token of this grant was issued.
    pub last_used_at: Timestamp,
}

/// An authorization code as stored: only its hash, and everything it is bound to.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    /// Row id; tokens issued from the code point back to it.
    pub id: i64,
    /// The grant the code belongs to.
    pub grant_id: i64,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user.
    pub sub: Subject,
    /// The redirect URI of the request, which the token request must repeat exactly.
    pub redirect_uri: RedirectUri,
    /// What the code grants.
    pub scopes: ScopeSet,
    /// The request's `access_type`.
    pub access_type: AccessType,
    /// Whether the exchange may return a refresh token.
    pub issue_refresh_token: bool,
    /// PKCE challenge, when the request had one.
    pub pkce: Option<PkceChallenge>,
    /// OpenID Connect nonce to put into the id_token.
    pub nonce: Option<String>,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// When the code was issued.
    pub created_at: Timestamp,
    /// When it stops being redeemable.
    pub expires_at: Timestamp,
    /// When it was redeemed; `Some` means any further use is a replay.
    pub used_at: Option<Timestamp>,
}

/// What issuing a code needs.
#[derive(Debug, Clone)]
pub struct NewCode {
    /// Hash of the code handed to the browser.
    pub hash: SecretHash,
    /// The grant.
    pub grant_id: i64,
    /// The client.
    pub client_id: ClientId,
    /// The user.
    pub sub: Subject,
    /// The request's redirect URI.
    pub redirect_uri: RedirectUri,
    /// What the code grants.
    pub scopes: ScopeSet,
    /// The request's `access_type`.
    pub access_type: AccessType,
    /// Whether the exchange may return a refresh token.
    pub issue_refresh_token: bool,
    /// PKCE challenge.
    pub pkce: Option<PkceChallenge>,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// A stored access token (by hash).
#[derive(Debug, Clone)]
pub struct AccessTokenRecord {
    /// Row id.
    pub id: i64,
    /// The grant.
    pub grant_id: i64,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user.
    pub sub: Subject,
    /// What it grants.
    pub scopes: ScopeSet,
    /// Whether it came with offline access.
    pub access_type: AccessType,
    /// The code it was issued from, if any.
    pub code_id: Option<i64>,
    /// The refresh token it was issued from or with, if any.
    pub refresh_token_id: Option<i64>,
    /// Issue time.
    pub issued_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// The user's email address, read with the token (tokeninfo's `email`).
    pub email: Email,
    /// Whether the user's email address is verified.
    pub email_verified: bool,
}

/// How stale a refresh token's (and its grant's) `last_used_at` may get before a refresh
/// records the use, in seconds. Writing it on every refresh would make every refresh of a busy
/// token update the same two rows, which on PostgreSQL serialises concurrent refreshes behind
/// one row lock; "last used" is shown to the minute and ages out over months.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// Whether a refresh at `now` should record itself as the token's last use.
///
/// ```
/// use keyway_core::Timestamp;
/// use keyway_core::grant::last_use_is_stale;
///
/// let t = Timestamp::from_unix(1_000);
/// assert!(!last_use_is_stale(t, Timestamp::from_unix(1_059)));
/// assert!(last_use_is_stale(t, Timestamp::from_unix(1_060)));
/// ```
pub fn last_use_is_stale(last_used_at: Timestamp, now: Timestamp) -> bool {
    now.as_unix() - last_used_at.as_unix() >= LAST_USED_GRANULARITY_SECS
}

/// A stored refresh token (by hash).
#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    /// Row id.
    pub id: i64,
    /// The grant.
    pub grant_id: i64,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user.
    pub sub: Subject,
    /// The scopes of the code it came from: what refreshing gives.
    pub scopes: ScopeSet,
    /// The code it was issued from, if any.
    pub code_id: Option<i64>,
    /// Issue time.
    pub created_at: Timestamp,
    /// Last refresh.
    pub last_used_at: Timestamp,
}

/// A new access token to store.
#[derive(Debug, Clone)]
pub struct NewAccessToken {
    /// Hash of the token.
    pub hash: SecretHash,
    /// What it grants.
    pub scopes: ScopeSet,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// How many live refresh tokens one user may hold; past a limit the oldest is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenLimits {
    /// Per user and client (Google: 100).
    pub per_client: u32,
    /// Per user across all clients.
    pub per_user: u32,
}

impl Default for RefreshTokenLimits {
    fn default() -> Self {
        Self {
            per_client: 100,
            per_user: 1000,
        }
    }
}

/// The result of trying to burn a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redemption {
    /// The code was unused; it is now used and the tokens are stored.
    Redeemed {
        /// Row id of the new access token.
        access_token_id: i64,
        /// Row id of the new refresh token, when one was issued.
        refresh_token_id: Option<i64>,
    },
    /// Someone redeemed it first (or the grant was revoked); nothing was stored.
    AlreadyUsed,
}
