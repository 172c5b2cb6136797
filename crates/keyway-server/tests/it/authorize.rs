//! The authorization endpoint and the pages of the flow, over real HTTP (SECURITY-TESTS
//! table A, SPEC "Authorization endpoint" and "Grants").

use std::collections::HashMap;
use std::time::Duration;

use keyway_core::console::AudienceInput;
use keyway_core::project::Verification;
use keyway_core::{Clock, SecretHash, Store};
use keyway_testkit::fixtures::{PASSWORD, REDIRECT_URI, add_user};
use keyway_testkit::{Fixture, TestApp, TestStore};
use reqwest::{Response, StatusCode};
use url::Url;

const DRIVE_FILE: &str = "https://www.googleapis.com/auth/drive.file";
const YOUTUBE: &str = "https://www.googleapis.com/auth/youtube.readonly";

/// Extra parameters of a request, and the error code they must produce.
type Case<'a> = (Vec<(&'a str, Option<&'a str>)>, &'a str);

async fn setup() -> (TestApp, Fixture) {
    let app = TestApp::spawn().await;
    let fx = Fixture::create(app.store()).await;
    (app, fx)
}

/// `/o/oauth2/v2/auth?` with the fixture's client and redirect URI, `response_type=code`,
/// `scope=openid email`, `state=xyz`, then `extra` (a `None` value removes a default).
fn auth_path(fx: &Fixture, extra: &[(&str, Option<&str>)]) -> String {
    let mut params: Vec<(String, String)> = vec![
        ("client_id".into(), fx.client.client_id.to_string()),
        ("redirect_uri".into(), REDIRECT_URI.into()),
        ("response_type".into(), "code".into()),
        ("scope".into(), "openid email".into()),
        ("state".into(), "xyz".into()),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if let Some(v) = v {
            params.push(((*k).into(), (*v).into()));
        }
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        s.append_pair(k, v);
    }
    format!("/o/oauth2/v2/auth?{}", s.finish())
}

fn location(app: &TestApp, r: &Response) -> Url {
    let loc = r
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", r.status()))
        .to_str()
        .unwrap();
    app.base_url.join(loc).unwrap()
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Asserts an error page: status, "Error NNN: code", no redirect.
async fn assert_page(r: Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert!(
        r.headers().get("location").is_none(),
        "error pages never redirect"
    );
    assert_page_headers(&r);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("Error {status}: {code}")), "{body}");
    body
}

fn assert_page_headers(r: &Response) {
    let h = r.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["pragma"], "no-cache");
    assert!(h.get("access-control-allow-origin").is_none());
}

/// Asserts an error redirect to the client: `error`, `state`, `iss`, and no `code`.
fn assert_redirect_error(app: &TestApp, r: &Response, error: &str) -> HashMap<String, String> {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = location(app, r);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    let q = query(&url);
    assert_eq!(q.get("error").map(String::as_str), Some(error), "{url}");
    assert_eq!(q.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(app.base_url.as_str().trim_end_matches('/'))
    );
    assert!(!q.contains_key("code"));
    let d = q.get("error_description").cloned().unwrap_or_default();
    assert!(
        d.chars()
            .all(|c| matches!(c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
        "{d:?}"
    );
    q
}

/// Follows the flow from an authorization URL through sign-in as `email` to whatever page
/// or redirect comes after it.
async fn start_and_sign_in(app: &TestApp, path: &str, email: &str) -> Response {
    let r = app.get(path).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let signin = location(app, &r);
    assert_eq!(signin.path(), "/signin");
    let page = app.http.get(signin).send().await.unwrap();
    assert_page_headers(&page);
    let html = page.text().await.unwrap();
    submit_sign_in(app, &html, email, PASSWORD).await
}

async fn submit_sign_in(app: &TestApp, html: &str, email: &str, password: &str) -> Response {
    let form = [
        ("req", hidden(html, "req")),
        ("csrf", hidden(html, "csrf")),
        ("email", email.into()),
        ("password", password.into()),
    ];
    app.http
        .post(app.url("/signin"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// On the consent page at `r`'s Location: submit `action` with the ticked `scopes`.
async fn consent(app: &TestApp, r: &Response, action: &str, ticked: &[&str]) -> (String, Response) {
    let url = location(app, r);
    assert_eq!(url.path(), "/consent", "{url}");
    let html = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("req", &hidden(&html, "req"))
        .append_pair("csrf", &hidden(&html, "csrf"))
        .append_pair("action", action);
    for s in ticked {
        body.append_pair("scope", s);
    }
    let resp = app
        .http
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.finish())
        .send()
        .await
        .unwrap();
    (html, resp)
}

/// Asserts a successful redirect and returns its parameters.
async fn assert_code(app: &TestApp, r: &Response, store: &dyn Store) -> HashMap<String, String> {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = location(app, r);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    let q = query(&url);
    assert_eq!(q.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(app.base_url.as_str().trim_end_matches('/'))
    );
    let code = q.get("code").expect("a code");
    assert!(code.starts_with("kwac_"));
    let stored = store
        .find_code(&SecretHash::of(code))
        .await
        .unwrap()
        .expect("stored by hash");
    assert_eq!(
        stored.scopes.to_string(),
        q["scope"],
        "the code grants what the redirect says"
    );
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_before_the_redirect_uri_is_verified_are_pages() {
    let (app, fx) = setup().await;
    let id = fx.client.client_id.to_string();
    // A1, A2: missing and unknown client.
    assert_page(
        app.get(&auth_path(&fx, &[("client_id", None)])).await,
        400,
        "invalid_request",
    )
    .await;
    assert_page(
        app.get(&auth_path(
            &fx,
            &[("client_id", Some("nope.apps.keyway.test"))],
        ))
        .await,
        401,
        "invalid_client",
    )
    .await;
    // A3: every mutation of the registered URI is a mismatch page naming what was sent.
    for bad in [
        "https://app.example.com/oauth2callback/extra",
        "https://app.example.com/oauth2callback?foo=bar",
        "https://app.example.com/oauth2callback/",
        "https://APP.example.com/oauth2callback",
        "HTTPS://app.example.com/oauth2callback",
        "https://app.example.com:443/oauth2callback",
        "https://app.example.com/OAuth2callback",
        "https://evil.example.com/oauth2callback",
        "https://app.example.com/oauth2callback#x",
    ] {
        let body = assert_page(
            app.get(&auth_path(&fx, &[("redirect_uri", Some(bad))]))
                .await,
            400,
            "redirect_uri_mismatch",
        )
        .await;
        assert!(
            body.contains(&bad.replace('&', "&amp;")),
            "the page shows the URI sent: {bad}"
        );
    }
    // A4/A5: missing; A7: repeated.
    assert_page(
        app.get(&auth_path(&fx, &[("redirect_uri", None)])).await,
        400,
        "redirect_uri_mismatch",
    )
    .await;
    let twice = format!(
        "{}&redirect_uri={}",
        auth_path(&fx, &[]),
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    assert_page(app.get(&twice).await, 400, "invalid_request").await;
    let twice_client = format!("{}&client_id={id}", auth_path(&fx, &[]));
    assert_page(app.get(&twice_client).await, 400, "invalid_request").await;
    // A disabled client is unknown to the endpoint.
    app.store()
        .update_client(
            &fx.client.client_id,
            keyway_core::client::ClientUpdate {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_page(app.get(&auth_path(&fx, &[])).await, 401, "invalid_client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_pages_and_unsupported_response_types_redirect() {
    let (app, fx) = setup().await;
    let a43 = "a".repeat(43);
    let pages: Vec<Case<'_>> = vec![
        (vec![("response_type", None)], "invalid_request"), // A8
        (vec![("scope", None)], "invalid_request"),         // A10
        (vec![("scope", Some(""))], "invalid_request"),
        (
            vec![("scope", Some("openid no.such.scope"))],
            "invalid_scope",
        ), // unknown scope
        (vec![("scope", Some("openid bad\"scope"))], "invalid_scope"),
        (vec![("prompt", Some("none consent"))], "invalid_request"), // A25
        (vec![("prompt", Some("login"))], "invalid_request"),        // A26
        (vec![("prompt", Some("Consent"))], "invalid_request"),      // case-sensitive
        (
            vec![
                ("approval_prompt", Some("force")),
                ("prompt", Some("consent")),
            ],
            "invalid_request",
        ),
        (vec![("access_type", Some("forever"))], "invalid_request"), // A31
        (
            vec![("include_granted_scopes", Some("yes"))],
            "invalid_request",
        ),
        (
            vec![("enable_granular_consent", Some("1"))],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", Some(a43.as_str())),
                ("code_challenge_method", Some("S512")),
            ],
            "invalid_request",
        ), // A19
        (
            vec![("code_challenge_method", Some("S256"))],
            "invalid_request",
        ),
        (vec![("code_challenge", Some("short"))], "invalid_request"),
    ];
    for (extra, code) in pages {
        let r = app.get(&auth_path(&fx, &extra)).await;
        assert_page(r, 400, code).await;
    }
    let long_state = "s".repeat(3000); // A32
    assert_page(
        app.get(&auth_path(&fx, &[("state", Some(&long_state))]))
            .await,
        400,
        "invalid_request",
    )
    .await;
    let long_hint = "h".repeat(1000);
    assert_page(
        app.get(&auth_path(&fx, &[("login_hint", Some(&long_hint))]))
            .await,
        400,
        "invalid_request",
    )
    .await;
    // A12: repeated state or scope.
    for dup in ["&state=again", "&scope=email", "&response_type=code"] {
        assert_page(
            app.get(&format!("{}{dup}", auth_path(&fx, &[]))).await,
            400,
            "invalid_request",
        )
        .await;
    }
    // A9: other response types go back to the (verified) client.
    for rt in ["token", "id_token", "code token", "unknown"] {
        let r = app
            .get(&auth_path(&fx, &[("response_type", Some(rt))]))
            .await;
        assert_page_headers(&r);
        assert_redirect_error(&app, &r, "unsupported_response_type");
    }
    // Embedded web views are refused.
    let wv = "Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0 Mobile Safari/537.36";
    let r = app
        .http
        .get(app.url(&auth_path(&fx, &[])))
        .header("user-agent", wv)
        .send()
        .await
        .unwrap();
    assert_page(r, 403, "disallowed_useragent").await;
    let ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
    let r = app
        .http
        .get(app.url(&auth_path(&fx, &[])))
        .header("user-agent", ios)
        .send()
        .await
        .unwrap();
    assert_page(r, 403, "disallowed_useragent").await;
    // Nothing was stored for any of these.
    assert!(
        app.store()
            .find_grant(&fx.user.sub, &fx.project.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_consent_and_code() {
    let (app, fx) = setup().await;
    // A13, A29: unknown and extra parameters are ignored; the POST form of the endpoint works.
    let path = auth_path(
        &fx,
        &[
            ("extra", Some("foobar")),
            ("hd", Some("example.com")),
            (
                "scope",
                Some(&format!("openid email {DRIVE_FILE} {YOUTUBE}")),
            ),
        ],
    );
    let first = app.get(&path).await;
    assert_page_headers(&first);
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && !set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    let before = set_cookie.split(';').next().unwrap().to_owned();
    let signin = location(&app, &first);
    let html = app
        .http
        .get(signin.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<label for=\"email\">Email</label>") && html.contains("Next"));

    // Wrong password and unknown email: the same message.
    let wrong = submit_sign_in(&app, &html, "ada@example.com", "not the password")
        .await
        .text()
        .await
        .unwrap();
    let unknown = submit_sign_in(&app, &html, "nobody@example.com", "not the password")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        wrong.contains("Wrong email or password") && unknown.contains("Wrong email or password")
    );
    // A form without the CSRF token of this browser and flow is refused.
    let forged = [
        ("req", hidden(&html, "req")),
        ("csrf", "forged".into()),
        ("email", "ada@example.com".into()),
        ("password", PASSWORD.into()),
    ];
    assert_eq!(
        app.http
            .post(app.url("/signin"))
            .form(&forged)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let after = submit_sign_in(&app, &html, "ada@example.com", PASSWORD).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let rotated = after.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, before, "a new session id at sign-in");
    // The pre-sign-in cookie is worth nothing now (session fixation).
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = stale
        .get(app.url(&auth_path(&fx, &[("prompt", Some("none"))])))
        .header("cookie", &before)
        .send()
        .await
        .unwrap();
    assert_redirect_error(&app, &r, "login_required");

    // Consent: one checkbox per optional scope; untick YouTube.
    let (page, done) = consent(&app, &after, "allow", &[DRIVE_FILE]).await;
    assert!(page.contains("Photo Print") && page.contains("ada@example.com"));
    assert!(
        page.contains(&format!("value=\"{DRIVE_FILE}\"")) && page.contains("type=\"checkbox\"")
    );
    let q = assert_code(&app, &done, app.store()).await;
    assert_eq!(q["scope"], format!("email {DRIVE_FILE} openid"));
    assert_eq!(q["authuser"], "0");
    assert_eq!(q["prompt"], "consent");
    let grant = app
        .store()
        .find_grant(&fx.user.sub, &fx.project.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !grant.scopes.contains(YOUTUBE),
        "the unticked scope is not granted"
    );

    // The same request again: consent is skipped, the code says prompt=none. The code comes
    // straight from the authorization endpoint: no pending flow is stored, and a grant used
    // within the last minute is not written again.
    let pending_before = pending_rows(&app);
    app.clock.advance(Duration::from_secs(59));
    let again = app
        .get(&auth_path(
            &fx,
            &[("scope", Some(&format!("openid {DRIVE_FILE}")))],
        ))
        .await;
    let q = assert_code(&app, &again, app.store()).await;
    assert_eq!(q["prompt"], "none");
    assert_eq!(q["scope"], format!("{DRIVE_FILE} openid"));
    assert_eq!(pending_rows(&app), pending_before, "no pending flow stored");
    let store = app.store();
    let last_used = async || {
        let grant = store.find_grant(&fx.user.sub, &fx.project.id).await;
        grant.unwrap().unwrap().last_used_at
    };
    assert_eq!(
        last_used().await,
        grant.last_used_at,
        "not rewritten within the minute"
    );
    app.clock.advance(Duration::from_secs(1));
    let later = app.get(&auth_path(&fx, &[])).await;
    assert_code(&app, &later, app.store()).await;
    assert_eq!(
        last_used().await,
        app.clock.now(),
        "recorded once a minute has passed"
    );
    // include_granted_scopes: the code carries the whole grant.
    let inc = app
        .get(&auth_path(
            &fx,
            &[
                ("scope", Some("openid")),
                ("include_granted_scopes", Some("true")),
            ],
        ))
        .await;
    assert_eq!(
        assert_code(&app, &inc, app.store()).await["scope"],
        format!("email {DRIVE_FILE} openid")
    );
    // prompt=consent asks again even though everything was granted.
    let forced = app
        .get(&auth_path(&fx, &[("prompt", Some("consent"))]))
        .await;
    assert_eq!(location(&app, &forced).path(), "/consent");
    // prompt=none: a code when consent exists, consent_required when it does not (A23, A24).
    let silent = app.get(&auth_path(&fx, &[("prompt", Some("none"))])).await;
    assert_eq!(
        assert_code(&app, &silent, app.store()).await["prompt"],
        "none"
    );
    let needs = app
        .get(&auth_path(
            &fx,
            &[("prompt", Some("none")), ("scope", Some(YOUTUBE))],
        ))
        .await;
    assert_redirect_error(&app, &needs, "consent_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_replay_and_csrf_on_consent() {
    let (app, fx) = setup().await;
    let r = start_and_sign_in(&app, &auth_path(&fx, &[]), "ada@example.com").await;
    let (_, denied) = consent(&app, &r, "cancel", &[]).await;
    assert_redirect_error(&app, &denied, "access_denied"); // A33

    let r = app.get(&auth_path(&fx, &[])).await;
    let url = location(&app, &r);
    let html = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = |csrf: &str| format!("req={}&csrf={csrf}&action=allow", hidden(&html, "req"));
    let forged = app
        .http
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "G1: no code without this browser's CSRF token"
    );
    let ok = app
        .http
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&hidden(&html, "csrf")))
        .send()
        .await
        .unwrap();
    assert_code(&app, &ok, app.store()).await;
    let replay = app
        .http
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&hidden(&html, "csrf")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        400,
        "G2: a second submit of the same consent gets no code"
    );
    assert!(replay.headers().get("location").is_none());
    // Another browser cannot use this browser's flow, even with the right fields.
    let other = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let theirs = other
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&hidden(&html, "csrf")))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_none_without_a_session_and_pkce_and_nonce_are_bound() {
    let (app, fx) = setup().await;
    let r = app.get(&auth_path(&fx, &[("prompt", Some("none"))])).await;
    assert_redirect_error(&app, &r, "login_required"); // A22
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session is started for prompt=none"
    );

    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let path = auth_path(
        &fx,
        &[
            ("code_challenge", Some(challenge)),
            ("code_challenge_method", Some("S256")),
            ("nonce", Some("n-0S6")),
            ("access_type", Some("offline")),
        ],
    );
    let r = start_and_sign_in(&app, &path, "ada@example.com").await;
    let (_, done) = consent(&app, &r, "allow", &[]).await;
    let q = assert_code(&app, &done, app.store()).await;
    let code = app
        .store()
        .find_code(&SecretHash::of(&q["code"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.pkce.unwrap().challenge, challenge);
    assert_eq!(code.nonce.as_deref(), Some("n-0S6"));
    assert_eq!(code.client_id, fx.client.client_id);
    assert_eq!(code.redirect_uri.as_str(), REDIRECT_URI);
    assert!(code.issue_refresh_token, "first offline authorization");
    assert_eq!(code.expires_at.as_unix() - code.created_at.as_unix(), 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_accounts_in_one_browser() {
    let (app, fx) = setup().await;
    add_user(app.store(), "grace@example.com", "Grace Hopper").await;
    let r = start_and_sign_in(&app, &auth_path(&fx, &[]), "ada@example.com").await;
    let (_, done) = consent(&app, &r, "allow", &[]).await;
    assert_code(&app, &done, app.store()).await;

    // prompt=select_account shows the chooser; "Use another account" leads to sign-in.
    let r = app
        .get(&auth_path(&fx, &[("prompt", Some("select_account"))]))
        .await;
    let chooser = location(&app, &r);
    assert_eq!(chooser.path(), "/accountchooser");
    let html = app
        .http
        .get(chooser)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("ada@example.com") && html.contains("Use another account"));
    let form = [
        ("req", hidden(&html, "req")),
        ("csrf", hidden(&html, "csrf")),
        ("authuser", "new".into()),
    ];
    let r = app
        .http
        .post(app.url("/accountchooser"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let signin = location(&app, &r);
    let html = app
        .http
        .get(signin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = submit_sign_in(&app, &html, "grace@example.com", PASSWORD).await;
    let (_, done) = consent(&app, &r, "allow", &[]).await;
    assert_eq!(assert_code(&app, &done, app.store()).await["authuser"], "1");

    // Two accounts and no hint: the chooser (or account_selection_required for prompt=none).
    let r = app.get(&auth_path(&fx, &[])).await;
    assert_eq!(location(&app, &r).path(), "/accountchooser");
    let r = app.get(&auth_path(&fx, &[("prompt", Some("none"))])).await;
    assert_redirect_error(&app, &r, "account_selection_required");
    // login_hint picks the account without a page.
    let r = app
        .get(&auth_path(
            &fx,
            &[("login_hint", Some("Grace@Example.com"))],
        ))
        .await;
    assert_eq!(assert_code(&app, &r, app.store()).await["authuser"], "1");
    // Choosing Ada on the chooser.
    let r = app.get(&auth_path(&fx, &[])).await;
    let html = app
        .http
        .get(location(&app, &r))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("req", hidden(&html, "req")),
        ("csrf", hidden(&html, "csrf")),
        ("authuser", "0".into()),
    ];
    let r = app
        .http
        .post(app.url("/accountchooser"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(assert_code(&app, &r, app.store()).await["authuser"], "0");

    // Signing out ends every account of this browser.
    let out = app.get("/signout").await;
    assert_eq!(out.status(), 200);
    let r = app.get(&auth_path(&fx, &[("prompt", Some("none"))])).await;
    assert_redirect_error(&app, &r, "login_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_apps_warn_and_internal_apps_refuse_outsiders() {
    let db = TestStore::sqlite().await;
    let app = TestApp::spawn_on(db, |_| {}).await;
    let fx = Fixture::create_with(
        app.store(),
        Verification::Unverified,
        AudienceInput::Internal {
            domain: "example.com".into(),
        },
    )
    .await;
    add_user(app.store(), "mallory@elsewhere.example.org", "Mallory").await;

    let r = start_and_sign_in(
        &app,
        &auth_path(&fx, &[("scope", Some(&format!("openid {YOUTUBE}")))]),
        "ada@example.com",
    )
    .await;
    let warn = location(&app, &r);
    assert_eq!(warn.path(), "/consent/unverified");
    let html = app
        .http
        .get(warn)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("hasn") && html.contains("verified"));
    let form = [
        ("req", hidden(&html, "req")),
        ("csrf", hidden(&html, "csrf")),
        ("action", "continue".into()),
    ];
    let r = app
        .http
        .post(app.url("/consent/unverified"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (_, done) = consent(&app, &r, "allow", &[YOUTUBE]).await;
    assert_code(&app, &done, app.store()).await;
    // Non-sensitive scopes need no warning.
    let r = app
        .get(&auth_path(&fx, &[("scope", Some("openid email profile"))]))
        .await;
    assert_eq!(location(&app, &r).path(), "/consent");

    // An internal app refuses users outside its organization.
    let outsider = TestApp::spawn_on(TestStore::sqlite().await, |_| {}).await;
    let fx2 = Fixture::create_with(
        outsider.store(),
        Verification::Verified,
        AudienceInput::Internal {
            domain: "corp.example.com".into(),
        },
    )
    .await;
    let r = start_and_sign_in(&outsider, &auth_path(&fx2, &[]), "ada@example.com").await;
    assert_page(r, 403, "org_internal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account() {
    let (app, fx) = setup().await;
    let r = app.get(&auth_path(&fx, &[])).await;
    let html = app
        .http
        .get(location(&app, &r))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for _ in 0..10 {
        let r = submit_sign_in(&app, &html, "ada@example.com", "guess").await;
        assert_eq!(r.status(), 200);
    }
    // Now even the right password waits: no oracle for the attacker's next guess.
    let blocked = submit_sign_in(&app, &html, "ada@example.com", PASSWORD).await;
    assert_eq!(blocked.status(), 429);
    assert!(blocked.text().await.unwrap().contains("Too many attempts"));
    // The window moves on; the lock-out is not permanent.
    app.clock.advance(std::time::Duration::from_secs(16 * 60));
    let r = app.get(&auth_path(&fx, &[])).await;
    let html = app
        .http
        .get(location(&app, &r))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ok = submit_sign_in(&app, &html, "ada@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_on_postgres() {
    let Some(db) = TestStore::postgres().await else {
        eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
        return;
    };
    let app = TestApp::spawn_on(db, |_| {}).await;
    let fx = Fixture::create(app.store()).await;
    let r = start_and_sign_in(
        &app,
        &auth_path(&fx, &[("scope", Some(&format!("openid {DRIVE_FILE}")))]),
        "ada@example.com",
    )
    .await;
    let (_, done) = consent(&app, &r, "allow", &[DRIVE_FILE]).await;
    assert_eq!(
        assert_code(&app, &done, app.store()).await["scope"],
        format!("{DRIVE_FILE} openid")
    );
    let again = app
        .get(&auth_path(&fx, &[("scope", Some(DRIVE_FILE))]))
        .await;
    assert_eq!(
        assert_code(&app, &again, app.store()).await["prompt"],
        "none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_policies_are_enforced() {
    let (app, fx) = setup().await;
    let org = app
        .store()
        .upsert_organization("example.com", "Example", keyway_testkit::app::START)
        .await
        .unwrap();
    let drive = keyway_core::ScopeSet::parse(DRIVE_FILE).unwrap();
    app.store()
        .update_organization_policy(org.id, &drive, &[])
        .await
        .unwrap();
    // ada@example.com belongs to example.com: a blocked scope stops the flow after sign-in.
    let r = start_and_sign_in(
        &app,
        &auth_path(&fx, &[("scope", Some(&format!("openid {DRIVE_FILE}")))]),
        "ada@example.com",
    )
    .await;
    let body = assert_page(r, 400, "admin_policy_enforced").await;
    assert!(body.contains(DRIVE_FILE));
    // Other scopes are fine...
    let r = app.get(&auth_path(&fx, &[])).await;
    assert_eq!(location(&app, &r).path(), "/consent");
    // ...until the app itself is blocked.
    app.store()
        .update_organization_policy(org.id, &drive, std::slice::from_ref(&fx.client.client_id))
        .await
        .unwrap();
    let r = app.get(&auth_path(&fx, &[])).await;
    assert_page(r, 400, "admin_policy_enforced").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_accepts_a_form_post_too() {
    let (app, fx) = setup().await;
    // OIDC Core §3.1.2.1: POST with the parameters as a form body behaves like GET.
    let query = auth_path(&fx, &[]).split_once('?').unwrap().1.to_owned();
    let post = |body: String| {
        app.http
            .post(app.url("/o/oauth2/auth"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = post(query.clone()).await.unwrap();
    assert_eq!(location(&app, &r).path(), "/signin");
    let r = post(format!("{query}&state=twice")).await.unwrap();
    assert_page(r, 400, "invalid_request").await;
    let r = post(query.replace("response_type=code", "response_type=token"))
        .await
        .unwrap();
    assert_redirect_error(&app, &r, "unsupported_response_type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_failure_after_validation_redirects_server_error() {
    let (app, fx) = setup().await;
    // Break the table the endpoint writes after validating (A34): the failure must go back to
    // the verified redirect URI as server_error, not as a 500 page.
    let path = app.db.sqlite_dir().unwrap().join("keyway.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("ALTER TABLE pending_authorizations RENAME TO pending_gone")
        .unwrap();
    let r = app.get(&auth_path(&fx, &[])).await;
    let q = assert_redirect_error(&app, &r, "server_error");
    assert!(
        !q["error_description"].contains("pending"),
        "no internal detail: {q:?}"
    );
    // Before the redirect URI is verified, the same kind of failure is a page.
    let r = app
        .get(&auth_path(
            &fx,
            &[("redirect_uri", Some("https://evil.example.com/cb"))],
        ))
        .await;
    assert_eq!(
        r.status(),
        400,
        "still a page, never a redirect to an unverified URI"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_cookie_is_secure_and_iss_is_the_public_url() {
    let app = TestApp::spawn_on(TestStore::sqlite().await, |c| {
        c.public_url = Some("https://auth.example.com/".parse().unwrap());
    })
    .await;
    let fx = Fixture::create(app.store()).await;
    let r = app
        .http
        .get(app.url(&auth_path(&fx, &[("prompt", Some("none"))])))
        .send()
        .await
        .unwrap();
    let q: HashMap<String, String> = Url::parse(r.headers()["location"].to_str().unwrap())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["iss"], "https://auth.example.com");
    let r = app
        .http
        .get(app.url(&auth_path(&fx, &[])))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("; Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

/// Pending flows stored, counted in the SQLite file (`None` on PostgreSQL).
fn pending_rows(app: &TestApp) -> Option<i64> {
    let path = app.db.sqlite_dir()?.join("keyway.db");
    let db = rusqlite::Connection::open(path).unwrap();
    Some(
        db.query_row("SELECT count(*) FROM pending_authorizations", [], |r| {
            r.get(0)
        })
        .unwrap(),
    )
}
