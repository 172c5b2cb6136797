//! An HTTP client that authorizes its requests with a user's credentials and keeps them
//! fresh.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::{Mutex, watch};

use crate::credentials::Credentials;
use crate::error::Result;
use crate::http::default_http_client;
use crate::store::{FileTokenStore, TokenKey, TokenStore, Update, update_fn};

/// The default margin before expiry at which the access token is refreshed.
pub const DEFAULT_REFRESH_THRESHOLD: Duration = Duration::from_secs(5 * 60);

/// An HTTP client that sends `Authorization: Bearer …` with a user's access token, and:
///
/// - refreshes the token when it expires within the threshold (default
///   [`DEFAULT_REFRESH_THRESHOLD`]);
/// - shares one refresh among all concurrent callers: N tasks needing a token while it is
///   stale cause one request to the token endpoint, the others wait for its result;
/// - on a `401` answer, refreshes once (unless another caller already did) and retries the
///   request once;
/// - publishes every change of credentials on a [`watch`] channel
///   ([`AuthorizedClient::subscribe`]) so the app can persist them;
/// - with a [`TokenStore`] ([`AuthorizedClient::with_store`]), refreshes through
///   [`TokenStore::update`]: under the store's lock for the key the stored credentials are
///   re-read, a token someone else refreshed meanwhile is taken instead of refreshing again,
///   and a new one is saved before the lock is released.
///
/// Cloning is cheap and clones share the credentials.
#[derive(Clone)]
pub struct AuthorizedClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The current credentials; the sender is the source of truth.
    current: watch::Sender<Credentials>,
    /// Held while refreshing, so only one refresh is ever in flight.
    refresh_lock: Mutex<()>,
    threshold: Duration,
    store: Option<Backing>,
}

/// The store an [`AuthorizedClient`] refreshes through, and its key there.
#[derive(Clone)]
struct Backing {
    store: Arc<dyn TokenStore>,
    key: TokenKey,
}

impl fmt::Debug for AuthorizedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedClient")
            .field("credentials", &*self.inner.current.borrow())
            .field("threshold", &self.inner.threshold)
            .finish_non_exhaustive()
    }
}

impl AuthorizedClient {
    /// A client using [`default_http_client`].
    pub fn new(credentials: Credentials) -> Result<Self> {
        Ok(Self::with_http_client(default_http_client()?, credentials))
    }

    /// A client sending its requests (API calls and refreshes) with `http`.
    pub fn with_http_client(http: reqwest::Client, credentials: Credentials) -> Self {
        Self::build(http, credentials, DEFAULT_REFRESH_THRESHOLD, None)
    }

    /// Sets how long before expiry the token is refreshed. Call before cloning or
    /// subscribing (it makes a new client).
    pub fn with_refresh_threshold(self, threshold: Duration) -> Self {
        let store = self.inner.store.clone();
        Self::build(
            self.inner.http.clone(),
            self.credentials(),
            threshold,
            store,
        )
    }

    /// Refreshes through `store` under `key` (see the type's documentation): every refresh
    /// is saved there, and one made by another client sharing the store is picked up
    /// instead of refreshing again. Call before cloning or subscribing (it makes a new
    /// client).
    pub fn with_store(self, store: Arc<dyn TokenStore>, key: TokenKey) -> Self {
        let threshold = self.inner.threshold;
        Self::build(
            self.inner.http.clone(),
            self.credentials(),
            threshold,
            Some(Backing { store, key }),
        )
    }

    /// [`AuthorizedClient::with_store`] with a file holding this one user's credentials:
    /// under the file's cross-process lock, the file is re-read first and a token another
    /// process refreshed is used instead of refreshing again.
    pub fn with_file_store(self, store: FileTokenStore) -> Self {
        let key = TokenKey::for_credentials(&self.inner.current.borrow(), "");
        self.with_store(Arc::new(store), key)
    }

    /// A client for the credentials stored under `key` in `store` (refreshing through it,
    /// as [`AuthorizedClient::with_store`]), using `http`; `None` when there are none —
    /// send the user through the authorization flow.
    pub async fn from_store(
        http: reqwest::Client,
        store: Arc<dyn TokenStore>,
        key: TokenKey,
    ) -> Result<Option<Self>> {
        Ok(store.load(&key).await?.map(|credentials| {
            Self::build(
                http,
                credentials,
                DEFAULT_REFRESH_THRESHOLD,
                Some(Backing { store, key }),
            )
        }))
    }

    fn build(
        http: reqwest::Client,
        credentials: Credentials,
        threshold: Duration,
        store: Option<Backing>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                current: watch::Sender::new(credentials),
                refresh_lock: Mutex::new(()),
                threshold,
                store,
            }),
        }
    }

    /// A snapshot of the current credentials.
    pub fn credentials(&self) -> Credentials {
        self.inner.current.borrow().clone()
    }

    /// A receiver told of every change of credentials (after each refresh); persist
    /// `receiver.borrow_and_update()` when `receiver.changed()` resolves.
    pub fn subscribe(&self) -> watch::Receiver<Credentials> {
        self.inner.current.subscribe()
    }

    /// The underlying HTTP client, to build requests for [`AuthorizedClient::send`].
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// A fresh access token, refreshing first when the current one expires within the
    /// threshold.
    pub async fn access_token(&self) -> Result<String> {
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        let _guard = self.inner.refresh_lock.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        self.refresh_locked(None).await
    }

    /// Refreshes now unless the token has changed from `stale` (another caller refreshed
    /// it meanwhile), and returns the new token. With `stale` = `None` it always refreshes.
    pub async fn force_refresh(&self, stale: Option<&str>) -> Result<String> {
        let _guard = self.inner.refresh_lock.lock().await;
        if let Some(stale) = stale {
            let current = self.inner.current.borrow().token.clone();
            if let Some(current) = current
                && current != stale
            {
                return Ok(current);
            }
        }
        let current = self.inner.current.borrow().token.clone();
        self.refresh_locked(stale.or(current.as_deref())).await
    }

    fn fresh_token(&self) -> Option<String> {
        let c = self.inner.current.borrow();
        if c.expires_within(self.inner.threshold) {
            None
        } else {
            c.token.clone()
        }
    }

    /// Refreshes (or, with a store, takes what another client refreshed unless its token
    /// is `stale`); the caller holds `refresh_lock`.
    async fn refresh_locked(&self, stale: Option<&str>) -> Result<String> {
        let current = self.credentials();
        let credentials = match &self.inner.store {
            Some(Backing { store, key }) => {
                let (http, threshold) = (&self.inner.http, self.inner.threshold);
                let f = update_fn(move |stored: Option<Credentials>| async move {
                    // Re-read under the store's lock: `current` only when nothing is stored.
                    let mut c = stored.unwrap_or(current);
                    let is_stale = stale.is_some() && c.token.as_deref() == stale;
                    if !is_stale && !c.expires_within(threshold) {
                        return Ok(Update::Keep(c));
                    }
                    c.refresh(http).await?;
                    Ok(Update::Save(c))
                });
                store.update(key, f).await?
            }
            None => {
                let mut c = current;
                c.refresh(&self.inner.http).await?;
                c
            }
        };
        let token = credentials.token.clone().unwrap_or_default();
        self.inner.current.send_if_modified(|c| {
            let changed = *c != credentials;
            *c = credentials;
            changed
        });
        Ok(token)
    }

    /// Sends `request` with the access token; on a `401`, refreshes and retries once (when
    /// the request can be cloned, i.e. its body is not a stream). Any other answer, error
    /// statuses included, is returned as is.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let request = request.build()?;
        let retry = request.try_clone();
        let token = self.access_token().await?;
        let response = self.execute_with(request, &token).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(retry) = retry else {
            return Ok(response);
        };
        let token = self.force_refresh(Some(&token)).await?;
        self.execute_with(retry, &token).await
    }

    async fn execute_with(
        &self,
        mut request: reqwest::Request,
        token: &str,
    ) -> Result<reqwest::Response> {
        let mut value =
            reqwest::header::HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                crate::Error::InvalidResponse {
                    endpoint: crate::Endpoint::Refresh,
                    message: "the access token is not a valid header value".into(),
                }
            })?;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        Ok(self.inner.http.execute(request).await?)
    }

    /// `GET url` with the access token; see [`AuthorizedClient::send`].
    pub async fn get(&self, url: impl reqwest::IntoUrl) -> Result<reqwest::Response> {
        self.send(self.inner.http.get(url)).await
    }
}
