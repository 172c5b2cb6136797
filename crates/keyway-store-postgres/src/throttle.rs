//! Failed sign-in attempts, one row each, counted per key over a window. Recording a failure
//! inserts and counts under a transaction-level advisory lock on the key, so concurrent
//! failures for one key (on any replica) take turns: none is lost, and each count includes
//! every failure committed before it, so the last of N concurrent calls returns N.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::store::{StoreResult, ThrottleStore};

use crate::{PostgresStore, map_err};

/// How long a failure is kept (a day); the expired-row sweep deletes older ones.
pub(crate) const FAILURE_RETENTION_SECS: i64 = 86_400;

/// First half of the two-key advisory lock taken per throttle key ("keyw"); the second half is
/// the key's hash. Two-key locks never collide with the one-key (migration, sweep) locks.
/// Keys whose hashes collide merely take turns.
const THROTTLE_LOCK_SPACE: i32 = 0x6b65_7977;

const COUNT: &str = "SELECT COUNT(*) FROM signin_failures WHERE key = $1 AND at >= $2";

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl ThrottleStore for PostgresStore {
    async fn insert_failure(
        &self,
        key: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        // Held until commit: the next failure for this key counts after ours is visible.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(THROTTLE_LOCK_SPACE)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("INSERT INTO signin_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(now.as_unix())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let (n,): (i64,) = sqlx::query_as(COUNT)
            .bind(key)
            .bind(since.as_unix())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(count(n))
    }

    async fn count_failures(&self, key: &str, since: Timestamp) -> StoreResult<u32> {
        let (n,): (i64,) = sqlx::query_as(COUNT)
            .bind(key)
            .bind(since.as_unix())
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(count(n))
    }

    async fn delete_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM signin_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
