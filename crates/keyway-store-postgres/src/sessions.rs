//! Browser sessions and the accounts signed in within them.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::Subject;
use keyway_core::secret::SecretHash;
use keyway_core::session::{BrowserSession, SessionAccount};
use keyway_core::store::{SessionStore, StoreResult};
use sqlx::Row;

use crate::{PostgresStore, map_err, map_err_for};

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(
        &self,
        hash: SecretHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO browser_sessions (session_hash, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(&hash.as_bytes()[..])
        .bind(now.as_unix())
        .bind(expires_at.as_unix())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err_for("session"))?;
        Ok(id)
    }

    async fn find_session(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<BrowserSession>> {
        let rows = sqlx::query(
            "SELECT s.id, s.created_at, s.expires_at, a.sub, a.authuser, a.signed_in_at
             FROM browser_sessions s LEFT JOIN session_accounts a ON a.session_id = s.id
             WHERE s.session_hash = $1 AND s.expires_at > $2
             ORDER BY a.authuser",
        )
        .bind(&hash.as_bytes()[..])
        .bind(now.as_unix())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let accounts = rows
            .iter()
            .filter_map(|r| {
                let sub: Option<String> = r.get("sub");
                sub.map(|sub| SessionAccount {
                    sub: Subject::from_stored(sub),
                    authuser: u32::try_from(r.get::<i32, _>("authuser")).unwrap_or(u32::MAX),
                    signed_in_at: Timestamp::from_unix(r.get("signed_in_at")),
                })
            })
            .collect();
        Ok(Some(BrowserSession {
            id: first.get("id"),
            accounts,
            created_at: Timestamp::from_unix(first.get("created_at")),
            expires_at: Timestamp::from_unix(first.get("expires_at")),
        }))
    }

    async fn update_session_id(&self, old: &SecretHash, new: SecretHash) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE browser_sessions SET session_hash = $2 WHERE session_hash = $1")
                .bind(&old.as_bytes()[..])
                .bind(&new.as_bytes()[..])
                .execute(&self.pool)
                .await
                .map_err(map_err_for("session"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_session_account(
        &self,
        session_id: i64,
        sub: &Subject,
        now: Timestamp,
    ) -> StoreResult<u32> {
        let mut tx = self.begin().await?;
        // Two sign-ins in one browser (two tabs, two replicas) take turns here, so the second
        // computes MAX(authuser) after the first committed and gets the next index. A missing
        // session is left to the foreign key below (`Missing`).
        sqlx::query("SELECT id FROM browser_sessions WHERE id = $1 FOR UPDATE")
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let (authuser,): (i32,) = sqlx::query_as(
            "INSERT INTO session_accounts (session_id, sub, authuser, signed_in_at)
             VALUES ($1, $2, (SELECT COALESCE(MAX(authuser) + 1, 0) FROM session_accounts WHERE session_id = $1), $3)
             ON CONFLICT (session_id, sub) DO UPDATE SET signed_in_at = excluded.signed_in_at
             RETURNING authuser",
        )
        .bind(session_id)
        .bind(sub.as_str())
        .bind(now.as_unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err_for("session or user"))?;
        tx.commit().await.map_err(map_err)?;
        Ok(u32::try_from(authuser).unwrap_or(u32::MAX))
    }

    async fn delete_session(&self, hash: &SecretHash) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM browser_sessions WHERE session_hash = $1")
            .bind(&hash.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_user_sessions(&self, sub: &Subject) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM session_accounts WHERE sub = $1")
            .bind(sub.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
}
