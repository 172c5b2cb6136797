//! The demo APIs behind keyway-resource's middleware (RFC 6750): token placement, scope
//! rules, revocation, and the introspection and tokeninfo validators.

use std::sync::Arc;
use std::time::Duration;

use keyway_resource::{IntrospectionValidator, TokenInfoValidator, Validator};
use keyway_testkit::fixtures::REDIRECT_URI;
use keyway_testkit::{Fixture, TestApp};
use reqwest::Response;
use serde_json::Value;

const DRIVE_RO: &str = "https://www.googleapis.com/auth/drive.metadata.readonly";
const YOUTUBE_RO: &str = "https://www.googleapis.com/auth/youtube.readonly";

async fn token(app: &TestApp, fx: &Fixture, scope: &str) -> String {
    let code = app.code(fx, scope, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", fx.client.client_id.as_str()),
        ("client_secret", fx.secret.expose()),
    ];
    let t: Value = app.post_token(&form).await.json().await.unwrap();
    t["access_token"].as_str().unwrap().to_owned()
}

fn challenge(r: &Response) -> String {
    r.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

async fn get(base: &url::Url, path: &str, bearer: Option<&str>) -> Response {
    let mut req = reqwest::Client::new().get(base.join(path).unwrap());
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc_6750_answers_and_scope_rules() {
    let app = TestApp::spawn().await;
    let fx = Fixture::create(app.store()).await;
    let base = app.base_url.clone();
    let r = get(&base, "/drive/v3/files", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenge(&r), "Bearer realm=\"keyway\"");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    let r = get(&base, "/drive/v3/files", Some("kwat_not-a-token")).await;
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).contains("error=\"invalid_token\""));

    let drive = token(&app, &fx, DRIVE_RO).await;
    let r = get(&base, "/drive/v3/files?pageSize=10", Some(&drive)).await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["kind"], "drive#fileList");
    assert_eq!(page["files"].as_array().unwrap().len(), 10);
    // The query-parameter placement works too; both at once is refused.
    let q = get(
        &base,
        &format!("/drive/v3/files?access_token={drive}"),
        None,
    )
    .await;
    assert_eq!(q.status(), 200);
    let both = get(
        &base,
        &format!("/drive/v3/files?access_token={drive}"),
        Some(&drive),
    )
    .await;
    assert_eq!(both.status(), 400);
    // A valid token without the scope: 403 naming the scopes that would do.
    let r = get(
        &base,
        "/youtube/v3/channels?part=snippet&mine=true",
        Some(&drive),
    )
    .await;
    assert_eq!(r.status(), 403);
    let c = challenge(&r);
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains(YOUTUBE_RO),
        "{c}"
    );

    // Paging walks every file once; the data is the same on every call.
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(t) => format!("/drive/v3/files?pageSize=10&pageToken={t}"),
            None => "/drive/v3/files?pageSize=10".to_owned(),
        };
        let p: Value = get(&base, &path, Some(&drive)).await.json().await.unwrap();
        names.extend(
            p["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned()),
        );
        match p["nextPageToken"].as_str() {
            Some(t) => next = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(names.len(), 37);
    let v2: Value = get(&base, "/drive/v2/files?maxResults=5", Some(&drive))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v2["items"][0]["id"].as_str().unwrap(),
        names[0],
        "v2 lists the same files"
    );
    assert!(v2["items"][0]["title"].is_string());
    assert_eq!(
        get(&base, "/drive/v3/files?pageToken=bogus", Some(&drive))
            .await
            .status(),
        400
    );

    let yt = token(&app, &fx, YOUTUBE_RO).await;
    let ch: Value = get(
        &base,
        "/youtube/v3/channels?part=snippet&mine=true",
        Some(&yt),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(ch["kind"], "youtube#channelListResponse");
    assert!(ch["items"][0]["id"].as_str().unwrap().starts_with("UC"));
    assert!(ch["items"][0]["snippet"]["title"].is_string());
    assert_eq!(
        get(&base, "/youtube/v3/channels?mine=true", Some(&yt))
            .await
            .status(),
        400
    );

    // Revocation is seen at once (in-process validation).
    let r = reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&[("token", drive.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        get(&base, "/drive/v3/files", Some(&drive)).await.status(),
        401
    );
    // Expiry by the server's clock.
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        get(&base, "/youtube/v3/channels?part=id&mine=true", Some(&yt))
            .await
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_and_tokeninfo_validators() {
    keyway_testkit::install_crypto_provider();
    let app = TestApp::spawn().await;
    let fx = Fixture::create(app.store()).await;
    let http = reqwest::Client::new();
    let introspect = app.url("/introspect").to_string();
    let (id, secret) = (
        fx.client.client_id.to_string(),
        fx.secret.expose().to_owned(),
    );
    let plain: Arc<dyn Validator> = Arc::new(IntrospectionValidator::new(
        http.clone(),
        introspect.clone(),
        id.clone(),
        secret.clone(),
    ));
    let cached: Arc<dyn Validator> = Arc::new(
        IntrospectionValidator::new(http.clone(), introspect, id, secret)
            .with_cache(Duration::from_millis(700)),
    );
    let info: Arc<dyn Validator> = Arc::new(TokenInfoValidator::new(
        http,
        app.url("/tokeninfo").to_string(),
    ));

    let t = token(&app, &fx, &format!("email {DRIVE_RO}")).await;
    for v in [&plain, &cached, &info] {
        let p = v.validate(&t).await.unwrap();
        assert_eq!(p.sub, fx.user.sub.as_str());
        assert_eq!(p.client_id, fx.client.client_id.as_str());
        assert!(p.has_scope(DRIVE_RO) && p.has_scope("email"));
    }
    for v in [&plain, &info] {
        assert_eq!(
            v.validate("kwat_nope").await,
            Err(keyway_resource::Invalid::Token)
        );
    }
    reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&[("token", t.as_str())])
        .send()
        .await
        .unwrap();
    // Without a cache the revocation holds at once; with one, for at most its lifetime.
    assert_eq!(
        plain.validate(&t).await,
        Err(keyway_resource::Invalid::Token)
    );
    assert_eq!(
        info.validate(&t).await,
        Err(keyway_resource::Invalid::Token)
    );
    assert!(
        cached.validate(&t).await.is_ok(),
        "within the cache bound the revoked token still passes"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        cached.validate(&t).await,
        Err(keyway_resource::Invalid::Token),
        "past the bound it does not"
    );
}
