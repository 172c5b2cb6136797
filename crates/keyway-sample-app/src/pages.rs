//! The handlers: `/`, `/test`, `/authorize`, `/oauth2callback`, `/revoke`, `/clear`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use keyway_client::{AccessType, AuthorizedClient, Error, TokenStore};

use crate::App;
use crate::session::{COOKIE, key, new_session_id, session_of};

/// The routes of the app.
pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(index))
        .route("/test", get(test_api))
        .route("/authorize", get(authorize))
        .route("/oauth2callback", get(oauth2callback))
        .route("/revoke", get(revoke))
        .route("/clear", get(clear))
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; line-height: 1.5\">{body}</body></html>"
    );
    Html(html).into_response()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index() -> Response {
    page(
        "Keyway sample app",
        "<h1>Keyway sample app</h1><table>\
         <tr><td><a href=\"/test\">Test an API request</a></td><td>Calls the Drive API's file list with the stored credentials. \
         Without credentials, it first sends you through the authorization flow.</td></tr>\
         <tr><td><a href=\"/authorize\">Test the auth flow directly</a></td><td>Goes straight to the authorization flow: sign in, \
         consent, and come back here with new credentials.</td></tr>\
         <tr><td><a href=\"/revoke\">Revoke current credentials</a></td><td>Revokes the stored credentials at the authorization \
         server. After this, the next API request needs a new authorization.</td></tr>\
         <tr><td><a href=\"/clear\">Clear session credentials</a></td><td>Forgets the stored credentials without revoking them. \
         If you authorized before, authorizing again will not ask for consent.</td></tr></table>",
    )
}

/// The session id, creating one (and its `Set-Cookie`) when the browser has none.
fn ensure_session(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match session_of(headers) {
        Some(s) => (s, None),
        None => {
            let s = new_session_id();
            let cookie =
                HeaderValue::from_str(&format!("{COOKIE}={s}; Path=/; HttpOnly; SameSite=Lax"))
                    .ok();
            (s, cookie)
        }
    }
}

fn with_cookie(mut r: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        r.headers_mut().append(SET_COOKIE, c);
    }
    r
}

async fn test_api(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(session) = session_of(&headers) else {
        return redirect("/authorize");
    };
    let k = key(
        &app.flow.client_secrets().client_id,
        &session,
        &app.settings.scopes,
    );
    let store = app.sessions.store();
    let credentials = match store.load(&k).await {
        Ok(Some(c)) => c,
        Ok(None) => return redirect("/authorize"),
        Err(e) => return failure(&e),
    };
    let client = match AuthorizedClient::new(credentials) {
        Ok(c) => c.with_store(store, k),
        Err(e) => return failure(&e),
    };
    let url = format!(
        "{}/drive/v3/files",
        app.settings.api_base.trim_end_matches('/')
    );
    match client.get(&url).await {
        Ok(r) if r.status().is_success() => {
            let body = r.text().await.unwrap_or_default();
            ([(CONTENT_TYPE, "application/json")], body).into_response()
        }
        Ok(r) if r.status() == StatusCode::UNAUTHORIZED || r.status() == StatusCode::FORBIDDEN => {
            redirect("/authorize")
        }
        Ok(r) => page(
            "API error",
            &format!(
                "<p>The API answered {}.</p><p><a href=\"/\">Back</a></p>",
                r.status()
            ),
        ),
        Err(Error::ConsentRequired { .. }) => redirect("/authorize"),
        Err(e) => failure(&e),
    }
}

async fn authorize(State(app): State<App>, headers: HeaderMap) -> Response {
    let (session, cookie) = ensure_session(&headers);
    let built = app
        .flow
        .authorization_url()
        .access_type(AccessType::Offline)
        .include_granted_scopes(true)
        .build();
    match built {
        Ok((url, pending)) => {
            app.sessions.put_pending(&session, pending);
            with_cookie(redirect(url.as_str()), cookie)
        }
        Err(e) => failure(&e),
    }
}

async fn oauth2callback(
    State(app): State<App>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(session) = session_of(&headers) else {
        return page(
            "No session",
            "<p>This browser has no session with the app. <a href=\"/authorize\">Start again</a>.</p>",
        );
    };
    let Some(pending) = app.sessions.take_pending(&session) else {
        return page(
            "No pending authorization",
            "<p>Nothing is waiting for a callback. <a href=\"/authorize\">Start again</a>.</p>",
        );
    };
    let query = query.unwrap_or_default();
    let credentials = match app.flow.exchange(&pending, &query).await {
        Ok(c) => c,
        Err(Error::AccessDenied { .. }) => {
            return page(
                "Access denied",
                "<p>You did not allow access. <a href=\"/\">Back</a></p>",
            );
        }
        Err(e) => return failure(&e),
    };
    let k = key(
        &app.flow.client_secrets().client_id,
        &session,
        &app.settings.scopes,
    );
    if let Err(e) = app.sessions.store().save(&k, &credentials).await {
        return failure(&e);
    }
    // Leave the callback URL (and its code) behind: the next page has a clean address.
    redirect("/test")
}

async fn revoke(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(session) = session_of(&headers) else {
        return page(
            "Nothing to revoke",
            "<p>You need to <a href=\"/authorize\">authorize</a> before revoking credentials.</p>",
        );
    };
    let k = key(
        &app.flow.client_secrets().client_id,
        &session,
        &app.settings.scopes,
    );
    let store = app.sessions.store();
    let mut credentials = match store.load(&k).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return page(
                "Nothing to revoke",
                "<p>You need to <a href=\"/authorize\">authorize</a> before revoking credentials.</p>",
            );
        }
        Err(e) => return failure(&e),
    };
    let http = match keyway_client::default_http_client() {
        Ok(h) => h,
        Err(e) => return failure(&e),
    };
    let revoked = credentials.revoke(&http).await;
    let _ = store.delete(&k).await;
    match revoked {
        Ok(()) => page(
            "Revoked",
            "<p>Credentials successfully revoked.</p><p><a href=\"/\">Back</a></p>",
        ),
        Err(e) => page(
            "Revoke failed",
            &format!(
                "<p>An error occurred: {}</p><p><a href=\"/\">Back</a></p>",
                escape(&e.to_string())
            ),
        ),
    }
}

async fn clear(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(session) = session_of(&headers) {
        let k = key(
            &app.flow.client_secrets().client_id,
            &session,
            &app.settings.scopes,
        );
        let _ = app.sessions.store().delete(&k).await;
    }
    page(
        "Cleared",
        "<p>Credentials have been cleared.</p><p><a href=\"/\">Back</a></p>",
    )
}

fn failure(e: &Error) -> Response {
    tracing::warn!(error = %e, "sample app request failed");
    let mut r = page(
        "Error",
        &format!(
            "<p>Something went wrong: {}</p><p><a href=\"/\">Back</a></p>",
            escape(&e.to_string())
        ),
    );
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}
