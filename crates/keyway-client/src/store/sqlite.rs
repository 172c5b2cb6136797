//! Many users' credentials in one SQLite table, for web applications.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{KeyLocks, TokenKey, TokenStore, Update, UpdateFn};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::flow::random_token;

/// How long a refresh lease lasts by default: longer than the default HTTP client's
/// 30-second timeout, so a live refresh never loses it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS keyway_client_tokens (
    client_id   TEXT NOT NULL,
    user_key    TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    credentials TEXT,
    updated_at  INTEGER NOT NULL,
    lease_until INTEGER,
    lease_owner TEXT,
    PRIMARY KEY (client_id, user_key, scopes)
) WITHOUT ROWID";

/// The `WHERE` condition selecting one key's row (binds ?1, ?2, ?3).
macro_rules! key {
    () => {
        "client_id = ?1 AND user_key = ?2 AND scopes = ?3"
    };
}

/// Many users' credentials in a SQLite database, for web applications: one table,
/// `keyway_client_tokens`, keyed by (client id, user key, scopes) — the scopes sorted and
/// space-delimited as in [`TokenKey::scope_string`] — holding each entry's google-auth
/// authorized-user JSON. The table can live in the application's own database.
///
/// - WAL journal, `synchronous = FULL`, a 10-second busy timeout; each write is one
///   statement or one `BEGIN IMMEDIATE` transaction, so saves are atomic upserts.
/// - **In one process**, operations on one key are serialized by a per-key async mutex
///   (shared by the clones of one store): two tasks never refresh a key twice, and a save
///   made during a refresh lands after it. Different keys never wait for each other.
/// - **Across processes** (several app servers on one database file), [`TokenStore::update`]
///   takes a *lease* on the row in a short `BEGIN IMMEDIATE` transaction — re-reading the
///   credentials in that same transaction — and the HTTP refresh runs outside any database
///   transaction, so other keys' reads and writes are never held up by it. A process that
///   finds a live lease polls until it is released, then re-reads: one refresh per key
///   across processes too, as long as a refresh ends within the lease ([`DEFAULT_LEASE`];
///   an expired lease, e.g. of a crashed process, is taken over). Plain saves do not wait
///   for another process's lease: there the last write wins.
///
/// Refresh tokens are stored as they are: encrypt the database file at rest (or keep it on
/// an encrypted volume), and restrict its permissions.
#[derive(Debug, Clone)]
pub struct SqliteTokenStore {
    pool: SqlitePool,
    locks: Arc<KeyLocks>,
    lease: Duration,
}

fn db_err(e: sqlx::Error) -> Error {
    Error::Store(Box::new(e))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

impl SqliteTokenStore {
    /// Opens (creating if needed) the database file at `path` in WAL mode, and creates the
    /// table if it does not exist.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path.as_ref())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Self::with_pool(pool).await
    }

    /// Uses an existing pool (the application's own database), creating the table if it
    /// does not exist. Configure the pool with WAL and a busy timeout.
    pub async fn with_pool(pool: SqlitePool) -> Result<Self> {
        sqlx::query(SCHEMA).execute(&pool).await.map_err(db_err)?;
        Ok(Self {
            pool,
            locks: Arc::default(),
            lease: DEFAULT_LEASE,
        })
    }

    /// Sets how long a refresh may hold its cross-process lease (default
    /// [`DEFAULT_LEASE`]); it should exceed the HTTP client's timeout.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The keys of `user_key`'s credentials for `client_id` (all scope sets), sorted.
    pub async fn keys_for_user(&self, client_id: &str, user_key: &str) -> Result<Vec<TokenKey>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT scopes FROM keyway_client_tokens
             WHERE client_id = ?1 AND user_key = ?2 AND credentials IS NOT NULL
             ORDER BY scopes",
        )
        .bind(client_id)
        .bind(user_key)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(scopes,)| TokenKey::new(client_id, user_key, [scopes]))
            .collect())
    }

    /// Claims the refresh lease of `key` for `owner`, waiting while another process holds a
    /// live one, and returns the stored credentials read in the same transaction.
    async fn claim_lease(&self, key: &TokenKey, owner: &str) -> Result<Option<String>> {
        let mut pause = Duration::from_millis(10);
        loop {
            let mut tx = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(db_err)?;
            let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(concat!(
                "SELECT credentials, lease_until FROM keyway_client_tokens WHERE ",
                key!(),
            ))
            .bind(key.client_id())
            .bind(key.user_key())
            .bind(key.scope_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let now = now_ms();
            if row
                .as_ref()
                .is_some_and(|(_, until)| until.is_some_and(|u| u > now))
            {
                tx.rollback().await.map_err(db_err)?;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
                continue;
            }
            sqlx::query(
                "INSERT INTO keyway_client_tokens
                     (client_id, user_key, scopes, credentials, updated_at, lease_until, lease_owner)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6)
                 ON CONFLICT (client_id, user_key, scopes)
                 DO UPDATE SET lease_until = excluded.lease_until, lease_owner = excluded.lease_owner",
            )
            .bind(key.client_id())
            .bind(key.user_key())
            .bind(key.scope_string())
            .bind(now)
            .bind(now.saturating_add(self.lease.as_millis() as i64))
            .bind(owner)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(row.and_then(|(credentials, _)| credentials));
        }
    }
}

/// Releases a lease when dropped unless [`Lease::disarm`]ed: a refresh future dropped
/// mid-flight (a cancelled request) does not leave other processes waiting for the lease
/// to expire.
struct Lease {
    pool: SqlitePool,
    key: TokenKey,
    owner: String,
    armed: bool,
}

impl Lease {
    /// Releases the lease, and drops the row when it only existed to hold the lease.
    async fn release(pool: &SqlitePool, key: &TokenKey, owner: &str) -> Result<()> {
        sqlx::query(concat!(
            "DELETE FROM keyway_client_tokens
             WHERE ",
            key!(),
            " AND credentials IS NULL AND lease_owner = ?4"
        ))
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .bind(owner)
        .execute(pool)
        .await
        .map_err(db_err)?;
        sqlx::query(concat!(
            "UPDATE keyway_client_tokens SET lease_until = NULL, lease_owner = NULL
             WHERE ",
            key!(),
            " AND lease_owner = ?4"
        ))
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .bind(owner)
        .execute(pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (pool, key, owner) = (
                self.pool.clone(),
                self.key.clone(),
                std::mem::take(&mut self.owner),
            );
            runtime.spawn(async move {
                let _ = Lease::release(&pool, &key, &owner).await;
            });
        }
    }
}

#[async_trait]
impl TokenStore for SqliteTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<Credentials>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(concat!(
            "SELECT credentials FROM keyway_client_tokens WHERE ",
            key!(),
        ))
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.and_then(|(json,)| json)
            .map(|json| Credentials::from_json(&json))
            .transpose()
    }

    async fn save(&self, key: &TokenKey, credentials: &Credentials) -> Result<()> {
        let _guard = self.locks.lock(key).await;
        sqlx::query(
            "INSERT INTO keyway_client_tokens (client_id, user_key, scopes, credentials, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (client_id, user_key, scopes)
             DO UPDATE SET credentials = excluded.credentials, updated_at = excluded.updated_at",
        )
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .bind(credentials.to_json())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete(&self, key: &TokenKey) -> Result<bool> {
        let _guard = self.locks.lock(key).await;
        let done = sqlx::query(concat!(
            "DELETE FROM keyway_client_tokens WHERE ",
            key!(),
            " AND credentials IS NOT NULL"
        ))
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn update<'a>(&'a self, key: &'a TokenKey, f: UpdateFn<'a>) -> Result<Credentials> {
        let _guard = self.locks.lock(key).await;
        let owner = random_token(12);
        let stored = self.claim_lease(key, &owner).await?;
        let mut lease = Lease {
            pool: self.pool.clone(),
            key: key.clone(),
            owner: owner.clone(),
            armed: true,
        };
        let outcome = match stored.as_deref().map(Credentials::from_json).transpose() {
            Ok(stored) => f(stored).await,
            Err(e) => Err(e),
        };
        lease.disarm();
        match outcome {
            Ok(Update::Save(c)) => {
                // Written even if the lease was lost (the refresh outlived it): these are
                // the newest credentials. The lease is cleared only if still ours.
                sqlx::query(concat!(
                    "UPDATE keyway_client_tokens
                     SET credentials = ?5, updated_at = ?6,
                         lease_until = CASE WHEN lease_owner = ?4 THEN NULL ELSE lease_until END,
                         lease_owner = CASE WHEN lease_owner = ?4 THEN NULL ELSE lease_owner END
                     WHERE ",
                    key!(),
                ))
                .bind(key.client_id())
                .bind(key.user_key())
                .bind(key.scope_string())
                .bind(&owner)
                .bind(c.to_json())
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                // The row may have been deleted meanwhile by another process: upsert.
                self.save_if_missing(key, &c).await?;
                Ok(c)
            }
            Ok(Update::Keep(c)) => {
                Lease::release(&self.pool, key, &owner).await?;
                Ok(c)
            }
            Err(e) => {
                Lease::release(&self.pool, key, &owner).await?;
                Err(e)
            }
        }
    }
}

impl SqliteTokenStore {
    async fn save_if_missing(&self, key: &TokenKey, c: &Credentials) -> Result<()> {
        sqlx::query(
            "INSERT INTO keyway_client_tokens (client_id, user_key, scopes, credentials, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (client_id, user_key, scopes) DO NOTHING",
        )
        .bind(key.client_id())
        .bind(key.user_key())
        .bind(key.scope_string())
        .bind(c.to_json())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::tests::sample;
    use crate::store::update_fn;

    async fn temp_store() -> (tempfile::TempDir, SqliteTokenStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteTokenStore::open(dir.path().join("tokens.db"))
            .await
            .unwrap();
        (dir, store)
    }

    /// Refreshes `key` with a counting fake: "old" becomes "new" after a pause.
    async fn fake_refresh(
        store: &SqliteTokenStore,
        key: &TokenKey,
        refreshes: &AtomicUsize,
    ) -> Credentials {
        let f = update_fn(|stored| async move {
            let mut c = stored.expect("stored credentials");
            if c.token.as_deref() != Some("old") {
                return Ok(Update::Keep(c));
            }
            refreshes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(30)).await;
            c.token = Some("new".into());
            Ok(Update::Save(c))
        });
        store.update(key, f).await.unwrap()
    }

    #[tokio::test]
    async fn save_load_delete_and_upsert() {
        let (dir, store) = temp_store().await;
        let key = TokenKey::new("cid", "alice", ["openid", "email"]);
        let other = TokenKey::new("cid", "alice", ["openid"]);
        assert_eq!(store.load(&key).await.unwrap(), None);
        store.save(&key, &sample("one")).await.unwrap();
        store.save(&key, &sample("two")).await.unwrap();
        store.save(&other, &sample("three")).await.unwrap();
        let loaded = store.load(&key).await.unwrap().unwrap();
        assert_eq!(loaded.token.as_deref(), Some("two"));
        assert_eq!(loaded, {
            let mut c = sample("two");
            c.expiry = loaded.expiry;
            c
        });
        let rows: (i64,) = sqlx::query_as("SELECT count(*) FROM keyway_client_tokens")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(rows.0, 2, "an upsert, not a second row");
        assert_eq!(
            store.keys_for_user("cid", "alice").await.unwrap(),
            [key.clone(), other.clone()]
        );
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode.0, "wal");

        // Reopened: the data is on disk.
        let again = SqliteTokenStore::open(dir.path().join("tokens.db"))
            .await
            .unwrap();
        assert_eq!(
            again.load(&other).await.unwrap().unwrap().token.as_deref(),
            Some("three")
        );
        assert!(again.delete(&key).await.unwrap());
        assert!(!again.delete(&key).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap(), None);
        assert!(store.load(&other).await.unwrap().is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_refreshes_of_one_key_make_one() {
        let (_dir, store) = temp_store().await;
        let key = TokenKey::new("cid", "alice", ["openid"]);
        store.save(&key, &sample("old")).await.unwrap();
        let refreshes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (store, key, refreshes) = (store.clone(), key.clone(), refreshes.clone());
                tokio::spawn(async move { fake_refresh(&store, &key, &refreshes).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().token.as_deref(), Some("new"));
        }
        assert_eq!(refreshes.load(Ordering::SeqCst), 1);
        assert_eq!(
            store.load(&key).await.unwrap().unwrap().token.as_deref(),
            Some("new")
        );
        assert_eq!(store.locks.len(), 0);
        let leases: (i64,) = sqlx::query_as(
            "SELECT count(*) FROM keyway_client_tokens WHERE lease_owner IS NOT NULL",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(leases.0, 0, "every lease released");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn separate_stores_on_one_file_refresh_once_through_the_lease() {
        // Two stores share no in-process lock: like two processes on one database.
        let (dir, a) = temp_store().await;
        let b = SqliteTokenStore::open(dir.path().join("tokens.db"))
            .await
            .unwrap();
        let key = TokenKey::new("cid", "alice", ["openid"]);
        a.save(&key, &sample("old")).await.unwrap();
        let refreshes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let (key, refreshes) = (key.clone(), refreshes.clone());
                tokio::spawn(async move { fake_refresh(&store, &key, &refreshes).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().token.as_deref(), Some("new"));
        }
        assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_and_first_saves_release_the_lease() {
        let (_dir, store) = temp_store().await;
        let key = TokenKey::new("cid", "bob", ["openid"]);
        // Nothing stored: `f` sees None; keeping leaves no row behind.
        let c = store
            .update(
                &key,
                update_fn(|stored| async move {
                    assert_eq!(stored, None);
                    Ok(Update::Keep(sample("mine")))
                }),
            )
            .await
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("mine"));
        let rows: (i64,) = sqlx::query_as("SELECT count(*) FROM keyway_client_tokens")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(rows.0, 0);
        // A failed refresh: the error comes back, the lease is released at once.
        let e = store
            .update(&key, update_fn(|_| async { Err(Error::NoRefreshToken) }))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NoRefreshToken));
        // A first save through update.
        let c = store
            .update(
                &key,
                update_fn(|_| async { Ok(Update::Save(sample("first"))) }),
            )
            .await
            .unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(c));
        // A lease left by a crashed process is taken over once it expires.
        let short = store.clone().with_lease(Duration::from_millis(100));
        sqlx::query("UPDATE keyway_client_tokens SET lease_until = ?1, lease_owner = 'dead'")
            .bind(now_ms() + 150)
            .execute(store.pool())
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let c = short
            .update(
                &key,
                update_fn(|stored| async move { Ok(Update::Keep(stored.unwrap())) }),
            )
            .await
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("first"));
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
