//! The command line: `keyway serve | migrate | config | project | client | user | scope`.
//! Parsing only; each command lives in `commands/`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::commands;
use crate::config::{Config, Overrides};

/// Keyway: a Google-compatible OAuth 2.0 authorization server.
#[derive(Debug, Parser)]
#[command(name = "keyway", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "KEYWAY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded database, TLS files and demo files [default: ./keyway-data].
    #[arg(long, global = true, env = "KEYWAY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user:password@host/db); the embedded SQLite database otherwise.
    #[arg(
        long,
        global = true,
        env = "KEYWAY_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server.
    Serve(ServeArgs),
    /// Apply pending database migrations and print the schema version.
    Migrate,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage projects (consent screen, owned domains).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage organizations and their policies.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the scope catalogue.
    #[command(subcommand)]
    Scope(ScopeCommand),
}

/// Options of the server (also accepted by `config show`).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8000].
    #[arg(long, env = "KEYWAY_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// External base URL [default: derived from --listen and TLS].
    #[arg(long, env = "KEYWAY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<Url>,
    /// TLS mode: `off` or `self-signed` (or give --tls-cert and --tls-key).
    #[arg(long, env = "KEYWAY_TLS", value_name = "MODE")]
    pub tls: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "KEYWAY_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "KEYWAY_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Log filter, e.g. `info` or `keyway_server=debug,info`.
    #[arg(long, env = "KEYWAY_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Create a demo project, client and user on first start, and print how to use them.
    #[arg(long)]
    pub demo: bool,
}

/// `keyway config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted).
    Show(ServeArgs),
}

/// Consent-screen user type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserType {
    /// Any user.
    External,
    /// Only users of the organization given by --organization.
    Internal,
}

/// Project fields.
#[derive(Debug, Args)]
pub struct ProjectFields {
    /// App name on the consent screen [default: the project name].
    #[arg(long)]
    pub app_name: Option<String>,
    /// Support email shown to users.
    #[arg(long)]
    pub support_email: Option<String>,
    /// Logo URL (https); an empty string removes it.
    #[arg(long)]
    pub logo_url: Option<String>,
    /// Who may use the app.
    #[arg(long, value_enum)]
    pub user_type: Option<UserType>,
    /// The organization's domain, for --user-type internal.
    #[arg(long, value_name = "DOMAIN")]
    pub organization: Option<String>,
    /// Mark the project verified (no unverified-app warning).
    #[arg(long, conflicts_with = "unverified")]
    pub verified: bool,
    /// Mark the project unverified.
    #[arg(long)]
    pub unverified: bool,
    /// A domain the project owns (repeatable; replaces the list).
    #[arg(long = "owned-domain", value_name = "DOMAIN")]
    pub owned_domains: Vec<String>,
}

/// `keyway project …`
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// The rest.
        #[command(flatten)]
        fields: ProjectFields,
    },
    /// List projects.
    List,
    /// Show one project.
    Show {
        /// Project id or exact name.
        project: String,
    },
    /// Change a project.
    Update {
        /// Project id or exact name.
        project: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// The rest.
        #[command(flatten)]
        fields: ProjectFields,
    },
}

/// `keyway client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a web client; prints its secret once.
    Create {
        /// Project id or exact name.
        #[arg(long)]
        project: String,
        /// The client's name.
        #[arg(long)]
        name: String,
        /// An authorized redirect URI (repeatable).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// An authorized JavaScript origin (repeatable).
        #[arg(long = "origin", value_name = "ORIGIN")]
        origins: Vec<String>,
        /// Also write Google's client_secret.json format to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List clients.
    List {
        /// Only this project's (id or name).
        #[arg(long)]
        project: Option<String>,
    },
    /// Show one client (secrets by id and last four characters only).
    Show {
        /// Client id.
        client: String,
    },
    /// Change a client.
    Update {
        /// Client id.
        client: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// Add a redirect URI (repeatable).
        #[arg(long = "add-redirect-uri", value_name = "URI")]
        add_redirect_uris: Vec<String>,
        /// Remove a redirect URI (repeatable).
        #[arg(long = "remove-redirect-uri", value_name = "URI")]
        remove_redirect_uris: Vec<String>,
        /// Add a JavaScript origin (repeatable).
        #[arg(long = "add-origin", value_name = "ORIGIN")]
        add_origins: Vec<String>,
        /// Remove a JavaScript origin (repeatable).
        #[arg(long = "remove-origin", value_name = "ORIGIN")]
        remove_origins: Vec<String>,
        /// Enable the client.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the client: its flows and tokens stop working.
        #[arg(long)]
        disable: bool,
    },
    /// Add a new secret; the old ones keep working until deleted. Prints the secret once.
    RotateSecret {
        /// Client id.
        client: String,
        /// Also write Google's client_secret.json format with the new secret to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Delete one of a client's secrets (by the id `client show` lists).
    DeleteSecret {
        /// Client id.
        client: String,
        /// Secret id.
        secret_id: i64,
    },
    /// Delete a client and every token issued to it.
    Delete {
        /// Client id.
        client: String,
    },
}

/// `keyway org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization: users whose email is under DOMAIN belong to it.
    Create {
        /// The organization's domain.
        #[arg(long)]
        domain: String,
        /// Display name [default: the domain].
        #[arg(long)]
        name: Option<String>,
    },
    /// List organizations.
    List,
    /// Show one organization and its policy.
    Show {
        /// The organization's domain.
        domain: String,
    },
    /// Change an organization's policy (admin_policy_enforced).
    Update {
        /// The organization's domain.
        domain: String,
        /// Block a scope for every app (repeatable).
        #[arg(long = "block-scope", value_name = "SCOPE")]
        block_scopes: Vec<String>,
        /// Allow a blocked scope again (repeatable).
        #[arg(long = "unblock-scope", value_name = "SCOPE")]
        unblock_scopes: Vec<String>,
        /// Block an app by client id (repeatable).
        #[arg(long = "block-client", value_name = "CLIENT_ID")]
        block_clients: Vec<String>,
        /// Allow a blocked app again (repeatable).
        #[arg(long = "unblock-client", value_name = "CLIENT_ID")]
        unblock_clients: Vec<String>,
    },
}

/// `keyway user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user: ends their sessions and revokes every grant.
    Disable {
        /// Email or subject id.
        user: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Email or subject id.
        user: String,
    },
}

/// Scope sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SensitivityArg {
    /// Basic information.
    NonSensitive,
    /// Private user data.
    Sensitive,
    /// Highly personal data.
    Restricted,
}

/// `keyway scope …`
#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// List the catalogue.
    List,
    /// Add a scope, or change its description and sensitivity.
    Add {
        /// The scope string.
        scope: String,
        /// One line shown on the consent page.
        #[arg(long)]
        description: String,
        /// Sensitivity.
        #[arg(long, value_enum, default_value = "sensitive")]
        sensitivity: SensitivityArg,
    },
}

impl Cli {
    /// The configuration for this invocation (server flags when the command has them).
    pub fn load_config(&self, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
        let d = ServeArgs::default();
        let s = serve.unwrap_or(&d);
        Config::load(Overrides {
            config_file: self.config.clone(),
            listen: s.listen,
            public_url: s.public_url.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            tls: s.tls.clone(),
            tls_cert: s.tls_cert.clone(),
            tls_key: s.tls_key.clone(),
            log: s.log.clone(),
        })
    }
}

/// Parses the command line, runs the command and turns its error into one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
