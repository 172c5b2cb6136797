//! Pending authorization requests: the server-side state of one sign-in/consent flow. Ending a
//! flow is a DELETE whose row lock decides races: of two replicas handling a double submit,
//! the second waits for the first, then finds the row gone.
//!
//! A pending request comes after its browser session in the lock order (deleting a session
//! cascades to its requests), and writes here lock nothing else but, through the foreign keys,
//! share locks on the session or user rows they point at.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::Subject;
use keyway_core::pending::{NewPending, PendingAuthorization};
use keyway_core::secret::SecretHash;
use keyway_core::store::{PendingStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, map_err, map_err_for};

macro_rules! pending_columns {
    () => {
        "id, handle_hash, csrf_hash, session_id, request_json, sub, created_at, expires_at"
    };
}

fn hash(row: &PgRow, col: &str) -> StoreResult<SecretHash> {
    SecretHash::from_slice(row.get(col))
        .ok_or_else(|| StoreError::Internal(format!("pending request {col} of the wrong length")))
}

fn pending(row: &PgRow) -> StoreResult<PendingAuthorization> {
    Ok(PendingAuthorization {
        id: row.get("id"),
        handle_hash: hash(row, "handle_hash")?,
        csrf_hash: hash(row, "csrf_hash")?,
        session_id: row.get("session_id"),
        request_json: row.get("request_json"),
        sub: row
            .get::<Option<String>, _>("sub")
            .map(Subject::from_stored),
        created_at: Timestamp::from_unix(row.get("created_at")),
        expires_at: Timestamp::from_unix(row.get("expires_at")),
    })
}

#[async_trait]
impl PendingStore for PostgresStore {
    async fn insert_pending(
        &self,
        p: NewPending,
        now: Timestamp,
    ) -> StoreResult<PendingAuthorization> {
        // A session being deleted meanwhile either waits for this insert (and then takes the
        // request with it) or went first (the foreign key refuses: `Missing`).
        let row = sqlx::query(concat!(
            "INSERT INTO pending_authorizations (handle_hash, csrf_hash, session_id, request_json, created_at, expires_at, sub)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            pending_columns!()
        ))
        .bind(&p.handle_hash.as_bytes()[..])
        .bind(&p.csrf_hash.as_bytes()[..])
        .bind(p.session_id)
        .bind(&p.request_json)
        .bind(now.as_unix())
        .bind(p.expires_at.as_unix())
        .bind(p.sub.as_ref().map(Subject::as_str))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict("pending request"),
            StoreError::Missing(_) => StoreError::Missing("session"),
            other => other,
        })?;
        pending(&row)
    }

    async fn find_pending(
        &self,
        handle: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingAuthorization>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            pending_columns!(),
            " FROM pending_authorizations WHERE handle_hash = $1 AND expires_at > $2"
        ))
        .bind(&handle.as_bytes()[..])
        .bind(now.as_unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(pending).transpose()
    }

    async fn update_pending_account(
        &self,
        handle: &SecretHash,
        sub: &Subject,
    ) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE pending_authorizations SET sub = $2 WHERE handle_hash = $1")
            .bind(&handle.as_bytes()[..])
            .bind(sub.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err_for("user"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_pending(&self, handle: &SecretHash) -> StoreResult<bool> {
        // The race is decided here: a concurrent delete waits for our row lock, re-checks its
        // `WHERE` against our committed delete and removes nothing.
        let r = sqlx::query("DELETE FROM pending_authorizations WHERE handle_hash = $1")
            .bind(&handle.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
