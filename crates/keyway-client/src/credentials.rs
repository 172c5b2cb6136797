//! User credentials: the tokens of one user for one client, their refresh, revocation and
//! inspection, and their google-auth "authorized user" JSON form.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use url::Url;

use crate::error::{Endpoint, Error, Result};
use crate::http::{TokenResponse, error_from, post_form, sibling_endpoint, split_scopes};
use crate::secrets::GOOGLE_TOKEN_URI;
use crate::time;

/// One user's credentials for one OAuth client, as google-auth's
/// `google.oauth2.credentials.Credentials` holds them.
///
/// # Serialization
///
/// Serde reads and writes google-auth's *authorized user* JSON:
///
/// ```json
/// {"token": "…", "refresh_token": "…", "token_uri": "https://oauth2.googleapis.com/token",
///  "client_id": "…", "client_secret": "…", "scopes": ["openid", "email"],
///  "expiry": "2026-11-21T23:59:59.123456Z", "type": "authorized_user"}
/// ```
///
/// `expiry` is written as Python's `datetime.isoformat() + "Z"` (naive UTC) and read in that
/// form, with or without fractional seconds or `Z`, or with an offset. `scopes` is read as a
/// list or a space-delimited string. `granted_scopes` and `id_token` are written when known
/// (Python ignores them); any other key (`rapt_token`, `universe_domain`, `account`,
/// `quota_project_id`, …) is kept and written back unchanged. The result loads with
/// `Credentials.from_authorized_user_info` and `google.auth.default()`. Note that older
/// google-auth versions ignore `token_uri` when loading and always use Google's.
///
/// The JSON holds the client secret and the refresh token: store it like a password
/// (see the crate's *Security* section). `Debug` redacts every token and the secret.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The access token, if one has been obtained.
    pub token: Option<String>,
    /// The refresh token (only with `access_type=offline`).
    pub refresh_token: Option<String>,
    /// The token endpoint used for refreshing.
    pub token_uri: Url,
    /// The OAuth client's id.
    pub client_id: String,
    /// The OAuth client's secret.
    pub client_secret: Option<String>,
    /// The scopes requested (sent again with every refresh, as google-auth does).
    pub scopes: Vec<String>,
    /// The scopes the server said it granted, when it said so.
    pub granted_scopes: Option<Vec<String>>,
    /// When the access token expires; `None` when unknown.
    pub expiry: Option<SystemTime>,
    /// The OpenID Connect ID token of the last token response that carried one.
    pub id_token: Option<String>,
    /// Keys of the JSON form this crate does not interpret, kept for writing back.
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("Credentials")
            .field("token", &redact(&self.token))
            .field("refresh_token", &redact(&self.refresh_token))
            .field("token_uri", &self.token_uri.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .field("scopes", &self.scopes)
            .field("granted_scopes", &self.granted_scopes)
            .field("expiry", &self.expiry.map(time::format))
            .field("id_token", &redact(&self.id_token))
            .finish_non_exhaustive()
    }
}

/// What `/tokeninfo` says about an access token (Google's fields; every value is a string
/// there, and is kept as such).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TokenInfo {
    /// The client the token was issued to.
    #[serde(default)]
    pub azp: Option<String>,
    /// The audience (the client).
    #[serde(default)]
    pub aud: Option<String>,
    /// The user's subject identifier.
    #[serde(default)]
    pub sub: Option<String>,
    /// Granted scopes, space-delimited.
    #[serde(default)]
    pub scope: Option<String>,
    /// Expiry, epoch seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub exp: Option<String>,
    /// Seconds left.
    #[serde(default, deserialize_with = "string_or_number")]
    pub expires_in: Option<String>,
    /// The user's email, when an email scope was granted.
    #[serde(default)]
    pub email: Option<String>,
    /// `"true"` when the email is verified.
    #[serde(default, deserialize_with = "string_or_number")]
    pub email_verified: Option<String>,
    /// `online` or `offline`.
    #[serde(default)]
    pub access_type: Option<String>,
}

impl TokenInfo {
    /// The granted scopes.
    pub fn scopes(&self) -> Vec<String> {
        self.scope.as_deref().map(split_scopes).unwrap_or_default()
    }

    /// Seconds left before expiry, if the server said.
    pub fn expires_in(&self) -> Option<u64> {
        self.expires_in.as_deref()?.parse().ok()
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

impl Credentials {
    /// Credentials for `client_id` at `token_uri` holding only a refresh token (e.g. one
    /// kept from an earlier authorization); call [`Credentials::refresh`] to get an access
    /// token.
    pub fn from_refresh_token(
        token_uri: Url,
        client_id: impl Into<String>,
        client_secret: Option<String>,
        refresh_token: impl Into<String>,
        scopes: Vec<String>,
    ) -> Self {
        Self {
            token: None,
            refresh_token: Some(refresh_token.into()),
            token_uri,
            client_id: client_id.into(),
            client_secret,
            scopes,
            granted_scopes: None,
            expiry: None,
            id_token: None,
            extra: Map::new(),
        }
    }

    /// Whether there is an access token and it has not expired (an unknown expiry counts as
    /// not expired, as in google-auth).
    pub fn is_valid(&self) -> bool {
        self.token.is_some() && !self.expires_within(Duration::ZERO)
    }

    /// Whether the access token is missing, or expires within `margin` from now.
    pub fn expires_within(&self, margin: Duration) -> bool {
        if self.token.is_none() {
            return true;
        }
        self.expiry
            .is_some_and(|expiry| SystemTime::now() + margin >= expiry)
    }

    /// Whether every scope in `scopes` is held: the granted scopes when the server reported
    /// them, else the requested ones.
    pub fn has_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        let held = self.granted_scopes.as_ref().unwrap_or(&self.scopes);
        scopes.iter().all(|s| held.iter().any(|h| h == s.as_ref()))
    }

    /// The form of a refresh request: client_secret_post authentication, and the requested
    /// scopes as google-auth sends them.
    pub(crate) fn refresh_form(&self) -> Result<Vec<(&'static str, String)>> {
        let refresh_token = self.refresh_token.clone().ok_or(Error::NoRefreshToken)?;
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.clone()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.clone()));
        }
        if !self.scopes.is_empty() {
            form.push(("scope", self.scopes.join(" ")));
        }
        Ok(form)
    }

    /// Applies a token response: a new access token and expiry, the refresh token kept
    /// unless a new one came, granted scopes and ID token updated when present.
    pub(crate) fn apply(&mut self, r: TokenResponse) {
        self.token = Some(r.access_token);
        self.expiry = r.expires_at;
        if let Some(rt) = r.refresh_token {
            self.refresh_token = Some(rt);
        }
        if let Some(scope) = r.scope {
            self.granted_scopes = Some(scope);
        }
        if let Some(id) = r.id_token {
            self.id_token = Some(id);
        }
    }

    /// Gets a new access token with the refresh token. The refresh token is kept (the
    /// server may not rotate it). A refusal with `invalid_grant` (revoked, expired or
    /// evicted refresh token) is [`Error::ConsentRequired`].
    pub async fn refresh(&mut self, http: &reqwest::Client) -> Result<()> {
        let form = self.refresh_form()?;
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = post_form(http, Endpoint::Refresh, &self.token_uri, &form).await?;
        let response = TokenResponse::parse(Endpoint::Refresh, &body, SystemTime::now())?;
        self.apply(response);
        Ok(())
    }

    /// The revocation endpoint used by [`Credentials::revoke`]: `/revoke` on the token
    /// endpoint's origin (Google's is `https://oauth2.googleapis.com/revoke`).
    pub fn revoke_uri(&self) -> Url {
        sibling_endpoint(&self.token_uri, "revoke")
    }

    /// The token information endpoint used by [`Credentials::token_info`]: `/tokeninfo` on
    /// the token endpoint's origin (Google's is `https://oauth2.googleapis.com/tokeninfo`).
    pub fn token_info_uri(&self) -> Url {
        sibling_endpoint(&self.token_uri, "tokeninfo")
    }

    /// Revokes the grant: the refresh token when there is one, else the access token. The
    /// server then revokes every token of the grant; the credentials are cleared here.
    pub async fn revoke(&mut self, http: &reqwest::Client) -> Result<()> {
        let token = self
            .refresh_token
            .as_deref()
            .or(self.token.as_deref())
            .ok_or(Error::NoRefreshToken)?;
        post_form(
            http,
            Endpoint::Revoke,
            &self.revoke_uri(),
            &[("token", token)],
        )
        .await?;
        self.token = None;
        self.refresh_token = None;
        self.expiry = None;
        Ok(())
    }

    /// Asks the server about the access token (sent in a POST body, never in the URL).
    pub async fn token_info(&self, http: &reqwest::Client) -> Result<TokenInfo> {
        let token = self.token.as_deref().ok_or_else(|| Error::InvalidConfig {
            what: "credentials",
            message: "no access token".into(),
        })?;
        let response = http
            .post(self.token_info_uri())
            .form(&[("access_token", token)])
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        if !(200..300).contains(&status) {
            return Err(error_from(Endpoint::TokenInfo, status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
            endpoint: Endpoint::TokenInfo,
            message: e.to_string(),
        })
    }

    /// Reads authorized-user JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::InvalidConfig {
            what: "authorized user credentials",
            message: e.to_string(),
        })
    }

    /// Writes authorized-user JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("credentials serialize")
    }
}

/// The authorized-user JSON shape.
#[derive(Serialize, Deserialize)]
struct AuthorizedUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_uri: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Scopes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    granted_scopes: Option<Scopes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

impl Scopes {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::List(v) => v,
            Self::Spaced(s) => split_scopes(&s),
        }
    }
}

impl Serialize for Credentials {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AuthorizedUser {
            token: self.token.clone(),
            refresh_token: self.refresh_token.clone(),
            token_uri: Some(self.token_uri.to_string()),
            client_id: Some(self.client_id.clone()),
            client_secret: self.client_secret.clone(),
            scopes: Some(Scopes::List(self.scopes.clone())),
            granted_scopes: self.granted_scopes.clone().map(Scopes::List),
            expiry: self.expiry.map(time::format),
            id_token: self.id_token.clone(),
            kind: Some("authorized_user".into()),
            extra: self.extra.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let u = AuthorizedUser::deserialize(d)?;
        if let Some(kind) = &u.kind
            && kind != "authorized_user"
        {
            return Err(D::Error::custom(format!(
                "`type` is `{kind}`, expected `authorized_user`"
            )));
        }
        let client_id = u
            .client_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| D::Error::missing_field("client_id"))?;
        let token_uri = u.token_uri.as_deref().unwrap_or(GOOGLE_TOKEN_URI);
        let token_uri = Url::parse(token_uri)
            .map_err(|e| D::Error::custom(format!("`token_uri` is not a URL: {e}")))?;
        let expiry = match u.expiry.as_deref() {
            None | Some("") => None,
            Some(e) => Some(
                time::parse(e)
                    .ok_or_else(|| D::Error::custom(format!("`expiry` is not a time: {e}")))?,
            ),
        };
        Ok(Self {
            token: u.token,
            refresh_token: u.refresh_token,
            token_uri,
            client_id,
            client_secret: u.client_secret,
            scopes: u.scopes.map(Scopes::into_vec).unwrap_or_default(),
            granted_scopes: u.granted_scopes.map(Scopes::into_vec),
            expiry,
            id_token: u.id_token,
            extra: u.extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What google-auth's `Credentials.to_json()` writes (plus `type`, as gcloud's ADC files).
    const PYTHON: &str = r#"{"token": "ya29.a0-access", "refresh_token": "1//0g-refresh",
        "token_uri": "https://oauth2.googleapis.com/token",
        "client_id": "123-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
        "scopes": ["https://www.googleapis.com/auth/drive.metadata.readonly", "openid"],
        "universe_domain": "googleapis.com", "account": "",
        "expiry": "2026-11-21T23:59:59.123456Z", "type": "authorized_user"}"#;

    fn sample() -> Credentials {
        Credentials::from_json(PYTHON).unwrap()
    }

    #[test]
    fn reads_google_auths_json() {
        let c = sample();
        assert_eq!(c.token.as_deref(), Some("ya29.a0-access"));
        assert_eq!(c.refresh_token.as_deref(), Some("1//0g-refresh"));
        assert_eq!(c.token_uri.as_str(), GOOGLE_TOKEN_URI);
        assert_eq!(c.client_id, "123-abc.apps.googleusercontent.com");
        assert_eq!(c.client_secret.as_deref(), Some("GOCSPX-secret"));
        assert_eq!(c.scopes.len(), 2);
        assert_eq!(
            c.expiry,
            Some(SystemTime::UNIX_EPOCH + Duration::new(1_795_305_599, 123_456_000))
        );
        assert_eq!(c.extra["universe_domain"], "googleapis.com");
    }

    #[test]
    fn round_trips_through_json() {
        let c = sample();
        let text = c.to_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["expiry"], "2026-11-21T23:59:59.123456Z");
        assert_eq!(v["type"], "authorized_user");
        assert_eq!(v["token_uri"], GOOGLE_TOKEN_URI);
        assert_eq!(v["account"], "");
        assert!(v["scopes"].is_array());
        assert_eq!(Credentials::from_json(&text).unwrap(), c);
        // Same keys and values as the Python original.
        let original: Value = serde_json::from_str(PYTHON).unwrap();
        assert_eq!(v, original);
    }

    #[test]
    fn reads_variants_python_accepts() {
        let c = Credentials::from_json(
            r#"{"refresh_token":"r","client_id":"c","client_secret":"s",
                "scopes":"openid email","expiry":"2026-11-21T23:59:59"}"#,
        )
        .unwrap();
        assert_eq!(c.scopes, ["openid", "email"]);
        assert_eq!(c.token, None);
        assert_eq!(c.token_uri.as_str(), GOOGLE_TOKEN_URI);
        assert_eq!(
            c.expiry,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_305_599))
        );
        assert!(!c.is_valid());
    }

    #[test]
    fn refuses_bad_json_with_a_reason() {
        for (text, needle) in [
            (r#"{"refresh_token":"r"}"#, "client_id"),
            (
                r#"{"client_id":"c","type":"service_account"}"#,
                "service_account",
            ),
            (r#"{"client_id":"c","expiry":"tomorrow"}"#, "expiry"),
            (r#"{"client_id":"c","token_uri":"nope"}"#, "token_uri"),
        ] {
            let e = Credentials::from_json(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn debug_redacts_tokens_and_secret() {
        let mut c = sample();
        c.id_token = Some("eyJ-id".into());
        let d = format!("{c:?}");
        for secret in ["ya29", "1//0g", "GOCSPX", "eyJ"] {
            assert!(!d.contains(secret), "{d}");
        }
        assert!(d.contains("123-abc"));
    }

    #[test]
    fn validity_and_scopes() {
        let mut c = sample();
        c.expiry = Some(SystemTime::now() + Duration::from_secs(600));
        assert!(c.is_valid());
        assert!(!c.expires_within(Duration::from_secs(300)));
        assert!(c.expires_within(Duration::from_secs(601)));
        c.expiry = None;
        assert!(c.is_valid());
        c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
        assert!(!c.is_valid());
        c.token = None;
        c.expiry = None;
        assert!(!c.is_valid());

        assert!(c.has_scopes(&["openid"]));
        assert!(!c.has_scopes(&["email"]));
        c.granted_scopes = Some(vec!["email".into()]);
        assert!(c.has_scopes(&["email"]));
        assert!(!c.has_scopes(&["openid"]));
        assert!(c.has_scopes::<&str>(&[]));
    }

    #[test]
    fn refresh_form_is_client_secret_post_with_scopes() {
        let c = sample();
        let form = c.refresh_form().unwrap();
        assert_eq!(
            form,
            [
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", "1//0g-refresh".into()),
                ("client_id", "123-abc.apps.googleusercontent.com".into()),
                ("client_secret", "GOCSPX-secret".into()),
                (
                    "scope",
                    "https://www.googleapis.com/auth/drive.metadata.readonly openid".into()
                ),
            ]
        );
        let mut c = c;
        c.refresh_token = None;
        assert!(matches!(c.refresh_form(), Err(Error::NoRefreshToken)));
    }

    #[test]
    fn apply_keeps_the_refresh_token_unless_a_new_one_comes() {
        let mut c = sample();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        c.apply(TokenResponse {
            access_token: "new".into(),
            expires_at: Some(at),
            refresh_token: None,
            scope: None,
            id_token: None,
        });
        assert_eq!(c.token.as_deref(), Some("new"));
        assert_eq!(c.refresh_token.as_deref(), Some("1//0g-refresh"));
        assert_eq!(c.expiry, Some(at));
        assert_eq!(c.granted_scopes, None);
        c.apply(TokenResponse {
            access_token: "newer".into(),
            expires_at: None,
            refresh_token: Some("rotated".into()),
            scope: Some(vec!["openid".into()]),
            id_token: Some("jwt".into()),
        });
        assert_eq!(c.refresh_token.as_deref(), Some("rotated"));
        assert_eq!(c.granted_scopes, Some(vec!["openid".into()]));
        assert_eq!(c.id_token.as_deref(), Some("jwt"));
    }

    #[test]
    fn token_info_accepts_strings_and_numbers() {
        let info: TokenInfo = serde_json::from_str(
            r#"{"azp":"c","aud":"c","sub":"1","scope":"openid email","exp":1800003600,
                "expires_in":"3599","email_verified":true,"access_type":"offline"}"#,
        )
        .unwrap();
        assert_eq!(info.exp.as_deref(), Some("1800003600"));
        assert_eq!(info.expires_in(), Some(3599));
        assert_eq!(info.email_verified.as_deref(), Some("true"));
        assert_eq!(info.scopes(), ["openid", "email"]);
    }
}
