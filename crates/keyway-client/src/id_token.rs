//! OpenID Connect ID-token verification against the issuer's JWKS (OpenID Connect Core
//! §3.1.3.7): an RS256 signature by one of the issuer's published keys, then `iss`, `aud`
//! (and `azp`), `exp`, `iat`, `nbf` and `nonce`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::{Endpoint, Error, Result};
use crate::http::default_http_client;

/// Google's issuer, as its discovery document names it. Google's ID tokens carry this or
/// the bare `accounts.google.com`; both are accepted for Google only.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Google's JWKS, used for [`GOOGLE_ISSUER`] without asking the discovery document.
pub const GOOGLE_JWKS_URI: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The default tolerance for clock differences when checking `exp`, `iat` and `nbf`.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// How long fetched keys are used when the JWKS answer has no `Cache-Control: max-age`.
pub const DEFAULT_JWKS_CACHE_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest fetched keys are ever used, whatever `Cache-Control: max-age` says.
pub const MAX_JWKS_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The default shortest time between two JWKS fetches caused by unknown `kid`s, so that
/// tokens naming made-up keys cannot make the verifier hammer the issuer.
pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// The longest ID token accepted, in bytes; longer input is refused before any decoding.
pub const MAX_ID_TOKEN_LEN: usize = 32 * 1024;

/// The largest JWKS or discovery document read.
const MAX_DOCUMENT_LEN: usize = 512 * 1024;
/// The most keys kept from one JWKS.
const MAX_KEYS: usize = 64;

/// Why an ID token was refused: the `reason` of [`Error::IdToken`]. None carries the
/// token or any of its claims' values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenReason {
    /// Not a well-formed compact JWS with a JSON header and claims (wrong number of
    /// segments, bad base64url, not JSON, a required claim missing or of the wrong type,
    /// too long, …). The text says which part.
    Malformed(&'static str),
    /// The header's `alg` is not `RS256` (`none`, `HS256`, …): refused, whatever the key.
    UnsupportedAlgorithm(String),
    /// The header has a `crit` parameter: no extension is understood here.
    UnsupportedCritical,
    /// No key of the issuer's JWKS has the token's `kid`, even after fetching the JWKS
    /// again.
    UnknownKey,
    /// The signature does not verify with the issuer's key.
    InvalidSignature,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` is not, or does not contain, the client id.
    WrongAudience,
    /// `aud` has several values and `azp` is missing or is not the client id.
    WrongAuthorizedParty,
    /// `exp` is past (by more than the allowed clock skew).
    Expired,
    /// `iat` is in the future (by more than the allowed clock skew).
    IssuedInFuture,
    /// `nbf` is in the future (by more than the allowed clock skew).
    NotYetValid,
    /// The authorization request sent a `nonce` and the token carries none.
    MissingNonce,
    /// The token's `nonce` is not the one the authorization request sent (a replayed or
    /// injected token).
    NonceMismatch,
    /// `at_hash` does not match the access token issued with the ID token.
    AccessTokenHashMismatch,
}

impl fmt::Display for IdTokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed: {what}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported algorithm `{alg}`"),
            Self::UnsupportedCritical => f.write_str("unsupported critical header parameter"),
            Self::UnknownKey => f.write_str("signed by a key the issuer does not publish"),
            Self::InvalidSignature => f.write_str("invalid signature"),
            Self::WrongIssuer => f.write_str("issued by another issuer"),
            Self::WrongAudience => f.write_str("issued to another client (`aud`)"),
            Self::WrongAuthorizedParty => {
                f.write_str("several audiences and `azp` is not this client")
            }
            Self::Expired => f.write_str("expired"),
            Self::IssuedInFuture => f.write_str("issued in the future (`iat`)"),
            Self::NotYetValid => f.write_str("not valid yet (`nbf`)"),
            Self::MissingNonce => f.write_str("no `nonce`, though the request sent one"),
            Self::NonceMismatch => f.write_str("`nonce` does not match the request's"),
            Self::AccessTokenHashMismatch => f.write_str("`at_hash` does not match"),
        }
    }
}

fn refuse(reason: IdTokenReason) -> Error {
    Error::IdToken { reason }
}

fn malformed(what: &'static str) -> Error {
    refuse(IdTokenReason::Malformed(what))
}

/// The claims of a verified ID token. The standard claims apps use have fields; every
/// other claim is in `extra`. `Debug` hides the nonce.
#[derive(Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// `iss`: the issuer.
    pub iss: String,
    /// `sub`: the user's stable identifier at the issuer. Key your users on
    /// (`iss`, `sub`), never on the email address.
    pub sub: String,
    /// `aud`: the audiences (a single string in the token becomes one element).
    pub aud: Vec<String>,
    /// `azp`: the authorized party, when present.
    pub azp: Option<String>,
    /// `exp`: expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// `iat`: issue time, in seconds since the Unix epoch.
    pub iat: u64,
    /// `nonce`, when present.
    pub nonce: Option<String>,
    /// `at_hash`: the access token's hash, when present.
    pub at_hash: Option<String>,
    /// `email`, when the `email` scope was granted.
    pub email: Option<String>,
    /// `email_verified` (Google has sent it as a string too; both are read).
    pub email_verified: Option<bool>,
    /// `name`, when the `profile` scope was granted.
    pub name: Option<String>,
    /// `picture`: the profile picture's URL.
    pub picture: Option<String>,
    /// Every other claim (`nbf`, `auth_time`, `hd`, `given_name`, `locale`, …).
    pub extra: Map<String, Value>,
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("azp", &self.azp)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .field("at_hash", &self.at_hash)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("name", &self.name)
            .field("picture", &self.picture)
            .field("extra", &self.extra)
            .finish()
    }
}

impl IdTokenClaims {
    /// `exp` as a time.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }

    /// `iat` as a time.
    pub fn issued_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.iat)
    }

    /// Checks `at_hash` against the access token issued with the ID token (OpenID Connect
    /// Core §3.1.3.8: the base64url left half of the token's SHA-256, for RS256). Passes
    /// when the token has no `at_hash`.
    pub fn check_access_token(&self, access_token: &str) -> Result<()> {
        let Some(at_hash) = &self.at_hash else {
            return Ok(());
        };
        let digest = Sha256::digest(access_token.as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(&digest[..16]);
        if bool::from(expected.as_bytes().ct_eq(at_hash.as_bytes())) {
            Ok(())
        } else {
            Err(refuse(IdTokenReason::AccessTokenHashMismatch))
        }
    }

    /// Reads the claims of a JSON object, checking the types of those with fields.
    fn from_json(mut map: Map<String, Value>) -> Result<Self> {
        fn string(
            map: &mut Map<String, Value>,
            name: &str,
            what: &'static str,
        ) -> Result<Option<String>> {
            match map.remove(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(malformed(what)),
            }
        }
        let iss = string(&mut map, "iss", "`iss` is not a string")?
            .ok_or_else(|| malformed("no `iss` claim"))?;
        let sub = string(&mut map, "sub", "`sub` is not a string")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("no `sub` claim"))?;
        let aud = match map.remove("aud") {
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(items)) if !items.is_empty() => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(malformed("`aud` is not a string or a list of strings")),
                })
                .collect::<Result<_>>()?,
            None => return Err(malformed("no `aud` claim")),
            Some(_) => return Err(malformed("`aud` is not a string or a list of strings")),
        };
        let exp = numeric_date(map.remove("exp"))
            .ok_or_else(|| malformed("`exp` is missing or not a number"))?;
        let iat = numeric_date(map.remove("iat"))
            .ok_or_else(|| malformed("`iat` is missing or not a number"))?;
        let email_verified = match map.remove("email_verified") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => return Err(malformed("`email_verified` is not a boolean")),
        };
        Ok(Self {
            iss,
            sub,
            aud,
            azp: string(&mut map, "azp", "`azp` is not a string")?,
            exp,
            iat,
            nonce: string(&mut map, "nonce", "`nonce` is not a string")?,
            at_hash: string(&mut map, "at_hash", "`at_hash` is not a string")?,
            email: string(&mut map, "email", "`email` is not a string")?,
            email_verified,
            name: string(&mut map, "name", "`name` is not a string")?,
            picture: string(&mut map, "picture", "`picture` is not a string")?,
            extra: map,
        })
    }
}

/// A JWT NumericDate: non-negative seconds, possibly fractional (the fraction is dropped).
fn numeric_date(v: Option<Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e18)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// An RSA public key from a JWKS.
#[derive(Clone, PartialEq, Eq)]
struct RsaKey {
    kid: Option<String>,
    /// Big-endian, without leading zeros.
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("bits", &(self.n.len() * 8))
            .finish()
    }
}

/// The RS256 signing keys of a JWKS document; other keys (EC, encryption keys, keys for
/// another `alg`) are skipped.
fn parse_jwks(body: &[u8]) -> Result<Vec<RsaKey>> {
    let invalid = |message: &str| Error::InvalidResponse {
        endpoint: Endpoint::Jwks,
        message: message.to_owned(),
    };
    let doc: Value = serde_json::from_slice(body).map_err(|_| invalid("not JSON"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no `keys` array"))?;
    let text = |k: &Value, name: &str| k.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    for k in keys {
        if text(k, "kty").as_deref() != Some("RSA")
            || text(k, "use").is_some_and(|u| u != "sig")
            || text(k, "alg").is_some_and(|a| a != "RS256")
        {
            continue;
        }
        let number = |name| {
            let raw = URL_SAFE_NO_PAD.decode(text(k, name)?).ok()?;
            let first = raw.iter().position(|&b| b != 0)?;
            Some(raw[first..].to_vec())
        };
        let (Some(n), Some(e)) = (number("n"), number("e")) else {
            continue;
        };
        if out.len() == MAX_KEYS {
            break;
        }
        out.push(RsaKey {
            kid: text(k, "kid"),
            n,
            e,
        });
    }
    Ok(out)
}

/// The seconds of `Cache-Control: max-age` (`no-cache` and `no-store` count as 0).
fn cache_max_age(header: &str) -> Option<u64> {
    let mut max_age = None;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "no-cache" | "no-store" => return Some(0),
            "max-age" => max_age = value.trim().trim_matches('"').parse().ok(),
            _ => {}
        }
    }
    max_age
}

/// A compact JWS, split and decoded up to (not including) its claims.
struct Jws<'a> {
    kid: Option<String>,
    /// `header.payload`, the signed bytes.
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    fn parse(token: &'a str) -> Result<Self> {
        if token.len() > MAX_ID_TOKEN_LEN {
            return Err(malformed("longer than MAX_ID_TOKEN_LEN"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not three dot-separated segments"));
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(malformed("an empty segment"));
        }
        let header_json = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| malformed("the header is not base64url"))?;
        let header_json: Map<String, Value> = serde_json::from_slice(&header_json)
            .map_err(|_| malformed("the header is not a JSON object"))?;
        match header_json.get("alg") {
            Some(Value::String(alg)) if alg == "RS256" => {}
            Some(Value::String(alg)) => {
                let mut alg = alg.clone();
                if alg.len() > 16 {
                    alg = format!("{}…", alg.chars().take(16).collect::<String>());
                }
                return Err(refuse(IdTokenReason::UnsupportedAlgorithm(alg)));
            }
            _ => return Err(malformed("no `alg` in the header")),
        }
        if header_json.contains_key("crit") {
            return Err(refuse(IdTokenReason::UnsupportedCritical));
        }
        let kid = match header_json.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err(malformed("`kid` is not a string")),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| malformed("the signature is not base64url"))?;
        Ok(Self {
            kid,
            signing_input: &token[..header.len() + 1 + payload.len()],
            payload,
            signature,
        })
    }

    /// Whether one of `keys` signed it: the key with its `kid`, or any key when the header
    /// names none.
    fn verify_signature(&self, keys: &[RsaKey]) -> Result<()> {
        let verifies = |k: &RsaKey| {
            ring::signature::RsaPublicKeyComponents {
                n: &k.n[..],
                e: &k.e[..],
            }
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .is_ok()
        };
        let ok = match &self.kid {
            Some(kid) => {
                let key = keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid))
                    .ok_or_else(|| refuse(IdTokenReason::UnknownKey))?;
                verifies(key)
            }
            None => keys.iter().any(verifies),
        };
        if ok {
            Ok(())
        } else {
            Err(refuse(IdTokenReason::InvalidSignature))
        }
    }

    fn has_key(&self, keys: &[RsaKey]) -> bool {
        match &self.kid {
            Some(kid) => keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
            None => true,
        }
    }

    fn claims(&self) -> Result<IdTokenClaims> {
        let json = URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| malformed("the claims are not base64url"))?;
        let map: Map<String, Value> = serde_json::from_slice(&json)
            .map_err(|_| malformed("the claims are not a JSON object"))?;
        IdTokenClaims::from_json(map)
    }
}

/// A source of the current time.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

#[derive(Clone)]
struct Config {
    issuer: String,
    client_id: String,
    jwks_uri: Option<Url>,
    http: reqwest::Client,
    clock_skew: Duration,
    cache_ttl: Duration,
    min_refetch_interval: Duration,
    clock: Clock,
}

impl Config {
    fn is_google(&self) -> bool {
        is_google_issuer(&self.issuer)
    }

    fn issuer_ok(&self, iss: &str) -> bool {
        iss == self.issuer || (self.is_google() && is_google_issuer(iss))
    }

    /// Checks everything but the signature.
    fn check_claims(
        &self,
        claims: &IdTokenClaims,
        nonce: Option<&str>,
        now: SystemTime,
    ) -> Result<()> {
        if !self.issuer_ok(&claims.iss) {
            return Err(refuse(IdTokenReason::WrongIssuer));
        }
        if !claims.aud.contains(&self.client_id) {
            return Err(refuse(IdTokenReason::WrongAudience));
        }
        if claims.aud.len() > 1 && claims.azp.as_deref() != Some(self.client_id.as_str()) {
            return Err(refuse(IdTokenReason::WrongAuthorizedParty));
        }
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let skew = self.clock_skew;
        let at = |secs: u64| Duration::from_secs(secs);
        if now > at(claims.exp).saturating_add(skew) {
            return Err(refuse(IdTokenReason::Expired));
        }
        if at(claims.iat) > now.saturating_add(skew) {
            return Err(refuse(IdTokenReason::IssuedInFuture));
        }
        if let Some(nbf) = claims.extra.get("nbf") {
            let nbf = numeric_date(Some(nbf.clone()))
                .ok_or_else(|| malformed("`nbf` is not a number"))?;
            if at(nbf) > now.saturating_add(skew) {
                return Err(refuse(IdTokenReason::NotYetValid));
            }
        }
        if let Some(expected) = nonce {
            let got = claims
                .nonce
                .as_deref()
                .ok_or_else(|| refuse(IdTokenReason::MissingNonce))?;
            if !bool::from(got.as_bytes().ct_eq(expected.as_bytes())) {
                return Err(refuse(IdTokenReason::NonceMismatch));
            }
        }
        Ok(())
    }

    /// Verifies `jws` with `keys`, then its claims.
    fn verify_with(
        &self,
        jws: &Jws<'_>,
        keys: &[RsaKey],
        nonce: Option<&str>,
        now: SystemTime,
    ) -> Result<IdTokenClaims> {
        jws.verify_signature(keys)?;
        let claims = jws.claims()?;
        self.check_claims(&claims, nonce, now)?;
        Ok(claims)
    }
}

fn is_google_issuer(iss: &str) -> bool {
    matches!(
        iss.trim_end_matches('/'),
        "https://accounts.google.com" | "accounts.google.com"
    )
}

/// The cached keys.
#[derive(Default)]
struct KeyCache {
    /// The JWKS URI once known (configured, or from the discovery document).
    jwks_uri: Option<Url>,
    keys: Arc<Vec<RsaKey>>,
    /// When the keys were fetched; `None` before the first fetch.
    fetched_at: Option<SystemTime>,
    expires_at: Option<SystemTime>,
    fetches: u64,
}

/// Verifies OpenID Connect ID tokens issued to one client by one issuer.
///
/// It fetches the issuer's JWKS (from `jwks_uri` when given — [`GOOGLE_JWKS_URI`] for
/// Google —, else from the issuer's discovery document,
/// `{issuer}/.well-known/openid-configuration`), keeps the keys by `kid` for the
/// answer's `Cache-Control: max-age` (at most [`MAX_JWKS_CACHE_TTL`]; without one,
/// [`DEFAULT_JWKS_CACHE_TTL`]), and fetches them again once when a token names an
/// unknown `kid`, to follow key rotation (at most once per
/// [`DEFAULT_MIN_REFETCH_INTERVAL`]). Only `RS256` is accepted: `none`, `HS256` and every
/// other `alg` are refused whatever the keys. Then it checks `iss` (for Google, both
/// `https://accounts.google.com` and `accounts.google.com`), `aud` (and `azp` when there
/// are several audiences), `exp`, `iat` and `nbf` with [`DEFAULT_CLOCK_SKEW`] of
/// tolerance, and `nonce`.
///
/// Cloning is cheap and clones share the key cache; keep one per issuer and client for the
/// life of the application. [`Flow::exchange`](crate::Flow::exchange) uses one by itself.
///
/// ```no_run
/// use keyway_client::IdTokenVerifier;
///
/// # async fn example(id_token: &str, nonce: &str) -> keyway_client::Result<()> {
/// let verifier = IdTokenVerifier::google("1234.apps.googleusercontent.com")?;
/// let claims = verifier.verify(id_token, Some(nonce)).await?;
/// println!("signed in: {} ({:?})", claims.sub, claims.email);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct IdTokenVerifier {
    config: Arc<Config>,
    cache: Arc<tokio::sync::Mutex<KeyCache>>,
}

impl fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenVerifier")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .field("jwks_uri", &self.config.jwks_uri.as_ref().map(Url::as_str))
            .field("clock_skew", &self.config.clock_skew)
            .finish_non_exhaustive()
    }
}

impl IdTokenVerifier {
    /// A verifier of tokens issued by `issuer` to `client_id`, with the
    /// [`default_http_client`]. For Google's issuer the JWKS is [`GOOGLE_JWKS_URI`]; for any
    /// other it is read from the discovery document unless set with
    /// [`IdTokenVerifier::with_jwks_uri`].
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Result<Self> {
        Ok(Self::with_parts(
            issuer.into(),
            client_id.into(),
            default_http_client()?,
        ))
    }

    /// A verifier of Google's ID tokens issued to `client_id`.
    pub fn google(client_id: impl Into<String>) -> Result<Self> {
        Self::new(GOOGLE_ISSUER, client_id)
    }

    pub(crate) fn with_parts(issuer: String, client_id: String, http: reqwest::Client) -> Self {
        let issuer = issuer.trim_end_matches('/').to_owned();
        let jwks_uri =
            is_google_issuer(&issuer).then(|| Url::parse(GOOGLE_JWKS_URI).expect("a valid URL"));
        Self {
            config: Arc::new(Config {
                issuer,
                client_id,
                jwks_uri,
                http,
                clock_skew: DEFAULT_CLOCK_SKEW,
                cache_ttl: DEFAULT_JWKS_CACHE_TTL,
                min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
                clock: Arc::new(SystemTime::now),
            }),
            cache: Arc::default(),
        }
    }

    /// Changes the configuration; the key cache starts afresh.
    fn configure(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self.cache = Arc::default();
        self
    }

    /// Fetches the keys from `jwks_uri` instead of the discovery document's.
    pub fn with_jwks_uri(self, jwks_uri: Url) -> Self {
        self.configure(|c| c.jwks_uri = Some(jwks_uri))
    }

    /// Uses `http` to fetch the discovery document and the JWKS. It should not follow
    /// redirects to other hosts.
    pub fn with_http_client(self, http: reqwest::Client) -> Self {
        self.configure(|c| c.http = http)
    }

    /// The tolerance for clock differences on `exp`, `iat` and `nbf`
    /// (default [`DEFAULT_CLOCK_SKEW`]).
    pub fn with_clock_skew(self, skew: Duration) -> Self {
        self.configure(|c| c.clock_skew = skew)
    }

    /// How long to keep keys whose JWKS answer has no `Cache-Control: max-age`
    /// (default [`DEFAULT_JWKS_CACHE_TTL`], at most [`MAX_JWKS_CACHE_TTL`]).
    pub fn with_jwks_cache_ttl(self, ttl: Duration) -> Self {
        self.configure(|c| c.cache_ttl = ttl.min(MAX_JWKS_CACHE_TTL))
    }

    /// The shortest time between two fetches caused by unknown `kid`s
    /// (default [`DEFAULT_MIN_REFETCH_INTERVAL`]).
    pub fn with_min_refetch_interval(self, interval: Duration) -> Self {
        self.configure(|c| c.min_refetch_interval = interval)
    }

    /// Reads the time from `clock` instead of [`SystemTime::now`] (for `exp`/`iat` and the
    /// key cache's lifetime); for tests.
    pub fn with_clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.configure(|c| c.clock = Arc::new(clock))
    }

    /// The expected issuer.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The expected audience (the client id).
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// Verifies `id_token` and returns its claims. When the authorization request sent a
    /// `nonce` ([`PendingAuthorization::nonce`](crate::PendingAuthorization::nonce)), pass
    /// it: the token must carry the same one.
    ///
    /// Errors: [`Error::IdToken`] when the token is refused; [`Error::Http`],
    /// [`Error::Status`] or [`Error::InvalidResponse`] (endpoint [`Endpoint::Jwks`] or
    /// [`Endpoint::Discovery`]) when the keys could not be fetched.
    pub async fn verify(&self, id_token: &str, nonce: Option<&str>) -> Result<IdTokenClaims> {
        let now = (self.config.clock)();
        self.verify_at(id_token, nonce, now).await
    }

    /// [`IdTokenVerifier::verify`] at the time `now` (which also ages the key cache).
    pub async fn verify_at(
        &self,
        id_token: &str,
        nonce: Option<&str>,
        now: SystemTime,
    ) -> Result<IdTokenClaims> {
        let jws = Jws::parse(id_token)?;
        let keys = self.keys_for(&jws, now).await?;
        self.config.verify_with(&jws, &keys, nonce, now)
    }

    /// The cached keys, fetched first when stale, and fetched again once when `jws` names
    /// a key they lack (unless the last fetch is too recent).
    async fn keys_for(&self, jws: &Jws<'_>, now: SystemTime) -> Result<Arc<Vec<RsaKey>>> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.expires_at.is_some_and(|t| now < t);
        if !fresh {
            self.fetch(&mut cache, now).await?;
        } else if !jws.has_key(&cache.keys) {
            let since = cache
                .fetched_at
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            if since >= self.config.min_refetch_interval {
                self.fetch(&mut cache, now).await?;
            }
        }
        Ok(cache.keys.clone())
    }

    async fn fetch(&self, cache: &mut KeyCache, now: SystemTime) -> Result<()> {
        let uri = match (&self.config.jwks_uri, &cache.jwks_uri) {
            (Some(u), _) | (None, Some(u)) => u.clone(),
            (None, None) => {
                let u = self.discover().await?;
                cache.jwks_uri = Some(u.clone());
                u
            }
        };
        let (body, cache_control) = get(&self.config.http, Endpoint::Jwks, &uri).await?;
        let keys = parse_jwks(&body)?;
        let ttl = cache_control
            .as_deref()
            .and_then(cache_max_age)
            .map_or(self.config.cache_ttl, Duration::from_secs)
            .min(MAX_JWKS_CACHE_TTL);
        cache.keys = Arc::new(keys);
        cache.fetched_at = Some(now);
        cache.expires_at = Some(now + ttl);
        cache.fetches += 1;
        Ok(())
    }

    /// The `jwks_uri` of the issuer's discovery document, whose `issuer` must be ours.
    async fn discover(&self) -> Result<Url> {
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let invalid = |message: &str| Error::InvalidResponse {
            endpoint: Endpoint::Discovery,
            message: message.to_owned(),
        };
        let url = Url::parse(&url).map_err(|_| Error::InvalidConfig {
            what: "ID token verifier",
            message: "the issuer is not an absolute URL".into(),
        })?;
        let (body, _) = get(&self.config.http, Endpoint::Discovery, &url).await?;
        let doc: Value = serde_json::from_slice(&body).map_err(|_| invalid("not JSON"))?;
        let issuer = doc.get("issuer").and_then(Value::as_str);
        if issuer.map(|i| i.trim_end_matches('/')) != Some(self.config.issuer.as_str()) {
            return Err(invalid("its `issuer` is not the expected issuer"));
        }
        doc.get("jwks_uri")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| invalid("no valid `jwks_uri`"))
    }

    /// How many times the JWKS has been fetched (for tests and metrics).
    pub async fn jwks_fetches(&self) -> u64 {
        self.cache.lock().await.fetches
    }
}

/// GETs a JSON document of at most [`MAX_DOCUMENT_LEN`] bytes; returns it with the
/// `Cache-Control` header.
async fn get(
    http: &reqwest::Client,
    endpoint: Endpoint,
    url: &Url,
) -> Result<(Vec<u8>, Option<String>)> {
    let mut response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(Error::Status { endpoint, status });
    }
    let cache_control = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let too_long = || Error::InvalidResponse {
        endpoint,
        message: format!("longer than {MAX_DOCUMENT_LEN} bytes"),
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_LEN as u64)
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_DOCUMENT_LEN {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, cache_control))
}

#[cfg(test)]
#[path = "../tests/it/test_keys.rs"]
mod test_keys;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::test_keys::{TEST_KEY_A, TEST_KEY_B, jwk, key_pair, sign, sign_with_header};
    use super::*;

    const CLIENT: &str = "client-1";
    const ISSUER: &str = "https://issuer.example";
    /// 2026-01-01T00:00:00Z.
    const NOW_SECS: u64 = 1_767_225_600;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW_SECS)
    }

    fn config(issuer: &str) -> Config {
        let v = IdTokenVerifier::with_parts(
            issuer.into(),
            CLIENT.into(),
            default_http_client().unwrap(),
        );
        (*v.config).clone()
    }

    fn keys() -> Vec<RsaKey> {
        let jwks = json!({"keys": [jwk(&key_pair(TEST_KEY_A), "a")]});
        parse_jwks(jwks.to_string().as_bytes()).unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER,
            "sub": "1234567890",
            "aud": CLIENT,
            "exp": NOW_SECS + 3600,
            "iat": NOW_SECS - 10,
            "nonce": "n-1",
            "email": "ada@example.com",
            "email_verified": true,
            "name": "Ada",
            "picture": "https://example.com/ada.png",
            "at_hash": "x",
            "hd": "example.com",
        })
    }

    fn token(claims: &Value) -> String {
        sign(&key_pair(TEST_KEY_A), "a", claims)
    }

    fn verify_cfg(cfg: &Config, token: &str, nonce: Option<&str>) -> Result<IdTokenClaims> {
        let jws = Jws::parse(token)?;
        cfg.verify_with(&jws, &keys(), nonce, now())
    }

    fn verify(token: &str, nonce: Option<&str>) -> Result<IdTokenClaims> {
        verify_cfg(&config(ISSUER), token, nonce)
    }

    fn reason(r: Result<IdTokenClaims>) -> IdTokenReason {
        match r {
            Err(Error::IdToken { reason }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_token_yields_its_claims() {
        let c = verify(&token(&claims()), Some("n-1")).unwrap();
        assert_eq!(c.iss, ISSUER);
        assert_eq!(c.sub, "1234567890");
        assert_eq!(c.aud, [CLIENT]);
        assert_eq!(c.exp, NOW_SECS + 3600);
        assert_eq!(c.iat, NOW_SECS - 10);
        assert_eq!(c.nonce.as_deref(), Some("n-1"));
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.email_verified, Some(true));
        assert_eq!(c.name.as_deref(), Some("Ada"));
        assert_eq!(c.picture.as_deref(), Some("https://example.com/ada.png"));
        assert_eq!(c.at_hash.as_deref(), Some("x"));
        assert_eq!(c.extra, *json!({"hd": "example.com"}).as_object().unwrap());
        assert!(!format!("{c:?}").contains("n-1"));
        // Without a nonce expected, the token's is not looked at.
        verify(&token(&claims()), None).unwrap();
        // A token without kid is checked against every key.
        let t = sign_with_header(&key_pair(TEST_KEY_A), &json!({"alg": "RS256"}), &claims());
        verify(&t, None).unwrap();
    }

    #[test]
    fn a_wrong_signature_is_refused() {
        // Signed by key B under key A's kid.
        let t = sign(&key_pair(TEST_KEY_B), "a", &claims());
        assert_eq!(reason(verify(&t, None)), IdTokenReason::InvalidSignature);
        // Key A's signature over other claims.
        let good = token(&claims());
        let mut other = claims();
        other["sub"] = "someone-else".into();
        let forged = token(&other);
        let spliced = format!(
            "{}.{}",
            forged.rsplit_once('.').unwrap().0,
            good.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            reason(verify(&spliced, None)),
            IdTokenReason::InvalidSignature
        );
        // No kid and no key verifies.
        let t = sign_with_header(&key_pair(TEST_KEY_B), &json!({"alg": "RS256"}), &claims());
        assert_eq!(reason(verify(&t, None)), IdTokenReason::InvalidSignature);
        // An unknown kid.
        let t = sign(&key_pair(TEST_KEY_A), "zz", &claims());
        assert_eq!(reason(verify(&t, None)), IdTokenReason::UnknownKey);
    }

    #[test]
    fn only_rs256_is_accepted() {
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        // alg none, with an empty or a junk signature.
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"a"}"#);
        assert!(matches!(
            reason(verify(&format!("{none}.{body}."), None)),
            IdTokenReason::Malformed(_)
        ));
        assert_eq!(
            reason(verify(&format!("{none}.{body}.AAAA"), None)),
            IdTokenReason::UnsupportedAlgorithm("none".into())
        );
        // HS256 with the RSA public key's bytes as the HMAC secret (key confusion).
        let hs = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"a"}"#);
        let input = format!("{hs}.{body}");
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &keys()[0].n);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_eq!(
            reason(verify(&t, None)),
            IdTokenReason::UnsupportedAlgorithm("HS256".into())
        );
        // Other spellings and algorithms, even validly RSA-signed.
        for alg in ["rs256", "RS512", "PS256", "ES256"] {
            let t = sign_with_header(
                &key_pair(TEST_KEY_A),
                &json!({"alg": alg, "kid": "a"}),
                &claims(),
            );
            assert_eq!(
                reason(verify(&t, None)),
                IdTokenReason::UnsupportedAlgorithm(alg.into())
            );
        }
        let t = sign_with_header(&key_pair(TEST_KEY_A), &json!({"kid": "a"}), &claims());
        assert!(matches!(
            reason(verify(&t, None)),
            IdTokenReason::Malformed(_)
        ));
        let t = sign_with_header(
            &key_pair(TEST_KEY_A),
            &json!({"alg": "RS256", "kid": "a", "crit": ["exp"]}),
            &claims(),
        );
        assert_eq!(reason(verify(&t, None)), IdTokenReason::UnsupportedCritical);
        // A long alg is cut short in the error.
        let long = "X".repeat(1000);
        let t = sign_with_header(&key_pair(TEST_KEY_A), &json!({"alg": long}), &claims());
        assert!(reason(verify(&t, None)).to_string().len() < 60);
    }

    #[test]
    fn the_issuer_must_match() {
        let mut c = claims();
        c["iss"] = "https://evil.example".into();
        assert_eq!(reason(verify(&token(&c), None)), IdTokenReason::WrongIssuer);
        c["iss"] = "issuer.example".into();
        assert_eq!(reason(verify(&token(&c), None)), IdTokenReason::WrongIssuer);
        // Google's two spellings are both Google's...
        let google = config(GOOGLE_ISSUER);
        for iss in ["https://accounts.google.com", "accounts.google.com"] {
            c["iss"] = iss.into();
            verify_cfg(&google, &token(&c), None).unwrap();
        }
        // ...but only for Google.
        c["iss"] = "accounts.google.com".into();
        assert_eq!(reason(verify(&token(&c), None)), IdTokenReason::WrongIssuer);
        let other = config("accounts.example.com");
        c["iss"] = "https://accounts.example.com".into();
        assert_eq!(
            reason(verify_cfg(&other, &token(&c), None)),
            IdTokenReason::WrongIssuer
        );
    }

    #[test]
    fn the_audience_must_be_this_client() {
        let mut c = claims();
        c["aud"] = "client-2".into();
        assert_eq!(
            reason(verify(&token(&c), None)),
            IdTokenReason::WrongAudience
        );
        c["aud"] = json!(["client-2", "client-3"]);
        c["azp"] = CLIENT.into();
        assert_eq!(
            reason(verify(&token(&c), None)),
            IdTokenReason::WrongAudience
        );
        // An array containing us: azp must name us.
        c["aud"] = json!(["client-2", CLIENT]);
        verify(&token(&c), None).unwrap();
        c["azp"] = "client-2".into();
        assert_eq!(
            reason(verify(&token(&c), None)),
            IdTokenReason::WrongAuthorizedParty
        );
        c.as_object_mut().unwrap().remove("azp");
        assert_eq!(
            reason(verify(&token(&c), None)),
            IdTokenReason::WrongAuthorizedParty
        );
        // A one-element array needs no azp; a single audience may name another azp
        // (Google: an Android client's token for the web client).
        c["aud"] = json!([CLIENT]);
        assert_eq!(verify(&token(&c), None).unwrap().aud, [CLIENT]);
        c["aud"] = CLIENT.into();
        c["azp"] = "android-client".into();
        verify(&token(&c), None).unwrap();
        for bad in [json!([]), json!(7), json!([CLIENT, 7]), Value::Null] {
            c["aud"] = bad;
            assert!(matches!(
                reason(verify(&token(&c), None)),
                IdTokenReason::Malformed(_)
            ));
        }
    }

    #[test]
    fn expiry_and_issue_time_allow_the_skew() {
        let at = |exp: u64, iat: u64| {
            let mut c = claims();
            c["exp"] = exp.into();
            c["iat"] = iat.into();
            token(&c)
        };
        let past = NOW_SECS - 600;
        // Expired 30 s ago: within the 60 s skew. 61 s ago: expired.
        verify(&at(NOW_SECS - 30, past), None).unwrap();
        verify(&at(NOW_SECS - 60, past), None).unwrap();
        assert_eq!(
            reason(verify(&at(NOW_SECS - 61, past), None)),
            IdTokenReason::Expired
        );
        // Issued 30 s in the future: fine; 61 s: refused.
        verify(&at(NOW_SECS + 3600, NOW_SECS + 30), None).unwrap();
        assert_eq!(
            reason(verify(&at(NOW_SECS + 3600, NOW_SECS + 61), None)),
            IdTokenReason::IssuedInFuture
        );
        // A configurable skew.
        let strict = config(ISSUER).clone();
        let strict = Config {
            clock_skew: Duration::ZERO,
            ..strict
        };
        assert_eq!(
            reason(verify_cfg(&strict, &at(NOW_SECS - 1, past), None)),
            IdTokenReason::Expired
        );
        let lax = Config {
            clock_skew: Duration::from_secs(300),
            ..strict
        };
        verify_cfg(&lax, &at(NOW_SECS - 299, past), None).unwrap();
        // nbf, and fractional NumericDates.
        let mut c = claims();
        c["nbf"] = (NOW_SECS + 120).into();
        assert_eq!(reason(verify(&token(&c), None)), IdTokenReason::NotYetValid);
        c["nbf"] = (NOW_SECS + 30).into();
        verify(&token(&c), None).unwrap();
        let mut c = claims();
        c["exp"] = json!(NOW_SECS as f64 + 100.5);
        assert_eq!(verify(&token(&c), None).unwrap().exp, NOW_SECS + 100);
        for bad in [json!("soon"), json!(-5), Value::Null] {
            c["exp"] = bad;
            assert!(matches!(
                reason(verify(&token(&c), None)),
                IdTokenReason::Malformed(_)
            ));
        }
    }

    #[test]
    fn the_nonce_must_be_the_requests() {
        let t = token(&claims());
        assert_eq!(
            reason(verify(&t, Some("n-2"))),
            IdTokenReason::NonceMismatch
        );
        assert_eq!(reason(verify(&t, Some("n-"))), IdTokenReason::NonceMismatch);
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(
            reason(verify(&token(&c), Some("n-1"))),
            IdTokenReason::MissingNonce
        );
        verify(&token(&c), None).unwrap();
    }

    #[test]
    fn malformed_tokens_are_refused_without_echoing_them() {
        let good = token(&claims());
        let (input, sig) = good.rsplit_once('.').unwrap();
        let (header, body) = input.split_once('.').unwrap();
        let huge = format!("{header}.{}.{sig}", "A".repeat(MAX_ID_TOKEN_LEN));
        let cases = [
            String::new(),
            "abc".into(),
            format!("{header}.{body}"),
            format!("{good}.{sig}"),
            format!("{header}..{sig}"),
            format!("{header}.{body}."),
            format!("{header}!.{body}.{sig}"),
            format!("{header}.{body}.{sig}="),
            format!("{header}.{body}.{sig}*"),
            format!("{}.{body}.{sig}", URL_SAFE_NO_PAD.encode("[1]")),
            format!(
                "{}.{body}.{sig}",
                URL_SAFE_NO_PAD.encode("{\"alg\":\"RS256\"")
            ),
            huge,
            "…".repeat(MAX_ID_TOKEN_LEN),
        ];
        for case in cases {
            let e = verify(&case, None).unwrap_err();
            assert!(
                matches!(
                    &e,
                    Error::IdToken {
                        reason: IdTokenReason::Malformed(_)
                    }
                ),
                "{e:?}"
            );
            let text = format!("{e} {e:?}");
            assert!(!text.contains(sig) && !text.contains(body), "{text}");
        }
        // Signed claims that are not an object, or lack sub.
        let t = sign(&key_pair(TEST_KEY_A), "a", &json!(["not", "an", "object"]));
        assert!(matches!(
            reason(verify(&t, None)),
            IdTokenReason::Malformed(_)
        ));
        let mut c = claims();
        c.as_object_mut().unwrap().remove("sub");
        assert!(matches!(
            reason(verify(&token(&c), None)),
            IdTokenReason::Malformed(_)
        ));
        c["sub"] = 5.into();
        assert!(matches!(
            reason(verify(&token(&c), None)),
            IdTokenReason::Malformed(_)
        ));
    }

    #[test]
    fn at_hash_matches_the_access_token() {
        // OpenID Connect Core A.3's example.
        let mut c = claims();
        c["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ".into();
        let claims = verify(&token(&c), None).unwrap();
        claims
            .check_access_token("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
            .unwrap();
        assert!(matches!(
            claims.check_access_token("another"),
            Err(Error::IdToken {
                reason: IdTokenReason::AccessTokenHashMismatch
            })
        ));
        let mut c2 = claims.clone();
        c2.at_hash = None;
        c2.check_access_token("anything").unwrap();
    }

    #[test]
    fn email_verified_as_a_string() {
        let mut c = claims();
        c["email_verified"] = "false".into();
        assert_eq!(
            verify(&token(&c), None).unwrap().email_verified,
            Some(false)
        );
        c["email_verified"] = 1.into();
        assert!(matches!(
            reason(verify(&token(&c), None)),
            IdTokenReason::Malformed(_)
        ));
    }

    #[test]
    fn jwks_parsing_keeps_rs256_signing_keys() {
        let a = jwk(&key_pair(TEST_KEY_A), "a");
        let mut padded = a.clone();
        // A modulus with a leading zero byte still works.
        let n = URL_SAFE_NO_PAD.decode(a["n"].as_str().unwrap()).unwrap();
        padded["n"] = URL_SAFE_NO_PAD.encode([&[0u8][..], &n].concat()).into();
        padded["kid"] = "padded".into();
        let mut enc = a.clone();
        enc["use"] = "enc".into();
        let mut ps = a.clone();
        ps["alg"] = "PS256".into();
        let jwks = json!({"keys": [
            a, padded, enc, ps,
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        ]});
        let keys = parse_jwks(jwks.to_string().as_bytes()).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["a", "padded"]);
        assert_eq!(keys[0].n, keys[1].n);
        assert_eq!(keys[0].e, [1, 0, 1]);
        assert!(format!("{:?}", keys[0]).contains("2048"));
        for bad in [&b"{}"[..], b"[]", b"<html>", br#"{"keys":{}}"#] {
            assert!(matches!(
                parse_jwks(bad),
                Err(Error::InvalidResponse {
                    endpoint: Endpoint::Jwks,
                    ..
                })
            ));
        }
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            cache_max_age("public, max-age=19845, must-revalidate"),
            Some(19845)
        );
        assert_eq!(cache_max_age("Max-Age = 60"), Some(60));
        assert_eq!(cache_max_age("private"), None);
        assert_eq!(cache_max_age("max-age=abc"), None);
        assert_eq!(cache_max_age("no-store"), Some(0));
        assert_eq!(cache_max_age("max-age=600, no-cache"), Some(0));
    }

    #[test]
    fn google_defaults() {
        let v = IdTokenVerifier::google(CLIENT).unwrap();
        assert_eq!(v.issuer(), GOOGLE_ISSUER);
        assert_eq!(v.client_id(), CLIENT);
        assert_eq!(
            v.config.jwks_uri.as_ref().map(Url::as_str),
            Some(GOOGLE_JWKS_URI)
        );
        let v = IdTokenVerifier::new("https://issuer.example/", CLIENT).unwrap();
        assert_eq!(v.issuer(), ISSUER);
        assert_eq!(v.config.jwks_uri, None);
        let d = format!("{v:?}");
        assert!(d.contains(ISSUER), "{d}");
    }
}
