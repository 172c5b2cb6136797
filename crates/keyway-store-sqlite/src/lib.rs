//! Keyway's embedded store: SQLite in WAL mode, reads on the caller's thread, writes committed
//! in groups by one writer thread (`src/db.rs` says why).
//!
//! All writes of a process go through one connection, so Keyway's own writers queue in memory
//! instead of fighting over SQLite's lock: `database is locked` never surfaces. Write
//! transactions start with `BEGIN IMMEDIATE`, so a second process on the same file (the CLI
//! while the server runs) waits on the busy timeout instead of failing mid-transaction.
//! `synchronous = FULL`: a write acknowledged to a caller survives a crash and a power cut.

mod clients;
mod db;
mod grants;
mod migrate;
mod pending;
mod projects;
mod sessions;
mod throttle;
mod users;

use std::path::Path;

use async_trait::async_trait;
use keyway_core::store::{Store, StoreError, StoreResult};

pub use migrate::LATEST_VERSION;

pub(crate) use db::{DbError, DbResult, named};

/// The SQLite store. Cloning it is cheap; clones share the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: db::Database,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `path` and applies pending migrations.
    /// Refuses a database whose schema is newer than this build.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let store = Self::connect(path).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the file without migrating (for `keyway migrate --status`-style checks).
    pub async fn connect(path: &Path) -> StoreResult<Self> {
        Ok(Self {
            db: db::Database::open(path)?,
        })
    }

    /// Opens a database from a `sqlite:` URL (`sqlite:///path/to/file.db`, `sqlite://file.db`,
    /// `sqlite:file.db`; a `?query` is ignored).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let rest = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| StoreError::Unavailable(format!("not a sqlite: URL: {url}")))?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::Unavailable(
                "the sqlite: URL has no path".into(),
            ));
        }
        Self::open(Path::new(path)).await
    }

    /// Runs `PRAGMA integrity_check` and returns its findings (empty when the file is sound).
    pub async fn integrity_check(&self) -> StoreResult<Vec<String>> {
        self.db.read(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                let r = r?;
                if r != "ok" {
                    out.push(r);
                }
            }
            Ok(out)
        })
    }

    /// Commits what is queued, checkpoints the WAL and closes the connections.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db.read(|c| {
            c.query_row("SELECT count(*) FROM keyway_schema_migrations", [], |_| {
                Ok(())
            })?;
            Ok(())
        })
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// `Some(v)` for a row, `None` for none, as `rusqlite::OptionalExtension` does, for results
/// already in [`DbResult`].
pub(crate) trait Optional<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> Optional<T> for rusqlite::Result<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(DbError::Sqlite(e)),
        }
    }
}
