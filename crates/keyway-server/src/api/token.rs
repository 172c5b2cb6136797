//! `POST /token` (and `/o/oauth2/token`, `/oauth2/v4/token`, `/oauth2/v3/token`): the
//! `authorization_code` and `refresh_token` grants.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::Response;
use axum::routing::post;
use keyway_core::OAuthError;
use keyway_core::token::{
    self, AuthMethod, ClientCredentials, CodeParams, TokenError, TokenResponse, TokenResult,
};

use super::oauth::{Params, failure, json_error, json_ok};
use crate::app::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(post_token))
        .route("/o/oauth2/token", post(post_token))
        .route("/oauth2/v4/token", post(post_token))
        .route("/oauth2/v3/token", post(post_token))
}

async fn post_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    // Secrets in a URL end up in logs and histories: refuse them outright (OAuch IsAuthInUriAllowed).
    if Params::from_query(query.unwrap_or_default().as_bytes()).has("client_secret") {
        let e = TokenError::new(
            OAuthError::InvalidRequest,
            "client_secret must not be sent in the URL.",
        );
        return json_error(&e, None);
    }
    let params = match Params::from_body(&headers, &body) {
        Ok(p) => p,
        Err(e) => return json_error(&e, None),
    };
    let mut method = None;
    match grant(&state, &headers, &params, &mut method).await {
        Ok(response) => json_ok(&response),
        Err(f) => failure(f, method),
    }
}

async fn grant(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    method: &mut Option<AuthMethod>,
) -> TokenResult<TokenResponse> {
    let grant_type = p.one("grant_type")?.ok_or_else(|| {
        TokenError::new(
            OAuthError::InvalidRequest,
            "Missing required parameter: grant_type",
        )
    })?;
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let credentials = ClientCredentials::from_request(
        authorization,
        p.one("client_id")?,
        p.one("client_secret")?,
    );
    if authorization.is_some() {
        *method = Some(AuthMethod::Basic);
    }
    let credentials = credentials?;
    let client = token::authenticate_client(&*state.store, &credentials).await?;
    let settings = state.token_settings();
    let (store, clock) = (&*state.store, &*state.clock);
    match grant_type {
        "authorization_code" => {
            let params = CodeParams {
                code: p.one("code")?,
                redirect_uri: p.one("redirect_uri")?,
                code_verifier: p.one("code_verifier")?,
            };
            token::exchange_code(store, clock, &settings, &client, params).await
        }
        "refresh_token" => {
            token::refresh(
                store,
                clock,
                &settings,
                &client,
                p.one("refresh_token")?,
                p.one("scope")?,
            )
            .await
        }
        _ => Err(TokenError::new(
            OAuthError::UnsupportedGrantType,
            "Use authorization_code or refresh_token.",
        )
        .into()),
    }
}
