//! # keyway-core
//!
//! The domain of Keyway, a Google-compatible OAuth 2.0 authorization server: identifiers,
//! secrets, scopes, redirect-URI rules, PKCE, grants, codes and tokens, the [`Clock`], the
//! [`Store`] traits every database backend implements, and the operations built on them.
//! Nothing here knows about HTTP or SQL.
//!
//! ```
//! use keyway_core::{RedirectUriPolicy, ScopeSet, SecretKind};
//!
//! // Redirect URIs are checked against Google's registration rules...
//! let policy = RedirectUriPolicy::default();
//! let uri = policy.validate_redirect_uri("http://localhost:8080/oauth2callback", &[]).unwrap();
//! assert!(uri.matches("http://localhost:8080/oauth2callback"));
//! assert!(!uri.matches("http://localhost:8080/oauth2callback/"));
//! assert!(policy.validate_redirect_uri("https://app.example.com/cb#frag", &[]).is_err());
//!
//! // ...scopes are sets with a canonical text form...
//! let scopes = ScopeSet::parse("openid email").unwrap();
//! assert_eq!(scopes.to_string(), "email openid");
//!
//! // ...and every secret Keyway issues is prefixed, random, and stored only as a hash.
//! let token = SecretKind::AccessToken.generate();
//! assert!(token.expose().starts_with("kwat_"));
//! assert_ne!(token.hash().as_bytes(), token.expose().as_bytes());
//! ```
//!
//! ## Security
//!
//! - [`Secret`] never prints its value (`Debug` shows `[redacted]`) and has no `==`; compare
//!   with [`Secret::ct_eq`] or [`constant_time_eq`].
//! - Codes, tokens, session ids and client secrets carry 256 random bits and are stored only
//!   as SHA-256 ([`SecretHash`]); passwords only as Argon2id ([`password`]).
//! - Time comes from a [`Clock`], so expiry is tested by moving a [`ManualClock`].

pub mod authorize;
pub mod client;
pub mod client_secret_json;
pub mod clock;
pub mod console;
pub mod error;
pub mod grant;
pub mod ids;
pub mod password;
pub mod pending;
pub mod pkce;
pub mod project;
pub mod redirect_uri;
pub mod scope;
pub mod secret;
pub mod session;
pub mod signing_key;
pub mod store;
pub mod token;
pub mod user;

pub use client::{ClientSecretRecord, OAuthClient};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{Error, OAuthError};
pub use ids::{ClientId, Email, ProjectId, Subject};
pub use redirect_uri::{JavaScriptOrigin, RedirectUri, RedirectUriPolicy};
pub use scope::{Scope, ScopeInfo, ScopeSet, Sensitivity};
pub use secret::{Secret, SecretHash, SecretKind, constant_time_eq};
pub use store::{Store, StoreError, StoreResult};
