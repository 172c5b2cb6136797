//! Where tokens are checked: in-process against Keyway's store, by RFC 7662 introspection
//! against a Keyway server, or by Google's tokeninfo.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use keyway_core::{Clock, SecretHash, SecretKind, Store};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::principal::Principal;

/// Why a token did not validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Unknown, expired or revoked: `401 invalid_token`.
    Token,
    /// The authority could not be asked: `503`.
    Unavailable,
}

/// Checks an access token and says whom it speaks for.
#[async_trait]
pub trait Validator: Send + Sync + std::fmt::Debug {
    /// The principal of a live token.
    async fn validate(&self, token: &str) -> Result<Principal, Invalid>;
}

/// In-process validation inside Keyway: one indexed lookup, so a revocation holds at once.
#[derive(Debug, Clone)]
pub struct StoreValidator {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl StoreValidator {
    /// Validates against `store`, with expiry by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Validator for StoreValidator {
    async fn validate(&self, token: &str) -> Result<Principal, Invalid> {
        if !SecretKind::AccessToken.is_kind_of(token) || token.len() > 2048 {
            return Err(Invalid::Token);
        }
        let record = self
            .store
            .find_access_token(&SecretHash::of(token))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "token lookup failed");
                Invalid::Unavailable
            })?;
        match record {
            Some(t) if self.clock.now() < t.expires_at => Ok(Principal {
                sub: t.sub.to_string(),
                client_id: t.client_id.to_string(),
                scopes: t.scopes.iter().map(ToString::to_string).collect(),
                expires_at: t.expires_at.as_unix(),
            }),
            _ => Err(Invalid::Token),
        }
    }
}

#[derive(Deserialize)]
struct IntrospectionResponse {
    active: bool,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    token_type: Option<String>,
}

/// RFC 7662 introspection against a Keyway server, for APIs that run elsewhere.
///
/// With a cache, a token that validated is trusted for at most `cache_for` without asking
/// again — which is also how long a revoked token can still pass. The default is no cache:
/// every request asks, and revocation holds at once.
#[derive(Debug, Clone)]
pub struct IntrospectionValidator {
    http: reqwest::Client,
    url: String,
    client_id: String,
    client_secret: String,
    cache_for: Option<Duration>,
    cache: Arc<Mutex<HashMap<SecretHash, (Principal, Instant)>>>,
}

/// Most cached entries kept; past it the cache is cleared (bounded memory under hostile input).
const CACHE_LIMIT: usize = 10_000;

impl IntrospectionValidator {
    /// Introspects at `url` (e.g. `https://auth.example.com/introspect`) as the given client.
    pub fn new(
        http: reqwest::Client,
        url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            http,
            url: url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            cache_for: None,
            cache: Arc::default(),
        }
    }

    /// Caches positive answers for at most `ttl` (never past the token's expiry).
    pub fn with_cache(mut self, ttl: Duration) -> Self {
        self.cache_for = Some(ttl);
        self
    }
}

#[async_trait]
impl Validator for IntrospectionValidator {
    async fn validate(&self, token: &str) -> Result<Principal, Invalid> {
        let key = SecretHash::of(token);
        if self.cache_for.is_some()
            && let Some((p, until)) = self.cache.lock().await.get(&key)
            && Instant::now() < *until
        {
            return Ok(p.clone());
        }
        let form = [
            ("token", token),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ];
        let response = self
            .http
            .post(&self.url)
            .form(&form)
            .send()
            .await
            .map_err(|_| Invalid::Unavailable)?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "introspection refused");
            return Err(Invalid::Unavailable);
        }
        let r: IntrospectionResponse = response.json().await.map_err(|_| Invalid::Unavailable)?;
        if !r.active || r.token_type.as_deref() == Some("refresh_token") {
            return Err(Invalid::Token);
        }
        let principal = Principal {
            sub: r.sub.unwrap_or_default(),
            client_id: r.client_id.unwrap_or_default(),
            scopes: r
                .scope
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            expires_at: r.exp.unwrap_or(0),
        };
        if let Some(ttl) = self.cache_for {
            let mut cache = self.cache.lock().await;
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, (principal.clone(), Instant::now() + ttl));
        }
        Ok(principal)
    }
}

#[derive(Deserialize)]
struct TokenInfoResponse {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    exp: Option<String>,
}

/// Google's tokeninfo (`https://oauth2.googleapis.com/tokeninfo`, or Keyway's `/tokeninfo`),
/// so the same middleware can guard an API that accepts Google's tokens.
#[derive(Debug, Clone)]
pub struct TokenInfoValidator {
    http: reqwest::Client,
    url: String,
}

impl TokenInfoValidator {
    /// Asks the tokeninfo endpoint at `url`.
    pub fn new(http: reqwest::Client, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
        }
    }

    /// Google's endpoint.
    pub fn google(http: reqwest::Client) -> Self {
        Self::new(http, "https://oauth2.googleapis.com/tokeninfo")
    }
}

#[async_trait]
impl Validator for TokenInfoValidator {
    async fn validate(&self, token: &str) -> Result<Principal, Invalid> {
        // POST keeps the token out of URLs and their logs.
        let response = self
            .http
            .post(&self.url)
            .form(&[("access_token", token)])
            .send()
            .await
            .map_err(|_| Invalid::Unavailable)?;
        if response.status().is_client_error() {
            return Err(Invalid::Token);
        }
        if !response.status().is_success() {
            return Err(Invalid::Unavailable);
        }
        let r: TokenInfoResponse = response.json().await.map_err(|_| Invalid::Unavailable)?;
        Ok(Principal {
            sub: r.sub.unwrap_or_default(),
            client_id: r.azp.or(r.aud).unwrap_or_default(),
            scopes: r
                .scope
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            expires_at: r.exp.and_then(|e| e.parse().ok()).unwrap_or(0),
        })
    }
}
