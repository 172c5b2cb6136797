//! The browser session cookie, the accounts it holds, and CSRF tokens bound to it.
//!
//! The cookie carries a random session id; the database keeps only its hash. A CSRF token is
//! derived from the cookie and the flow's handle (SHA-256 of both), so it is bound to this
//! browser and this request, needs no storage, and cannot be computed by a page that does
//! not hold the HttpOnly cookie.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::header::{COOKIE, SET_COOKIE};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_core::authorize::Account;
use keyway_core::session::BrowserSession;
use keyway_core::{Secret, SecretHash, SecretKind, constant_time_eq};
use sha2::{Digest, Sha256};

use crate::app::AppState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "kw_session";
/// How long a browser stays signed in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);

/// The session cookie's value, if the request has one of the right shape.
pub fn cookie_value(headers: &HeaderMap) -> Option<Secret> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && SecretKind::Session.is_kind_of(value))
        .map(|(_, value)| Secret::new(value))
}

/// A loaded session with its signed-in accounts.
#[derive(Debug)]
pub struct Session {
    /// The cookie value.
    pub cookie: Secret,
    /// The stored session.
    pub stored: BrowserSession,
    /// Signed-in accounts, in `authuser` order (disabled users are left out).
    pub accounts: Vec<Account>,
}

/// Loads the request's session, if any.
pub async fn load(
    state: &AppState,
    headers: &HeaderMap,
) -> keyway_core::StoreResult<Option<Session>> {
    match cookie_value(headers) {
        Some(cookie) => load_with(state, cookie).await,
        None => Ok(None),
    }
}

/// Loads the session of a cookie value.
pub async fn load_with(
    state: &AppState,
    cookie: Secret,
) -> keyway_core::StoreResult<Option<Session>> {
    let Some(stored) = state
        .store
        .find_session(&cookie.hash(), state.clock.now())
        .await?
    else {
        return Ok(None);
    };
    let mut accounts = Vec::with_capacity(stored.accounts.len());
    for a in &stored.accounts {
        if let Some(user) = state.store.find_user(&a.sub).await?
            && !user.disabled
        {
            accounts.push(Account {
                user,
                authuser: a.authuser,
            });
        }
    }
    Ok(Some(Session {
        cookie,
        stored,
        accounts,
    }))
}

/// Starts a new, empty session; returns it and the `Set-Cookie` header.
pub async fn create(state: &AppState) -> keyway_core::StoreResult<(Session, HeaderValue)> {
    let cookie = SecretKind::Session.generate();
    let now = state.clock.now();
    let expires = now + SESSION_LIFETIME;
    let id = state
        .store
        .insert_session(cookie.hash(), now, expires)
        .await?;
    let header = set_cookie(state, &cookie);
    let stored = BrowserSession {
        id,
        accounts: vec![],
        created_at: now,
        expires_at: expires,
    };
    Ok((
        Session {
            cookie,
            stored,
            accounts: vec![],
        },
        header,
    ))
}

/// Gives the session a fresh id (after sign-in, against session fixation).
pub async fn rotate(
    state: &AppState,
    session: &mut Session,
) -> keyway_core::StoreResult<HeaderValue> {
    let fresh = SecretKind::Session.generate();
    state
        .store
        .update_session_id(&session.cookie.hash(), fresh.hash())
        .await?;
    session.cookie = fresh;
    Ok(set_cookie(state, &session.cookie))
}

/// The `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when served over https.
pub fn set_cookie(state: &AppState, cookie: &Secret) -> HeaderValue {
    let secure = if state.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{COOKIE_NAME}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        cookie.expose(),
        SESSION_LIFETIME.as_secs()
    );
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("kw_session=; Path=/; Max-Age=0"))
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("kw_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// The CSRF token of a flow in this browser.
pub fn csrf_token(cookie: &Secret, handle: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"keyway csrf v1\0");
    h.update(cookie.expose().as_bytes());
    h.update(b"\0");
    h.update(handle.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` is this browser's token for `handle` (constant-time).
pub fn csrf_ok(cookie: &Secret, handle: &str, presented: &str) -> bool {
    constant_time_eq(csrf_token(cookie, handle).as_bytes(), presented.as_bytes())
}

/// Adds `Set-Cookie` to a response's headers when the session changed.
pub fn with_cookie(
    mut response: axum::response::Response,
    cookie: Option<HeaderValue>,
) -> axum::response::Response {
    if let Some(c) = cookie {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

/// The hash under which a flow handle is stored.
pub fn handle_hash(handle: &str) -> SecretHash {
    SecretHash::of(handle)
}
