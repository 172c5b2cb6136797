//! Schema migrations: embedded SQL files applied in order, each in its own transaction.

use keyway_core::store::{StoreError, StoreResult};

use crate::{SqliteStore, map_err};

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

impl SqliteStore {
    /// The schema version recorded in the database (0 for an empty one).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS keyway_schema_migrations (
                version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL
            ) STRICT",
        )
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        let (v,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM keyway_schema_migrations")
                .fetch_one(&self.writer)
                .await
                .map_err(map_err)?;
        Ok(v)
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
        for (version, description, sql) in MIGRATIONS.iter().filter(|(v, ..)| *v > current) {
            let mut tx = self.begin().await?;
            // Re-check under the write lock: another process may have migrated meanwhile.
            let (now_at,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM keyway_schema_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if now_at >= *version {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query("INSERT INTO keyway_schema_migrations (version, description, applied_at) VALUES ($1, $2, unixepoch())")
                .bind(version)
                .bind(description)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            tracing::info!(version, description, "applied migration");
            applied += 1;
        }
        Ok(applied)
    }
}
