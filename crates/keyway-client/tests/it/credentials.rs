//! Credentials against the server: refresh, revocation, token information, JSON.

use std::time::{Duration, SystemTime};

use keyway_client::{Credentials, Endpoint, Error, default_http_client};

use crate::support::Env;

const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_moves_the_expiry() {
    let env = Env::new().await;
    let http = default_http_client().unwrap();
    let mut c = env.sign_in().await;
    let (old_token, refresh_token) = (c.token.clone(), c.refresh_token.clone());

    // Two hours later, on the server's clock, the access token is dead.
    env.app.clock.advance(TWO_HOURS);
    let e = c.token_info(&http).await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth { endpoint: Endpoint::TokenInfo, status: 400, error, .. } if error == "invalid_token"),
        "{e:?}"
    );
    // Pretend the same time passed here, then refresh.
    c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    assert!(!c.is_valid());
    c.refresh(&http).await.expect("refresh");

    assert_ne!(c.token, old_token);
    assert_eq!(
        c.refresh_token, refresh_token,
        "refresh tokens do not rotate"
    );
    assert!(c.is_valid());
    let left = c.expiry.unwrap().duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3500), "{left:?}");
    assert_eq!(env.counts.refreshes(), 1);
    let info = c.token_info(&http).await.expect("the new token is valid");
    assert_eq!(info.sub.as_deref(), Some(env.fx.user.sub.as_str()));
}

#[tokio::test]
async fn after_revocation_a_refresh_needs_consent_again() {
    let env = Env::new().await;
    let http = default_http_client().unwrap();
    let c = env.sign_in().await;
    let mut revoked = c.clone();
    revoked.revoke(&http).await.expect("revoke");
    assert_eq!(
        (revoked.token.as_ref(), revoked.refresh_token.as_ref()),
        (None, None)
    );

    // The access token died with the grant…
    let e = c.token_info(&http).await.unwrap_err();
    assert_eq!(e.error_code(), Some("invalid_token"));
    // …and so did the refresh token: the user has to authorize again.
    let mut stale = c.clone();
    let e = stale.refresh(&http).await.unwrap_err();
    assert!(
        matches!(&e, Error::ConsentRequired { error, .. } if error == "invalid_grant"),
        "{e:?}"
    );
    assert!(e.is_consent_required() && !e.is_retryable());
    assert_eq!(stale, c, "a failed refresh changes nothing");

    // Revoking again: Google's (and Keyway's) answer for a dead token.
    let mut again = c.clone();
    let e = again.revoke(&http).await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth { endpoint: Endpoint::Revoke, status: 400, error, .. } if error == "invalid_token"),
        "{e:?}"
    );
}

#[tokio::test]
async fn credentials_survive_the_authorized_user_json_and_still_refresh() {
    let env = Env::new().await;
    let http = default_http_client().unwrap();
    let c = env.sign_in().await;
    let json = c.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"], "authorized_user");
    for key in [
        "token",
        "refresh_token",
        "token_uri",
        "client_id",
        "client_secret",
        "scopes",
        "expiry",
    ] {
        assert!(v.get(key).is_some(), "{key} in {json}");
    }
    let expiry = v["expiry"].as_str().unwrap();
    assert!(expiry.ends_with('Z') && !expiry.contains('+'), "{expiry}");

    let mut back = Credentials::from_json(&json).unwrap();
    assert_eq!(back, c);
    // What google-auth would make of it: only the keys from_authorized_user_info reads,
    // expiry truncated to seconds.
    let python = serde_json::json!({
        "token": v["token"], "refresh_token": v["refresh_token"], "token_uri": v["token_uri"],
        "client_id": v["client_id"], "client_secret": v["client_secret"],
        "scopes": v["scopes"], "expiry": expiry.split('.').next().unwrap().to_owned() + "Z",
    });
    let mut from_python = Credentials::from_json(&python.to_string()).unwrap();
    assert_eq!(from_python.token, c.token);
    assert!(from_python.is_valid());
    from_python
        .refresh(&http)
        .await
        .expect("refresh from the Python-shaped file");
    back.refresh(&http).await.expect("refresh");
    assert_eq!(env.counts.refreshes(), 2);
}
