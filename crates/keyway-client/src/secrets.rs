//! Google's `client_secret.json`, as the console (Google's or Keyway's) downloads it.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Result};

/// Google's authorization endpoint, the default when none is configured.
pub const GOOGLE_AUTH_URI: &str = "https://accounts.google.com/o/oauth2/auth";
/// Google's token endpoint, the default when none is configured.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The kind of OAuth client a `client_secret.json` describes (its top-level key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// `{"web": …}`: a web server application.
    Web,
    /// `{"installed": …}`: a desktop or command-line application.
    Installed,
}

/// An OAuth client's configuration, read from `client_secret.json`.
///
/// `Debug` never shows the client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecrets {
    /// `web` or `installed`.
    pub client_type: ClientType,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (absent for some public clients).
    pub client_secret: Option<String>,
    /// `auth_uri`: the authorization endpoint.
    pub auth_uri: Url,
    /// `token_uri`: the token endpoint.
    pub token_uri: Url,
    /// `redirect_uris`, in file order.
    pub redirect_uris: Vec<String>,
    /// `project_id`, when present.
    pub project_id: Option<String>,
    /// `javascript_origins`, when present.
    pub javascript_origins: Vec<String>,
}

impl fmt::Debug for ClientSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecrets")
            .field("client_type", &self.client_type)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("auth_uri", &self.auth_uri.as_str())
            .field("token_uri", &self.token_uri.as_str())
            .field("redirect_uris", &self.redirect_uris)
            .field("project_id", &self.project_id)
            .field("javascript_origins", &self.javascript_origins)
            .finish()
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidConfig {
        what: "client secrets",
        message: message.into(),
    }
}

impl ClientSecrets {
    /// Reads a `client_secret.json` file. Keep this file out of version control and
    /// readable only by the application.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::from_json(&text)
    }

    /// Parses the text of a `client_secret.json`: `{"web": {…}}` or `{"installed": {…}}`
    /// with at least `client_id`, `auth_uri` and `token_uri` (the keys google-auth-oauthlib
    /// requires). A missing key is reported as [`Error::MissingKey`] with its path, e.g.
    /// `web.client_id`.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let root = value
            .as_object()
            .ok_or_else(|| invalid("the top level is not a JSON object"))?;
        let (client_type, key) = if root.contains_key("web") {
            (ClientType::Web, "web")
        } else if root.contains_key("installed") {
            (ClientType::Installed, "installed")
        } else {
            return Err(invalid(
                "expected a top-level `web` or `installed` key (a client_secret.json)",
            ));
        };
        let obj = root[key]
            .as_object()
            .ok_or_else(|| invalid(format!("`{key}` is not a JSON object")))?;
        let fields = Fields { obj, prefix: key };
        Ok(Self {
            client_type,
            client_id: fields.required("client_id")?,
            client_secret: fields.optional("client_secret")?,
            auth_uri: fields.url("auth_uri")?,
            token_uri: fields.url("token_uri")?,
            redirect_uris: fields.list("redirect_uris")?,
            project_id: fields.optional("project_id")?,
            javascript_origins: fields.list("javascript_origins")?,
        })
    }
}

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: &'a str,
}

impl Fields<'_> {
    fn optional(&self, name: &str) -> Result<Option<String>> {
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("`{}.{name}` is not a string", self.prefix))),
        }
    }

    fn required(&self, name: &str) -> Result<String> {
        match self.optional(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(Error::MissingKey {
                key: format!("{}.{name}", self.prefix),
            }),
        }
    }

    fn url(&self, name: &str) -> Result<Url> {
        let s = self.required(name)?;
        let url = Url::parse(&s)
            .map_err(|e| invalid(format!("`{}.{name}` is not a URL: {e}", self.prefix)))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(invalid(format!(
                "`{}.{name}` is not an http(s) URL",
                self.prefix
            )));
        }
        Ok(url)
    }

    fn list(&self, name: &str) -> Result<Vec<String>> {
        let bad = || invalid(format!("`{}.{name}` is not a list of strings", self.prefix));
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                .collect(),
            Some(_) => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = r#"{"web":{"client_id":"123-abc.apps.googleusercontent.com",
        "project_id":"photo-print","auth_uri":"https://accounts.google.com/o/oauth2/auth",
        "token_uri":"https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url":"https://www.googleapis.com/oauth2/v1/certs",
        "client_secret":"GOCSPX-very-secret","redirect_uris":["https://app.example.com/cb"],
        "javascript_origins":["https://app.example.com"]}}"#;

    #[test]
    fn reads_a_web_client() {
        let s = ClientSecrets::from_json(WEB).unwrap();
        assert_eq!(s.client_type, ClientType::Web);
        assert_eq!(s.client_id, "123-abc.apps.googleusercontent.com");
        assert_eq!(s.client_secret.as_deref(), Some("GOCSPX-very-secret"));
        assert_eq!(s.auth_uri.as_str(), GOOGLE_AUTH_URI);
        assert_eq!(s.token_uri.as_str(), GOOGLE_TOKEN_URI);
        assert_eq!(s.redirect_uris, ["https://app.example.com/cb"]);
        assert_eq!(s.project_id.as_deref(), Some("photo-print"));
        assert_eq!(s.javascript_origins, ["https://app.example.com"]);
        let debug = format!("{s:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn reads_an_installed_client_without_optional_keys() {
        let s = ClientSecrets::from_json(
            r#"{"installed":{"client_id":"x","auth_uri":"http://localhost:8080/o/oauth2/v2/auth",
            "token_uri":"http://localhost:8080/token"}}"#,
        )
        .unwrap();
        assert_eq!(s.client_type, ClientType::Installed);
        assert_eq!(s.client_secret, None);
        assert!(s.redirect_uris.is_empty());
    }

    #[test]
    fn a_missing_key_is_named() {
        for key in ["client_id", "auth_uri", "token_uri"] {
            let mut v: Value = serde_json::from_str(WEB).unwrap();
            v["web"].as_object_mut().unwrap().remove(key);
            let e = ClientSecrets::from_json(&v.to_string()).unwrap_err();
            assert!(
                matches!(&e, Error::MissingKey { key: k } if *k == format!("web.{key}")),
                "{e:?}"
            );
            assert_eq!(
                e.to_string(),
                format!("client secrets: missing key `web.{key}`")
            );
        }
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        for (text, needle) in [
            ("nope", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"other":{}}"#, "`web` or `installed`"),
            (r#"{"web":"x"}"#, "`web` is not a JSON object"),
            (
                r#"{"web":{"client_id":1,"auth_uri":"https://a/","token_uri":"https://a/t"}}"#,
                "`web.client_id` is not a string",
            ),
            (
                r#"{"web":{"client_id":"a","auth_uri":"nope","token_uri":"https://a/t"}}"#,
                "`web.auth_uri` is not a URL",
            ),
            (
                r#"{"web":{"client_id":"a","auth_uri":"ftp://a/","token_uri":"https://a/t"}}"#,
                "not an http(s) URL",
            ),
            (
                r#"{"web":{"client_id":"a","auth_uri":"https://a/","token_uri":"https://a/t","redirect_uris":"x"}}"#,
                "`web.redirect_uris` is not a list",
            ),
        ] {
            let e = ClientSecrets::from_json(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn from_file_reads_and_reports_io_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client_secret.json");
        std::fs::write(&path, WEB).unwrap();
        assert_eq!(
            ClientSecrets::from_file(&path).unwrap().client_id,
            "123-abc.apps.googleusercontent.com"
        );
        assert!(matches!(
            ClientSecrets::from_file(dir.path().join("missing.json")),
            Err(Error::Io(_))
        ));
    }
}
