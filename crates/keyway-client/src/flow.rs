//! The web-server flow: building the authorization URL, then checking the callback and
//! exchanging its code.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Map;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use crate::credentials::Credentials;
use crate::error::{Endpoint, Error, Result};
use crate::http::{TokenResponse, default_http_client, post_form};
use crate::id_token::{IdTokenClaims, IdTokenVerifier};
use crate::secrets::ClientSecrets;

/// Random bytes, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source");
    URL_SAFE_NO_PAD.encode(buf)
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub(crate) fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `access_type`: whether the app needs a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessType {
    /// No refresh token (the server's default).
    Online,
    /// A refresh token on the first authorization (and whenever consent is shown).
    Offline,
}

impl AccessType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }
}

/// The web-server flow of one OAuth client: the first half
/// ([`Flow::authorization_url`]) sends the user to the authorization server, the second
/// ([`Flow::exchange`]) handles the callback.
#[derive(Debug, Clone)]
pub struct Flow {
    secrets: ClientSecrets,
    scopes: Vec<String>,
    redirect_uri: Option<String>,
    issuer: Option<String>,
    http: reqwest::Client,
    id_tokens: IdTokenCheck,
}

/// How [`Flow::exchange`] treats an ID token.
#[derive(Debug, Clone)]
enum IdTokenCheck {
    /// A verifier for the flow's issuer and client, made on first use and shared by clones.
    Default(Arc<OnceLock<IdTokenVerifier>>),
    /// The application's verifier.
    Custom(IdTokenVerifier),
    /// Not verified.
    Off,
}

impl IdTokenCheck {
    fn reset(&mut self) {
        if let Self::Default(_) = self {
            *self = Self::Default(Arc::default());
        }
    }
}

impl Flow {
    /// A flow for `secrets` asking for `scopes`. Its redirect URI is the client's first
    /// registered one until [`Flow::with_redirect_uri`] sets another.
    pub fn new<S: Into<String>>(
        secrets: ClientSecrets,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        Ok(Self {
            secrets,
            scopes: scopes.into_iter().map(Into::into).collect(),
            redirect_uri: None,
            issuer: None,
            http: default_http_client()?,
            id_tokens: IdTokenCheck::Default(Arc::default()),
        })
    }

    /// [`Flow::new`] with the client read from a `client_secret.json` file.
    pub fn from_client_secrets_file<S: Into<String>>(
        path: impl AsRef<Path>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        Self::new(ClientSecrets::from_file(path)?, scopes)
    }

    /// Sets the redirect URI (it must exactly equal one registered for the client).
    pub fn with_redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// Sets the issuer expected in the callback's `iss` (RFC 9207). By default it is the
    /// origin of the client's `auth_uri` (`https://accounts.google.com` for Google).
    /// It is also the issuer ID tokens must come from.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self.id_tokens.reset();
        self
    }

    /// Uses `http` for the code exchange (and the default ID-token verifier's JWKS
    /// fetches) instead of [`default_http_client`]. It should not follow redirects.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self.id_tokens.reset();
        self
    }

    /// Verifies ID tokens in [`Flow::exchange`] with `verifier` instead of the default one
    /// (the flow's [`issuer`](Flow::issuer) and client id, its JWKS found as
    /// [`IdTokenVerifier::new`] says). For another JWKS URI, clock skew, or clock.
    pub fn with_id_token_verifier(mut self, verifier: IdTokenVerifier) -> Self {
        self.id_tokens = IdTokenCheck::Custom(verifier);
        self
    }

    /// Opts out of ID-token verification in [`Flow::exchange`]: an `id_token` in the token
    /// response is kept in the credentials unverified. Only for servers whose ID tokens
    /// cannot be verified (no JWKS); never trust the claims of an unverified token.
    pub fn without_id_token_verification(mut self) -> Self {
        self.id_tokens = IdTokenCheck::Off;
        self
    }

    /// The verifier [`Flow::exchange`] checks ID tokens with, or `None` when verification
    /// is off. Use it to verify ID tokens received later (a refresh may return one); it
    /// shares the key cache with the flow.
    pub fn id_token_verifier(&self) -> Option<IdTokenVerifier> {
        match &self.id_tokens {
            IdTokenCheck::Default(cell) => Some(
                cell.get_or_init(|| {
                    IdTokenVerifier::with_parts(
                        self.issuer(),
                        self.secrets.client_id.clone(),
                        self.http.clone(),
                    )
                })
                .clone(),
            ),
            IdTokenCheck::Custom(v) => Some(v.clone()),
            IdTokenCheck::Off => None,
        }
    }

    /// The client configuration.
    pub fn client_secrets(&self) -> &ClientSecrets {
        &self.secrets
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The redirect URI in use, if any.
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri
            .as_deref()
            .or(self.secrets.redirect_uris.first().map(String::as_str))
    }

    /// The issuer expected in callbacks.
    pub fn issuer(&self) -> String {
        self.issuer.clone().unwrap_or_else(|| {
            self.secrets
                .auth_uri
                .origin()
                .ascii_serialization()
                .trim_end_matches('/')
                .to_owned()
        })
    }

    /// Starts building the authorization URL.
    pub fn authorization_url(&self) -> AuthorizationUrl<'_> {
        AuthorizationUrl {
            flow: self,
            access_type: None,
            include_granted_scopes: None,
            login_hint: None,
            prompt: None,
            enable_granular_consent: None,
            state: None,
            nonce: None,
        }
    }

    /// Handles the callback of the authorization started with `pending`: `callback` is the
    /// full callback URL or just its query string. Checks `state` (in constant time) and
    /// `iss`, turns an `error` into [`Error::AccessDenied`] or [`Error::Authorization`],
    /// then exchanges the code (with the PKCE verifier) for credentials.
    ///
    /// When the answer carries an `id_token` (the `openid` scope), it is verified against
    /// the issuer's JWKS with [`Flow::id_token_verifier`] — signature, `iss`, `aud`, `exp`,
    /// the pending authorization's `nonce`, and `at_hash` against the access token —
    /// and a refused token fails the exchange with [`Error::IdToken`]. No `id_token`, no
    /// check. [`Flow::without_id_token_verification`] turns the check off;
    /// [`Flow::exchange_with_claims`] also returns the verified claims.
    ///
    /// Use each `pending` once, and drop it from the session afterwards.
    pub async fn exchange(
        &self,
        pending: &PendingAuthorization,
        callback: &str,
    ) -> Result<Credentials> {
        Ok(self.exchange_with_claims(pending, callback).await?.0)
    }

    /// [`Flow::exchange`], also returning the verified ID token's claims (the signed-in
    /// user's `sub`, `email`, …): `None` when no ID token came back or verification is off.
    pub async fn exchange_with_claims(
        &self,
        pending: &PendingAuthorization,
        callback: &str,
    ) -> Result<(Credentials, Option<IdTokenClaims>)> {
        let code = check_callback(pending, callback)?;
        let form = self.exchange_form(pending, &code);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = post_form(
            &self.http,
            Endpoint::Exchange,
            &self.secrets.token_uri,
            &form,
        )
        .await?;
        let response = TokenResponse::parse(Endpoint::Exchange, &body, SystemTime::now())?;
        let mut credentials = Credentials {
            token: None,
            refresh_token: None,
            token_uri: self.secrets.token_uri.clone(),
            client_id: self.secrets.client_id.clone(),
            client_secret: self.secrets.client_secret.clone(),
            scopes: pending.scopes.clone(),
            granted_scopes: None,
            expiry: None,
            id_token: None,
            extra: Map::new(),
        };
        credentials.apply(response);
        let claims = match (&credentials.id_token, self.id_token_verifier()) {
            (Some(id_token), Some(verifier)) => {
                let claims = verifier.verify(id_token, pending.nonce.as_deref()).await?;
                if let Some(access_token) = &credentials.token {
                    claims.check_access_token(access_token)?;
                }
                Some(claims)
            }
            _ => None,
        };
        Ok((credentials, claims))
    }

    /// The form of the code exchange: client_secret_post authentication.
    fn exchange_form(
        &self,
        pending: &PendingAuthorization,
        code: &str,
    ) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", pending.redirect_uri.clone()),
            ("client_id", self.secrets.client_id.clone()),
        ];
        if let Some(secret) = &self.secrets.client_secret {
            form.push(("client_secret", secret.clone()));
        }
        form.push(("code_verifier", pending.code_verifier.clone()));
        form
    }
}

/// Checks a callback against its pending authorization and returns its code.
pub(crate) fn check_callback(pending: &PendingAuthorization, callback: &str) -> Result<String> {
    let query = match callback.split_once('?') {
        Some((_, q)) => q,
        None => callback,
    };
    let query = query.split('#').next().unwrap_or_default();
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.iter().any(|(seen, _)| *seen == k) {
            return Err(Error::InvalidCallback(format!(
                "parameter `{k}` appears more than once"
            )));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // State first: nothing else in a forged callback deserves attention.
    let state_ok =
        get("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if !state_ok {
        return Err(Error::StateMismatch);
    }
    if let Some(iss) = get("iss")
        && iss != pending.issuer
    {
        return Err(Error::IssuerMismatch {
            expected: pending.issuer.clone(),
            received: iss.to_owned(),
        });
    }
    if let Some(error) = get("error") {
        let description = get("error_description").map(str::to_owned);
        return Err(if error == "access_denied" {
            Error::AccessDenied { description }
        } else {
            Error::Authorization {
                error: error.to_owned(),
                description,
            }
        });
    }
    match get("code") {
        Some(code) if !code.is_empty() => Ok(code.to_owned()),
        _ => Err(Error::InvalidCallback("no `code` parameter".into())),
    }
}

/// A builder for the authorization URL; see [`Flow::authorization_url`]. Every parameter of
/// Google's authorization endpoint has a method; PKCE (S256) is always on.
#[derive(Debug)]
#[must_use = "call .build() to get the URL"]
pub struct AuthorizationUrl<'a> {
    flow: &'a Flow,
    access_type: Option<AccessType>,
    include_granted_scopes: Option<bool>,
    login_hint: Option<String>,
    prompt: Option<String>,
    enable_granular_consent: Option<bool>,
    state: Option<String>,
    nonce: Option<String>,
}

impl AuthorizationUrl<'_> {
    /// `access_type`: [`AccessType::Offline`] to get a refresh token.
    pub fn access_type(mut self, access_type: AccessType) -> Self {
        self.access_type = Some(access_type);
        self
    }

    /// `include_granted_scopes`: `true` for incremental authorization (tokens carry the
    /// scopes granted earlier too).
    pub fn include_granted_scopes(mut self, include: bool) -> Self {
        self.include_granted_scopes = Some(include);
        self
    }

    /// `login_hint`: the user's email address or `sub`.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// `prompt`: space-delimited, case-sensitive `none`, `consent`, `select_account`
    /// (`none` alone).
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// `enable_granular_consent` (the server's default is `true`).
    pub fn enable_granular_consent(mut self, enable: bool) -> Self {
        self.enable_granular_consent = Some(enable);
        self
    }

    /// `state`: your own value (it must be unguessable: it is the CSRF defence). By default
    /// 256 random bits are generated.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// `nonce` (OpenID Connect). When `openid` is among the scopes and none is given, 256
    /// random bits are generated.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// The URL to redirect the user to, and what to keep in the user's session until the
    /// callback.
    pub fn build(self) -> Result<(Url, PendingAuthorization)> {
        let flow = self.flow;
        let redirect_uri =
            flow.redirect_uri()
                .map(str::to_owned)
                .ok_or_else(|| Error::InvalidConfig {
                    what: "flow",
                    message: "no redirect URI: set one with Flow::with_redirect_uri".into(),
                })?;
        let state = self.state.unwrap_or_else(|| random_token(32));
        let code_verifier = random_token(64);
        let nonce = self.nonce.or_else(|| {
            flow.scopes
                .iter()
                .any(|s| s == "openid")
                .then(|| random_token(32))
        });
        let mut url = flow.secrets.auth_uri.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &flow.secrets.client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", &flow.scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("code_challenge", &s256_challenge(&code_verifier))
                .append_pair("code_challenge_method", "S256");
            if let Some(a) = self.access_type {
                q.append_pair("access_type", a.as_str());
            }
            if let Some(i) = self.include_granted_scopes {
                q.append_pair("include_granted_scopes", if i { "true" } else { "false" });
            }
            if let Some(h) = &self.login_hint {
                q.append_pair("login_hint", h);
            }
            if let Some(p) = &self.prompt {
                q.append_pair("prompt", p);
            }
            if let Some(g) = self.enable_granular_consent {
                q.append_pair("enable_granular_consent", if g { "true" } else { "false" });
            }
            if let Some(n) = &nonce {
                q.append_pair("nonce", n);
            }
        }
        let pending = PendingAuthorization {
            state,
            code_verifier,
            nonce,
            redirect_uri,
            issuer: flow.issuer(),
            scopes: flow.scopes.clone(),
        };
        Ok((url, pending))
    }
}

/// What an app keeps in the user's (server-side or encrypted) session between sending the
/// user to the authorization URL and receiving the callback. Serializable; `Debug` hides
/// the state, verifier and nonce.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The `state` sent.
    pub state: String,
    /// The PKCE code verifier (its S256 challenge was sent).
    pub code_verifier: String,
    /// The `nonce` sent, if any; an ID token must carry it.
    pub nonce: Option<String>,
    /// The redirect URI sent (the code exchange repeats it).
    pub redirect_uri: String,
    /// The issuer the callback's `iss` must equal.
    pub issuer: String,
    /// The scopes requested.
    pub scopes: Vec<String>,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("state", &"<redacted>")
            .field("code_verifier", &"<redacted>")
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn flow(scopes: &[&str]) -> Flow {
        let secrets = ClientSecrets::from_json(
            r#"{"web":{"client_id":"cid","client_secret":"shh",
            "auth_uri":"https://accounts.google.com/o/oauth2/auth",
            "token_uri":"https://oauth2.googleapis.com/token",
            "redirect_uris":["https://app.example.com/cb","https://app.example.com/other"]}}"#,
        )
        .unwrap();
        Flow::new(secrets, scopes.iter().copied()).unwrap()
    }

    fn query(url: &Url) -> HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn the_url_carries_every_parameter() {
        let f = flow(&["openid", "email"]);
        let (url, pending) = f
            .authorization_url()
            .access_type(AccessType::Offline)
            .include_granted_scopes(true)
            .login_hint("ada@example.com")
            .prompt("consent select_account")
            .enable_granular_consent(false)
            .state("my-state")
            .nonce("my-nonce")
            .build()
            .unwrap();
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://accounts.google.com/o/oauth2/auth")
        );
        let q = query(&url);
        let expect = [
            ("response_type", "code"),
            ("client_id", "cid"),
            ("redirect_uri", "https://app.example.com/cb"),
            ("scope", "openid email"),
            ("state", "my-state"),
            ("code_challenge_method", "S256"),
            ("access_type", "offline"),
            ("include_granted_scopes", "true"),
            ("login_hint", "ada@example.com"),
            ("prompt", "consent select_account"),
            ("enable_granular_consent", "false"),
            ("nonce", "my-nonce"),
        ];
        for (k, v) in expect {
            assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert_eq!(q.len(), expect.len() + 1, "{q:?}");
        assert_eq!(q["code_challenge"], s256_challenge(&pending.code_verifier));
        assert_eq!(pending.state, "my-state");
        assert_eq!(pending.nonce.as_deref(), Some("my-nonce"));
        assert_eq!(pending.redirect_uri, "https://app.example.com/cb");
        assert_eq!(pending.issuer, "https://accounts.google.com");
        assert_eq!(pending.scopes, ["openid", "email"]);
    }

    #[test]
    fn defaults_generate_state_verifier_and_nonce() {
        let f = flow(&["openid"]).with_redirect_uri("https://app.example.com/other");
        let (url, a) = f.authorization_url().build().unwrap();
        let (_, b) = f.authorization_url().build().unwrap();
        let q = query(&url);
        assert!(!q.contains_key("access_type") && !q.contains_key("prompt"));
        assert_eq!(q["redirect_uri"], "https://app.example.com/other");
        // 256 bits of state, 512 of verifier (86 characters, within RFC 7636's 43..=128).
        assert_eq!(a.state.len(), 43);
        assert_eq!(a.code_verifier.len(), 86);
        assert!(
            a.code_verifier
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a.state, b.state);
        assert_ne!(a.code_verifier, b.code_verifier);
        assert_eq!(q["nonce"], a.nonce.clone().unwrap());
        // No nonce without openid.
        let (url, p) = flow(&["email"]).authorization_url().build().unwrap();
        assert!(!query(&url).contains_key("nonce"));
        assert_eq!(p.nonce, None);
    }

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pending_serializes_and_hides_secrets_in_debug() {
        let (_, p) = flow(&["openid"]).authorization_url().build().unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: PendingAuthorization = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let d = format!("{p:?}");
        assert!(
            !d.contains(&p.state) && !d.contains(&p.code_verifier),
            "{d}"
        );
    }

    #[test]
    fn issuer_override_and_missing_redirect_uri() {
        let f = flow(&[]).with_issuer("https://issuer.example");
        assert_eq!(f.issuer(), "https://issuer.example");
        let secrets = ClientSecrets::from_json(
            r#"{"installed":{"client_id":"c","auth_uri":"http://localhost:1/a","token_uri":"http://localhost:1/t"}}"#,
        )
        .unwrap();
        let f = Flow::new(secrets, ["openid"]).unwrap();
        assert_eq!(f.issuer(), "http://localhost:1");
        assert!(matches!(
            f.authorization_url().build(),
            Err(Error::InvalidConfig { .. })
        ));
    }

    fn pending() -> PendingAuthorization {
        PendingAuthorization {
            state: "s-123".into(),
            code_verifier: "v".into(),
            nonce: None,
            redirect_uri: "https://app.example.com/cb".into(),
            issuer: "https://accounts.google.com".into(),
            scopes: vec![],
        }
    }

    #[test]
    fn callback_accepts_a_url_or_a_query() {
        let p = pending();
        for cb in [
            "https://app.example.com/cb?state=s-123&code=4%2F0A&scope=email",
            "state=s-123&code=4%2F0A",
            "?state=s-123&code=4%2F0A#frag",
            "state=s-123&code=4%2F0A&iss=https%3A%2F%2Faccounts.google.com",
        ] {
            assert_eq!(check_callback(&p, cb).unwrap(), "4/0A", "{cb}");
        }
    }

    #[test]
    fn callback_refusals() {
        let p = pending();
        let err = |cb: &str| check_callback(&p, cb).unwrap_err();
        assert!(matches!(err("code=c"), Error::StateMismatch));
        assert!(matches!(err("state=s-12&code=c"), Error::StateMismatch));
        assert!(matches!(err("state=s-1234&code=c"), Error::StateMismatch));
        // A forged callback's error is not believed either.
        assert!(matches!(
            err("state=x&error=access_denied"),
            Error::StateMismatch
        ));
        match err("state=s-123&code=c&iss=https%3A%2F%2Fevil.example") {
            Error::IssuerMismatch { expected, received } => {
                assert_eq!(expected, "https://accounts.google.com");
                assert_eq!(received, "https://evil.example");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            err("state=s-123&error=access_denied"),
            Error::AccessDenied { description: None }
        ));
        match err("state=s-123&error=consent_required&error_description=Ask+again") {
            Error::Authorization { error, description } => {
                assert_eq!(error, "consent_required");
                assert_eq!(description.as_deref(), Some("Ask again"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(err("state=s-123"), Error::InvalidCallback(_)));
        assert!(matches!(
            err("state=s-123&code="),
            Error::InvalidCallback(_)
        ));
        assert!(matches!(
            err("state=s-123&code=a&code=b"),
            Error::InvalidCallback(_)
        ));
    }

    #[test]
    fn exchange_form_is_client_secret_post_with_verifier() {
        let form = flow(&[]).exchange_form(&pending(), "4/0A");
        assert_eq!(
            form,
            [
                ("grant_type", "authorization_code".to_owned()),
                ("code", "4/0A".into()),
                ("redirect_uri", "https://app.example.com/cb".into()),
                ("client_id", "cid".into()),
                ("client_secret", "shh".into()),
                ("code_verifier", "v".into()),
            ]
        );
    }
}
