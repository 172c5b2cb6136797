//! Browser sessions and the accounts signed in within them.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::Subject;
use keyway_core::secret::SecretHash;
use keyway_core::session::{BrowserSession, SessionAccount};
use keyway_core::store::{SessionStore, StoreResult};
use rusqlite::params;

use crate::{SqliteStore, named};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(
        &self,
        hash: SecretHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<i64> {
        let (now, expires_at) = (now.as_unix(), expires_at.as_unix());
        self.db
            .write(move |w| {
                w
                    .prepare_cached("INSERT INTO browser_sessions (session_hash, created_at, expires_at) VALUES (?1, ?2, ?3) RETURNING id")?
                    .query_row(params![&hash.as_bytes()[..], now, expires_at], |r| r.get(0))
                    .map_err(named("session"))
            })
            .await
    }

    async fn find_session(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<BrowserSession>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT s.id, s.created_at, s.expires_at, a.sub, a.authuser, a.signed_in_at
                 FROM browser_sessions s LEFT JOIN session_accounts a ON a.session_id = s.id
                 WHERE s.session_hash = ?1 AND s.expires_at > ?2
                 ORDER BY a.authuser",
            )?;
            let mut rows = stmt.query(params![&hash.as_bytes()[..], now.as_unix()])?;
            let mut session: Option<BrowserSession> = None;
            while let Some(r) = rows.next()? {
                let s = match &mut session {
                    Some(s) => s,
                    None => session.insert(BrowserSession {
                        id: r.get("id")?,
                        accounts: Vec::new(),
                        created_at: Timestamp::from_unix(r.get("created_at")?),
                        expires_at: Timestamp::from_unix(r.get("expires_at")?),
                    }),
                };
                // A session without accounts is one row whose account columns are NULL.
                if let Some(sub) = r.get::<_, Option<String>>("sub")? {
                    s.accounts.push(SessionAccount {
                        sub: Subject::from_stored(sub),
                        authuser: u32::try_from(r.get::<_, i64>("authuser")?).unwrap_or(u32::MAX),
                        signed_in_at: Timestamp::from_unix(r.get("signed_in_at")?),
                    });
                }
            }
            Ok(session)
        })
    }

    async fn update_session_id(&self, old: &SecretHash, new: SecretHash) -> StoreResult<bool> {
        let old = *old;
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached(
                        "UPDATE browser_sessions SET session_hash = ?2 WHERE session_hash = ?1",
                    )?
                    .execute(params![&old.as_bytes()[..], &new.as_bytes()[..]])
                    .map_err(named("session"))?;
                Ok(n == 1)
            })
            .await
    }

    async fn insert_session_account(
        &self,
        session_id: i64,
        sub: &Subject,
        now: Timestamp,
    ) -> StoreResult<u32> {
        let sub = sub.as_str().to_owned();
        let now = now.as_unix();
        self.db
            .write(move |w| {
                let authuser: i64 = w
                    .prepare_cached(
                        "INSERT INTO session_accounts (session_id, sub, authuser, signed_in_at)
                         VALUES (?1, ?2, (SELECT COALESCE(MAX(authuser) + 1, 0) FROM session_accounts WHERE session_id = ?1), ?3)
                         ON CONFLICT (session_id, sub) DO UPDATE SET signed_in_at = excluded.signed_in_at
                         RETURNING authuser",
                    )?
                    .query_row(params![session_id, sub, now], |r| r.get(0))
                    .map_err(named("session or user"))?;
                Ok(u32::try_from(authuser).unwrap_or(u32::MAX))
            })
            .await
    }

    async fn delete_session(&self, hash: &SecretHash) -> StoreResult<bool> {
        let hash = *hash;
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached("DELETE FROM browser_sessions WHERE session_hash = ?1")?
                    .execute(params![&hash.as_bytes()[..]])?;
                Ok(n == 1)
            })
            .await
    }

    async fn delete_user_sessions(&self, sub: &Subject) -> StoreResult<u64> {
        let sub = sub.as_str().to_owned();
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached("DELETE FROM session_accounts WHERE sub = ?1")?
                    .execute(params![sub])?;
                Ok(n as u64)
            })
            .await
    }
}
