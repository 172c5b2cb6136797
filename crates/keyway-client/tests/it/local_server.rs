//! `Flow::run_local_server` against a real Keyway: the "browser" is keyway-testkit's
//! `FlowClient`, which follows the final redirect to the loopback server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use keyway_client::{ClientSecrets, Error, Flow};
use keyway_core::console::{self, ConsoleSettings};
use keyway_testkit::fixtures::PASSWORD;
use keyway_testkit::flow::FlowClient;
use tokio::sync::oneshot;
use url::Url;

use crate::support::Env;

/// A port free right now (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A web client registered with `http://127.0.0.1:<free port>/` only, and its flow.
async fn cli_flow(env: &Env, scopes: &[&str]) -> (Flow, String) {
    let uri = format!("http://127.0.0.1:{}/", free_port());
    let (client, secret) = console::create_client(
        env.app.store(),
        &keyway_core::SystemClock,
        &ConsoleSettings::default(),
        env.fx.project.id.as_str(),
        "cli",
        std::slice::from_ref(&uri),
        &[],
    )
    .await
    .expect("create the CLI client");
    let json = serde_json::json!({"web": {
        "client_id": client.client_id.as_str(),
        "client_secret": secret.expose(),
        "auth_uri": env.app.url("/o/oauth2/v2/auth").as_str(),
        "token_uri": env.gateway.join("/token").unwrap().as_str(),
        "redirect_uris": [uri],
    }});
    let secrets = ClientSecrets::from_json(&json.to_string()).expect("secrets");
    // No with_redirect_uri: the client's only registered one is used.
    (
        Flow::new(secrets, scopes.iter().copied()).expect("flow"),
        uri,
    )
}

/// A "browser" that signs in as the fixture's user, allows every scope, then follows the
/// final redirect to the loopback server; it reports that last page's status and body.
fn browser(
    env: &Env,
) -> (
    impl FnOnce(&Url) -> bool + Send + 'static,
    oneshot::Receiver<(u16, String)>,
) {
    let (base, email) = (
        env.app.base_url.clone(),
        env.fx.user.email.as_str().to_owned(),
    );
    let (tx, rx) = oneshot::channel();
    let opener = move |url: &Url| {
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        tokio::spawn(async move {
            let pages = FlowClient::new(base);
            let params = pages
                .authorize(&path, &email, PASSWORD)
                .await
                .expect("the consent pages");
            let redirect_uri = Url::parse(&params_redirect(&path)).unwrap();
            let mut callback = redirect_uri;
            callback.query_pairs_mut().extend_pairs(&params);
            let page = reqwest::Client::new()
                .get(callback)
                .send()
                .await
                .expect("the loopback server answers");
            let status = page.status().as_u16();
            let _ = tx.send((status, page.text().await.unwrap()));
        });
        true
    };
    (opener, rx)
}

/// The `redirect_uri` parameter of an authorization request path.
fn params_redirect(path: &str) -> String {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("a redirect_uri parameter")
}

#[tokio::test]
async fn run_local_server_signs_in_through_the_loopback_redirect() {
    let env = Env::new().await;
    let (flow, uri) = cli_flow(&env, &["openid", "email"]).await;
    let (opener, page) = browser(&env);
    let credentials = flow
        .run_local_server()
        .timeout(Duration::from_secs(60))
        .open_browser_with(opener)
        .await
        .expect("signed in");

    let (status, body) = page.await.expect("the browser finished");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("You may close this tab"), "{body}");

    let mut granted = credentials.granted_scopes.clone().expect("granted scopes");
    granted.sort();
    assert_eq!(granted, ["email", "openid"]);
    assert!(credentials.has_scopes(&["openid", "email"]));
    assert!(credentials.is_valid());
    assert!(
        credentials.refresh_token.is_some(),
        "access_type=offline by default"
    );
    assert_ne!(credentials.client_id, env.fx.client.client_id.as_str());
    assert_eq!(env.counts.exchanges.load(Ordering::SeqCst), 1);
    // The server is gone: its port is free again.
    let port = Url::parse(&uri).unwrap().port().unwrap();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port was released");
}

#[tokio::test]
async fn run_local_server_times_out_when_nobody_signs_in() {
    let env = Env::new().await;
    let (flow, _) = cli_flow(&env, &["email"]).await;
    let e = flow
        .run_local_server()
        .timeout(Duration::from_millis(200))
        .no_browser()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::LocalServerTimeout { .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(env.counts.exchanges.load(Ordering::SeqCst), 0);
}
