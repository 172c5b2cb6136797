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

impl TestApp {
    fn location(&self, r: &reqwest::Response) -> Url {
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("a Location header");
        self.base_url.join(loc).expect("a valid Location")
    }

    /// Follows the flow from `path` (signing in as `email` when asked, allowing every scope
    /// on consent) to the redirect URI, and returns its query parameters.
    pub async fn authorize(&self, path: &str, email: &str) -> HashMap<String, String> {
        let mut r = self.get(path).await;
        for _ in 0..6 {
            assert_eq!(r.status(), 303, "expected a redirect, got {}", r.status());
            let next = self.location(&r);
            if next.as_str().starts_with(REDIRECT_URI) {
                return next.query_pairs().into_owned().collect();
            }
            let html = self
                .http
                .get(next.clone())
                .send()
                .await
                .expect("GET page")
                .text()
                .await
                .expect("page");
            let (req, csrf) = (hidden(&html, "req"), hidden(&html, "csrf"));
            r = match next.path() {
                "/signin" => {
                    let form = [
                        ("req", req),
                        ("csrf", csrf),
                        ("email", email.to_owned()),
                        ("password", PASSWORD.to_owned()),
                    ];
                    self.http
                        .post(self.url("/signin"))
                        .form(&form)
                        .send()
                        .await
                        .expect("POST /signin")
                }
                "/consent" => {
                    // Allow every scope the page offers.
                    let mut body = url::form_urlencoded::Serializer::new(String::new());
                    body.append_pair("req", &req)
                        .append_pair("csrf", &csrf)
                        .append_pair("action", "allow");
                    for scope in html
                        .split("name=\"scope\" value=\"")
                        .skip(1)
                        .filter_map(|s| s.split('"').next())
                    {
                        body.append_pair("scope", scope);
                    }
                    self.http
                        .post(self.url("/consent"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.finish())
                        .send()
                        .await
                        .expect("POST /consent")
                }
                other => panic!("unexpected page {other}"),
            };
        }
        panic!("the flow did not end at the redirect URI");
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
