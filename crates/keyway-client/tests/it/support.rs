//! A real Keyway (via keyway-testkit) plus a small gateway in front of it.
//!
//! The gateway plays two parts:
//!
//! - **The token endpoint as the client sees it.** The `client_secret.json` given to the
//!   library names `<gateway>/token` as `token_uri`, so every request the library makes to
//!   the token endpoint (and to `/revoke` and `/tokeninfo`, which it derives from the token
//!   URI's origin) passes through the gateway, which forwards it unchanged to Keyway. Before
//!   forwarding, it counts the `POST /token` bodies whose `grant_type` is `refresh_token`:
//!   that count is exactly the number of refresh requests that reached the server, which
//!   is what "N callers → one refresh" must be measured by (counting distinct tokens would
//!   miss a refresh whose result was overwritten).
//! - **A protected API** at `/api`: it checks the bearer token with Keyway's `/tokeninfo`
//!   and answers `401` with `WWW-Authenticate: Bearer error="invalid_token"` when Keyway
//!   says the token is invalid or expired (RFC 6750), `200` with the token info otherwise.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keyway_client::{AccessType, ClientSecrets, Credentials, Flow, PendingAuthorization};
use keyway_testkit::fixtures::{PASSWORD, REDIRECT_URI};
use keyway_testkit::flow::{FlowClient, hidden};
use keyway_testkit::{Fixture, TestApp};
use url::Url;

/// The scopes the tests ask for.
pub const DRIVE_FILE: &str = "https://www.googleapis.com/auth/drive.file";
pub const SCOPES: [&str; 3] = ["openid", "email", DRIVE_FILE];

/// A Keyway server with the fixture's project, client and user, and the gateway.
pub struct Env {
    pub app: TestApp,
    pub fx: Fixture,
    pub gateway: Url,
    pub counts: Arc<Counts>,
}

/// What the gateway saw.
#[derive(Default, Debug)]
pub struct Counts {
    /// `POST /token` with `grant_type=refresh_token`.
    pub refreshes: AtomicUsize,
    /// `POST /token` with `grant_type=authorization_code`.
    pub exchanges: AtomicUsize,
    /// `401` answers of `/api`.
    pub unauthorized: AtomicUsize,
}

impl Counts {
    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Gateway {
    keyway: Url,
    http: reqwest::Client,
    counts: Arc<Counts>,
}

impl Env {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let fx = Fixture::create(app.store()).await;
        let counts = Arc::new(Counts::default());
        let state = Gateway {
            keyway: app.base_url.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            counts: counts.clone(),
        };
        let router = Router::new()
            .route("/api", get(api))
            .fallback(forward)
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gateway");
        let gateway = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            app,
            fx,
            gateway,
            counts,
        }
    }

    /// The fixture client's client_secret.json, with the gateway as token endpoint.
    pub fn client_secret_json(&self) -> String {
        serde_json::json!({"web": {
            "client_id": self.fx.client.client_id.as_str(),
            "project_id": "photo-print",
            "auth_uri": self.app.url("/o/oauth2/v2/auth").as_str(),
            "token_uri": self.gateway.join("/token").unwrap().as_str(),
            "auth_provider_x509_cert_url": self.app.url("/oauth2/v1/certs").as_str(),
            "client_secret": self.fx.secret.expose(),
            "redirect_uris": [REDIRECT_URI, "http://localhost:8080/oauth2callback"],
            "javascript_origins": [],
        }})
        .to_string()
    }

    pub fn flow(&self) -> Flow {
        let secrets = ClientSecrets::from_json(&self.client_secret_json()).expect("secrets");
        Flow::new(secrets, SCOPES).expect("flow")
    }

    /// Runs the user's side of the flow for `url` (a fresh browser each time), allowing or
    /// cancelling on the consent page, and returns the callback's query string.
    pub async fn browse(&self, url: &Url, allow: bool) -> String {
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let browser = FlowClient::new(self.app.base_url.clone());
        let params = if allow {
            browser
                .authorize(&path, self.fx.user.email.as_str(), PASSWORD)
                .await
                .expect("HTTP")
        } else {
            cancel(&browser, &path, self.fx.user.email.as_str()).await
        };
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            q.append_pair(k, v);
        }
        q.finish()
    }

    /// An offline authorization of [`SCOPES`], start to finish.
    pub async fn sign_in(&self) -> Credentials {
        let flow = self.flow();
        let (url, pending) = self.start(&flow);
        let callback = self.browse(&url, true).await;
        flow.exchange(&pending, &callback).await.expect("exchange")
    }

    pub fn start(&self, flow: &Flow) -> (Url, PendingAuthorization) {
        flow.authorization_url()
            .access_type(AccessType::Offline)
            .build()
            .expect("authorization URL")
    }

    /// The protected API's URL.
    pub fn api(&self) -> Url {
        self.gateway.join("/api").unwrap()
    }
}

/// Signs in, then presses Cancel on the consent page.
async fn cancel(browser: &FlowClient, path: &str, email: &str) -> HashMap<String, String> {
    let url = |p: &str| browser.base_url.join(p).unwrap();
    let location = |r: &reqwest::Response| {
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        browser.base_url.join(&loc).unwrap()
    };
    let mut r = browser.http.get(url(path)).send().await.unwrap();
    for _ in 0..6 {
        assert_eq!(r.status(), 303);
        let next = location(&r);
        if next.origin() != browser.base_url.origin() {
            return next.query_pairs().into_owned().collect();
        }
        let html = browser.http.get(next.clone()).send().await.unwrap();
        let html = html.text().await.unwrap();
        let (req, csrf) = (hidden(&html, "req"), hidden(&html, "csrf"));
        let form: Vec<(&str, String)> = match next.path() {
            "/signin" => vec![
                ("req", req),
                ("csrf", csrf),
                ("email", email.to_owned()),
                ("password", PASSWORD.to_owned()),
            ],
            "/consent" => vec![("req", req), ("csrf", csrf), ("action", "cancel".into())],
            other => panic!("unexpected page {other}"),
        };
        r = browser
            .http
            .post(url(next.path()))
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    panic!("the flow did not leave the server");
}

/// Forwards any request to Keyway, counting token grants on the way.
async fn forward(State(gw): State<Gateway>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    if parts.uri.path() == "/token" {
        let grant = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned());
        match grant.as_deref() {
            Some("refresh_token") => gw.counts.refreshes.fetch_add(1, Ordering::SeqCst),
            Some("authorization_code") => gw.counts.exchanges.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
    }
    let target = gw
        .keyway
        .join(&parts.uri.to_string())
        .expect("a valid path");
    let mut upstream = gw.http.request(parts.method.clone(), target).body(body);
    for name in [header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT] {
        if let Some(v) = parts.headers.get(&name) {
            upstream = upstream.header(name, v);
        }
    }
    relay(upstream.send().await.expect("Keyway answers")).await
}

async fn relay(r: reqwest::Response) -> Response {
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    let content_type = r.headers().get(header::CONTENT_TYPE).cloned();
    let body: Bytes = r.bytes().await.unwrap_or_default();
    let mut response = (status, Body::from(body)).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

/// A resource server: valid token → 200 with its token info; else 401.
async fn api(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let info = gw
        .http
        .post(gw.keyway.join("/tokeninfo").unwrap())
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .expect("Keyway answers");
    if info.status().is_success() {
        let mut body: serde_json::Value = info.json().await.unwrap();
        body["token"] = token.into();
        (StatusCode::OK, axum::Json(body)).into_response()
    } else {
        gw.counts.unauthorized.fetch_add(1, Ordering::SeqCst);
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        r
    }
}
