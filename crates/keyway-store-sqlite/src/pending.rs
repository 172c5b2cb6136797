//! Pending authorization requests: the server-side state of one sign-in/consent flow. Ending a
//! flow is a DELETE in the single writer, so of two submits of one form only one deletes it.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::Subject;
use keyway_core::pending::{NewPending, PendingAuthorization};
use keyway_core::secret::SecretHash;
use keyway_core::store::{PendingStore, StoreError, StoreResult};
use rusqlite::params;

use crate::{DbError, DbResult, Optional, SqliteStore, named};

macro_rules! pending_columns {
    () => {
        "id, handle_hash, csrf_hash, session_id, request_json, sub, created_at, expires_at"
    };
}

fn hash(row: &rusqlite::Row<'_>, col: &str) -> DbResult<SecretHash> {
    let bytes: Vec<u8> = row.get(col)?;
    Ok(SecretHash::from_slice(&bytes).ok_or_else(|| {
        StoreError::Internal(format!("pending request {col} of the wrong length"))
    })?)
}

fn pending(row: &rusqlite::Row<'_>) -> DbResult<PendingAuthorization> {
    Ok(PendingAuthorization {
        id: row.get("id")?,
        handle_hash: hash(row, "handle_hash")?,
        csrf_hash: hash(row, "csrf_hash")?,
        session_id: row.get("session_id")?,
        request_json: row.get("request_json")?,
        sub: row
            .get::<_, Option<String>>("sub")?
            .map(Subject::from_stored),
        created_at: Timestamp::from_unix(row.get("created_at")?),
        expires_at: Timestamp::from_unix(row.get("expires_at")?),
    })
}

#[async_trait]
impl PendingStore for SqliteStore {
    async fn insert_pending(
        &self,
        p: NewPending,
        now: Timestamp,
    ) -> StoreResult<PendingAuthorization> {
        let now = now.as_unix();
        self.db
            .write(move |w| {
                w.prepare_cached(concat!(
                    "INSERT INTO pending_authorizations (handle_hash, csrf_hash, session_id, request_json, created_at, expires_at, sub)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING ",
                    pending_columns!()
                ))?
                .query_row(
                    params![
                        &p.handle_hash.as_bytes()[..],
                        &p.csrf_hash.as_bytes()[..],
                        p.session_id,
                        p.request_json,
                        now,
                        p.expires_at.as_unix(),
                        p.sub.as_ref().map(Subject::as_str),
                    ],
                    |r| Ok(pending(r)),
                )
                .map_err(|e| match DbError::from(e).into_store() {
                    StoreError::Conflict(_) => StoreError::Conflict("pending request"),
                    StoreError::Missing(_) => StoreError::Missing("session"),
                    other => other,
                })?
            })
            .await
    }

    async fn find_pending(
        &self,
        handle: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingAuthorization>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                pending_columns!(),
                " FROM pending_authorizations WHERE handle_hash = ?1 AND expires_at > ?2"
            ))?
            .query_row(params![&handle.as_bytes()[..], now.as_unix()], |r| {
                Ok(pending(r))
            })
            .optional()?
            .transpose()
        })
    }

    async fn update_pending_account(
        &self,
        handle: &SecretHash,
        sub: &Subject,
    ) -> StoreResult<bool> {
        let handle = *handle;
        let sub = sub.as_str().to_owned();
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached(
                        "UPDATE pending_authorizations SET sub = ?2 WHERE handle_hash = ?1",
                    )?
                    .execute(params![&handle.as_bytes()[..], sub])
                    .map_err(named("user"))?;
                Ok(n == 1)
            })
            .await
    }

    async fn delete_pending(&self, handle: &SecretHash) -> StoreResult<bool> {
        let handle = *handle;
        self.db
            .write(move |w| {
                // The writer runs one write at a time: the first DELETE takes the row, every
                // later one finds nothing.
                let n = w
                    .prepare_cached("DELETE FROM pending_authorizations WHERE handle_hash = ?1")?
                    .execute(params![&handle.as_bytes()[..]])?;
                Ok(n == 1)
            })
            .await
    }
}
