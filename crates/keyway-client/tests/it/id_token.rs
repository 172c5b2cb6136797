//! ID-token verification against a local issuer: a small axum server with a discovery
//! document, a JWKS (the test keys' `n`/`e`) and a token endpoint, counting requests.
//! Keyway does not sign ID tokens yet, so this stands in for it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_client::{ClientSecrets, Endpoint, Error, Flow, IdTokenReason, IdTokenVerifier};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::test_keys::{TEST_KEY_A, TEST_KEY_B, jwk, key_pair, sign};

const CLIENT: &str = "client-1.apps.example";
/// 2026-01-01T00:00:00Z, the tests' clock.
const T0: u64 = 1_767_225_600;

#[derive(Default)]
struct Issuer {
    jwks: Mutex<Value>,
    /// `Cache-Control` of the JWKS answer.
    cache_control: Mutex<Option<String>>,
    /// The JWKS answers with this status instead, when set.
    jwks_status: Mutex<Option<u16>>,
    /// The discovery document's `issuer`, when not the server's own.
    claimed_issuer: Mutex<Option<String>>,
    /// The token endpoint's answer.
    token_response: Mutex<Value>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    base: Mutex<String>,
}

impl Issuer {
    fn jwks_hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    fn publish(&self, keys: &[(&str, &str)]) {
        let keys: Vec<Value> = keys
            .iter()
            .map(|(pkcs8, kid)| jwk(&key_pair(pkcs8), kid))
            .collect();
        *self.jwks.lock().unwrap() = json!({ "keys": keys });
    }
}

/// Starts the issuer, publishing key A as `a`; returns it and its URL (no trailing slash:
/// the issuer identifier).
async fn issuer() -> (Arc<Issuer>, String) {
    let state = Arc::new(Issuer::default());
    state.publish(&[(TEST_KEY_A, "a")]);
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *state.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (state, base)
}

async fn discovery(State(s): State<Arc<Issuer>>) -> Response {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let base = s.base.lock().unwrap().clone();
    let issuer = s.claimed_issuer.lock().unwrap().clone();
    axum::Json(json!({
        "issuer": issuer.unwrap_or_else(|| base.clone()),
        "jwks_uri": format!("{base}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<Issuer>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = *s.jwks_status.lock().unwrap() {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    let mut r = axum::Json(s.jwks.lock().unwrap().clone()).into_response();
    if let Some(cc) = s.cache_control.lock().unwrap().clone() {
        r.headers_mut()
            .insert(header::CACHE_CONTROL, cc.parse().unwrap());
    }
    r
}

async fn token(State(s): State<Arc<Issuer>>) -> Response {
    axum::Json(s.token_response.lock().unwrap().clone()).into_response()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn new() -> Self {
        Self(Arc::new(AtomicU64::new(T0)))
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

fn verifier(base: &str, clock: &Clock) -> IdTokenVerifier {
    let clock = clock.clone();
    IdTokenVerifier::new(base, CLIENT)
        .unwrap()
        .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.now()))
}

fn claims(iss: &str, now: u64) -> Value {
    json!({
        "iss": iss,
        "sub": "110169484474386276334",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 3600,
        "email": "ada@example.com",
        "email_verified": true,
    })
}

fn refused(r: Result<keyway_client::IdTokenClaims, Error>) -> IdTokenReason {
    match r {
        Err(Error::IdToken { reason }) => reason,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn keys_come_from_the_discovery_documents_jwks_and_are_cached() {
    let (server, base) = issuer().await;
    let clock = Clock::new();
    let v = verifier(&base, &clock);
    let t = sign(&key_pair(TEST_KEY_A), "a", &claims(&base, clock.now()));
    let c = v.verify(&t, None).await.unwrap();
    assert_eq!(c.sub, "110169484474386276334");
    assert_eq!(c.email.as_deref(), Some("ada@example.com"));
    assert_eq!(c.email_verified, Some(true));
    // Cached: clones share the keys, nothing more is fetched.
    let v2 = v.clone();
    for _ in 0..3 {
        v2.verify(&t, None).await.unwrap();
    }
    assert_eq!(server.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.jwks_hits(), 1);
    assert_eq!(v.jwks_fetches().await, 1);
    // A bad signature is refused without fetching again (the kid is known).
    let forged = sign(&key_pair(TEST_KEY_B), "a", &claims(&base, clock.now()));
    assert_eq!(
        refused(v.verify(&forged, None).await),
        IdTokenReason::InvalidSignature
    );
    assert_eq!(server.jwks_hits(), 1);
    // An explicit jwks_uri skips discovery.
    let direct =
        verifier(&base, &clock).with_jwks_uri(Url::parse(&format!("{base}/jwks")).unwrap());
    direct.verify(&t, None).await.unwrap();
    assert_eq!(server.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.jwks_hits(), 2);
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_and_follows_rotation() {
    let (server, base) = issuer().await;
    let clock = Clock::new();
    let v = verifier(&base, &clock);
    let old = sign(&key_pair(TEST_KEY_A), "a", &claims(&base, clock.now()));
    v.verify(&old, None).await.unwrap();
    assert_eq!(server.jwks_hits(), 1);

    // Right after a fetch, an unknown kid does not cause another (no hammering).
    let new = |now| sign(&key_pair(TEST_KEY_B), "b", &claims(&base, now));
    assert_eq!(
        refused(v.verify(&new(clock.now()), None).await),
        IdTokenReason::UnknownKey
    );
    assert_eq!(server.jwks_hits(), 1);

    // Later: exactly one refetch, and the key is still unknown.
    clock.advance(31);
    assert_eq!(
        refused(v.verify(&new(clock.now()), None).await),
        IdTokenReason::UnknownKey
    );
    assert_eq!(server.jwks_hits(), 2);

    // The issuer rotates to key B (keeping A); after the interval, many concurrent
    // verifications of B-signed tokens cause one refetch between them, and all pass.
    server.publish(&[(TEST_KEY_A, "a"), (TEST_KEY_B, "b")]);
    clock.advance(31);
    let token = new(clock.now());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (v, token) = (v.clone(), token.clone());
            tokio::spawn(async move { v.verify(&token, None).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().sub, "110169484474386276334");
    }
    assert_eq!(server.jwks_hits(), 3);
    // Both keys are now cached.
    v.verify(&token, None).await.unwrap();
    v.verify(&old, None).await.unwrap();
    assert_eq!(server.jwks_hits(), 3);

    // Key A retired: a token still naming it is refused once the cache has expired.
    server.publish(&[(TEST_KEY_B, "b")]);
    clock.advance(3600);
    let stale = sign(&key_pair(TEST_KEY_A), "a", &claims(&base, clock.now()));
    assert_eq!(
        refused(v.verify(&stale, None).await),
        IdTokenReason::UnknownKey
    );
    assert_eq!(server.jwks_hits(), 4);
}

#[tokio::test]
async fn the_cache_lifetime_honours_max_age_within_bounds() {
    let (server, base) = issuer().await;
    let clock = Clock::new();
    let v = verifier(&base, &clock).with_jwks_cache_ttl(Duration::from_secs(600));
    let verify = |v: IdTokenVerifier, now: u64| {
        let t = sign(&key_pair(TEST_KEY_A), "a", &claims(&base, now));
        async move { v.verify(&t, None).await.unwrap() }
    };

    *server.cache_control.lock().unwrap() = Some("public, max-age=120, must-revalidate".into());
    verify(v.clone(), clock.now()).await;
    clock.advance(119);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 1);
    clock.advance(1);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 2);

    // No Cache-Control: the configured lifetime.
    *server.cache_control.lock().unwrap() = None;
    clock.advance(120);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 3);
    clock.advance(599);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 3);
    clock.advance(1);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 4);

    // A huge max-age is capped at a day.
    *server.cache_control.lock().unwrap() = Some("max-age=100000000".into());
    clock.advance(600);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 5);
    clock.advance(24 * 3600 - 1);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 5);
    clock.advance(1);
    verify(v.clone(), clock.now()).await;
    assert_eq!(server.jwks_hits(), 6);
}

#[tokio::test]
async fn fetch_failures_are_typed() {
    let (server, base) = issuer().await;
    let clock = Clock::new();
    let t = sign(&key_pair(TEST_KEY_A), "a", &claims(&base, clock.now()));

    *server.jwks_status.lock().unwrap() = Some(503);
    let e = verifier(&base, &clock).verify(&t, None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Status {
                endpoint: Endpoint::Jwks,
                status: 503
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    *server.jwks_status.lock().unwrap() = None;

    // A discovery document naming another issuer is not believed.
    *server.claimed_issuer.lock().unwrap() = Some("https://evil.example".into());
    let e = verifier(&base, &clock).verify(&t, None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                endpoint: Endpoint::Discovery,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable());

    // A malformed token is refused before any request.
    let hits = server.jwks_hits();
    let v = verifier(&base, &clock);
    assert!(matches!(
        refused(v.verify("a.b", None).await),
        IdTokenReason::Malformed(_)
    ));
    assert!(matches!(
        refused(v.verify(&"x".repeat(1 << 20), None).await),
        IdTokenReason::Malformed(_)
    ));
    assert_eq!(server.jwks_hits(), hits);
}

fn flow(base: &str) -> Flow {
    let secrets = ClientSecrets::from_json(
        &json!({"web": {
            "client_id": CLIENT,
            "client_secret": "shh",
            "auth_uri": format!("{base}/auth"),
            "token_uri": format!("{base}/token"),
            "redirect_uris": ["https://app.example.com/cb"],
        }})
        .to_string(),
    )
    .unwrap();
    Flow::new(secrets, ["openid", "email"]).unwrap()
}

fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_exchange_verifies_the_id_token_with_the_pending_nonce() {
    let (server, base) = issuer().await;
    let flow = flow(&base);
    assert_eq!(flow.issuer(), base);
    let (_, pending) = flow.authorization_url().build().unwrap();
    let nonce = pending.nonce.clone().expect("openid → a nonce");
    let callback = format!("state={}&code=c-1", pending.state);
    let respond = |id_token: Option<String>| {
        let mut body = json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600});
        if let Some(t) = id_token {
            body["id_token"] = t.into();
        }
        *server.token_response.lock().unwrap() = body;
    };
    let id_token = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims(&base, now_secs());
        c["nonce"] = nonce.clone().into();
        c["at_hash"] = at_hash("at-1").into();
        edit(&mut c);
        sign(&key_pair(TEST_KEY_A), "a", &c)
    };

    // No id_token (Keyway today): nothing to verify, nothing fetched.
    respond(None);
    let (c, claims) = flow
        .exchange_with_claims(&pending, &callback)
        .await
        .unwrap();
    assert_eq!((c.id_token, claims), (None, None));
    assert_eq!(server.jwks_hits(), 0);

    // A valid one: verified with the pending nonce and the access token's hash.
    respond(Some(id_token(&|_| {})));
    let (c, claims) = flow
        .exchange_with_claims(&pending, &callback)
        .await
        .unwrap();
    assert!(c.id_token.is_some());
    let claims = claims.expect("verified claims");
    assert_eq!(claims.sub, "110169484474386276334");
    assert_eq!(claims.nonce.as_deref(), Some(nonce.as_str()));
    flow.exchange(&pending, &callback).await.unwrap();
    assert_eq!(server.jwks_hits(), 1, "the flow keeps its verifier's cache");

    // Refusals fail the exchange.
    type Edit<'a> = &'a dyn Fn(&mut Value);
    let cases: [(Edit<'_>, IdTokenReason); 5] = [
        (
            &|c| c["nonce"] = "another".into(),
            IdTokenReason::NonceMismatch,
        ),
        (
            &|c| {
                c.as_object_mut().unwrap().remove("nonce");
            },
            IdTokenReason::MissingNonce,
        ),
        (
            &|c| c["aud"] = "client-2".into(),
            IdTokenReason::WrongAudience,
        ),
        (
            &|c| c["iss"] = "https://evil.example".into(),
            IdTokenReason::WrongIssuer,
        ),
        (
            &|c| c["at_hash"] = at_hash("at-2").into(),
            IdTokenReason::AccessTokenHashMismatch,
        ),
    ];
    for (edit, reason) in cases {
        respond(Some(id_token(edit)));
        match flow.exchange(&pending, &callback).await {
            Err(Error::IdToken { reason: r }) => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
    }

    // The opt-out keeps the token unverified.
    respond(Some(id_token(&|c| c["nonce"] = "another".into())));
    let off = flow.clone().without_id_token_verification();
    assert!(off.id_token_verifier().is_none());
    let (c, claims) = off.exchange_with_claims(&pending, &callback).await.unwrap();
    assert!(c.id_token.is_some() && claims.is_none());

    // A custom verifier (here: pinned JWKS URI and a strict clock far in the future).
    respond(Some(id_token(&|_| {})));
    let late = IdTokenVerifier::new(&base, CLIENT)
        .unwrap()
        .with_jwks_uri(Url::parse(&format!("{base}/jwks")).unwrap())
        .with_clock(|| SystemTime::now() + Duration::from_secs(7200));
    let e = flow
        .clone()
        .with_id_token_verifier(late)
        .exchange(&pending, &callback)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::IdToken {
                reason: IdTokenReason::Expired
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("at-1"));
}
