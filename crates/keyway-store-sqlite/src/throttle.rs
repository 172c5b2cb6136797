//! Failed sign-in attempts, one row each, counted per key over a window.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::store::{StoreResult, ThrottleStore};

use crate::{SqliteStore, map_err};

/// How long a failure is kept (a day); the expired-row sweep deletes older ones.
pub(crate) const FAILURE_RETENTION_SECS: i64 = 86_400;

const COUNT: &str = "SELECT COUNT(*) FROM signin_failures WHERE key = $1 AND at >= $2";

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn insert_failure(
        &self,
        key: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> StoreResult<u32> {
        // Insert and count under the write lock: concurrent failures queue, none is lost, and
        // each count includes every failure recorded before it.
        let mut tx = self.begin().await?;
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
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(count(n))
    }

    async fn delete_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM signin_failures WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
