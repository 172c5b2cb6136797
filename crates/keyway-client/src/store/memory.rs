//! Many users' credentials in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{KeyLocks, TokenKey, TokenStore, Update, UpdateFn};
use crate::credentials::Credentials;
use crate::error::Result;

/// Many users' credentials in memory, by [`TokenKey`]: for tests, short-lived processes,
/// or as a building block (a cache in front of a slower store).
///
/// [`TokenStore::update`] holds a per-key async mutex, which [`TokenStore::save`] and
/// [`TokenStore::delete`] take too: two tasks never refresh the same key twice, and a save
/// made while a refresh is in flight lands after it. Different keys never wait for each
/// other. Nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    entries: Mutex<HashMap<TokenKey, Credentials>>,
    locks: KeyLocks,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys that have credentials, sorted.
    pub fn keys(&self) -> Vec<TokenKey> {
        let mut keys: Vec<_> = self.map().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Credentials>> {
        self.entries.lock().expect("memory token store")
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<Credentials>> {
        Ok(self.map().get(key).cloned())
    }

    async fn save(&self, key: &TokenKey, credentials: &Credentials) -> Result<()> {
        let _guard = self.locks.lock(key).await;
        self.map().insert(key.clone(), credentials.clone());
        Ok(())
    }

    async fn delete(&self, key: &TokenKey) -> Result<bool> {
        let _guard = self.locks.lock(key).await;
        Ok(self.map().remove(key).is_some())
    }

    async fn update<'a>(&'a self, key: &'a TokenKey, f: UpdateFn<'a>) -> Result<Credentials> {
        let _guard = self.locks.lock(key).await;
        let stored = self.map().get(key).cloned();
        Ok(match f(stored).await? {
            Update::Keep(c) => c,
            Update::Save(c) => {
                self.map().insert(key.clone(), c.clone());
                c
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::tests::sample;
    use crate::store::update_fn;

    #[tokio::test]
    async fn keys_are_independent_and_updates_of_one_key_serialize() {
        let store = Arc::new(MemoryTokenStore::new());
        let (a, b) = (
            TokenKey::new("cid", "alice", ["openid"]),
            TokenKey::new("cid", "bob", ["openid"]),
        );
        store.save(&a, &sample("a-old")).await.unwrap();
        store.save(&b, &sample("b")).await.unwrap();
        assert_eq!(store.keys(), [a.clone(), b.clone()]);

        let refreshes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (store, a, refreshes) = (store.clone(), a.clone(), refreshes.clone());
                tokio::spawn(async move {
                    let f = update_fn(|stored| async move {
                        let mut c = stored.unwrap();
                        if c.token.as_deref() != Some("a-old") {
                            return Ok(Update::Keep(c));
                        }
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        c.token = Some("a-new".into());
                        Ok(Update::Save(c))
                    });
                    store.update(&a, f).await.unwrap()
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().token.as_deref(), Some("a-new"));
        }
        assert_eq!(refreshes.load(Ordering::SeqCst), 1);
        assert_eq!(
            store.load(&b).await.unwrap().unwrap().token.as_deref(),
            Some("b")
        );
        assert!(store.delete(&a).await.unwrap());
        assert!(!store.delete(&a).await.unwrap());
        assert_eq!(store.load(&a).await.unwrap(), None);
        assert_eq!(store.locks.len(), 0);
    }
}
