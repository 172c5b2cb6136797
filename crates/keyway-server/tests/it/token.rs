//! The token endpoint, revocation, tokeninfo and introspection over real HTTP
//! (SECURITY-TESTS tables B–E, SPEC "Token endpoint", "Revocation", "Token information").

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyway_core::SecretHash;
use keyway_testkit::fixtures::REDIRECT_URI;
use keyway_testkit::flow::auth_path;
use keyway_testkit::{Fixture, TestApp, TestStore};
use reqwest::Response;
use serde_json::Value;

const DRIVE_FILE: &str = "https://www.googleapis.com/auth/drive.file";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn setup_on(db: TestStore) -> (TestApp, Fixture) {
    let app = TestApp::spawn_on(db, |_| {}).await;
    let fx = Fixture::create(app.store()).await;
    (app, fx)
}

fn creds(fx: &Fixture) -> [(&'static str, String); 2] {
    [
        ("client_id", fx.client.client_id.to_string()),
        ("client_secret", fx.secret.expose().to_owned()),
    ]
}

async fn exchange(app: &TestApp, fx: &Fixture, code: &str, extra: &[(&str, &str)]) -> Response {
    let [(a, id), (b, secret)] = creds(fx);
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        (a, &id),
        (b, &secret),
    ];
    for (k, v) in extra {
        form.retain(|(name, _)| name != k);
        if !v.is_empty() {
            form.push((k, v));
        }
    }
    app.post_token(&form).await
}

async fn refresh(app: &TestApp, fx: &Fixture, token: &str, scope: Option<&str>) -> Response {
    let [(a, id), (b, secret)] = creds(fx);
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        (a, id.as_str()),
        (b, secret.as_str()),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.post_token(&form).await
}

/// Asserts the JSON error shape and headers of RFC 6749 §5.2; returns the body.
async fn assert_error(r: Response, status: u16, error: &str) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

async fn assert_tokens(r: Response) -> Value {
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600, "a JSON number");
    assert!(body["access_token"].as_str().unwrap().starts_with("kwat_"));
    body
}

async fn introspect(app: &TestApp, fx: &Fixture, token: &str) -> Value {
    let [(a, id), (b, secret)] = creds(fx);
    let r = app
        .http
        .post(app.url("/introspect"))
        .form(&[("token", token), (a, &id), (b, &secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn active(app: &TestApp, fx: &Fixture, token: &str) -> bool {
    introspect(app, fx, token).await["active"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_refresh_and_revoke() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let code = app
        .code(
            &fx,
            &format!("email {DRIVE_FILE}"),
            &[("access_type", "offline")],
        )
        .await;
    let t = assert_tokens(exchange(&app, &fx, &code, &[]).await).await;
    assert_eq!(t["scope"], format!("email {DRIVE_FILE}"));
    let access = t["access_token"].as_str().unwrap().to_owned();
    let rt = t["refresh_token"]
        .as_str()
        .expect("offline: a refresh token")
        .to_owned();
    assert!(rt.starts_with("kwrt_"));
    // Nothing is stored in the clear: the store finds tokens only by hash.
    assert!(
        app.store()
            .find_access_token(&SecretHash::of(&access))
            .await
            .unwrap()
            .is_some()
    );

    // tokeninfo: every value a string; email because the email scope was granted.
    let info: Value = app
        .get(&format!("/tokeninfo?access_token={access}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["aud"], fx.client.client_id.as_str());
    assert_eq!(info["azp"], fx.client.client_id.as_str());
    assert_eq!(info["sub"], fx.user.sub.as_str());
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["email_verified"], "true");
    assert_eq!(info["access_type"], "offline");
    assert_eq!(info["expires_in"], "3600");
    assert!(
        info.as_object().unwrap().values().all(Value::is_string),
        "{info}"
    );
    // The Bearer form on an empty POST and the v1 shape.
    let bearer: Value = app
        .http
        .post(app.url("/tokeninfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bearer["sub"], fx.user.sub.as_str());
    let v1: Value = app
        .get(&format!("/oauth2/v1/tokeninfo?access_token={access}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            v1["issued_to"].as_str(),
            v1["expires_in"].as_i64(),
            v1["verified_email"].as_bool()
        ),
        (Some(fx.client.client_id.as_str()), Some(3600), Some(true))
    );
    // A refresh token is not an access token (E4).
    assert_error(
        app.get(&format!("/tokeninfo?access_token={rt}")).await,
        400,
        "invalid_token",
    )
    .await;

    // Refresh: no rotation, a narrower scope down-scopes, unknown scopes are dropped.
    let r1 = assert_tokens(refresh(&app, &fx, &rt, None).await).await;
    assert!(
        r1.get("refresh_token").is_none(),
        "refresh tokens do not rotate"
    );
    assert_eq!(r1["scope"], format!("email {DRIVE_FILE}"));
    let narrow = assert_tokens(refresh(&app, &fx, &rt, Some("email")).await).await;
    assert_eq!(narrow["scope"], "email");
    // Without the email scope, tokeninfo does not reveal the address.
    let drive_only = assert_tokens(refresh(&app, &fx, &rt, Some(DRIVE_FILE)).await).await;
    let info: Value = app
        .get(&format!(
            "/tokeninfo?access_token={}",
            drive_only["access_token"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["scope"], DRIVE_FILE);
    assert_eq!(info["sub"], fx.user.sub.as_str());
    assert!(
        info.get("email").is_none() && info.get("email_verified").is_none(),
        "{info}"
    );
    let wider = assert_tokens(
        refresh(
            &app,
            &fx,
            &rt,
            Some(&format!(
                "email https://www.googleapis.com/auth/drive {DRIVE_FILE}"
            )),
        )
        .await,
    )
    .await;
    assert_eq!(
        wider["scope"],
        format!("email {DRIVE_FILE}"),
        "scopes beyond the grant are dropped, not refused"
    );

    // Introspection.
    let i = introspect(&app, &fx, r1["access_token"].as_str().unwrap()).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], fx.client.client_id.as_str());
    assert_eq!(i["token_type"], "Bearer");
    assert_eq!(
        introspect(&app, &fx, "kwat_unknown").await,
        serde_json::json!({"active": false})
    );
    let r = app
        .http
        .post(app.url("/introspect"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "invalid_client").await; // E1

    // Revoking the access token revokes the whole grant: its refresh token and every token.
    let r = app
        .http
        .post(app.url(&format!("/revoke?token={access}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().is_empty());
    assert!(!active(&app, &fx, r1["access_token"].as_str().unwrap()).await);
    assert_error(refresh(&app, &fx, &rt, None).await, 400, "invalid_grant").await;
    let again = app
        .http
        .post(app.url("/revoke"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    let body = assert_error(again, 400, "invalid_token").await;
    assert_eq!(body["error_description"], "Token expired or revoked");
    assert!(
        app.store()
            .find_grant(&fx.user.sub, &fx.project.id)
            .await
            .unwrap()
            .is_none()
    );

    // A later authorization starts from nothing: consent again, and a new refresh token.
    let code = app.code(&fx, "email", &[("access_type", "offline")]).await;
    let t = assert_tokens(exchange(&app, &fx, &code, &[]).await).await;
    assert!(t["refresh_token"].is_string());
    // Revoking by refresh token, with GET as oauth2client does.
    let r = app
        .get(&format!(
            "/revoke?token={}",
            t["refresh_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(!active(&app, &fx, t["access_token"].as_str().unwrap()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_exchange_refusals() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let code = app
        .code(
            &fx,
            "email",
            &[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let [(_, id), (_, secret)] = creds(&fx);
    // B3: grant_type missing / unknown.
    assert_error(
        app.post_token(&[
            ("code", &code),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        exchange(&app, &fx, &code, &[("grant_type", "password")]).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    // B4–B7: client authentication.
    assert_error(
        exchange(&app, &fx, &code, &[("client_secret", "")]).await,
        401,
        "invalid_client",
    )
    .await;
    assert_error(
        exchange(&app, &fx, &code, &[("client_secret", "kwcs_wrong")]).await,
        401,
        "invalid_client",
    )
    .await;
    let basic = |raw: &str| format!("Basic {}", STANDARD.encode(raw));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    for header in [
        basic(&format!("{id}:kwcs_wrong")),
        "Basic !!".into(),
        basic("no-colon"),
        basic("unknown:secret"),
    ] {
        let r = app
            .http
            .post(app.url("/token"))
            .header("authorization", header)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["www-authenticate"],
            "Basic realm=\"keyway\"",
            "B5"
        );
        assert_error(r, 401, "invalid_client").await;
    }
    // B8: both mechanisms.
    let r = app
        .http
        .post(app.url("/token"))
        .header("authorization", basic(&format!("{id}:{secret}")))
        .form(&[form.as_slice(), &[("client_secret", secret.as_str())]].concat())
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_request").await;
    // B9: the secret in the URL.
    let r = app
        .http
        .post(app.url(&format!("/token?client_secret={secret}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_request").await;
    // B10, B11: code missing or garbage.
    assert_error(
        exchange(&app, &fx, &code, &[("code", "")]).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        exchange(&app, &fx, "kwac_garbage", &[("code_verifier", VERIFIER)]).await,
        400,
        "invalid_grant",
    )
    .await;
    // B14, B15: redirect_uri omitted or different (even if registered).
    assert_error(
        exchange(
            &app,
            &fx,
            &code,
            &[("redirect_uri", ""), ("code_verifier", VERIFIER)],
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    assert_error(
        exchange(
            &app,
            &fx,
            &code,
            &[
                ("redirect_uri", "http://localhost:8080/oauth2callback"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    // B18–B22: PKCE.
    assert_error(exchange(&app, &fx, &code, &[]).await, 400, "invalid_grant").await;
    assert_error(
        exchange(&app, &fx, &code, &[("code_verifier", &"x".repeat(43))]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_error(
        exchange(&app, &fx, &code, &[("code_verifier", "short")]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_error(
        exchange(&app, &fx, &code, &[("code_verifier", CHALLENGE)]).await,
        400,
        "invalid_grant",
    )
    .await;
    // B23: a duplicated parameter.
    let r = app.http.post(app.url("/token")).header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=authorization_code&code={code}&code={code}&redirect_uri={}&client_id={id}&client_secret={secret}&code_verifier={VERIFIER}", urlencode(REDIRECT_URI)))
        .send().await.unwrap();
    assert_error(r, 400, "invalid_request").await;
    // None of the refusals burnt the code: it still works (B24: extra parameters tolerated),
    // here as JSON with HTTP Basic.
    let json = serde_json::json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": VERIFIER, "scope": "email", "audience": "x"});
    let r = app
        .http
        .post(app.url("/oauth2/v4/token"))
        .header(
            "authorization",
            basic(&format!("{}:{}", urlencode(&id), urlencode(&secret))),
        )
        .json(&json)
        .send()
        .await
        .unwrap();
    let t = assert_tokens(r).await;
    assert!(
        t.get("refresh_token").is_none(),
        "online access: no refresh token"
    );
    // B16/B17: the second redemption fails and revokes what the first one issued.
    let r = app
        .http
        .post(app.url("/token"))
        .header("authorization", basic(&format!("{id}:{secret}")))
        .json(&json)
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_grant").await;
    assert!(!active(&app, &fx, t["access_token"].as_str().unwrap()).await);

    // B12: an expired code.
    let late = app.code(&fx, "email", &[]).await;
    app.clock.advance(std::time::Duration::from_secs(600));
    assert_error(exchange(&app, &fx, &late, &[]).await, 400, "invalid_grant").await;
    // B21: a verifier without a challenge.
    let plain = app.code(&fx, "email", &[]).await;
    assert_error(
        exchange(&app, &fx, &plain, &[("code_verifier", VERIFIER)]).await,
        400,
        "invalid_grant",
    )
    .await;
    // B1: GET is not allowed.
    assert_eq!(app.get("/token").await.status(), 405);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_and_refresh_tokens_are_bound_to_their_client() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let (other, other_secret) = keyway_core::console::create_client(
        app.store(),
        &keyway_core::SystemClock,
        &keyway_core::console::ConsoleSettings::default(),
        fx.project.id.as_str(),
        "other",
        &[REDIRECT_URI.into()],
        &[],
    )
    .await
    .unwrap();
    let code = app.code(&fx, "email", &[("access_type", "offline")]).await;
    let theirs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", other.client_id.as_str()),
        ("client_secret", other_secret.expose()),
    ];
    assert_error(app.post_token(&theirs).await, 400, "invalid_grant").await; // B13
    let t = assert_tokens(exchange(&app, &fx, &code, &[]).await).await;
    let rt = t["refresh_token"].as_str().unwrap();
    let stolen = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", other.client_id.as_str()),
        ("client_secret", other_secret.expose()),
    ];
    assert_error(app.post_token(&stolen).await, 400, "invalid_grant").await; // C3
    assert_error(refresh(&app, &fx, "", None).await, 400, "invalid_request").await; // C1
    assert_error(
        refresh(&app, &fx, "kwrt_nope", None).await,
        400,
        "invalid_grant",
    )
    .await; // C2
    // A disabled user's tokens stop working (C8).
    keyway_core::console::set_user_disabled(app.store(), "ada@example.com", true)
        .await
        .unwrap();
    assert_error(refresh(&app, &fx, rt, None).await, 400, "invalid_grant").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_come_on_first_offline_consent_or_when_consent_is_shown() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let first = assert_tokens(
        exchange(
            &app,
            &fx,
            &app.code(&fx, "email", &[("access_type", "offline")]).await,
            &[],
        )
        .await,
    )
    .await;
    assert!(first["refresh_token"].is_string());
    // Consent is skipped now, and the client already holds a refresh token: none this time.
    let second = assert_tokens(
        exchange(
            &app,
            &fx,
            &app.code(&fx, "email", &[("access_type", "offline")]).await,
            &[],
        )
        .await,
    )
    .await;
    assert!(second.get("refresh_token").is_none());
    // prompt=consent shows consent: a new refresh token.
    let forced = app
        .code(
            &fx,
            "email",
            &[("access_type", "offline"), ("prompt", "consent")],
        )
        .await;
    let third = assert_tokens(exchange(&app, &fx, &forced, &[]).await).await;
    assert!(third["refresh_token"].is_string());
    assert_ne!(third["refresh_token"], first["refresh_token"]);
    // include_granted_scopes: incremental authorization carries earlier scopes.
    let inc = app
        .code(&fx, DRIVE_FILE, &[("include_granted_scopes", "true")])
        .await;
    let t = assert_tokens(exchange(&app, &fx, &inc, &[]).await).await;
    assert_eq!(t["scope"], format!("email {DRIVE_FILE}"));
}

async fn races(db: TestStore) {
    let (app, fx) = setup_on(db).await;
    // N concurrent redemptions of one code: exactly one success, the rest invalid_grant.
    for _ in 0..3 {
        let code = app
            .code(
                &fx,
                "email",
                &[("access_type", "offline"), ("prompt", "consent")],
            )
            .await;
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (http, url, code) = (app.http.clone(), app.url("/token"), code.clone());
                let form = vec![
                    ("grant_type".to_owned(), "authorization_code".to_owned()),
                    ("code".into(), code),
                    ("redirect_uri".into(), REDIRECT_URI.into()),
                    ("client_id".into(), fx.client.client_id.to_string()),
                    ("client_secret".into(), fx.secret.expose().to_owned()),
                ];
                tokio::spawn(async move { http.post(url).form(&form).send().await.unwrap() })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status().as_u16() {
                200 => ok += 1,
                400 => assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant"),
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(ok, 1);
    }
    // Concurrent refreshes of one refresh token all succeed.
    let code = app
        .code(
            &fx,
            "email",
            &[("access_type", "offline"), ("prompt", "consent")],
        )
        .await;
    let rt = assert_tokens(exchange(&app, &fx, &code, &[]).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url) = (app.http.clone(), app.url("/token"));
            let form = vec![
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("refresh_token".into(), rt.clone()),
                ("client_id".into(), fx.client.client_id.to_string()),
                ("client_secret".into(), fx.secret.expose().to_owned()),
            ];
            tokio::spawn(async move {
                http.post(url)
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_on_sqlite() {
    races(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_and_revocation_on_postgres() {
    let Some(db) = TestStore::postgres().await else {
        eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
        return;
    };
    races(db).await;
    let Some(db) = TestStore::postgres().await else {
        return;
    };
    let (app, fx) = setup_on(db).await;
    let code = app.code(&fx, "email", &[("access_type", "offline")]).await;
    let t = assert_tokens(exchange(&app, &fx, &code, &[]).await).await;
    let r = app
        .http
        .post(app.url("/o/oauth2/revoke"))
        .form(&[("token", t["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_error(
        app.get(&format!(
            "/tokeninfo?access_token={}",
            t["access_token"].as_str().unwrap()
        ))
        .await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_expire_by_the_clock() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let t = assert_tokens(exchange(&app, &fx, &app.code(&fx, "email", &[]).await, &[]).await).await;
    let access = t["access_token"].as_str().unwrap();
    app.clock.advance(std::time::Duration::from_secs(3599));
    let info: Value = app
        .get(&format!("/tokeninfo?access_token={access}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["expires_in"], "1");
    app.clock.advance(std::time::Duration::from_secs(1));
    let body = assert_error(
        app.get(&format!("/tokeninfo?access_token={access}")).await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(body["error_description"], "Invalid Value");
    assert_eq!(
        introspect(&app, &fx, access).await,
        serde_json::json!({"active": false})
    );
    let _ = auth_path;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_with_client_credentials_is_limited_to_the_callers_project() {
    let (app, fx) = setup_on(TestStore::sqlite().await).await;
    let t = assert_tokens(exchange(&app, &fx, &app.code(&fx, "email", &[]).await, &[]).await).await;
    let access = t["access_token"].as_str().unwrap();
    // A client of another project (D6): authenticated, but the token is not its project's.
    let other = keyway_core::console::create_project(
        app.store(),
        &keyway_core::SystemClock,
        keyway_core::console::ProjectInput {
            name: Some("Other".into()),
            support_email: Some("o@example.com".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (stranger, secret) = keyway_core::console::create_client(
        app.store(),
        &keyway_core::SystemClock,
        &keyway_core::console::ConsoleSettings::default(),
        other.id.as_str(),
        "x",
        &[REDIRECT_URI.into()],
        &[],
    )
    .await
    .unwrap();
    let form = [
        ("token", access),
        ("client_id", stranger.client_id.as_str()),
        ("client_secret", secret.expose()),
    ];
    assert_error(
        app.http
            .post(app.url("/revoke"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        400,
        "invalid_token",
    )
    .await;
    assert!(
        active(&app, &fx, access).await,
        "another project's client revoked nothing"
    );
    // Wrong credentials are refused outright (D7).
    let form = [
        ("token", access),
        ("client_id", stranger.client_id.as_str()),
        ("client_secret", "kwcs_wrong"),
    ];
    assert_error(
        app.http
            .post(app.url("/revoke"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        401,
        "invalid_client",
    )
    .await;
    // D1: no token.
    assert_error(
        app.http
            .post(app.url("/revoke"))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    // The owning client may revoke, with a token_type_hint that is even wrong (D3).
    let [(a, id), (b, s)] = creds(&fx);
    let form = [
        ("token", access),
        ("token_type_hint", "refresh_token"),
        (a, id.as_str()),
        (b, s.as_str()),
    ];
    assert_eq!(
        app.http
            .post(app.url("/revoke"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(!active(&app, &fx, access).await);
}
