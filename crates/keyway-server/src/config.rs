//! Configuration: defaults, then an optional TOML file, then `KEYWAY_*` environment variables,
//! then command-line flags, validated once into a [`Config`].
//!
//! Unknown keys in the file are errors (a typo should not silently fall back to a default).
//! Environment variables and flags are the same clap arguments (`#[arg(env = …)]`), so a flag
//! always beats its variable and both beat the file.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keyway_core::RedirectUriPolicy;
use keyway_core::console::ConsoleSettings;
use keyway_core::grant::RefreshTokenLimits;
use serde::{Deserialize, Serialize};
use url::Url;

/// A database URL whose password never reaches a log or a terminal.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks the scheme: `postgres://`, `postgresql://` or `sqlite:`.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let ok = ["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|p| raw.starts_with(p));
        if !ok {
            bail!(
                "unsupported database URL {}: use postgres://… (or sqlite:PATH)",
                redact(raw)
            );
        }
        Ok(Self(raw.to_owned()))
    }

    /// The URL itself, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this names a PostgreSQL server.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres")
    }
}

/// The URL with any password replaced.
pub fn redact(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("[redacted]"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "[unparseable URL]".into(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// How the server speaks TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// Plain HTTP (behind a TLS-terminating proxy, or for local tests).
    Off,
    /// A local CA and localhost certificate kept in the data directory.
    SelfSigned,
    /// A certificate chain and key given by the operator (PEM files).
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
}

/// Token lifetimes and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// Access-token lifetime in seconds (Google: one hour).
    pub access_token_lifetime: u32,
    /// Authorization-code lifetime in seconds (RFC 6749 §4.1.2: at most ten minutes).
    pub code_lifetime: u32,
    /// Live refresh tokens per user and client (Google: 100).
    pub refresh_tokens_per_client: u32,
    /// Live refresh tokens per user across all clients.
    pub refresh_tokens_per_user: u32,
}

impl Default for TokenSettings {
    fn default() -> Self {
        let limits = RefreshTokenLimits::default();
        Self {
            access_token_lifetime: 3600,
            code_lifetime: 600,
            refresh_tokens_per_client: limits.per_client,
            refresh_tokens_per_user: limits.per_user,
        }
    }
}

/// Redirect-URI registration rules that vary per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedirectUriSettings {
    /// Hosts under these domains can serve user content and are refused as redirect targets.
    pub user_content_domains: Vec<String>,
    /// URL shorteners, refused unless the project owns the domain.
    pub shortener_domains: Vec<String>,
}

impl Default for RedirectUriSettings {
    fn default() -> Self {
        let p = RedirectUriPolicy::default();
        Self {
            user_content_domains: p.user_content_domains,
            shortener_domains: p.shortener_domains,
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The external base URL; `None` derives it from `listen` and TLS once the port is bound.
    pub public_url: Option<Url>,
    /// Where the embedded database, TLS files and demo files live.
    pub data_dir: PathBuf,
    /// PostgreSQL (or an explicit SQLite file); `None` is SQLite in `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    /// TLS mode.
    pub tls: Tls,
    /// Domain of generated client ids.
    pub client_id_domain: String,
    /// Redirect-URI rules.
    pub redirect_uris: RedirectUriSettings,
    /// Token lifetimes and limits.
    pub tokens: TokenSettings,
    /// Log filter, e.g. `info` or `keyway_server=debug,info`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            public_url: None,
            data_dir: PathBuf::from("keyway-data"),
            database_url: None,
            tls: Tls::Off,
            client_id_domain: "apps.keyway.test".into(),
            redirect_uris: RedirectUriSettings::default(),
            tokens: TokenSettings::default(),
            log: "info".into(),
        }
    }
}

/// The TOML file: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    public_url: Option<Url>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    tls: Option<FileTls>,
    client_id_domain: Option<String>,
    redirect_uris: Option<RedirectUriSettings>,
    tokens: Option<TokenSettings>,
    log: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    mode: String,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

/// Values from the environment and the command line (clap has already merged those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config` / `KEYWAY_CONFIG`.
    pub config_file: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--public-url`.
    pub public_url: Option<Url>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--tls off|self-signed`.
    pub tls: Option<String>,
    /// `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `--log`.
    pub log: Option<String>,
}

fn parse_tls(
    mode: Option<&str>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<Option<Tls>> {
    Ok(match (mode, cert, key) {
        (None, None, None) => None,
        (Some("off"), None, None) => Some(Tls::Off),
        (Some("self-signed"), None, None) => Some(Tls::SelfSigned),
        (None | Some("files"), Some(cert), Some(key)) => Some(Tls::Files { cert, key }),
        (None | Some("files"), Some(_), None) => bail!("--tls-cert needs --tls-key"),
        (None | Some("files"), None, Some(_)) => bail!("--tls-key needs --tls-cert"),
        (Some("off" | "self-signed"), _, _) => {
            bail!("--tls-cert/--tls-key cannot be combined with --tls off or self-signed")
        }
        (Some("files"), None, None) => bail!("tls mode \"files\" needs a certificate and a key"),
        (Some(other), _, _) => bail!(
            "unknown TLS mode {other:?}: use off, self-signed, or give --tls-cert and --tls-key"
        ),
    })
}

impl Config {
    /// Builds the configuration from the layers.
    pub fn load(o: Overrides) -> anyhow::Result<Self> {
        let mut c = Config::default();
        if let Some(path) = &o.config_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let f: FileConfig = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!("invalid config file {}: {}", path.display(), e.message())
            })?;
            c.apply_file(f)?;
        }
        if let Some(v) = o.listen {
            c.listen = v;
        }
        if let Some(v) = o.public_url {
            c.public_url = Some(v);
        }
        if let Some(v) = o.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = o.database_url {
            c.database_url = Some(DatabaseUrl::parse(&v)?);
        }
        if let Some(t) = parse_tls(o.tls.as_deref(), o.tls_cert, o.tls_key)? {
            c.tls = t;
        }
        if let Some(v) = o.log {
            c.log = v;
        }
        c.validate()?;
        Ok(c)
    }

    fn apply_file(&mut self, f: FileConfig) -> anyhow::Result<()> {
        if let Some(v) = f.listen {
            self.listen = v;
        }
        if f.public_url.is_some() {
            self.public_url = f.public_url;
        }
        if let Some(v) = f.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = f.database_url {
            self.database_url = Some(DatabaseUrl::parse(&v)?);
        }
        if let Some(t) = f.tls
            && let Some(t) = parse_tls(Some(&t.mode), t.cert, t.key)?
        {
            self.tls = t;
        }
        if let Some(v) = f.client_id_domain {
            self.client_id_domain = v;
        }
        if let Some(v) = f.redirect_uris {
            self.redirect_uris = v;
        }
        if let Some(v) = f.tokens {
            self.tokens = v;
        }
        if let Some(v) = f.log {
            self.log = v;
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(u) = &self.public_url {
            if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
                bail!("invalid public URL {u}: use http(s)://host[:port][/path]");
            }
            if u.query().is_some() || u.fragment().is_some() {
                bail!("invalid public URL {u}: it cannot have a query or fragment");
            }
        }
        keyway_core::ids::parse_domain(&self.client_id_domain)
            .map_err(|_| anyhow::anyhow!("invalid client_id_domain {:?}", self.client_id_domain))?;
        let t = &self.tokens;
        if !(60..=86_400).contains(&t.access_token_lifetime) {
            bail!("tokens.access_token_lifetime must be 60 to 86400 seconds");
        }
        if !(10..=600).contains(&t.code_lifetime) {
            bail!("tokens.code_lifetime must be 10 to 600 seconds (RFC 6749 §4.1.2)");
        }
        if t.refresh_tokens_per_client == 0
            || t.refresh_tokens_per_user < t.refresh_tokens_per_client
        {
            bail!(
                "tokens.refresh_tokens_per_client must be at least 1 and at most tokens.refresh_tokens_per_user"
            );
        }
        self.log_filter()?;
        Ok(())
    }

    /// The parsed log filter.
    pub fn log_filter(&self) -> anyhow::Result<tracing_subscriber::filter::Targets> {
        self.log
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid log filter {:?}: {e}", self.log))
    }

    /// The embedded database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("keyway.db")
    }

    /// The public URL for a server bound to `bound` (the configured one, or derived).
    pub fn public_url_for(&self, bound: SocketAddr) -> Url {
        if let Some(u) = &self.public_url {
            return u.clone();
        }
        let scheme = if self.tls == Tls::Off {
            "http"
        } else {
            "https"
        };
        let host = if bound.ip().is_loopback() || bound.ip().is_unspecified() {
            "localhost".to_owned()
        } else if bound.is_ipv6() {
            format!("[{}]", bound.ip())
        } else {
            bound.ip().to_string()
        };
        #[allow(clippy::expect_used)]
        Url::parse(&format!("{scheme}://{host}:{}", bound.port()))
            .expect("a host and port always make a URL")
    }

    /// The console rules.
    pub fn console_settings(&self) -> ConsoleSettings {
        ConsoleSettings {
            client_id_domain: self.client_id_domain.clone(),
            redirect_policy: RedirectUriPolicy {
                user_content_domains: self.redirect_uris.user_content_domains.clone(),
                shortener_domains: self.redirect_uris.shortener_domains.clone(),
            },
        }
    }

    /// Refresh-token limits.
    pub fn refresh_limits(&self) -> RefreshTokenLimits {
        RefreshTokenLimits {
            per_client: self.tokens.refresh_tokens_per_client,
            per_user: self.tokens.refresh_tokens_per_user,
        }
    }

    /// The effective configuration as TOML, with the database password redacted (for
    /// `keyway config show`). The output is itself a valid config file.
    pub fn to_toml(&self) -> String {
        let mut t = toml::Table::new();
        t.insert("listen".into(), self.listen.to_string().into());
        if let Some(u) = &self.public_url {
            t.insert("public_url".into(), u.to_string().into());
        }
        t.insert(
            "data_dir".into(),
            self.data_dir.display().to_string().into(),
        );
        if let Some(d) = &self.database_url {
            t.insert("database_url".into(), d.to_string().into());
        }
        t.insert(
            "client_id_domain".into(),
            self.client_id_domain.clone().into(),
        );
        t.insert("log".into(), self.log.clone().into());
        let mut tls = toml::Table::new();
        match &self.tls {
            Tls::Off => {
                tls.insert("mode".into(), "off".into());
            }
            Tls::SelfSigned => {
                tls.insert("mode".into(), "self-signed".into());
            }
            Tls::Files { cert, key } => {
                tls.insert("mode".into(), "files".into());
                tls.insert("cert".into(), cert.display().to_string().into());
                tls.insert("key".into(), key.display().to_string().into());
            }
        }
        t.insert("tls".into(), tls.into());
        #[allow(clippy::expect_used)]
        {
            t.insert(
                "redirect_uris".into(),
                toml::Value::try_from(&self.redirect_uris).expect("plain lists serialize"),
            );
            t.insert(
                "tokens".into(),
                toml::Value::try_from(self.tokens).expect("plain numbers serialize"),
            );
        }
        toml::to_string(&t).unwrap_or_default()
    }
}

/// Creates the data directory (mode 0700: it holds the database and TLS keys).
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn layers_apply_in_order() {
        let f =
            file("listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n[tokens]\ncode_lifetime = 60\n");
        let c = Config::load(Overrides {
            config_file: Some(f.path().into()),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9100, "flags beat the file");
        assert_eq!(c.log, "debug", "the file beats defaults");
        assert_eq!(c.tokens.code_lifetime, 60);
        assert_eq!(
            c.tokens.access_token_lifetime, 3600,
            "unset keys keep defaults"
        );
        assert_eq!(
            Config::load(Overrides::default()).unwrap().listen.port(),
            8000
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        for (text, needle) in [
            ("lisen = \"x\"", "unknown field"),
            ("[tokens]\ncode_lifetme = 5", "unknown field"),
            ("[tokens]\ncode_lifetime = 6000", "code_lifetime"),
            ("database_url = \"mysql://x\"", "unsupported database URL"),
            ("public_url = \"ftp://x\"", "invalid public URL"),
            ("[tls]\nmode = \"maybe\"", "unknown TLS mode"),
        ] {
            let f = file(text);
            let e = Config::load(Overrides {
                config_file: Some(f.path().into()),
                ..Default::default()
            })
            .unwrap_err();
            assert!(format!("{e:#}").contains(needle), "{text}: {e:#}");
        }
    }

    #[test]
    fn the_database_password_never_shows() {
        let c = Config::load(Overrides {
            database_url: Some("postgres://keyway:s3cret@db.internal:5432/keyway".into()),
            ..Default::default()
        })
        .unwrap();
        let shown = format!("{:?}\n{}", c, c.to_toml());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal"));
        let f = file(&c.to_toml());
        let again = Config::load(Overrides {
            config_file: Some(f.path().into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(again.listen, c.listen, "config show prints a loadable file");
    }

    #[test]
    fn public_url_is_derived_from_the_bound_address() {
        let mut c = Config::default();
        assert_eq!(
            c.public_url_for("127.0.0.1:4321".parse().unwrap()).as_str(),
            "http://localhost:4321/"
        );
        c.tls = Tls::SelfSigned;
        assert_eq!(
            c.public_url_for("0.0.0.0:443".parse().unwrap()).as_str(),
            "https://localhost/"
        );
        c.public_url = Some("https://auth.example.com/".parse().unwrap());
        assert_eq!(
            c.public_url_for("0.0.0.0:1".parse().unwrap()).as_str(),
            "https://auth.example.com/"
        );
    }
}
