//! Schema migrations: embedded SQL files applied in order, each in its own transaction, under
//! an advisory lock so that replicas starting together apply each migration exactly once.

use keyway_core::store::{StoreError, StoreResult};

use crate::{PostgresStore, map_err};

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

/// Key of the transaction-level advisory lock every migration holds ("keyway" + 1).
const MIGRATION_LOCK: i64 = 0x6b65_7977_6179_0001;

const CURRENT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM keyway_schema_migrations";

impl PostgresStore {
    /// The schema version recorded in the database (0 for an empty one). Reads only: an empty
    /// database is left untouched.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let (exists,): (bool,) =
            sqlx::query_as("SELECT to_regclass('keyway_schema_migrations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        if !exists {
            return Ok(0);
        }
        let (v,): (i64,) = sqlx::query_as(CURRENT_VERSION)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(v)
    }

    /// Applies every pending migration; returns how many ran (0 when another replica applied
    /// them meanwhile). A database from a newer build is refused before anything is touched.
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
            // Held until commit or rollback: a second replica waits here, then sees our work.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            // Under the lock, so concurrent first starts cannot race on creating it.
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS keyway_schema_migrations (
                    version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL
                )",
            )
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            // Re-check under the lock: another replica may have migrated meanwhile.
            let (now_at,): (i64,) = sqlx::query_as(CURRENT_VERSION)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            if now_at > LATEST_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found: now_at,
                    known: LATEST_VERSION,
                });
            }
            if now_at >= *version {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query(
                "INSERT INTO keyway_schema_migrations (version, description, applied_at)
                 VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
            )
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
