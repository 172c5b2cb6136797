//! # keyway-resource
//!
//! Bearer-token protection for APIs (RFC 6750): a tower [`BearerLayer`] that validates the
//! access token of every request and puts the caller's [`Principal`] into the request, a
//! [`ScopeLayer`] that requires scopes per route, and the [`Principal`] axum extractor.
//!
//! Tokens are validated by a [`Validator`]: [`StoreValidator`] inside Keyway (one indexed
//! lookup), [`IntrospectionValidator`] against a Keyway server (RFC 7662, optional bounded
//! cache), or [`TokenInfoValidator`] against Google's tokeninfo.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Json, Router, routing::get};
//! use keyway_resource::{BearerLayer, IntrospectionValidator, Principal, ScopeLayer};
//!
//! async fn files(principal: Principal) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({"owner": principal.sub}))
//! }
//!
//! let validator = IntrospectionValidator::new(
//!     reqwest::Client::new(),
//!     "https://auth.example.com/introspect",
//!     "1234-abc.apps.keyway.test",
//!     "kwcs_…",
//! );
//! let app: Router = Router::new()
//!     .route("/files", get(files))
//!     .layer(ScopeLayer::any_of(["https://www.googleapis.com/auth/drive.readonly"]))
//!     .layer(BearerLayer::new(Arc::new(validator)));
//! ```
//!
//! Errors follow RFC 6750 §3: no token → `401` with `WWW-Authenticate: Bearer`; an invalid
//! or expired one → `401` with `error="invalid_token"`; a valid token without the scope →
//! `403` with `error="insufficient_scope"` and the scopes that would do. Bodies use Google's
//! API error shape (`{"error": {"code", "message", "status"}}`).
//!
//! ## Security
//!
//! - Send tokens in the `Authorization` header. The `access_token` query parameter is
//!   accepted because Google's APIs accept it, but URLs end up in logs and histories; a
//!   token in both places is refused.
//! - With [`IntrospectionValidator::with_cache`], a revoked token keeps passing for up to the
//!   cache lifetime. Without a cache (the default) revocation holds at once.
//! - Tokens are never logged; cache keys are their SHA-256.

mod error;
mod layer;
mod principal;
mod validate;

pub use error::BearerError;
pub use layer::{Bearer, BearerLayer, RequireScope, ScopeLayer, token_of};
pub use principal::Principal;
pub use validate::{
    IntrospectionValidator, Invalid, StoreValidator, TokenInfoValidator, Validator,
};
