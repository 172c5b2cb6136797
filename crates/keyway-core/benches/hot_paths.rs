//! Micro-benchmarks of the request hot paths of the token, tokeninfo and introspection
//! endpoints (see BENCHMARKS.md): the lookup key of a presented token, minting a token,
//! client authentication, parsing a token request, redirect-URI checks, PKCE, scopes, and
//! the Argon2id verification behind every sign-in.
//!
//! `cargo bench -p keyway-core` runs them; `cargo bench --no-run -p keyway-core` builds them.
//! ID-token signing is measured once OpenID Connect exists (issue 7).

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use keyway_core::pkce::{ChallengeMethod, PkceChallenge};
use keyway_core::token::ClientCredentials;
use keyway_core::{
    ClientSecretRecord, RedirectUri, RedirectUriPolicy, ScopeSet, Secret, SecretHash, SecretKind,
    Timestamp, password,
};

const CLIENT_ID: &str = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.keyway.test";
const REDIRECT_URI: &str = "http://localhost:8080/oauth2callback";
const SCOPE: &str = "email profile https://www.googleapis.com/auth/drive.file";

fn tokens(c: &mut Criterion) {
    let token = SecretKind::AccessToken.generate();
    let presented = token.expose().to_owned();
    // What tokeninfo, introspection and the refresh grant compute before their one lookup.
    c.bench_function("token/lookup_key_sha256", |b| {
        b.iter(|| SecretHash::of(black_box(&presented)))
    });
    c.bench_function("token/prefix_check", |b| {
        b.iter(|| SecretKind::AccessToken.is_kind_of(black_box(&presented)))
    });
    // Every grant mints one (or two) of these: 32 bytes from getrandom, base64url.
    c.bench_function("token/generate", |b| {
        b.iter(|| SecretKind::AccessToken.generate())
    });
    c.bench_function("token/generate_and_hash", |b| {
        b.iter(|| SecretKind::AccessToken.generate().hash())
    });
}

fn client_auth(c: &mut Criterion) {
    let secret = SecretKind::ClientSecret.generate();
    let records = vec![ClientSecretRecord::new(1, &secret, Timestamp::from_unix(0))];
    let presented = secret.expose().to_owned();
    c.bench_function("client_auth/credentials_from_body", |b| {
        b.iter(|| {
            ClientCredentials::from_request(None, Some(black_box(CLIENT_ID)), Some(&presented))
        })
    });
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{presented}"))
    );
    c.bench_function("client_auth/credentials_from_basic", |b| {
        b.iter(|| ClientCredentials::from_request(Some(black_box(&basic)), None, None))
    });
    // OAuthClient::secret_matches: SHA-256 of the presented secret, constant-time compare.
    c.bench_function("client_auth/secret_check_1_secret", |b| {
        b.iter(|| ClientSecretRecord::any_matches(&records, black_box(&presented)))
    });
    let rotated = vec![
        records[0].clone(),
        ClientSecretRecord::new(
            2,
            &SecretKind::ClientSecret.generate(),
            Timestamp::from_unix(0),
        ),
    ];
    c.bench_function("client_auth/secret_check_2_secrets", |b| {
        b.iter(|| ClientSecretRecord::any_matches(&rotated, black_box(&presented)))
    });
}

fn request_parsing(c: &mut Criterion) {
    let refresh = SecretKind::RefreshToken.generate();
    let secret = SecretKind::ClientSecret.generate();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh.expose())
        .append_pair("client_id", CLIENT_ID)
        .append_pair("client_secret", secret.expose())
        .finish();
    // The server's Params::from_query: every pair decoded into owned strings.
    c.bench_function("params/parse_refresh_form", |b| {
        b.iter(|| {
            url::form_urlencoded::parse(black_box(body.as_bytes()))
                .into_owned()
                .collect::<Vec<(String, String)>>()
        })
    });
    c.bench_function("params/parse_form_and_credentials", |b| {
        b.iter(|| {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(black_box(body.as_bytes()))
                    .into_owned()
                    .collect();
            let one = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            ClientCredentials::from_request(None, one("client_id"), one("client_secret")).is_ok()
        })
    });
    c.bench_function("scope/parse_and_format", |b| {
        b.iter(|| {
            ScopeSet::parse(black_box(SCOPE))
                .map(|s| s.to_string())
                .unwrap_or_default()
        })
    });
}

fn redirect_uris(c: &mut Criterion) {
    let policy = RedirectUriPolicy::default();
    // At registration (keyway client create/update): every Google rule, the public-suffix list.
    c.bench_function("redirect_uri/validate_https", |b| {
        b.iter(|| {
            policy.validate_redirect_uri(black_box("https://photo.example.com/oauth2callback"), &[])
        })
    });
    c.bench_function("redirect_uri/validate_loopback", |b| {
        b.iter(|| policy.validate_redirect_uri(black_box(REDIRECT_URI), &[]))
    });
    // At the authorization and token endpoints: exact byte comparison with a registered one.
    let registered = RedirectUri::from_stored(REDIRECT_URI.to_owned());
    c.bench_function("redirect_uri/match_registered", |b| {
        b.iter(|| registered.matches(black_box(REDIRECT_URI)))
    });
}

fn pkce(c: &mut Criterion) {
    // RFC 7636 Appendix B.
    let s256 = PkceChallenge {
        challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        method: ChallengeMethod::S256,
    };
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    c.bench_function("pkce/verify_s256", |b| {
        b.iter(|| s256.verify(black_box(verifier)))
    });
    let plain = PkceChallenge {
        challenge: verifier.into(),
        method: ChallengeMethod::Plain,
    };
    c.bench_function("pkce/verify_plain", |b| {
        b.iter(|| plain.verify(black_box(verifier)))
    });
}

fn passwords(c: &mut Criterion) {
    let pw = Secret::new("correct horse battery staple");
    let Ok(hash) = password::hash_password(&pw) else {
        return;
    };
    let mut g = c.benchmark_group("password");
    g.sample_size(10);
    // One sign-in's Argon2id (m=19456 KiB, t=2, p=1): the floor of the sign-in row.
    g.bench_function("verify_argon2id_m19456_t2_p1", |b| {
        b.iter(|| password::verify_password(Some(&hash), black_box(&pw)))
    });
    g.finish();
}

criterion_group!(
    benches,
    tokens,
    client_auth,
    request_parsing,
    redirect_uris,
    pkce,
    passwords
);
criterion_main!(benches);
