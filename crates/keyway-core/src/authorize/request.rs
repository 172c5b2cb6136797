//! Parsing and validating the authorization request's parameters.

use serde::{Deserialize, Serialize};

use crate::client::OAuthClient;
use crate::error::OAuthError;
use crate::grant::AccessType;
use crate::ids::ClientId;
use crate::pkce::{ChallengeMethod, PkceChallenge, is_valid_verifier};
use crate::redirect_uri::RedirectUri;
use crate::scope::ScopeSet;

use super::response::Rejection;

/// Upper bounds on parameter lengths: large enough for any real client, small enough that a
/// hostile request cannot bloat storage, cookies or logs (SECURITY-TESTS A32).
const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;
const MAX_LOGIN_HINT: usize = 320;
const MAX_SCOPE: usize = 4096;
const MAX_SCOPES: usize = 64;

/// The `prompt` parameter: a set of `none`, `consent`, `select_account`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no page may be shown; answer at once or fail.
    pub none: bool,
    /// `consent`: show the consent page even if everything was granted before.
    pub consent: bool,
    /// `select_account`: show the account chooser.
    pub select_account: bool,
}

/// A validated authorization request: everything the flow's pages and the code need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: ClientId,
    /// The registered redirect URI the request named (exactly).
    pub redirect_uri: RedirectUri,
    /// Requested scopes.
    pub scopes: ScopeSet,
    /// `state`, returned byte for byte.
    pub state: Option<String>,
    /// `access_type`.
    pub access_type: AccessType,
    /// `include_granted_scopes=true`.
    pub include_granted_scopes: bool,
    /// `enable_granular_consent` (default `true`).
    pub granular_consent: bool,
    /// `login_hint`: an email or a subject.
    pub login_hint: Option<String>,
    /// `prompt` (with `approval_prompt=force` folded in).
    pub prompt: Prompt,
    /// PKCE challenge.
    pub pkce: Option<PkceChallenge>,
    /// OpenID Connect `nonce`.
    pub nonce: Option<String>,
}

/// The raw parameters of one request (query string or form body), with repeats kept so they
/// can be refused: a parameter given twice is ambiguous, and "first wins" in one layer with
/// "last wins" in another is how parameter-pollution attacks work (RFC 6749 §3.1).
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Wraps decoded name/value pairs in their order.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The single value of `name`; repeated is an error, absent or empty is `None`.
    fn one(&self, name: &str) -> Result<Option<&str>, Rejection> {
        let mut values = self.all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Rejection::page(
                OAuthError::InvalidRequest,
                format!("Parameter {name} appears more than once. Send each parameter once."),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    fn bounded(&self, name: &str, max: usize) -> Result<Option<String>, Rejection> {
        match self.one(name)? {
            Some(v) if v.len() > max => Err(Rejection::page(
                OAuthError::InvalidRequest,
                format!("Parameter {name} is too long: at most {max} bytes are accepted."),
            )),
            v => Ok(v.map(str::to_owned)),
        }
    }

    /// Step 1: the client id. Missing or repeated → a page.
    pub fn client_id(&self) -> Result<ClientId, Rejection> {
        let raw = self.one("client_id")?.ok_or_else(|| {
            Rejection::page(
                OAuthError::InvalidRequest,
                "Missing required parameter: client_id",
            )
        })?;
        ClientId::parse(raw).map_err(|_| Rejection::invalid_client())
    }

    /// Step 2: the redirect URI, which must be exactly one of the client's. Missing,
    /// repeated or unregistered → a page that names what was sent.
    pub fn redirect_uri(&self, client: &OAuthClient) -> Result<RedirectUri, Rejection> {
        let Some(raw) = self.one("redirect_uri")? else {
            return Err(Rejection::Page {
                status: 400,
                error: OAuthError::RedirectUriMismatch,
                description: "Missing required parameter: redirect_uri. Send the redirect URI registered for this client.".into(),
                detail: None,
            });
        };
        client
            .redirect_uris
            .iter()
            .find(|u| u.matches(raw))
            .cloned()
            .ok_or_else(|| Rejection::Page {
                status: 400,
                error: OAuthError::RedirectUriMismatch,
                description: "The redirect URI in the request does not match one registered for the client. Register it in the console, or send one that is registered; scheme, case, port, path and trailing slash all count.".into(),
                detail: Some(("redirect_uri", raw.chars().take(2048).collect())),
            })
    }

    /// Step 3: every other parameter, once the client and redirect URI are verified.
    pub fn validate(
        &self,
        client: &OAuthClient,
        redirect_uri: RedirectUri,
    ) -> Result<AuthorizationRequest, Rejection> {
        let page = |msg: String| Rejection::page(OAuthError::InvalidRequest, msg);
        // Every parameter Keyway reads is refused when repeated, before anything else.
        for name in [
            "response_type",
            "scope",
            "state",
            "access_type",
            "include_granted_scopes",
            "enable_granular_consent",
            "login_hint",
            "prompt",
            "approval_prompt",
            "code_challenge",
            "code_challenge_method",
            "nonce",
        ] {
            self.one(name)?;
        }
        let state = self.bounded("state", MAX_STATE)?;
        let redirect = |error: OAuthError, description: &str| Rejection::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description: description.to_owned(),
        };

        let response_type = self.one("response_type")?.ok_or_else(|| {
            page("Missing required parameter: response_type. Set it to code.".into())
        })?;
        if response_type != "code" {
            return Err(redirect(
                OAuthError::UnsupportedResponseType,
                "Only response_type=code is supported for web server applications.",
            ));
        }

        let raw_scope = self
            .bounded("scope", MAX_SCOPE)?
            .ok_or_else(|| page("Missing required parameter: scope".into()))?;
        let scopes = ScopeSet::parse(&raw_scope)
            .map_err(|e| Rejection::page(OAuthError::InvalidScope, e.to_string()))?;
        if scopes.is_empty() {
            return Err(page("Missing required parameter: scope".into()));
        }
        if scopes.len() > MAX_SCOPES {
            return Err(Rejection::page(
                OAuthError::InvalidScope,
                format!("At most {MAX_SCOPES} scopes can be requested at once."),
            ));
        }

        let access_type = match self.one("access_type")? {
            None => AccessType::Online,
            Some(v) => AccessType::parse(v).ok_or_else(|| {
                page(format!("Invalid access_type {v:?}: use online or offline."))
            })?,
        };
        let flag = |name: &str, default: bool| -> Result<bool, Rejection> {
            match self.one(name)? {
                None => Ok(default),
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(v) => Err(page(format!("Invalid {name} {v:?}: use true or false."))),
            }
        };
        let include_granted_scopes = flag("include_granted_scopes", false)?;
        let granular_consent = flag("enable_granular_consent", true)?;

        let mut prompt = Prompt::default();
        if let Some(raw) = self.one("prompt")? {
            let values: Vec<&str> = raw.split(' ').filter(|v| !v.is_empty()).collect();
            for v in &values {
                match *v {
                    "none" => prompt.none = true,
                    "consent" => prompt.consent = true,
                    "select_account" => prompt.select_account = true,
                    other => {
                        return Err(page(format!(
                            "Invalid prompt value {other:?}: use none, consent or select_account."
                        )));
                    }
                }
            }
            if prompt.none && values.len() > 1 {
                return Err(page(
                    "prompt=none must not be combined with other values.".into(),
                ));
            }
        }
        match self.one("approval_prompt")? {
            None | Some("auto") => {}
            Some(_) if self.one("prompt")?.is_some() => {
                return Err(page(
                    "approval_prompt cannot be used together with prompt; use prompt alone.".into(),
                ));
            }
            Some("force") => prompt.consent = true,
            Some(v) => {
                return Err(page(format!(
                    "Invalid approval_prompt {v:?}: use force or auto (or prompt=consent)."
                )));
            }
        }

        let pkce = match (
            self.one("code_challenge")?,
            self.one("code_challenge_method")?,
        ) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(page(
                    "code_challenge_method was sent without code_challenge.".into(),
                ));
            }
            (Some(challenge), method) => {
                // RFC 7636 §4.3: an absent method means plain.
                let method = ChallengeMethod::parse(method.unwrap_or("plain")).ok_or_else(|| {
                    page("Invalid code_challenge_method: the transform algorithm is not supported; use S256 or plain.".into())
                })?;
                if !is_valid_verifier(challenge) {
                    return Err(page(
                        "Invalid code_challenge: use 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'.".into(),
                    ));
                }
                Some(PkceChallenge {
                    challenge: challenge.to_owned(),
                    method,
                })
            }
        };

        Ok(AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri,
            scopes,
            state,
            access_type,
            include_granted_scopes,
            granular_consent,
            login_hint: self.bounded("login_hint", MAX_LOGIN_HINT)?,
            prompt,
            pkce,
            nonce: self.bounded("nonce", MAX_NONCE)?,
        })
    }
}

/// Whether a `User-Agent` belongs to an embedded web view, which Google refuses
/// (`disallowed_useragent`): Android's WebView marks itself with `; wv)`, and iOS's WKWebView
/// sends Safari's engine tokens without `Safari/`.
pub fn is_embedded_webview(user_agent: &str) -> bool {
    let android = user_agent.contains("Android") && user_agent.contains("; wv)");
    let ios = ["iPhone", "iPad", "iPod"]
        .iter()
        .any(|d| user_agent.contains(d))
        && user_agent.contains("AppleWebKit/")
        && !user_agent.contains("Safari/");
    android || ios
}
