//! `POST|GET /revoke` (and `/o/oauth2/revoke`): revoking a token revokes its whole grant.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keyway_core::token::{self, AuthMethod, ClientCredentials, TokenResult};

use super::oauth::{Params, failure, json_error, no_store};
use crate::app::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/revoke", get(revoke_request).post(revoke_request))
        .route("/o/oauth2/revoke", get(revoke_request).post(revoke_request))
}

/// The guide's samples send the token in the body, the query (Node: an empty POST with
/// `?token=`), or a GET (oauth2client): all are read, and a token given twice is refused.
async fn revoke_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let mut params = match Params::from_body(&headers, &body) {
        Ok(p) => p,
        Err(e) => return json_error(&e, None),
    };
    params.extend(Params::from_query(query.unwrap_or_default().as_bytes()));
    let mut method = None;
    match revoke(&state, &headers, &params, &mut method).await {
        Ok(()) => no_store(().into_response()),
        Err(f) => failure(f, method),
    }
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    method: &mut Option<AuthMethod>,
) -> TokenResult<()> {
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.starts_with("Bearer "));
    // Client authentication is optional here (RFC 7009 §2.1 as Google runs it), but when
    // given it must be right, and it limits what can be revoked to the client's project.
    let caller = if authorization.is_some() || p.one("client_secret")?.is_some() {
        *method = authorization.map(|_| AuthMethod::Basic);
        let credentials = ClientCredentials::from_request(
            authorization,
            p.one("client_id")?,
            p.one("client_secret")?,
        )?;
        Some(token::authenticate_client(&*state.store, &credentials).await?)
    } else {
        None
    };
    token::revoke(
        &*state.store,
        &*state.clock,
        p.one("token")?,
        caller.as_ref(),
    )
    .await?;
    tracing::info!("revoked a grant");
    Ok(())
}
