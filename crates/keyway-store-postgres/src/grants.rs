//! Grants, codes and tokens: the hot paths. Token lookups are single statements on unique
//! indexes; every use-once step is a conditional UPDATE whose row lock decides races between
//! replicas. Transactions here lock in the order user, grant, client, then codes and tokens:
//! the order in which disabling a user, revoking a grant or deleting a client cascade.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::grant::{
    AccessTokenRecord, AccessType, AuthorizationCode, Grant, NewAccessToken, NewCode, Redemption,
    RefreshTokenLimits, RefreshTokenRecord, last_use_is_stale,
};
use keyway_core::ids::{ClientId, Email, ProjectId, Subject};
use keyway_core::pkce::{ChallengeMethod, PkceChallenge};
use keyway_core::redirect_uri::RedirectUri;
use keyway_core::scope::{Scope, ScopeSet};
use keyway_core::secret::SecretHash;
use keyway_core::store::{GrantStore, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::throttle::FAILURE_RETENTION_SECS;
use crate::{PostgresStore, map_err, map_err_for};

/// Key of the advisory lock that queues expired-row sweeps of different replicas ("keyway" + 2).
const SWEEP_LOCK: i64 = 0x6b65_7977_6179_0002;

macro_rules! grant_select {
    () => {
        "SELECT g.id, g.sub, g.project_id, g.created_at, g.last_used_at,
                (SELECT string_agg(scope, ' ' ORDER BY scope) FROM grant_scopes WHERE grant_id = g.id) AS scopes
         FROM grants g "
    };
}

macro_rules! code_columns {
    () => {
        "id, grant_id, client_id, sub, redirect_uri, scopes, access_type, issue_refresh_token, code_challenge,
         code_challenge_method, nonce, auth_time, created_at, expires_at, used_at"
    };
}

fn ts(row: &PgRow, col: &str) -> Timestamp {
    Timestamp::from_unix(row.get(col))
}

fn access_type(s: &str) -> StoreResult<AccessType> {
    AccessType::parse(s).ok_or_else(|| StoreError::Internal(format!("unknown access_type {s:?}")))
}

fn grant(row: &PgRow) -> Grant {
    Grant {
        id: row.get("id"),
        sub: Subject::from_stored(row.get("sub")),
        project_id: ProjectId::from_stored(row.get("project_id")),
        scopes: ScopeSet::from_stored(row.get::<Option<&str>, _>("scopes").unwrap_or("")),
        created_at: ts(row, "created_at"),
        last_used_at: ts(row, "last_used_at"),
    }
}

fn code(row: &PgRow) -> StoreResult<AuthorizationCode> {
    let pkce = match (
        row.get::<Option<String>, _>("code_challenge"),
        row.get::<Option<&str>, _>("code_challenge_method"),
    ) {
        (Some(challenge), Some(m)) => Some(PkceChallenge {
            challenge,
            method: ChallengeMethod::parse(m).ok_or_else(|| {
                StoreError::Internal(format!("unknown code_challenge_method {m:?}"))
            })?,
        }),
        _ => None,
    };
    Ok(AuthorizationCode {
        id: row.get("id"),
        grant_id: row.get("grant_id"),
        client_id: ClientId::from_stored(row.get("client_id")),
        sub: Subject::from_stored(row.get("sub")),
        redirect_uri: RedirectUri::from_stored(row.get("redirect_uri")),
        scopes: ScopeSet::from_stored(row.get("scopes")),
        access_type: access_type(row.get("access_type"))?,
        issue_refresh_token: row.get("issue_refresh_token"),
        pkce,
        nonce: row.get("nonce"),
        auth_time: ts(row, "auth_time"),
        created_at: ts(row, "created_at"),
        expires_at: ts(row, "expires_at"),
        used_at: row
            .get::<Option<i64>, _>("used_at")
            .map(Timestamp::from_unix),
    })
}

fn access_token(row: &PgRow) -> StoreResult<AccessTokenRecord> {
    Ok(AccessTokenRecord {
        id: row.get("id"),
        grant_id: row.get("grant_id"),
        client_id: ClientId::from_stored(row.get("client_id")),
        sub: Subject::from_stored(row.get("sub")),
        scopes: ScopeSet::from_stored(row.get("scopes")),
        access_type: access_type(row.get("access_type"))?,
        code_id: row.get("code_id"),
        refresh_token_id: row.get("refresh_token_id"),
        issued_at: ts(row, "issued_at"),
        expires_at: ts(row, "expires_at"),
        email: Email::from_stored(row.get("email")),
        email_verified: row.get("email_verified"),
    })
}

fn refresh_token(row: &PgRow) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: row.get("id"),
        grant_id: row.get("grant_id"),
        client_id: ClientId::from_stored(row.get("client_id")),
        sub: Subject::from_stored(row.get("sub")),
        scopes: ScopeSet::from_stored(row.get("scopes")),
        code_id: row.get("code_id"),
        created_at: ts(row, "created_at"),
        last_used_at: ts(row, "last_used_at"),
    }
}

/// Locks the grant (noting its use) and then the client against deletion, in the order their
/// deletes cascade; `false` if either is gone. Tokens inserted afterwards need both rows, and
/// a concurrent revocation now waits for this transaction instead of deadlocking with it.
async fn lock_grant_and_client(
    conn: &mut PgConnection,
    grant_id: i64,
    client_id: &ClientId,
    now: Timestamp,
) -> StoreResult<bool> {
    // Key-share locks: a revocation (which deletes the grant) or a client deletion waits for
    // this transaction, while concurrent redemptions of the same grant do not wait on each
    // other, as they would behind an UPDATE of the grant's row.
    let last_used: Option<(i64,)> = sqlx::query_as(
        "SELECT g.last_used_at FROM grants g, clients c
         WHERE g.id = $1 AND c.client_id = $2 FOR KEY SHARE",
    )
    .bind(grant_id)
    .bind(client_id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some((last_used,)) = last_used else {
        return Ok(false);
    };
    if last_use_is_stale(Timestamp::from_unix(last_used), now) {
        // At most once a minute (see `LAST_USED_GRANULARITY_SECS`).
        sqlx::query("UPDATE grants SET last_used_at = $2 WHERE id = $1")
            .bind(grant_id)
            .bind(now.as_unix())
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(true)
}

/// Who an access token is for and where it came from.
struct AccessRow<'a> {
    grant_id: i64,
    client_id: &'a ClientId,
    sub: &'a Subject,
    access_type: AccessType,
    code_id: Option<i64>,
    refresh_token_id: Option<i64>,
}

/// Stores an access token inside the caller's transaction; returns its row id.
async fn insert_access_token(
    conn: &mut sqlx::PgConnection,
    row: AccessRow<'_>,
    access: &NewAccessToken,
    now: Timestamp,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO access_tokens (token_hash, grant_id, client_id, sub, scopes, access_type, code_id,
           refresh_token_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&access.hash.as_bytes()[..])
    .bind(row.grant_id)
    .bind(row.client_id.as_str())
    .bind(row.sub.as_str())
    .bind(access.scopes.to_string())
    .bind(row.access_type.as_str())
    .bind(row.code_id)
    .bind(row.refresh_token_id)
    .bind(now.as_unix())
    .bind(access.expires_at.as_unix())
    .fetch_one(conn)
    .await
    .map_err(map_err)?;
    Ok(id)
}

#[async_trait]
impl GrantStore for PostgresStore {
    async fn upsert_grant(
        &self,
        sub: &Subject,
        project: &ProjectId,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> StoreResult<Grant> {
        let mut tx = self.begin().await?;
        // Concurrent first consents: one inserts, the other waits for it and then updates.
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO grants (sub, project_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (sub, project_id) DO UPDATE SET last_used_at = excluded.last_used_at
             RETURNING id",
        )
        .bind(sub.as_str())
        .bind(project.as_str())
        .bind(now.as_unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err_for("user or project"))?;
        // Scopes are added, never replaced; sorted, so concurrent inserts lock in one order.
        let list: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        sqlx::query(
            "INSERT INTO grant_scopes (grant_id, scope) SELECT $1, unnest($2::TEXT[])
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(list)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let row = sqlx::query(concat!(grant_select!(), "WHERE g.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(grant(&row))
    }

    async fn find_grant(&self, sub: &Subject, project: &ProjectId) -> StoreResult<Option<Grant>> {
        let row = sqlx::query(concat!(
            grant_select!(),
            "WHERE g.sub = $1 AND g.project_id = $2"
        ))
        .bind(sub.as_str())
        .bind(project.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.as_ref().map(grant))
    }

    async fn list_grants(&self, sub: &Subject) -> StoreResult<Vec<Grant>> {
        let rows = sqlx::query(concat!(
            grant_select!(),
            "WHERE g.sub = $1 ORDER BY g.created_at DESC, g.id DESC"
        ))
        .bind(sub.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(grant).collect())
    }

    async fn delete_grant(&self, grant_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // User first, like a redemption pruning this user's refresh tokens, so the cascade
        // below never deadlocks with one.
        sqlx::query("SELECT 1 FROM users u JOIN grants g ON g.sub = u.sub WHERE g.id = $1 FOR NO KEY UPDATE OF u")
            .bind(grant_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM grants WHERE id = $1")
            .bind(grant_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_code(&self, c: NewCode, now: Timestamp) -> StoreResult<AuthorizationCode> {
        let (challenge, method) = match &c.pkce {
            Some(p) => (Some(p.challenge.as_str()), Some(p.method.as_str())),
            None => (None, None),
        };
        let row = sqlx::query(concat!(
            "INSERT INTO authorization_codes (code_hash, grant_id, client_id, sub, redirect_uri, scopes, access_type,
               issue_refresh_token, code_challenge, code_challenge_method, nonce, auth_time, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ",
            code_columns!()
        ))
        .bind(&c.hash.as_bytes()[..])
        .bind(c.grant_id)
        .bind(c.client_id.as_str())
        .bind(c.sub.as_str())
        .bind(c.redirect_uri.as_str())
        .bind(c.scopes.to_string())
        .bind(c.access_type.as_str())
        .bind(c.issue_refresh_token)
        .bind(challenge)
        .bind(method)
        .bind(&c.nonce)
        .bind(c.auth_time.as_unix())
        .bind(now.as_unix())
        .bind(c.expires_at.as_unix())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err_for("grant"))?;
        code(&row)
    }

    async fn find_code(&self, hash: &SecretHash) -> StoreResult<Option<AuthorizationCode>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            code_columns!(),
            " FROM authorization_codes WHERE code_hash = $1"
        ))
        .bind(&hash.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(code).transpose()
    }

    async fn redeem_code(
        &self,
        c: &AuthorizationCode,
        access: NewAccessToken,
        refresh: Option<SecretHash>,
        limits: RefreshTokenLimits,
        now: Timestamp,
    ) -> StoreResult<Redemption> {
        let mut tx = self.begin().await?;
        if refresh.is_some() {
            // Serializes this user's refresh-token issuance across replicas, so the limits
            // below count every token. Taken first: disabling the user locks this row before
            // deleting grants, and waiting on it here cannot close a cycle.
            sqlx::query("SELECT 1 FROM users WHERE sub = $1 FOR NO KEY UPDATE")
                .bind(c.sub.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if !lock_grant_and_client(&mut tx, c.grant_id, &c.client_id, now).await? {
            // Revoked meanwhile (the code went with it). Rolled back on drop.
            return Ok(Redemption::AlreadyUsed);
        }
        // The race is decided here: a concurrent redemption waits for our row lock, re-checks
        // `used_at IS NULL` against our committed write and updates nothing.
        let burned = sqlx::query(
            "UPDATE authorization_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        )
        .bind(c.id)
        .bind(now.as_unix())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if burned.rows_affected() != 1 {
            // Rolled back on drop: nothing of this attempt is stored.
            return Ok(Redemption::AlreadyUsed);
        }
        let refresh_token_id = match refresh {
            Some(hash) => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, sub, scopes, code_id, created_at, last_used_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                )
                .bind(&hash.as_bytes()[..])
                .bind(c.grant_id)
                .bind(c.client_id.as_str())
                .bind(c.sub.as_str())
                .bind(c.scopes.to_string())
                .bind(c.id)
                .bind(now.as_unix())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                // Past a limit the oldest tokens stop working, silently, as Google's do.
                sqlx::query(
                    "DELETE FROM refresh_tokens WHERE id IN (
                       SELECT id FROM refresh_tokens WHERE sub = $1 AND client_id = $2 ORDER BY id DESC OFFSET $3)",
                )
                .bind(c.sub.as_str())
                .bind(c.client_id.as_str())
                .bind(i64::from(limits.per_client))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                sqlx::query(
                    "DELETE FROM refresh_tokens WHERE id IN (
                       SELECT id FROM refresh_tokens WHERE sub = $1 ORDER BY id DESC OFFSET $2)",
                )
                .bind(c.sub.as_str())
                .bind(i64::from(limits.per_user))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                Some(id)
            }
            None => None,
        };
        let access_token_id = insert_access_token(
            &mut tx,
            AccessRow {
                grant_id: c.grant_id,
                client_id: &c.client_id,
                sub: &c.sub,
                access_type: c.access_type,
                code_id: Some(c.id),
                refresh_token_id,
            },
            &access,
            now,
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Redemption::Redeemed {
            access_token_id,
            refresh_token_id,
        })
    }

    async fn delete_code_tokens(&self, code_id: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM access_tokens WHERE code_id = $1",
            "DELETE FROM refresh_tokens WHERE code_id = $1",
        ] {
            removed += sqlx::query(sql)
                .bind(code_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(removed)
    }

    async fn find_access_token(&self, hash: &SecretHash) -> StoreResult<Option<AccessTokenRecord>> {
        let row = sqlx::query(
            "SELECT a.id, a.grant_id, a.client_id, a.sub, a.scopes, a.access_type, a.code_id, a.refresh_token_id,
                    a.issued_at, a.expires_at, u.email, u.email_verified
             FROM access_tokens a
             JOIN clients c ON c.client_id = a.client_id AND c.enabled
             JOIN users u ON u.sub = a.sub AND NOT u.disabled
             WHERE a.token_hash = $1",
        )
        .bind(&hash.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(access_token).transpose()
    }

    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        let row = sqlx::query(
            "SELECT r.id, r.grant_id, r.client_id, r.sub, r.scopes, r.code_id, r.created_at, r.last_used_at
             FROM refresh_tokens r
             JOIN clients c ON c.client_id = r.client_id AND c.enabled
             JOIN users u ON u.sub = r.sub AND NOT u.disabled
             WHERE r.token_hash = $1",
        )
        .bind(&hash.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.as_ref().map(refresh_token))
    }

    async fn insert_refreshed_access_token(
        &self,
        refresh: &RefreshTokenRecord,
        access: NewAccessToken,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        // One statement, so one round trip and no transaction held open across the network.
        // `FOR KEY SHARE` on the refresh token, and the foreign keys' own key-share locks on the
        // grant and the client, do not conflict with each other: concurrent refreshes of one
        // token run side by side, while a revocation or pruning deleting any of those rows either
        // came first (no row, or a foreign-key failure: `None`) or waits until this access token
        // is committed and then deletes it with the rest.
        let inserted = sqlx::query_as::<_, (i64,)>(
            "INSERT INTO access_tokens (token_hash, grant_id, client_id, sub, scopes, access_type, code_id,
               refresh_token_id, issued_at, expires_at)
             SELECT $1, r.grant_id, r.client_id, r.sub, $2, 'offline', r.code_id, r.id, $3, $4
             FROM refresh_tokens r WHERE r.id = $5
             FOR KEY SHARE
             RETURNING id",
        )
        .bind(&access.hash.as_bytes()[..])
        .bind(access.scopes.to_string())
        .bind(now.as_unix())
        .bind(access.expires_at.as_unix())
        .bind(refresh.id)
        .fetch_optional(&self.pool)
        .await;
        let id = match inserted {
            Ok(Some((id,))) => id,
            Ok(None) => return Ok(None),
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => return Ok(None),
            Err(e) => return Err(map_err(e)),
        };
        if last_use_is_stale(refresh.last_used_at, now) {
            // At most once a minute per token (see `LAST_USED_GRANULARITY_SECS`); a row that
            // vanished meanwhile needs no touching.
            sqlx::query(
                "WITH r AS (UPDATE refresh_tokens SET last_used_at = $2 WHERE id = $1 RETURNING grant_id)
                 UPDATE grants SET last_used_at = $2 WHERE id IN (SELECT grant_id FROM r)",
            )
            .bind(refresh.id)
            .bind(now.as_unix())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        }
        Ok(Some(id))
    }

    async fn has_refresh_token(&self, sub: &Subject, client: &ClientId) -> StoreResult<bool> {
        let row =
            sqlx::query("SELECT 1 FROM refresh_tokens WHERE sub = $1 AND client_id = $2 LIMIT 1")
                .bind(sub.as_str())
                .bind(client.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(row.is_some())
    }

    async fn delete_expired(&self, now: Timestamp, code_retention_secs: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        // Every replica sweeps; one at a time, so two sweeps never deadlock on the same rows.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SWEEP_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut removed = 0;
        // Sessions before pending requests, the order in which a session's delete cascades, so
        // the sweep never deadlocks with a sign-out.
        let steps: [(&'static str, i64); 5] = [
            (
                "DELETE FROM access_tokens WHERE expires_at <= $1",
                now.as_unix(),
            ),
            (
                "DELETE FROM authorization_codes WHERE expires_at <= $1",
                now.as_unix().saturating_sub(code_retention_secs),
            ),
            (
                "DELETE FROM browser_sessions WHERE expires_at <= $1",
                now.as_unix(),
            ),
            (
                "DELETE FROM pending_authorizations WHERE expires_at <= $1",
                now.as_unix(),
            ),
            (
                "DELETE FROM signin_failures WHERE at < $1",
                now.as_unix().saturating_sub(FAILURE_RETENTION_SECS),
            ),
        ];
        for (sql, before) in steps {
            removed += sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(removed)
    }
}
