//! The guides' complete example, in Rust: a small web app that asks for access to the user's
//! Drive files, calls the Drive API with the credentials it keeps, refreshes them as needed,
//! and can revoke and forget them.
//!
//! It is configured only by a `client_secret.json`, the scopes and the API base URL, so the
//! same app runs against `keyway serve --demo` (the default) or, with a client_secret.json
//! from Google's console and `--api-base https://www.googleapis.com`, against Google.
//!
//! | path | what |
//! | --- | --- |
//! | `/` | the four links below, with what each does |
//! | `/test` | calls `GET {api}/drive/v3/files` with the stored credentials (refreshing as needed); without credentials, goes to `/authorize` |
//! | `/authorize` | starts the flow: offline access, incremental authorization, state and PKCE kept in the session |
//! | `/oauth2callback` | checks state, exchanges the code, stores the credentials, then redirects to `/test` so the code never stays in the address bar |
//! | `/revoke` | revokes the credentials at the server and forgets them |
//! | `/clear` | forgets the credentials without revoking them |

mod pages;
mod session;

use std::path::PathBuf;
use std::sync::Arc;

use keyway_client::Flow;

pub use session::Sessions;

/// What the app needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The client's `client_secret.json`.
    pub client_secrets: PathBuf,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Base URL of the APIs (`http://localhost:8000` for Keyway's demo APIs,
    /// `https://www.googleapis.com` for Google's).
    pub api_base: String,
    /// The redirect URI registered for the client (`…/oauth2callback` of this app).
    pub redirect_uri: String,
    /// Where credentials are kept (a SQLite file).
    pub database: PathBuf,
}

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct App {
    flow: Arc<Flow>,
    settings: Arc<Settings>,
    sessions: Sessions,
}

impl App {
    /// Loads the client secrets and opens the credential store.
    pub async fn new(settings: Settings) -> anyhow::Result<Self> {
        let flow =
            Flow::from_client_secrets_file(&settings.client_secrets, settings.scopes.clone())?
                .with_redirect_uri(settings.redirect_uri.clone());
        let sessions = Sessions::open(&settings.database).await?;
        Ok(Self {
            flow: Arc::new(flow),
            settings: Arc::new(settings),
            sessions,
        })
    }

    /// The app's routes.
    pub fn router(self) -> axum::Router {
        pages::router().with_state(self)
    }
}
