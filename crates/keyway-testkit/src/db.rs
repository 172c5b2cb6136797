//! Fresh databases for tests: a temporary SQLite file, or a new database on the PostgreSQL
//! server named by `KEYWAY_TEST_DATABASE_URL`, dropped again when the test ends.

use std::sync::Arc;

use keyway_core::Store;
use keyway_store_postgres::PostgresStore;
use keyway_store_sqlite::SqliteStore;

/// The variable naming the PostgreSQL server for tests (`postgres://user@host:port/db`).
pub const DATABASE_URL_VAR: &str = "KEYWAY_TEST_DATABASE_URL";

/// The PostgreSQL URL for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty())
}

/// A migrated, empty store that cleans up after itself.
#[derive(Debug)]
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// What the server would be given to reach the same database.
    pub database_url: Option<String>,
    guard: Guard,
}

#[derive(Debug)]
enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestStore {
    /// A SQLite store in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("keyway.db"))
            .await
            .expect("open SQLite store");
        Self {
            store: Arc::new(store),
            database_url: None,
            guard: Guard::Sqlite(dir),
        }
    }

    /// A PostgreSQL store in a new database; `None` when no server is configured.
    ///
    /// # Panics
    /// When a server is configured but cannot be reached: in CI that is a failure, not a skip.
    pub async fn postgres() -> Option<Self> {
        let admin_url = postgres_url()?;
        let name = format!(
            "keyway_test_{}",
            hex(&keyway_core::secret::random_bytes::<8>())
        );
        keyway_store_postgres::create_database(&admin_url, &name)
            .await
            .unwrap_or_else(|e| {
                panic!("{DATABASE_URL_VAR} is set but PostgreSQL is unusable: {e}")
            });
        let url = keyway_store_postgres::database_url_with_name(&admin_url, &name);
        let store = PostgresStore::open(&url)
            .await
            .expect("open PostgreSQL store");
        Some(Self {
            store: Arc::new(store),
            database_url: Some(url),
            guard: Guard::Postgres { admin_url, name },
        })
    }

    /// The directory of a SQLite store.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        match &self.guard {
            Guard::Sqlite(d) => Some(d.path()),
            Guard::Postgres { .. } => None,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Guard::Postgres { admin_url, name } = &self.guard {
            // Drop runs outside any runtime we may block: use a private one on its own thread.
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    let _ = rt.block_on(keyway_store_postgres::drop_database(&admin_url, &name));
                }
            })
            .join();
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TestStore {
    /// Drops the PostgreSQL database out from under a running server (to test outages).
    pub async fn drop_postgres_database(&self) {
        if let Guard::Postgres { admin_url, name } = &self.guard {
            keyway_store_postgres::drop_database(admin_url, name)
                .await
                .expect("drop database");
        }
    }
}
