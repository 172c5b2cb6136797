//! The pages of the flow: the authorization endpoint, sign-in, account chooser, consent, the
//! unverified-app warning and sign-out. Every response here carries the headers that keep
//! the pages out of frames, caches and referrers.

mod authorize;
mod chooser;
mod consent;
mod flow;
mod session;
mod signin;
pub mod views;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// Content-Security-Policy of every page: nothing but our own stylesheet (and an https logo),
/// no scripts at all, and no framing by anyone.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https:; frame-ancestors 'none'; base-uri 'none'";

/// The routes of this module, with the page headers applied.
pub fn router() -> Router<AppState> {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ];
    let mut router = Router::new()
        .merge(authorize::router())
        .merge(signin::router())
        .merge(chooser::router())
        .merge(consent::router())
        .route("/static/keyway.css", get(get_stylesheet));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

async fn get_stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        views::STYLESHEET,
    )
}
