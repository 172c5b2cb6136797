//! Failed sign-in attempts, one row each, counted per key over a window.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::store::{StoreResult, ThrottleStore};
use rusqlite::params;

use crate::SqliteStore;

/// How long a failure is kept (a day); the expired-row sweep deletes older ones.
pub(crate) const FAILURE_RETENTION_SECS: i64 = 86_400;

const COUNT: &str = "SELECT COUNT(*) FROM signin_failures WHERE key = ?1 AND at >= ?2";

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
        // Insert and count in one write: concurrent failures queue, none is lost, and each
        // count includes every failure recorded before it.
        let key = key.to_owned();
        let (now, since) = (now.as_unix(), since.as_unix());
        self.db
            .write(move |w| {
                w.prepare_cached("INSERT INTO signin_failures (key, at) VALUES (?1, ?2)")?
                    .execute(params![key, now])?;
                let n: i64 = w
                    .prepare_cached(COUNT)?
                    .query_row(params![key, since], |r| r.get(0))?;
                Ok(count(n))
            })
            .await
    }

    async fn count_failures(&self, key: &str, since: Timestamp) -> StoreResult<u32> {
        self.db.read(|c| {
            let n: i64 = c
                .prepare_cached(COUNT)?
                .query_row(params![key, since.as_unix()], |r| r.get(0))?;
            Ok(count(n))
        })
    }

    async fn delete_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.db
            .write(move |w| {
                w.prepare_cached("DELETE FROM signin_failures WHERE key = ?1")?
                    .execute(params![key])?;
                Ok(())
            })
            .await
    }
}
