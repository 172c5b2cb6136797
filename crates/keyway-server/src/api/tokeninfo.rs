//! `GET|POST /tokeninfo` (and `/oauth2/v3/tokeninfo`) in Google's shape, `/oauth2/v1/tokeninfo`
//! in the legacy v1 shape, and `POST /introspect` (RFC 7662).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::Response;
use axum::routing::{get, post};
use keyway_core::OAuthError;
use keyway_core::token::{self, AuthMethod, ClientCredentials, TokenError, TokenInfo, TokenResult};
use serde::Serialize;

use super::oauth::{Params, failure, json_error, json_ok};
use crate::app::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokeninfo", get(get_tokeninfo).post(get_tokeninfo))
        .route(
            "/oauth2/v3/tokeninfo",
            get(get_tokeninfo).post(get_tokeninfo),
        )
        .route(
            "/oauth2/v1/tokeninfo",
            get(get_tokeninfo_v1).post(get_tokeninfo_v1),
        )
        .route("/introspect", post(post_introspect))
}

/// Reads the token from `access_token` (query or body) or a Bearer header.
async fn info(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
    body: &Bytes,
) -> TokenResult<TokenInfo> {
    let mut p = Params::from_body(headers, body)?;
    p.extend(Params::from_query(query.unwrap_or_default().as_bytes()));
    if p.one("id_token")?.is_some() {
        // ID tokens come with OpenID Connect.
        return Err(TokenError::new(OAuthError::InvalidToken, "Invalid Value").into());
    }
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let token = p.one("access_token")?.or(bearer);
    token::token_info(&*state.store, &*state.clock, token).await
}

async fn get_tokeninfo(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match info(&state, &headers, query, &body).await {
        Ok(i) => json_ok(&i),
        Err(f) => failure(f, None),
    }
}

/// The legacy v1 shape some older clients read.
#[derive(Serialize)]
struct TokenInfoV1 {
    issued_to: String,
    audience: String,
    user_id: String,
    scope: String,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_email: Option<bool>,
    access_type: String,
}

async fn get_tokeninfo_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match info(&state, &headers, query, &body).await {
        Ok(i) => json_ok(&TokenInfoV1 {
            issued_to: i.azp,
            audience: i.aud,
            user_id: i.sub,
            scope: i.scope,
            expires_in: i.expires_in.parse().unwrap_or(0),
            verified_email: i.email_verified.as_deref().map(|v| v == "true"),
            email: i.email,
            access_type: i.access_type,
        }),
        Err(f) => failure(f, None),
    }
}

async fn post_introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = match Params::from_body(&headers, &body) {
        Ok(p) => p,
        Err(e) => return json_error(&e, None),
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let method = authorization.map(|_| AuthMethod::Basic);
    let result = async {
        let credentials = ClientCredentials::from_request(
            authorization,
            p.one("client_id")?,
            p.one("client_secret")?,
        )?;
        let caller = token::authenticate_client(&*state.store, &credentials).await?;
        token::introspect(&*state.store, &*state.clock, &caller, p.one("token")?).await
    }
    .await;
    match result {
        Ok(i) => json_ok(&i),
        Err(f) => failure(f, method),
    }
}
