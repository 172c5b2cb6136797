//! Schema migrations: embedded SQL files applied in order, each in its own transaction.

use keyway_core::store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::{DbResult, SqliteStore};

/// `(version, description, sql)`, oldest first.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../migrations/0001_initial.sql"),
    ),
    (
        2,
        "pending authorization requests and sign-in failures",
        include_str!("../migrations/0002_pending_and_throttle.sql"),
    ),
    (
        3,
        "organization policies",
        include_str!("../migrations/0003_organization_policies.sql"),
    ),
];

/// The newest schema version this build knows.
pub const LATEST_VERSION: i64 = 3;

fn current_version(c: &Connection) -> DbResult<i64> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS keyway_schema_migrations (
            version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL
        ) STRICT",
    )?;
    Ok(c.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM keyway_schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

impl SqliteStore {
    /// The schema version recorded in the database (0 for an empty one).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        self.db.write(|w| current_version(w)).await
    }

    /// Applies every pending migration; returns how many ran. A database from a newer build is
    /// refused before anything is touched.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let current = self.schema_version().await?;
        if current > LATEST_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known: LATEST_VERSION,
            });
        }
        let mut applied = 0;
        for &(version, description, sql) in MIGRATIONS.iter().filter(|(v, ..)| *v > current) {
            // Each migration is one write: the version is re-checked under the write lock,
            // since another process may have migrated meanwhile.
            let ran = self
                .db
                .write(move |w| {
                    if current_version(w)? >= version {
                        return Ok(false);
                    }
                    w.execute_batch(sql)?;
                    w.execute(
                        "INSERT INTO keyway_schema_migrations (version, description, applied_at)
                         VALUES (?1, ?2, unixepoch())",
                        rusqlite::params![version, description],
                    )?;
                    Ok(true)
                })
                .await?;
            if ran {
                tracing::info!(version, description, "applied migration");
                applied += 1;
            }
        }
        Ok(applied)
    }
}
