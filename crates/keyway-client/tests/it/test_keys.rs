//! Test-only RSA keys and JWT helpers, shared by the unit tests of `src/id_token.rs`
//! (through `#[path]`) and the integration tests.
//!
//! The two keys below are **test-only** 2048-bit RSA keys (PKCS#8 DER, base64), made for
//! these tests alone with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 |
//! openssl pkcs8 -topk8 -nocrypt -outform DER | base64 -w0` (OpenSSL 3.0's
//! `genpkey -outform DER` alone writes PKCS#1, which `RsaKeyPair::from_pkcs8` refuses).
//! They protect nothing; never use them for anything else.
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

/// Test-only key A (PKCS#8, base64). Not a secret: it signs test tokens only.
pub const TEST_KEY_A: &str = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCp+cxetvwxUDjwOhc4tk4+DCcAeJexm3ZRbEC/iPNcMrlnD2l/qQLGMjqPxt5s8C0diAPUGdcXAS47fdvGbAjOc/wEaMI8TL1kA62OdNeb8SJN7prty2i0O0yV06YfrVxcOQfAKIjkRWgXzSVEtB2OFDNMBxK7CW+QE7zNxvE65g843vPIU2QwJ0F/jwJzYbXMH86yTnX/KjQCp1bHPJC2awXwM/cZUuHApS27YJStHxbRg7S07hxQR9z9RpMoEF1iO7Kdlqd0LPb4pTFSp3rtKwWn4X9Su7WD2lGjy95k/69fldqN7Lwvp9r/Na899Y2G0UqrzPeNP87mxo0Yt44rAgMBAAECggEAUdzUgHNZr7hmy8/2eiJXOYvpxtDNokTw7ZMY9gZTyr5FS+0AzvKLuv/a838AhfAAkn389gyB6nrvlMhvbjd+4Eu8/zSjA56kAkTBNGByrRCsCGOX61nxcggzQN+f3RbF6kavRG1hTKte0EPFpLqol1KESCQJ8dnACOBwqJyddtMnGnAdR6ZUqXH22MjKEczCgi8S8MwuSqVaAgi3LXDEHolzMEqifvqxhfj3B/csY8QlLfitnABmJJHIBiE5rC+/VnNRXDBpCyvM6CQh0esr2VV93DDhbjPTQgOWN7I/BQ+/mqppRTKcUw00u/kNIjgnzR7us6A625dI71m3t0xwcQKBgQDpwFg6suHQHoC5ePfH2mGIsY6bCQQHkGxzFf4MvsJBFmUuJPdMyLAIliMdx4DwLRy5PTYjfk0UKWKh4cBhBnvUk1xSdc3iGirUwQjtBRixu2KTVEOaT50GVux1MC00fTJsYZSbD98idEv/xiKv1PAZY1o/A770MTmz4LzGvdGfuwKBgQC6J3qewjDwK8tLY30kaQkpB1UINJ9SEz1tCHVrgzZgOaAhNJExJjhTyAEm4L42MzBn74ZCie3iC1xGIngMZax28mZh+N25DA7sanKTDHdHdOuJIdsoQsYrUGoYCcWxwhTEi0ei/Rx5qT5Txyh1I1DwbX4xQ9cdzj6oIJMvRSHMUQKBgQDbyLvsrUd/fT7Bpcksw9wTQAf7JBYC2rvt1g7igvZ5ZopKQf2417YUzL5GANDugyxPzAs8gkQNIgCYf4B4ejUyokAbVKL55mrBUqOG4NTgQHWmW4OY8ySM0mxQn7TRdqpTl8i3p8vBRKI042K3+zqqVG2FdIs2ZZaA2F4HbHFOgwKBgQC4TKXF0BSLc5BODy2ygpsjF7ND8HVb2NiTvjAiRUHseqDivxyQQHq71+PsDc3D82IVRLrz3YK6rOyqMy4PeAoLqWlbzfwWXK3Zunm8xDbDdCpNFkvXzGRONcsUCXjEyJWvEQXXhChQ+xJN93tCnbhgkMbDF5s+UxcNdVLDFfqkQQKBgFa/JphgiEnf9JhXGj70MQuAgjzL9JSsrn/c5axWV4/foIm8OBXBDM3YZamviyAe9WYqQyCSUjCGUS9aLq2Yyqg5Ps9lU96zCb7ZcD9nB5mI5ZMBXIKqzGgvkIZ4efDBRVYQp9seEN6SNdYUPKyzI05gC7D3IK8JaDSkM/AuFGSC";

/// Test-only key B (PKCS#8, base64), the "rotated" key. Not a secret either.
pub const TEST_KEY_B: &str = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC4W5OGBcck+SnQ2pRPAttJSKHmTEBE5sY41odjJStuKxBMRIcysIPqGm+v4qtrIXzQfaQmo6zyXUCjdeXC4CClasOhtSF/LsxLlJ5jvGBFNcw/2YvzN2jBTSm8ppzvc8NShzMI3six40oQB2hplnmHg86TGgZXZF16wVNjmfNEARciFMqKBWt/ST/nwgy0jQ9Mcp+p6rBnSp6rX5HZyR6KSzeVFs5knT9jFzur4+1KZod1PhC2E4OJv0gOpADbKbwk/9ybTlzsFGOiIqaGHHV3n/w7s0o65r2/eY2OIjNeTj/EyHssvUFUm6lKBRQmD/QNlkAZXTgCNz9SWdwgxVO/AgMBAAECggEAEAs5xm/msDgJRJMqu8mMdE86D7gfeIX6ecqc4HfFCALLzOdcOk2t3TsZvZCYL58r2ChNZDNzgwNMjPn4pqhcqI8NbjUJY9XnX5IUF3fp8a8urEVuOxqQwKnKpQ+wfqijae449pLbNZsjJrJbJHBwLE2Mz7TaTAazzLgNKsQK4KY7/NgNzRkm3jtgSYuGRSCYj5g+22IjJTvLU/Y5FYZ57DHHcEpxmQ4bFDIGHVremLvoWF4GwG1sftXMzV4GrRTM8NK6D98npSiqv+JSS+I2ljTXeOL5hqwwCX3MmoPIGsUcEp25/baE1RE2ra7OS1xeKx7d8S6N8B96TqfI1NaJuQKBgQDzSouhGfznn22tAgN5grKKe/59JlXBaSRMon5zS6Ww4ht2BAgAwQJea4lMSRNjleS2CtV3bZVo07VpCrpJ2MVwWI8Dqq6gvBDmjPHhMIQKoBcMYKevcz/f35F8aiNo23NxugrO5hNVyfxEBsweqrVQS02o27jI/0B/WVl9qdcVjQKBgQDB/O66DUmJrKQwUH/lbDOoT2YHi6S6PFPquB1V7/IY1pERAHpYUBq06W3IfTnXa3JftVUvV4xdCk1lLfXeMIfYLCbRhBTBXwfYu3F4PSC7Qgdrt0dIp736UcwgPnOSw/lVhMsqS3h1bi5eCB0M1TGwd25PS83JJ/nKsb7+bTEdewKBgHd28mtwLGy8L4nVxEkFcZBo5IUlrtRjQazT2c3Zpond7WgdAKUGIZilq2ynMXskHoN5fGrBh61Kz/i9iM48QG8zPT6qsEdDMfVT3m4aeawSAl9UkuKncAUJbhIuuCaEJAMDPM1t0q68mT/6Kn8gihnccEzrX6hrFouyHyyCmpf9AoGAEfVLWFfwjdk4nexl2qRIp/UpudsYldEN57XBqXn8DIaYiV1k9hX8UvElI6FMIIAm52tPBoHxUY+pmItHrpkJil6T/WNf1ILqpAq+N2ZZSFyVeUhPRg+ZS7oUzotZgaW4yEzxzemMrjpT+op/vfdikTaNNLQMyel0e2o3BzCukk8CgYATRh5iYsY5VcS7IoplRF0w2vJm/YMxARqdrwewyYUJZLCTVyg8TY+mIgtGXeG3nCTbTolPWKmH/zkInqHxWRYcw8btAQN8PfJNuedIDJvc7syA4HPe4AKGs+Zz1vMKgukWnVhe29Nxw5JE5xG0HsaUkJ1npZSFZ04DwBVbpWkK0g==";

/// The key pair of a base64 PKCS#8 constant.
pub fn key_pair(pkcs8_b64: &str) -> RsaKeyPair {
    let der = STANDARD.decode(pkcs8_b64).expect("base64");
    RsaKeyPair::from_pkcs8(&der).expect("an RSA PKCS#8 key")
}

/// The public JWK of `key` with `kid`, its `n`/`e` taken from `RsaKeyPair::public()`.
pub fn jwk(key: &RsaKeyPair, kid: &str) -> Value {
    let RsaPublicKeyComponents::<Vec<u8>> { n, e } = key.public().into();
    json!({
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(n),
        "e": URL_SAFE_NO_PAD.encode(e),
    })
}

/// `header.claims` base64url-encoded, without the signature.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A compact JWS of `claims` with `header`, signed RS256 with `key` (whatever the
/// header's `alg` says).
pub fn sign_with_header(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// An RS256 token of `claims` signed with `key`, its header naming `kid`.
pub fn sign(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    sign_with_header(
        key,
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        claims,
    )
}
