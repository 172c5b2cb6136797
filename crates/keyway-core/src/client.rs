//! OAuth clients of type "web application": redirect URIs, JavaScript origins and secrets.

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::{ClientId, ProjectId};
use crate::redirect_uri::{JavaScriptOrigin, RedirectUri};
use crate::secret::{Secret, SecretHash};

/// An OAuth client registered in a project.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthClient {
    /// The client id.
    pub client_id: ClientId,
    /// The owning project.
    pub project_id: ProjectId,
    /// The developer's name for the client.
    pub name: String,
    /// Registered redirect URIs, compared exactly at the authorization endpoint.
    pub redirect_uris: Vec<RedirectUri>,
    /// Registered JavaScript origins.
    pub javascript_origins: Vec<JavaScriptOrigin>,
    /// A disabled client cannot start flows or use the token endpoint.
    pub enabled: bool,
    /// Live secrets; several at once while one is being rotated out.
    pub secrets: Vec<ClientSecretRecord>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl OAuthClient {
    /// Whether `presented` matches any live secret. Every secret is compared, in constant
    /// time, so the answer's timing says nothing about which one matched or how closely.
    ///
    /// ```
    /// use keyway_core::{ClientSecretRecord, Secret, SecretKind, Timestamp};
    ///
    /// let secret = SecretKind::ClientSecret.generate();
    /// let record = ClientSecretRecord::new(1, &secret, Timestamp::from_unix(0));
    /// assert!(ClientSecretRecord::any_matches(&[record.clone()], secret.expose()));
    /// assert!(!ClientSecretRecord::any_matches(&[record], "kwcs_wrong"));
    /// ```
    pub fn secret_matches(&self, presented: &str) -> bool {
        ClientSecretRecord::any_matches(&self.secrets, presented)
    }

    /// Whether `presented` is exactly one of the registered redirect URIs.
    pub fn has_redirect_uri(&self, presented: &str) -> bool {
        self.redirect_uris.iter().any(|u| u.matches(presented))
    }
}

/// One stored client secret: its hash, never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSecretRecord {
    /// Row id, named when deleting this secret after a rotation.
    pub id: i64,
    /// SHA-256 of the secret.
    #[serde(skip)]
    pub hash: SecretHash,
    /// The secret's last four characters, so developers can tell secrets apart.
    pub hint: String,
    /// When it was created.
    pub created_at: Timestamp,
}

impl ClientSecretRecord {
    /// A record for a freshly generated secret.
    pub fn new(id: i64, secret: &Secret, created_at: Timestamp) -> Self {
        Self {
            id,
            hash: secret.hash(),
            hint: secret_hint(secret),
            created_at,
        }
    }

    /// Constant-time check of `presented` against every record.
    pub fn any_matches(records: &[ClientSecretRecord], presented: &str) -> bool {
        let presented = SecretHash::of(presented);
        records
            .iter()
            .fold(false, |found, r| found | r.hash.ct_eq(&presented))
    }
}

/// The last four characters of a secret, shown in listings.
pub fn secret_hint(secret: &Secret) -> String {
    let s = secret.expose();
    s[s.len().saturating_sub(4)..].to_owned()
}

/// What registering a client needs.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// The client id, normally [`ClientId::generate`].
    pub client_id: ClientId,
    /// The owning project.
    pub project_id: ProjectId,
    /// The developer's name for it.
    pub name: String,
    /// Validated redirect URIs.
    pub redirect_uris: Vec<RedirectUri>,
    /// Validated JavaScript origins.
    pub javascript_origins: Vec<JavaScriptOrigin>,
    /// Hash of the first secret.
    pub secret_hash: SecretHash,
    /// Hint of the first secret.
    pub secret_hint: String,
}

/// Changes to a client; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientUpdate {
    /// New name.
    pub name: Option<String>,
    /// New redirect URI list (replaces the old one).
    pub redirect_uris: Option<Vec<RedirectUri>>,
    /// New origin list (replaces the old one).
    pub javascript_origins: Option<Vec<JavaScriptOrigin>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}
