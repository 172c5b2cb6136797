//! The app's own sessions: a random cookie per browser, the pending authorization kept on
//! the server between `/authorize` and `/oauth2callback`, and the user's credentials in
//! keyway-client's SQLite store, keyed by the session (the app's notion of "user").

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use keyway_client::{PendingAuthorization, SqliteTokenStore, TokenKey, TokenStore};

/// The session cookie's name.
pub const COOKIE: &str = "sample_session";

/// Sessions and the credential store.
#[derive(Debug, Clone)]
pub struct Sessions {
    pending: Arc<Mutex<HashMap<String, PendingAuthorization>>>,
    store: Arc<SqliteTokenStore>,
}

impl Sessions {
    /// Opens (creating) the credential database.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            pending: Arc::default(),
            store: Arc::new(SqliteTokenStore::open(path).await?),
        })
    }

    /// The credential store.
    pub fn store(&self) -> Arc<dyn TokenStore> {
        self.store.clone()
    }

    /// Keeps the pending authorization of `session` (replacing an older one).
    pub fn put_pending(&self, session: &str, pending: PendingAuthorization) {
        if let Ok(mut p) = self.pending.lock() {
            p.insert(session.to_owned(), pending);
        }
    }

    /// Takes the pending authorization of `session` out: it is used once.
    pub fn take_pending(&self, session: &str) -> Option<PendingAuthorization> {
        self.pending.lock().ok()?.remove(session)
    }
}

/// A new session id: 256 random bits, hex.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    // Without randomness there is nothing safe to do.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session id of a request's cookies, if it has a well-formed one.
pub fn session_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v.to_owned())
}

/// The store key of a session's credentials.
pub fn key(client_id: &str, session: &str, scopes: &[String]) -> TokenKey {
    TokenKey::new(client_id, session, scopes)
}
