//! Opening the configured database: SQLite in the data directory by default, PostgreSQL when a
//! `postgres://` URL is given. Every command (server and CLI) opens it the same way, so they
//! always act on the same data.

use std::sync::Arc;

use anyhow::Context;
use keyway_core::{Store, StoreError};
use keyway_store_postgres::PostgresStore;
use keyway_store_sqlite::SqliteStore;

use crate::config::{Config, ensure_data_dir};

/// Opens the configured store, applying pending migrations (idempotent, and locked against
/// concurrent starts); errors name the database without its password.
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match &config.database_url {
        Some(url) if url.is_postgres() => Arc::new(
            PostgresStore::open(url.expose())
                .await
                .map_err(|e| describe(e, &url.to_string()))?,
        ),
        Some(url) => Arc::new(
            SqliteStore::open_url(url.expose())
                .await
                .map_err(|e| describe(e, &url.to_string()))?,
        ),
        None => {
            ensure_data_dir(&config.data_dir)?;
            let path = config.sqlite_path();
            Arc::new(
                SqliteStore::open(&path)
                    .await
                    .map_err(|e| describe(e, &path.display().to_string()))?,
            )
        }
    };
    // The CLI's commands need the catalogue too (`scope list`), not only the server.
    keyway_core::console::seed_default_scopes(&*store)
        .await
        .context("cannot seed the scope catalogue")?;
    Ok(store)
}

fn describe(e: StoreError, target: &str) -> anyhow::Error {
    match e {
        StoreError::SchemaTooNew { .. } => {
            anyhow::anyhow!("refusing to use the database at {target}: {e}")
        }
        other => anyhow::anyhow!("cannot open the database at {target}: {other}"),
    }
}

/// Where the configured database is, for messages (password redacted).
pub fn describe_target(config: &Config) -> String {
    match &config.database_url {
        Some(url) => url.to_string(),
        None => config.sqlite_path().display().to_string(),
    }
}

/// The schema version of the configured database after opening it (`keyway migrate`).
pub async fn schema_version(config: &Config) -> anyhow::Result<i64> {
    let target = describe_target(config);
    let version = match &config.database_url {
        Some(url) if url.is_postgres() => {
            let s = PostgresStore::open(url.expose())
                .await
                .map_err(|e| describe(e, &target))?;
            s.schema_version().await
        }
        Some(url) => {
            let s = SqliteStore::open_url(url.expose())
                .await
                .map_err(|e| describe(e, &target))?;
            s.schema_version().await
        }
        None => {
            ensure_data_dir(&config.data_dir)?;
            let s = SqliteStore::open(&config.sqlite_path())
                .await
                .map_err(|e| describe(e, &target))?;
            s.schema_version().await
        }
    };
    version.map_err(|e| describe(e, &target))
}
