//! The web-server flow, end to end.

use keyway_client::{Error, Flow};
use keyway_testkit::fixtures::REDIRECT_URI;

use crate::support::{DRIVE_FILE, Env, SCOPES};

#[tokio::test]
async fn the_whole_flow_yields_credentials() {
    let env = Env::new().await;
    let flow = env.flow();
    let (url, pending) = env.start(&flow);
    assert!(
        url.as_str()
            .starts_with(env.app.url("/o/oauth2/v2/auth").as_str())
    );
    assert_eq!(pending.redirect_uri, REDIRECT_URI);
    assert_eq!(
        pending.issuer,
        env.app.base_url.as_str().trim_end_matches('/')
    );
    // The pending authorization survives a trip through the session store.
    let pending = serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();

    let callback = env.browse(&url, true).await;
    assert!(callback.contains("iss="), "Keyway sends iss: {callback}");
    let full_url = format!("{REDIRECT_URI}?{callback}");
    let c = flow.exchange(&pending, &full_url).await.expect("exchange");

    assert!(c.is_valid());
    // (No id_token yet: this Keyway does not issue ID tokens so far.)
    assert!(c.token.is_some() && c.refresh_token.is_some());
    assert_eq!(c.client_id, env.fx.client.client_id.as_str());
    assert_eq!(c.client_secret.as_deref(), Some(env.fx.secret.expose()));
    assert_eq!(c.token_uri, env.gateway.join("/token").unwrap());
    assert_eq!(c.scopes, SCOPES);
    let mut granted = c.granted_scopes.clone().expect("the server reports scopes");
    granted.sort();
    let mut expected = SCOPES.map(String::from).to_vec();
    expected.sort();
    assert_eq!(granted, expected);
    assert!(c.has_scopes(&[DRIVE_FILE, "email"]));
    let left = c
        .expiry
        .unwrap()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(left.as_secs() > 3500 && left.as_secs() <= 3600, "{left:?}");
    assert_eq!(
        env.counts
            .exchanges
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // The token works at the server.
    let http = keyway_client::default_http_client().unwrap();
    let info = c.token_info(&http).await.expect("tokeninfo");
    assert_eq!(info.aud.as_deref(), Some(env.fx.client.client_id.as_str()));
    assert_eq!(info.email.as_deref(), Some("ada@example.com"));
    assert_eq!(info.access_type.as_deref(), Some("offline"));
    assert!(info.scopes().contains(&DRIVE_FILE.to_owned()));

    // The code is single-use: replaying the callback is a final token-endpoint error.
    let e = flow.exchange(&pending, &callback).await.unwrap_err();
    assert_eq!(e.error_code(), Some("invalid_grant"), "{e:?}");
    assert!(!e.is_retryable() && !e.is_consent_required());
}

#[tokio::test]
async fn a_state_mismatch_is_refused_before_the_code_is_used() {
    let env = Env::new().await;
    let flow = env.flow();
    let (url, pending) = env.start(&flow);
    let callback = env.browse(&url, true).await;

    // Another user's pending authorization (a CSRF'd callback) does not match.
    let (_, other) = env.start(&flow);
    let e = flow.exchange(&other, &callback).await.unwrap_err();
    assert!(matches!(e, Error::StateMismatch), "{e:?}");
    let mut tampered = pending.clone();
    tampered.state.push('x');
    assert!(matches!(
        flow.exchange(&tampered, &callback).await,
        Err(Error::StateMismatch)
    ));
    assert_eq!(
        env.counts
            .exchanges
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    // The right one still works: the code was never sent.
    flow.exchange(&pending, &callback).await.expect("exchange");
}

#[tokio::test]
async fn cancel_on_the_consent_page_is_access_denied() {
    let env = Env::new().await;
    let flow = env.flow();
    let (url, pending) = env.start(&flow);
    let callback = env.browse(&url, false).await;
    let e = flow.exchange(&pending, &callback).await.unwrap_err();
    assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
    assert_eq!(e.error_code(), Some("access_denied"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn an_unexpected_issuer_is_refused() {
    let env = Env::new().await;
    // The app believes it talks to Google; the callback comes from Keyway.
    let flow = env.flow().with_issuer("https://accounts.google.com");
    let (url, pending) = env.start(&flow);
    let callback = env.browse(&url, true).await;
    match flow.exchange(&pending, &callback).await.unwrap_err() {
        Error::IssuerMismatch { expected, received } => {
            assert_eq!(expected, "https://accounts.google.com");
            assert_eq!(received, env.app.base_url.as_str().trim_end_matches('/'));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        env.counts
            .exchanges
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn client_secrets_from_a_file() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client_secret.json");
    std::fs::write(&path, env.client_secret_json()).unwrap();
    let flow = Flow::from_client_secrets_file(&path, SCOPES).unwrap();
    assert_eq!(flow.redirect_uri(), Some(REDIRECT_URI));
    let (url, pending) = env.start(&flow);
    let callback = env.browse(&url, true).await;
    flow.exchange(&pending, &callback).await.expect("exchange");
}
