//! `GET|POST /o/oauth2/v2/auth` (and `/o/oauth2/auth`): validates the request in Google's
//! order and, when a page has to ask the user something, stores it server-side as a pending
//! flow and sends the browser to that page; otherwise redirects to the client with a code.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum::response::Response;
use axum::routing::get;
use keyway_core::authorize::{Params, Rejection, is_embedded_webview};
use keyway_core::pending::NewPending;
use keyway_core::{OAuthError, ScopeSet, SecretKind};

use super::flow::{self, CodeFor, Next, Stop, respond};
use super::session::{self, csrf_token, handle_hash, with_cookie};
use crate::app::AppState;

/// How long a user may take between the first page and the last.
const FLOW_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/o/oauth2/v2/auth", get(get_authorize).post(post_authorize))
        .route("/o/oauth2/auth", get(get_authorize).post(post_authorize))
}

async fn get_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    authorize(&state, &headers, Params::new(pairs)).await
}

/// OIDC Core §3.1.2.1: the endpoint also accepts the parameters as a form body.
async fn post_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = url::form_urlencoded::parse(&body).into_owned().collect();
    authorize(&state, &headers, Params::new(pairs)).await
}

async fn authorize(state: &AppState, headers: &HeaderMap, params: Params) -> Response {
    let mut new_cookie = None;
    let mut verified: Option<keyway_core::authorize::AuthorizationRequest> = None;
    let result = async {
        let client_id = params.client_id()?;
        let client = state.store.find_client(&client_id).await?.filter(|c| c.enabled).ok_or(Stop::Reject(Rejection::invalid_client()))?;
        let redirect_uri = params.redirect_uri(&client)?;
        let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if is_embedded_webview(user_agent) {
            return Err(Stop::Reject(Rejection::Page {
                status: 403,
                error: OAuthError::DisallowedUseragent,
                description: "This app opened the sign-in page in an embedded browser, which is not allowed. Open it in the system browser instead.".into(),
                detail: None,
            }));
        }
        let req = params.validate(&client, redirect_uri)?;
        verified = Some(req.clone());
        let known = state.store.find_scopes(&req.scopes).await?;
        let known: ScopeSet = known.into_iter().map(|s| s.scope).collect();
        let unknown = req.scopes.difference(&known);
        if !unknown.is_empty() {
            return Err(Stop::Reject(Rejection::Page {
                status: 400,
                error: OAuthError::InvalidScope,
                description: "Some requested scopes are not valid. Request only scopes from the catalogue.".into(),
                detail: Some(("invalid scopes", unknown.to_string())),
            }));
        }

        let session = match session::load(state, headers).await? {
            Some(s) => s,
            // prompt=none cannot sign anyone in; say so without starting a session.
            None if req.prompt.none => {
                return Err(Stop::Reject(keyway_core::authorize::redirect(&req, OAuthError::LoginRequired, "No user is signed in.")));
            }
            None => {
                let (s, cookie) = session::create(state).await?;
                new_cookie = Some(cookie);
                s
            }
        };
        // A signed-in browser whose grant already covers the request gets its code at once;
        // a flow is stored only when a page has to ask something.
        let page = match flow::decide(state, &session, &req, None).await? {
            Next::Code { account, project, grant } => {
                let code = CodeFor { req: &req, pending: None, project: &project, account, allowed: &req.scopes, consent_shown: false };
                return flow::issue_code(state, code, grant).await;
            }
            Next::Page(page) => page,
        };
        let handle = SecretKind::FlowHandle.generate();
        let request_json = serde_json::to_string(&req).map_err(|e| Stop::Store(keyway_core::StoreError::Internal(e.to_string())))?;
        let now = state.clock.now();
        state
            .store
            .insert_pending(
                NewPending {
                    handle_hash: handle_hash(handle.expose()),
                    csrf_hash: keyway_core::SecretHash::of(&csrf_token(&session.cookie, handle.expose())),
                    session_id: session.stored.id,
                    sub: page.account().map(|a| a.user.sub.clone()),
                    request_json,
                    expires_at: now + FLOW_LIFETIME,
                },
                now,
            )
            .await?;
        Ok(page.redirect(handle.expose()))
    }
    .await;
    let response = result.unwrap_or_else(|stop| match (stop, &verified) {
        // Once the redirect URI is verified, an internal failure goes back to the client as
        // server_error / temporarily_unavailable (RFC 6749 §4.1.2.1), logged once here.
        (Stop::Store(e), Some(req)) => {
            tracing::error!(error = %e, "store failure in the authorization endpoint");
            let error = match e {
                keyway_core::StoreError::Unavailable(_) => OAuthError::TemporarilyUnavailable,
                _ => OAuthError::ServerError,
            };
            respond(
                state,
                Stop::Reject(keyway_core::authorize::redirect(
                    req,
                    error,
                    "The authorization server failed; try again.",
                )),
            )
        }
        (stop, _) => respond(state, stop),
    });
    with_cookie(response, new_cookie)
}
