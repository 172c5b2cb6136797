//! Token stores: where credentials live between requests and runs, keyed by
//! (client id, user key, scopes), with a locked read-modify-write for refreshing.

mod file;
mod memory;
mod sqlite;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex as StdMutex};

use async_trait::async_trait;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

pub use file::{FileTokenStore, StoreLock};
pub use memory::MemoryTokenStore;
pub use sqlite::{DEFAULT_LEASE, SqliteTokenStore};

/// The key of one set of stored credentials: the OAuth client, the application's own key
/// for the user (its user id, or the Google `sub`), and the scopes the credentials were
/// requested with — the key of oauth2client's `multistore_file`.
///
/// Scopes are normalized: split on whitespace, sorted and deduplicated, so
/// `["email", "openid"]`, `["openid", "email"]` and `["openid email"]` make the same key.
///
/// The stable string form ([`fmt::Display`], parsed back by [`FromStr`]) is
/// `application/x-www-form-urlencoded`: `client_id=…&user=…&scope=a+b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey {
    client_id: String,
    user_key: String,
    scopes: Vec<String>,
}

impl TokenKey {
    /// The key of `user_key`'s credentials for `client_id` and `scopes`.
    pub fn new<S: AsRef<str>>(
        client_id: impl Into<String>,
        user_key: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        let mut scopes: Vec<String> = scopes
            .into_iter()
            .flat_map(|s| {
                s.as_ref()
                    .split_ascii_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        scopes.sort();
        scopes.dedup();
        Self {
            client_id: client_id.into(),
            user_key: user_key.into(),
            scopes,
        }
    }

    /// The key of `credentials` for `user_key`: their client id and *requested* scopes (as
    /// the flow asked for them; the granted ones may be fewer).
    pub fn for_credentials(credentials: &Credentials, user_key: impl Into<String>) -> Self {
        Self::new(credentials.client_id.clone(), user_key, &credentials.scopes)
    }

    /// The OAuth client's id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The application's key for the user.
    pub fn user_key(&self) -> &str {
        &self.user_key
    }

    /// The scopes, sorted and deduplicated.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The scopes, sorted, space-delimited (the form kept in the SQLite store's column).
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

impl fmt::Display for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &self.client_id)
                .append_pair("user", &self.user_key)
                .append_pair("scope", &self.scope_string())
                .finish(),
        )
    }
}

impl FromStr for TokenKey {
    type Err = Error;

    /// Parses the form written by [`fmt::Display`]: exactly `client_id`, `user` and `scope`,
    /// in that order.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |message: String| Error::InvalidConfig {
            what: "token key",
            message,
        };
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes())
            .into_owned()
            .collect();
        match pairs.as_slice() {
            [(c, client_id), (u, user), (sc, scope)]
                if c == "client_id" && u == "user" && sc == "scope" =>
            {
                Ok(Self::new(client_id.clone(), user.clone(), [scope]))
            }
            _ => Err(invalid(format!(
                "expected `client_id=…&user=…&scope=…`, got {} parameters",
                pairs.len()
            ))),
        }
    }
}

/// What an [`UpdateFn`] decides, given the stored credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// These credentials are good as they are (usually the stored ones): nothing is written.
    Keep(Credentials),
    /// Store these (usually freshly refreshed) credentials.
    Save(Credentials),
}

impl Update {
    /// The credentials, kept or saved.
    pub fn into_credentials(self) -> Credentials {
        match self {
            Self::Keep(c) | Self::Save(c) => c,
        }
    }
}

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The operation [`TokenStore::update`] runs under the key's lock: it receives the stored
/// credentials (`None` when there are none) and decides what to keep. Build one from an
/// async closure with [`update_fn`].
pub type UpdateFn<'a> =
    Box<dyn FnOnce(Option<Credentials>) -> BoxFuture<'a, Result<Update>> + Send + 'a>;

/// Boxes `f` into an [`UpdateFn`].
///
/// ```
/// use keyway_client::{Update, update_fn};
///
/// let f = update_fn(|stored| async move {
///     let c = stored.expect("stored credentials");
///     Ok(Update::Keep(c))
/// });
/// # let _ = f;
/// ```
pub fn update_fn<'a, F, Fut>(f: F) -> UpdateFn<'a>
where
    F: FnOnce(Option<Credentials>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Update>> + Send + 'a,
{
    Box::new(move |stored| Box::pin(f(stored)))
}

/// Where credentials are kept, by [`TokenKey`]: a file ([`FileTokenStore`]), memory
/// ([`MemoryTokenStore`]) or a SQLite database ([`SqliteTokenStore`]); implement it for
/// your own database (the trait uses [`async_trait`](crate::async_trait)).
///
/// [`AuthorizedClient::with_store`](crate::AuthorizedClient::with_store) refreshes through
/// [`TokenStore::update`], so that two clients sharing a store never refresh one key
/// twice: under the key's lock the stored credentials are re-read, and when someone else
/// refreshed meanwhile their token is used.
#[async_trait]
pub trait TokenStore: fmt::Debug + Send + Sync {
    /// The credentials stored under `key`, if any.
    async fn load(&self, key: &TokenKey) -> Result<Option<Credentials>>;

    /// Stores `credentials` under `key`, replacing what was there (an atomic upsert).
    async fn save(&self, key: &TokenKey, credentials: &Credentials) -> Result<()>;

    /// Removes the credentials under `key`; whether there were any.
    async fn delete(&self, key: &TokenKey) -> Result<bool>;

    /// A locked read-modify-write of `key`: takes the key's lock (what it excludes —
    /// tasks, processes — is each store's to document), reads the stored credentials, runs
    /// `f` on them, saves what it returns with [`Update::Save`], releases the lock, and
    /// returns the resulting credentials. `f` must not call the store for the same key.
    async fn update<'a>(&'a self, key: &'a TokenKey, f: UpdateFn<'a>) -> Result<Credentials>;
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn load(&self, key: &TokenKey) -> Result<Option<Credentials>> {
        (**self).load(key).await
    }

    async fn save(&self, key: &TokenKey, credentials: &Credentials) -> Result<()> {
        (**self).save(key, credentials).await
    }

    async fn delete(&self, key: &TokenKey) -> Result<bool> {
        (**self).delete(key).await
    }

    async fn update<'a>(&'a self, key: &'a TokenKey, f: UpdateFn<'a>) -> Result<Credentials> {
        (**self).update(key, f).await
    }
}

/// One async mutex per key, created on demand and dropped when nobody holds or awaits it.
#[derive(Debug, Default)]
pub(crate) struct KeyLocks {
    map: StdMutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds one key's mutex; see [`KeyLocks::lock`].
pub(crate) struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    key: TokenKey,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl KeyLocks {
    /// Waits for `key`'s mutex.
    pub(crate) async fn lock(&self, key: &TokenKey) -> KeyGuard<'_> {
        let mutex = self
            .map
            .lock()
            .expect("key lock map")
            .entry(key.clone())
            .or_default()
            .clone();
        KeyGuard {
            locks: self,
            key: key.clone(),
            _guard: mutex.lock_owned().await,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().expect("key lock map").len()
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.locks.map.lock().expect("key lock map");
        // The map's reference and this guard's: nobody else holds or awaits the mutex
        // (waiters clone it under the map's lock, which is held here).
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 2)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    /// Credentials for tests, with `token` valid for an hour.
    pub(crate) fn sample(token: &str) -> Credentials {
        let mut c = Credentials::from_refresh_token(
            url::Url::parse("https://oauth2.googleapis.com/token").unwrap(),
            "cid",
            Some("secret".into()),
            "rt",
            vec!["openid".into()],
        );
        c.token = Some(token.into());
        c.expiry = Some(crate::time::truncate_micros(
            SystemTime::now() + Duration::from_secs(3600),
        ));
        c
    }

    #[test]
    fn keys_normalize_scopes_and_round_trip_their_string_form() {
        let a = TokenKey::new("cid.apps", "user 1", ["openid", "email", "openid"]);
        let b = TokenKey::new("cid.apps", "user 1", ["email openid"]);
        assert_eq!(a, b);
        assert_eq!(a.scopes(), ["email", "openid"]);
        assert_eq!(a.scope_string(), "email openid");
        let s = a.to_string();
        assert_eq!(s, "client_id=cid.apps&user=user+1&scope=email+openid");
        assert_eq!(s.parse::<TokenKey>().unwrap(), a);

        // Separators inside values are escaped, so the form stays unambiguous.
        let odd = TokenKey::new("a&b=c", "ü+%&user=x", ["https://x.example/s?a=1&b"]);
        let s = odd.to_string();
        assert_eq!(s.matches('&').count(), 2, "{s}");
        assert_eq!(s.parse::<TokenKey>().unwrap(), odd);

        let empty = TokenKey::new("c", "", Vec::<String>::new());
        assert_eq!(empty.to_string().parse::<TokenKey>().unwrap(), empty);

        for bad in [
            "",
            "client_id=c&user=u",
            "user=u&client_id=c&scope=",
            "client_id=c&user=u&scope=&x=1",
        ] {
            assert!(bad.parse::<TokenKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_for_credentials_uses_their_requested_scopes() {
        let mut c = sample("t");
        c.scopes = vec!["email".into(), "openid".into()];
        c.granted_scopes = Some(vec!["openid".into()]);
        let k = TokenKey::for_credentials(&c, "42");
        assert_eq!(k, TokenKey::new("cid", "42", ["openid", "email"]));
    }

    #[tokio::test]
    async fn key_locks_are_dropped_when_released() {
        let locks = KeyLocks::default();
        let k = TokenKey::new("c", "u", ["s"]);
        let g = locks.lock(&k).await;
        assert_eq!(locks.len(), 1);
        drop(g);
        assert_eq!(locks.len(), 0);
    }
}
