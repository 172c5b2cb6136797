//! The tower layers: [`BearerLayer`] authenticates every request, [`ScopeLayer`] requires a
//! scope on the routes it wraps.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::BearerError;
use crate::principal::Principal;
use crate::validate::{Invalid, Validator};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Reads the token (`Authorization: Bearer …`, preferred, or the `access_token` query
/// parameter), validates it and puts the [`Principal`] into the request's extensions;
/// answers RFC 6750 errors otherwise.
#[derive(Debug, Clone)]
pub struct BearerLayer {
    validator: Arc<dyn Validator>,
}

impl BearerLayer {
    /// A layer validating with `validator`.
    pub fn new(validator: Arc<dyn Validator>) -> Self {
        Self { validator }
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer {
            inner,
            validator: self.validator.clone(),
        }
    }
}

/// The service of [`BearerLayer`].
#[derive(Debug, Clone)]
pub struct Bearer<S> {
    inner: S,
    validator: Arc<dyn Validator>,
}

/// The token of a request, from exactly one place.
pub fn token_of(req: &Request<Body>) -> Result<String, BearerError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let query = req.uri().query().and_then(|q| url_param(q, "access_token"));
    match (header, query) {
        (Some(_), Some(_)) => Err(BearerError::Ambiguous),
        (Some(t), None) | (None, Some(t)) if !t.is_empty() => Ok(t),
        _ => Err(BearerError::Missing),
    }
}

fn url_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl<S> Service<Request<Body>> for Bearer<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        Box::pin(async move {
            let token = match token_of(&req) {
                Ok(t) => t,
                Err(e) => return Ok(e.into_response()),
            };
            match validator.validate(&token).await {
                Ok(principal) => {
                    req.extensions_mut().insert(principal);
                    inner.call(req).await
                }
                Err(Invalid::Token) => Ok(BearerError::InvalidToken.into_response()),
                Err(Invalid::Unavailable) => Ok(BearerError::Unavailable.into_response()),
            }
        })
    }
}

/// Requires one of a set of scopes on the routes it wraps (inside a [`BearerLayer`]).
#[derive(Debug, Clone)]
pub struct ScopeLayer {
    any_of: Arc<[String]>,
}

impl ScopeLayer {
    /// Requires at least one of `scopes`.
    pub fn any_of<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        Self {
            any_of: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

impl<S> Layer<S> for ScopeLayer {
    type Service = RequireScope<S>;

    fn layer(&self, inner: S) -> RequireScope<S> {
        RequireScope {
            inner,
            any_of: self.any_of.clone(),
        }
    }
}

/// The service of [`ScopeLayer`].
#[derive(Debug, Clone)]
pub struct RequireScope<S> {
    inner: S,
    any_of: Arc<[String]>,
}

impl<S> Service<Request<Body>> for RequireScope<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let needed: Vec<&str> = self.any_of.iter().map(String::as_str).collect();
        let verdict = match req.extensions().get::<Principal>() {
            None => Err(BearerError::Missing),
            Some(p) => p.require_any(&needed),
        };
        Box::pin(async move {
            match verdict {
                Ok(()) => inner.call(req).await,
                Err(e) => Ok(e.into_response()),
            }
        })
    }
}
