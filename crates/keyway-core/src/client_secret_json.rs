//! `client_secret.json` in Google's exact format, pointing at Keyway's own endpoints, so
//! `Flow.from_client_secrets_file(...)` and friends work unchanged.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::OAuthClient;
use crate::secret::Secret;

/// The endpoints a client_secret.json names, derived from the server's public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Authorization endpoint (`/o/oauth2/auth`, the path Google's file uses).
    pub auth_uri: String,
    /// Token endpoint.
    pub token_uri: String,
    /// Signing certificates in Google's v1 form.
    pub certs_uri: String,
}

impl Endpoints {
    /// Endpoints under `public_url` (any path it has is kept as a prefix).
    ///
    /// ```
    /// use keyway_core::client_secret_json::Endpoints;
    ///
    /// let e = Endpoints::from_public_url(&"https://localhost:8000".parse().unwrap());
    /// assert_eq!(e.token_uri, "https://localhost:8000/token");
    /// assert_eq!(e.auth_uri, "https://localhost:8000/o/oauth2/auth");
    /// ```
    pub fn from_public_url(public_url: &Url) -> Self {
        let base = public_url.as_str().trim_end_matches('/');
        Self {
            auth_uri: format!("{base}/o/oauth2/auth"),
            token_uri: format!("{base}/token"),
            certs_uri: format!("{base}/oauth2/v1/certs"),
        }
    }
}

/// The file: one `web` object, exactly Google's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSecretJson {
    /// The web client.
    pub web: WebClientSecret,
}

/// Google's `web` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebClientSecret {
    /// The client id.
    pub client_id: String,
    /// The project id.
    pub project_id: String,
    /// Authorization endpoint.
    pub auth_uri: String,
    /// Token endpoint.
    pub token_uri: String,
    /// Signing certificates.
    pub auth_provider_x509_cert_url: String,
    /// The secret, in the clear: this file is the one place it is handed over.
    pub client_secret: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered JavaScript origins.
    pub javascript_origins: Vec<String>,
}

impl ClientSecretJson {
    /// The file for `client` with a secret just generated for it.
    pub fn web(client: &OAuthClient, secret: &Secret, endpoints: &Endpoints) -> Self {
        Self {
            web: WebClientSecret {
                client_id: client.client_id.to_string(),
                project_id: client.project_id.to_string(),
                auth_uri: endpoints.auth_uri.clone(),
                token_uri: endpoints.token_uri.clone(),
                auth_provider_x509_cert_url: endpoints.certs_uri.clone(),
                client_secret: secret.expose().to_owned(),
                redirect_uris: client
                    .redirect_uris
                    .iter()
                    .map(|u| u.as_str().to_owned())
                    .collect(),
                javascript_origins: client
                    .javascript_origins
                    .iter()
                    .map(|o| o.as_str().to_owned())
                    .collect(),
            },
        }
    }

    /// Pretty JSON, as the console's download gives it.
    pub fn to_json(&self) -> String {
        #[allow(clippy::expect_used)]
        let json = serde_json::to_string_pretty(self).expect("plain strings always serialize");
        json + "\n"
    }
}
