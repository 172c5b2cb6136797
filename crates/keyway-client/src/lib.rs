//! # keyway-client
//!
//! The OAuth 2.0 web-server flow for Rust applications, as Google's guide
//! ("Using OAuth 2.0 for Web Server Applications") walks it with google-auth-oauthlib and
//! google-auth in Python — against Google itself (its endpoints are the ones in your
//! `client_secret.json`) or any compliant server such as Keyway. This crate depends on no
//! other Keyway crate.
//!
//! ## The flow
//!
//! 1. Load the client's `client_secret.json` ([`ClientSecrets`]) and make a [`Flow`] with
//!    the scopes you need and your registered redirect URI.
//! 2. In the handler that starts authorization, build the URL with
//!    [`Flow::authorization_url`], keep the returned [`PendingAuthorization`] in the user's
//!    session, and redirect the user's browser to the URL.
//! 3. In the callback handler, take the pending authorization back out of the session and
//!    call [`Flow::exchange`] with the callback URL: it checks `state` and `iss`, turns
//!    `error=access_denied` into [`Error::AccessDenied`], and exchanges the code for
//!    [`Credentials`]. With the `openid` scope the answer carries an ID token, which is
//!    verified before you see it ([`Flow::exchange_with_claims`] returns its claims: the
//!    user's `sub`, `email`, …).
//! 4. Keep the credentials (they serialize to google-auth's authorized-user JSON) and call
//!    APIs with an [`AuthorizedClient`], which refreshes the access token ahead of expiry
//!    and tells you when the credentials change so you can save them again.
//!
//! ```no_run
//! use keyway_client::{AccessType, AuthorizedClient, Error, Flow, PendingAuthorization};
//!
//! # async fn example(callback_url: &str) -> Result<(), Error> {
//! let flow = Flow::from_client_secrets_file(
//!     "client_secret.json",
//!     ["https://www.googleapis.com/auth/drive.metadata.readonly"],
//! )?
//! .with_redirect_uri("https://app.example.com/oauth2callback");
//!
//! // GET /authorize
//! let (url, pending) = flow
//!     .authorization_url()
//!     .access_type(AccessType::Offline)
//!     .include_granted_scopes(true)
//!     .build()?;
//! let session_value = serde_json::to_string(&pending).expect("serializable");
//! // … store `session_value` in the user's session, then redirect to `url` …
//! # let _ = url;
//!
//! // GET /oauth2callback?state=…&code=…
//! let pending: PendingAuthorization = serde_json::from_str(&session_value).expect("ours");
//! let credentials = match flow.exchange(&pending, callback_url).await {
//!     Ok(c) => c,
//!     Err(Error::AccessDenied { .. }) => return Ok(()), // the user said no: tell them
//!     Err(e) => return Err(e),
//! };
//! if !credentials.has_scopes(&["https://www.googleapis.com/auth/drive.metadata.readonly"]) {
//!     // Granular consent: the user unticked this scope; degrade gracefully.
//! }
//!
//! // Calling an API; the token is refreshed when needed.
//! let client = AuthorizedClient::new(credentials)?;
//! let mut changes = client.subscribe();
//! let files = client
//!     .get("https://www.googleapis.com/drive/v3/files")
//!     .await?
//!     .text()
//!     .await?;
//! # let _ = files;
//! if changes.has_changed().unwrap_or(false) {
//!     let json = changes.borrow_and_update().to_json();
//!     // … save `json` where the user's credentials live …
//! #   let _ = json;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Keeping credentials: token stores
//!
//! A [`TokenStore`] keeps credentials by [`TokenKey`] — (client id, your key for the user,
//! scopes), with a stable string form — and offers a locked read-modify-write,
//! [`TokenStore::update`]. Give one to [`AuthorizedClient::with_store`] (or build the
//! client with [`AuthorizedClient::from_store`]) and every refresh goes through it: under
//! the key's lock the stored credentials are re-read, a token another client refreshed
//! meanwhile is taken instead of refreshing again, and a new one is saved before the lock
//! is released.
//!
//! - [`SqliteTokenStore`], for web apps with many users: one table, atomic upserts, WAL;
//!   one refresh per key among the tasks of a process (a per-key async mutex) and among
//!   processes sharing the database (a lease taken with `BEGIN IMMEDIATE`).
//! - [`FileTokenStore`], for a command-line tool or a single-user daemon: one user's
//!   google-auth authorized-user JSON (atomic writes, mode `0600`, a cross-process lock);
//!   [`AuthorizedClient::with_file_store`] makes two processes sharing the file refresh once.
//! - [`MemoryTokenStore`], many users in memory, for tests or as a building block.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use keyway_client::{AuthorizedClient, Credentials, SqliteTokenStore, TokenKey, TokenStore};
//!
//! # async fn example(credentials: Credentials, user_id: &str) -> keyway_client::Result<()> {
//! let store: Arc<dyn TokenStore> = Arc::new(SqliteTokenStore::open("tokens.db").await?);
//! // After the callback: keep the user's credentials.
//! let key = TokenKey::for_credentials(&credentials, user_id);
//! store.save(&key, &credentials).await?;
//! // In a later request: a client refreshing through the store, or None (authorize again).
//! let http = keyway_client::default_http_client()?;
//! if let Some(client) = AuthorizedClient::from_store(http, store.clone(), key).await? {
//!     let _ = client.get("https://www.googleapis.com/drive/v3/files").await?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Command-line tools: the loopback flow
//!
//! [`Flow::run_local_server`] runs the flow for a tool on the user's machine: it listens on
//! the redirect URI's loopback port (`http://localhost:8080/`), opens the browser on the
//! authorization URL (or prints it), takes the one redirect, shows "you may close this
//! tab", and exchanges the code; it gives up with [`Error::LocalServerTimeout`] after five
//! minutes (configurable). `examples/cli.rs` signs in against `keyway serve --demo` and
//! keeps the credentials in a [`FileTokenStore`].
//!
//! Errors are one enum, [`Error`]: the server's `error` and `error_description` are kept
//! intact, [`Error::is_retryable`] separates transient failures (`server_error`,
//! `temporarily_unavailable`, 5xx, timeouts) from final ones, and a refresh refused with
//! `invalid_grant` (the user revoked access, or the token was evicted) is
//! [`Error::ConsentRequired`]: send the user through the flow again.
//!
//! ## TLS
//!
//! reqwest is built with rustls and no built-in crypto provider. [`default_http_client`]
//! (used by [`Flow::new`] and [`AuthorizedClient::new`]) installs rustls's *ring* provider
//! as the process default when none is installed. To use another provider, install it
//! first, or build your own `reqwest::Client` and pass it to [`Flow::with_http_client`] and
//! [`AuthorizedClient::with_http_client`] (do not let it follow redirects).
//!
//! ## Security
//!
//! - **state**: [`Flow::authorization_url`] generates 256 random bits unless you give your
//!   own value, and [`Flow::exchange`] compares it in constant time before looking at
//!   anything else in the callback. Keep the [`PendingAuthorization`] on the server side
//!   (or in an encrypted, signed cookie), bound to the user's session, and use it once.
//!   A mismatch is [`Error::StateMismatch`]: show an error, never retry with the callback's
//!   values.
//! - **PKCE** (S256) is always on: a fresh 512-bit verifier per authorization stays in the
//!   pending authorization, so a stolen code is useless without it.
//! - **iss**: when the server sends `iss` (RFC 9207; Google and Keyway do) it must equal
//!   the issuer the authorization went to, which defuses mix-up attacks between servers.
//! - **ID tokens**: [`Flow::exchange`] verifies an `id_token` against the issuer's JWKS
//!   with an [`IdTokenVerifier`] (Google's published keys, or those named by any other
//!   issuer's `/.well-known/openid-configuration`; cached by `kid`, fetched again once on
//!   an unknown `kid` to follow key rotation): only an RS256 signature by one of those keys
//!   is accepted (`alg: none`, `HS256` and every other algorithm are refused), then `iss`,
//!   `aud` (and `azp` when there are several audiences), `exp` and `iat` with 60 seconds of
//!   clock skew, the pending authorization's `nonce`, and `at_hash` against the access
//!   token. A refusal is [`Error::IdToken`]. Verify ID tokens you receive any other way
//!   (from a browser, after a refresh) with [`IdTokenVerifier::verify`] before trusting a
//!   claim, and identify users by (`iss`, `sub`), not by email.
//!   [`Flow::without_id_token_verification`] turns the check off for servers with no JWKS;
//!   never trust an unverified token's claims.
//! - **Secrets**: `client_secret.json` and the credentials JSON hold the client secret and
//!   the refresh token. Keep them out of version control, out of the browser, readable only
//!   by the application (mode 0600), or in a secret manager; encrypt refresh tokens at rest
//!   when you keep many users' credentials in a database.
//! - **Never log tokens**: the `Debug` output of [`Credentials`], [`ClientSecrets`] and
//!   [`PendingAuthorization`] redacts every token, secret, state and verifier, and no
//!   [`Error`] contains one; do not print `to_json()` or an access token yourself. Tokens
//!   are sent only in request bodies and `Authorization` headers (marked sensitive), never
//!   in URLs.
//! - Use `https` endpoints and redirect URIs outside local development (the loopback
//!   flow's `http://localhost` redirect never leaves the machine).
//! - The loopback server answers with `Referrer-Policy: no-referrer` and a page that loads
//!   nothing, so the code in its URL goes nowhere else; any local process could send it a
//!   forged redirect, which the `state` check refuses.
#![warn(missing_docs)]

mod authorized;
mod credentials;
mod error;
mod flow;
mod http;
mod id_token;
mod local_server;
mod secrets;
mod store;
mod time;

pub use authorized::{AuthorizedClient, DEFAULT_REFRESH_THRESHOLD};
pub use credentials::{Credentials, TokenInfo};
pub use error::{Endpoint, Error, Result};
pub use flow::{AccessType, AuthorizationUrl, Flow, PendingAuthorization};
pub use http::default_http_client;
pub use id_token::{
    DEFAULT_CLOCK_SKEW, DEFAULT_JWKS_CACHE_TTL, DEFAULT_MIN_REFETCH_INTERVAL, GOOGLE_ISSUER,
    GOOGLE_JWKS_URI, IdTokenClaims, IdTokenReason, IdTokenVerifier, MAX_ID_TOKEN_LEN,
    MAX_JWKS_CACHE_TTL,
};
pub use local_server::{
    BrowserOpener, DEFAULT_LOCAL_SERVER_TIMEOUT, LocalServer, MAX_REQUEST_HEAD, open_browser,
};
pub use secrets::{ClientSecrets, ClientType, GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI};
pub use store::{
    BoxFuture, DEFAULT_LEASE, FileTokenStore, MemoryTokenStore, SqliteTokenStore, StoreLock,
    TokenKey, TokenStore, Update, UpdateFn, update_fn,
};

/// The `#[async_trait]` attribute, to implement [`TokenStore`] for your own store.
pub use async_trait::async_trait;
