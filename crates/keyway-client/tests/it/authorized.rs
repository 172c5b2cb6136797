//! The authorized HTTP client: refresh ahead of expiry, one shared refresh, retry on 401,
//! change notifications.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use keyway_client::{AuthorizedClient, Error, default_http_client};

use crate::support::Env;

async fn call_api(client: &AuthorizedClient, env: &Env) -> String {
    let r = client.get(env.api()).await.expect("request");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn fifty_concurrent_callers_share_one_refresh() {
    let env = Env::new().await;
    let mut c = env.sign_in().await;
    let first = c.token.clone().unwrap();
    // The token has expired, for the server and for the client.
    env.app.clock.advance(Duration::from_secs(2 * 3600));
    c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    let client = AuthorizedClient::new(c).unwrap();
    let mut changes = client.subscribe();

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            let env_api = env.api();
            tokio::spawn(async move {
                let r = client.get(env_api).await.expect("request");
                assert_eq!(r.status(), 200);
                let body: serde_json::Value = r.json().await.unwrap();
                body["token"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }

    assert_eq!(
        env.counts.refreshes(),
        1,
        "exactly one refresh reached the server"
    );
    assert_eq!(seen.len(), 1, "every caller used the one new token");
    assert!(!seen.contains(&first));
    assert_eq!(env.counts.unauthorized.load(Ordering::SeqCst), 0);
    // The change was published once, with the new token.
    assert!(changes.has_changed().unwrap());
    let published = changes.borrow_and_update().clone();
    assert_eq!(published.token.as_ref(), seen.iter().next());
    assert!(published.refresh_token.is_some());
    assert_eq!(published, client.credentials());
}

#[tokio::test]
async fn refreshes_ahead_of_expiry_within_the_threshold() {
    let env = Env::new().await;
    let mut c = env.sign_in().await;
    let first = c.token.clone().unwrap();
    // Four minutes left: inside the default five-minute threshold.
    c.expiry = Some(SystemTime::now() + Duration::from_secs(4 * 60));
    let client = AuthorizedClient::new(c.clone()).unwrap();
    let token = client.access_token().await.unwrap();
    assert_ne!(token, first);
    assert_eq!(env.counts.refreshes(), 1);
    // Fresh now: no further refresh.
    assert_eq!(client.access_token().await.unwrap(), token);
    assert_eq!(call_api(&client, &env).await, token);
    assert_eq!(env.counts.refreshes(), 1);

    // With a three-minute threshold, four minutes left is fine.
    let client = AuthorizedClient::new(c)
        .unwrap()
        .with_refresh_threshold(Duration::from_secs(3 * 60));
    assert_eq!(client.access_token().await.unwrap(), first);
    assert_eq!(env.counts.refreshes(), 1);
}

#[tokio::test]
async fn a_401_forces_one_refresh_and_one_retry() {
    let env = Env::new().await;
    let c = env.sign_in().await;
    let first = c.token.clone().unwrap();
    let client = AuthorizedClient::new(c).unwrap();
    assert_eq!(call_api(&client, &env).await, first);

    // The server's clock moves on: the client still believes its token valid.
    env.app.clock.advance(Duration::from_secs(2 * 3600));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            let api = env.api();
            tokio::spawn(async move {
                let r = client.get(api).await.expect("request");
                assert_eq!(r.status(), 200, "retried after a refresh");
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(env.counts.unauthorized.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        env.counts.refreshes(),
        1,
        "callers that saw a 401 for the same token share one refresh"
    );
    assert_ne!(client.credentials().token.unwrap(), first);
}

#[tokio::test]
async fn a_revoked_grant_surfaces_as_consent_required() {
    let env = Env::new().await;
    let c = env.sign_in().await;
    c.clone()
        .revoke(&default_http_client().unwrap())
        .await
        .expect("revoke");
    let client = AuthorizedClient::new(c.clone()).unwrap();
    // The token is dead at the server: 401, forced refresh, invalid_grant.
    let e = client.get(env.api()).await.unwrap_err();
    assert!(matches!(e, Error::ConsentRequired { .. }), "{e:?}");
    assert_eq!(client.credentials(), c, "nothing published on failure");
}
