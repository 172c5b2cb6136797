//! Keyway's embedded store: SQLite in WAL mode with a single writer.
//!
//! All writes go through one connection (a pool of size one), so Keyway's own writers queue in
//! memory instead of fighting over SQLite's lock: `database is locked` never surfaces. Reads use
//! a separate pool of read-only connections, which WAL lets run beside the writer. Write
//! transactions start with `BEGIN IMMEDIATE`, so a second process on the same file (the CLI
//! while the server runs) waits on the busy timeout instead of failing mid-transaction.
//! `synchronous = FULL`: a commit acknowledged to a client survives a crash and a power cut.

mod clients;
mod grants;
mod migrate;
mod pending;
mod projects;
mod sessions;
mod throttle;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use keyway_core::store::{Store, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use migrate::LATEST_VERSION;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
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
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(map_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self { writer, reader })
    }

    /// Opens a database from a `sqlite:` URL (`sqlite:///path/to/file.db`).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url).map_err(map_err)?;
        Self::open(opts.get_filename()).await
    }

    /// Runs `PRAGMA integrity_check` and returns its findings (empty when the file is sound).
    pub async fn integrity_check(&self) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(r,)| r)
            .filter(|r| r != "ok")
            .collect())
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// Maps a database error to the store's vocabulary; the text goes to logs only.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict("row"),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Missing("referenced row")
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Like [`map_err`], naming what a uniqueness or reference failure was about.
pub(crate) fn map_err_for(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(what),
        StoreError::Missing(_) => StoreError::Missing(what),
        other => other,
    }
}
