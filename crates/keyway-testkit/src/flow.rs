//! Driving the authorization flow over HTTP, as a browser would, to obtain codes for tests of
//! the token side.

use std::collections::HashMap;

use url::Url;

use crate::app::TestApp;
use crate::fixtures::{Fixture, PASSWORD, REDIRECT_URI};

/// The value of a hidden form field in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `/o/oauth2/v2/auth?…` for the fixture's client with `scope` and extra parameters.
pub fn auth_path(fx: &Fixture, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("client_id", fx.client.client_id.as_str())
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "xyz");
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    format!("/o/oauth2/v2/auth?{}", s.finish())
}

/// A cookie-keeping HTTP client that walks the flow's pages like a browser, against any
/// Keyway (an in-process `TestApp` or a `keyway serve` process).
#[derive(Debug, Clone)]
pub struct FlowClient {
    /// The client (cookies kept, redirects not followed).
    pub http: reqwest::Client,
    /// The server's base URL.
    pub base_url: Url,
}

impl FlowClient {
    /// A fresh browser-like client for `base_url`.
    pub fn new(base_url: Url) -> Self {
        crate::app::install_crypto_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("HTTP client");
        Self { http, base_url }
    }

    fn location(&self, r: &reqwest::Response) -> Url {
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("a Location header");
        self.base_url.join(loc).expect("a valid Location")
    }

    /// Follows the flow from `path` (signing in as `email` with `password` when asked,
    /// allowing every scope on consent) to a redirect outside the server, and returns that
    /// URL's query parameters.
    pub async fn authorize(
        &self,
        path: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Result<HashMap<String, String>> {
        let url = |p: &str| self.base_url.join(p).expect("valid path");
        let mut r = self.http.get(url(path)).send().await?;
        for _ in 0..6 {
            assert_eq!(r.status(), 303, "expected a redirect, got {}", r.status());
            let next = self.location(&r);
            if next.origin() != self.base_url.origin() {
                return Ok(next.query_pairs().into_owned().collect());
            }
            let html = self.http.get(next.clone()).send().await?.text().await?;
            let (req, csrf) = (hidden(&html, "req"), hidden(&html, "csrf"));
            r = match next.path() {
                "/signin" => {
                    let form = [
                        ("req", req),
                        ("csrf", csrf),
                        ("email", email.to_owned()),
                        ("password", password.to_owned()),
                    ];
                    self.http.post(url("/signin")).form(&form).send().await?
                }
                "/consent" => {
                    // Allow every scope the page offers.
                    let body = {
                        let mut b = url::form_urlencoded::Serializer::new(String::new());
                        b.append_pair("req", &req)
                            .append_pair("csrf", &csrf)
                            .append_pair("action", "allow");
                        for scope in html
                            .split("name=\"scope\" value=\"")
                            .skip(1)
                            .filter_map(|s| s.split('"').next())
                        {
                            b.append_pair("scope", scope);
                        }
                        b.finish()
                    };
                    self.http
                        .post(url("/consent"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body)
                        .send()
                        .await?
                }
                other => panic!("unexpected page {other}"),
            };
        }
        panic!("the flow did not leave the server");
    }
}

impl TestApp {
    /// Follows the flow from `path` as [`FlowClient::authorize`] does, with this app's
    /// cookie jar and the fixtures' password.
    pub async fn authorize(&self, path: &str, email: &str) -> HashMap<String, String> {
        let flow = FlowClient {
            http: self.http.clone(),
            base_url: self.base_url.clone(),
        };
        flow.authorize(path, email, PASSWORD).await.expect("HTTP")
    }

    /// A fresh authorization code for `scope` (and extra parameters), signed in as the
    /// fixture's user.
    pub async fn code(&self, fx: &Fixture, scope: &str, extra: &[(&str, &str)]) -> String {
        let q = self
            .authorize(&auth_path(fx, scope, extra), fx.user.email.as_str())
            .await;
        q.get("code")
            .cloned()
            .unwrap_or_else(|| panic!("no code: {q:?}"))
    }

    /// `POST /token` with a form body.
    pub async fn post_token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .expect("POST /token")
    }
}
