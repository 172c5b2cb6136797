//! `/signin` (email and password, rate-limited) and `/signout`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use keyway_core::{Email, Secret};
use serde::Deserialize;

use super::flow::{self, FlowQuery, Stop, project_of, respond};
use super::session::{self, csrf_ok, csrf_token, with_cookie};
use super::views::{self, SignInView, SignedOutView, TryLaterView};
use crate::app::AppState;

/// Failures counted per account and per client address within this window...
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// ...before further attempts are refused until the window moves on. Per account this is
/// well under ASVS's 100 per hour; it also never locks anyone out for longer than the window.
const MAX_PER_ACCOUNT: u32 = 10;
const MAX_PER_ADDRESS: u32 = 50;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(get_signin).post(post_signin))
        .route("/signout", get(get_signout))
}

#[derive(Deserialize)]
struct SignInForm {
    req: String,
    csrf: String,
    email: String,
    password: String,
}

async fn app_name(state: &AppState, f: &flow::Flow) -> Result<String, Stop> {
    Ok(project_of(state, &f.req).await?.consent.app_name)
}

async fn get_signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FlowQuery>,
) -> Response {
    let result = async {
        let session = session::load(&state, &headers)
            .await?
            .ok_or(Stop::FlowGone)?;
        let handle = q.req.ok_or(Stop::FlowGone)?;
        let f = flow::load(&state, &session, &handle).await?;
        let email = f
            .req
            .login_hint
            .clone()
            .filter(|h| h.contains('@'))
            .unwrap_or_default();
        Ok::<_, Stop>(
            Html(views::sign_in(&SignInView {
                app_name: app_name(&state, &f).await?,
                email,
                error: None,
                req: handle.clone(),
                csrf: csrf_token(&session.cookie, &handle),
            }))
            .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}

async fn post_signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let mut new_cookie = None;
    let result = async {
        let mut session = session::load(&state, &headers).await?.ok_or(Stop::Csrf)?;
        if !csrf_ok(&session.cookie, &form.req, &form.csrf) {
            return Err(Stop::Csrf);
        }
        let f = flow::load(&state, &session, &form.req).await?;
        let now = state.clock.now();
        let since = now - WINDOW;
        let email = Email::parse(&form.email).ok();
        let account_key = format!(
            "account:{}",
            email
                .as_ref()
                .map_or(form.email.trim().to_lowercase(), |e| e.to_string())
        );
        let address_key = format!("ip:{}", peer.ip());
        let store = &state.store;
        if store.count_failures(&account_key, since).await? >= MAX_PER_ACCOUNT
            || store.count_failures(&address_key, since).await? >= MAX_PER_ADDRESS
        {
            let minutes = u32::try_from(WINDOW.as_secs() / 60).unwrap_or(15);
            return Ok((
                StatusCode::TOO_MANY_REQUESTS,
                Html(views::try_later(&TryLaterView { minutes })),
            )
                .into_response());
        }
        let user = match &email {
            Some(e) => store.find_user_by_email(e).await?,
            None => None,
        };
        let stored = user
            .as_ref()
            .filter(|u| !u.disabled)
            .map(|u| u.password_hash.clone());
        let password = Secret::new(form.password.clone());
        // Argon2 is slow on purpose: keep it off the async workers. Unknown users verify a
        // dummy hash, so timing does not tell which emails have accounts.
        let ok = {
            // Waits for a free slot: memory stays bounded however many sign-ins arrive at once.
            let _slot = state.password_slots.acquire().await.map_err(|_| {
                Stop::Store(keyway_core::StoreError::Unavailable("shutting down".into()))
            })?;
            tokio::task::spawn_blocking(move || {
                keyway_core::password::verify_password(stored.as_ref(), &password)
            })
            .await
            .unwrap_or(false)
        };
        let Some(user) = user.filter(|_| ok) else {
            store.insert_failure(&account_key, now, since).await?;
            store.insert_failure(&address_key, now, since).await?;
            tracing::info!("failed sign-in");
            let html = views::sign_in(&SignInView {
                app_name: app_name(&state, &f).await?,
                email: form.email.chars().take(320).collect(),
                error: Some("Wrong email or password. Try again.".into()),
                req: form.req.clone(),
                csrf: form.csrf.clone(),
            });
            return Ok((StatusCode::OK, Html(html)).into_response());
        };
        store.delete_failures(&account_key).await?;
        // A new session id at sign-in: a cookie planted before sign-in is worthless after it.
        new_cookie = Some(session::rotate(&state, &mut session).await?);
        store
            .insert_session_account(session.stored.id, &user.sub, now)
            .await?;
        store
            .update_pending_account(&session::handle_hash(&f.handle), &user.sub)
            .await?;
        let session = session::load_with(&state, session.cookie)
            .await?
            .ok_or(Stop::FlowGone)?;
        let f = flow::load(&state, &session, &form.req).await?;
        flow::advance(&state, &session, &f).await
    }
    .await;
    with_cookie(
        result.unwrap_or_else(|stop| respond(&state, stop)),
        new_cookie,
    )
}

async fn get_signout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = session::cookie_value(&headers)
        && let Err(e) = state.store.delete_session(&cookie.hash()).await
    {
        return respond(&state, Stop::Store(e));
    }
    let html = views::signed_out(&SignedOutView {
        message: "You have been signed out of every account in this browser.".into(),
    });
    with_cookie(Html(html).into_response(), Some(session::clear_cookie()))
}
