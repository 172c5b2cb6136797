//! Grants, codes and tokens: the hot paths. Token lookups are single statements on unique
//! indexes, read on the caller's thread; every use-once step is a conditional UPDATE inside
//! one write of the writer thread, so it is atomic with the rows it guards.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::grant::{
    AccessTokenRecord, AccessType, AuthorizationCode, Grant, LAST_USED_GRANULARITY_SECS,
    NewAccessToken, NewCode, Redemption, RefreshTokenLimits, RefreshTokenRecord, last_use_is_stale,
};
use keyway_core::ids::{ClientId, Email, ProjectId, Subject};
use keyway_core::pkce::{ChallengeMethod, PkceChallenge};
use keyway_core::redirect_uri::RedirectUri;
use keyway_core::scope::{Scope, ScopeSet};
use keyway_core::secret::SecretHash;
use keyway_core::store::{GrantStore, StoreError, StoreResult};
use rusqlite::{Connection, Row, RowIndex, params};

use crate::projects::json_array;
use crate::throttle::FAILURE_RETENTION_SECS;
use crate::{DbResult, Optional, SqliteStore, named};

macro_rules! grant_select {
    () => {
        "SELECT g.id, g.sub, g.project_id, g.created_at, g.last_used_at,
                (SELECT group_concat(scope, ' ') FROM grant_scopes WHERE grant_id = g.id) AS scopes
         FROM grants g "
    };
}

macro_rules! code_columns {
    () => {
        "id, grant_id, client_id, sub, redirect_uri, scopes, access_type, issue_refresh_token, code_challenge,
         code_challenge_method, nonce, auth_time, created_at, expires_at, used_at"
    };
}

fn ts(row: &Row<'_>, col: impl RowIndex) -> rusqlite::Result<Timestamp> {
    Ok(Timestamp::from_unix(row.get(col)?))
}

fn access_type(s: &str) -> StoreResult<AccessType> {
    AccessType::parse(s).ok_or_else(|| StoreError::Internal(format!("unknown access_type {s:?}")))
}

fn grant(row: &Row<'_>) -> rusqlite::Result<Grant> {
    Ok(Grant {
        id: row.get("id")?,
        sub: Subject::from_stored(row.get("sub")?),
        project_id: ProjectId::from_stored(row.get("project_id")?),
        scopes: ScopeSet::from_stored(
            row.get::<_, Option<String>>("scopes")?
                .as_deref()
                .unwrap_or(""),
        ),
        created_at: ts(row, "created_at")?,
        last_used_at: ts(row, "last_used_at")?,
    })
}

fn code(row: &Row<'_>) -> DbResult<AuthorizationCode> {
    let pkce = match (
        row.get::<_, Option<String>>("code_challenge")?,
        row.get::<_, Option<String>>("code_challenge_method")?,
    ) {
        (Some(challenge), Some(m)) => Some(PkceChallenge {
            challenge,
            method: ChallengeMethod::parse(&m).ok_or_else(|| {
                StoreError::Internal(format!("unknown code_challenge_method {m:?}"))
            })?,
        }),
        _ => None,
    };
    Ok(AuthorizationCode {
        id: row.get("id")?,
        grant_id: row.get("grant_id")?,
        client_id: ClientId::from_stored(row.get("client_id")?),
        sub: Subject::from_stored(row.get("sub")?),
        redirect_uri: RedirectUri::from_stored(row.get("redirect_uri")?),
        scopes: ScopeSet::from_stored(&row.get::<_, String>("scopes")?),
        access_type: access_type(&row.get::<_, String>("access_type")?)?,
        issue_refresh_token: row.get("issue_refresh_token")?,
        pkce,
        nonce: row.get("nonce")?,
        auth_time: ts(row, "auth_time")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        used_at: row
            .get::<_, Option<i64>>("used_at")?
            .map(Timestamp::from_unix),
    })
}

// The two token readers below take their columns by position, in the order of these lists:
// they serve the hottest reads (tokeninfo, introspection, every API call, every refresh), and
// a lookup by name scans the column names on every row.
macro_rules! access_token_columns {
    () => {
        "a.id, a.grant_id, a.client_id, a.sub, a.scopes, a.access_type, a.code_id,
         a.refresh_token_id, a.issued_at, a.expires_at, u.email, u.email_verified"
    };
}

macro_rules! refresh_token_columns {
    () => {
        "r.id, r.grant_id, r.client_id, r.sub, r.scopes, r.code_id, r.created_at, r.last_used_at"
    };
}

/// A text column, borrowed from the row rather than copied.
fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(i)?.as_str()?)
}

/// Reads `access_token_columns!()`.
fn access_token(row: &Row<'_>) -> DbResult<AccessTokenRecord> {
    Ok(AccessTokenRecord {
        id: row.get(0)?,
        grant_id: row.get(1)?,
        client_id: ClientId::from_stored(row.get(2)?),
        sub: Subject::from_stored(row.get(3)?),
        scopes: ScopeSet::from_stored(text(row, 4)?),
        access_type: access_type(text(row, 5)?)?,
        code_id: row.get(6)?,
        refresh_token_id: row.get(7)?,
        issued_at: ts(row, 8)?,
        expires_at: ts(row, 9)?,
        email: Email::from_stored(row.get(10)?),
        email_verified: row.get(11)?,
    })
}

/// Reads `refresh_token_columns!()`.
fn refresh_token(row: &Row<'_>) -> rusqlite::Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        id: row.get(0)?,
        grant_id: row.get(1)?,
        client_id: ClientId::from_stored(row.get(2)?),
        sub: Subject::from_stored(row.get(3)?),
        scopes: ScopeSet::from_stored(text(row, 4)?),
        code_id: row.get(5)?,
        created_at: ts(row, 6)?,
        last_used_at: ts(row, 7)?,
    })
}

/// The first row of `rows`, if any, through `f` (for mappings that can fail in the store's
/// terms, which `query_row` cannot carry).
fn first<T>(
    mut rows: rusqlite::Rows<'_>,
    f: impl FnOnce(&Row<'_>) -> DbResult<T>,
) -> DbResult<Option<T>> {
    match rows.next()? {
        Some(row) => Ok(Some(f(row)?)),
        None => Ok(None),
    }
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

/// Stores an access token inside the caller's write; returns its row id.
fn insert_access_token(
    c: &Connection,
    row: AccessRow<'_>,
    access: &NewAccessToken,
    now: Timestamp,
) -> DbResult<i64> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO access_tokens (token_hash, grant_id, client_id, sub, scopes, access_type, code_id,
           refresh_token_id, issued_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    )?;
    let id = stmt.query_row(
        params![
            &access.hash.as_bytes()[..],
            row.grant_id,
            row.client_id.as_str(),
            row.sub.as_str(),
            access.scopes.to_string(),
            row.access_type.as_str(),
            row.code_id,
            row.refresh_token_id,
            now.as_unix(),
            access.expires_at.as_unix(),
        ],
        |r| r.get(0),
    )?;
    Ok(id)
}

/// Marks grant `grant_id` as used at `now`.
fn touch_grant(c: &Connection, grant_id: i64, now: Timestamp) -> DbResult<()> {
    // At most once a minute (see `LAST_USED_GRANULARITY_SECS`): an UPDATE that matches no
    // row dirties no page.
    c.prepare_cached(
        "UPDATE grants SET last_used_at = ?2 WHERE id = ?1 AND last_used_at <= ?2 - ?3",
    )?
    .execute(params![grant_id, now.as_unix(), LAST_USED_GRANULARITY_SECS])?;
    Ok(())
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn upsert_grant(
        &self,
        sub: &Subject,
        project: &ProjectId,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> StoreResult<Grant> {
        let sub = sub.clone();
        let project = project.clone();
        let list: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        let scopes = json_array(&list);
        self.db
            .write(move |w| {
                let id: i64 = w
                    .prepare_cached(
                        "INSERT INTO grants (sub, project_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)
                         ON CONFLICT (sub, project_id) DO UPDATE SET last_used_at = excluded.last_used_at
                         RETURNING id",
                    )?
                    .query_row(params![sub.as_str(), project.as_str(), now.as_unix()], |r| {
                        r.get(0)
                    })
                    .map_err(named("user or project"))?;
                w.prepare_cached(
                    "INSERT INTO grant_scopes (grant_id, scope) SELECT ?1, value FROM json_each(?2) WHERE true
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![id, scopes])?;
                let grant = w
                    .prepare_cached(concat!(grant_select!(), "WHERE g.id = ?1"))?
                    .query_row(params![id], grant)?;
                Ok(grant)
            })
            .await
    }

    async fn find_grant(&self, sub: &Subject, project: &ProjectId) -> StoreResult<Option<Grant>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                grant_select!(),
                "WHERE g.sub = ?1 AND g.project_id = ?2"
            ))?
            .query_row(params![sub.as_str(), project.as_str()], grant)
            .optional()
        })
    }

    async fn list_grants(&self, sub: &Subject) -> StoreResult<Vec<Grant>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(concat!(
                grant_select!(),
                "WHERE g.sub = ?1 ORDER BY g.created_at DESC, g.id DESC"
            ))?;
            let grants = stmt
                .query_map(params![sub.as_str()], grant)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(grants)
        })
    }

    async fn delete_grant(&self, grant_id: i64) -> StoreResult<bool> {
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached("DELETE FROM grants WHERE id = ?1")?
                    .execute(params![grant_id])?;
                Ok(n == 1)
            })
            .await
    }

    async fn insert_code(&self, c: NewCode, now: Timestamp) -> StoreResult<AuthorizationCode> {
        self.db
            .write(move |w| {
                let (challenge, method) = match &c.pkce {
                    Some(p) => (Some(p.challenge.as_str()), Some(p.method.as_str())),
                    None => (None, None),
                };
                let mut stmt = w.prepare_cached(concat!(
                    "INSERT INTO authorization_codes (code_hash, grant_id, client_id, sub, redirect_uri, scopes, access_type,
                       issue_refresh_token, code_challenge, code_challenge_method, nonce, auth_time, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING ",
                    code_columns!()
                ))?;
                let mut rows = stmt
                    .query(params![
                        &c.hash.as_bytes()[..],
                        c.grant_id,
                        c.client_id.as_str(),
                        c.sub.as_str(),
                        c.redirect_uri.as_str(),
                        c.scopes.to_string(),
                        c.access_type.as_str(),
                        c.issue_refresh_token,
                        challenge,
                        method,
                        &c.nonce,
                        c.auth_time.as_unix(),
                        now.as_unix(),
                        c.expires_at.as_unix(),
                    ])?;
                // The INSERT runs on the first step: that is where a missing grant surfaces.
                let row = rows
                    .next()
                    .map_err(named("grant"))?
                    .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
                code(row)
            })
            .await
    }

    async fn find_code(&self, hash: &SecretHash) -> StoreResult<Option<AuthorizationCode>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                code_columns!(),
                " FROM authorization_codes WHERE code_hash = ?1"
            ))?;
            first(stmt.query(params![&hash.as_bytes()[..]])?, code)
        })
    }

    async fn redeem_code(
        &self,
        c: &AuthorizationCode,
        access: NewAccessToken,
        refresh: Option<SecretHash>,
        limits: RefreshTokenLimits,
        now: Timestamp,
    ) -> StoreResult<Redemption> {
        let code_id = c.id;
        let grant_id = c.grant_id;
        let client_id = c.client_id.clone();
        let sub = c.sub.clone();
        let scopes = c.scopes.clone();
        let access_type = c.access_type;
        self.db
            .write(move |w| {
                let burned = w
                    .prepare_cached(
                        "UPDATE authorization_codes SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
                    )?
                    .execute(params![code_id, now.as_unix()])?;
                if burned != 1 {
                    // Nothing of this attempt is stored.
                    w.roll_back();
                    return Ok(Redemption::AlreadyUsed);
                }
                let refresh_token_id = match refresh {
                    Some(hash) => {
                        let id: i64 = w
                            .prepare_cached(
                                "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, sub, scopes, code_id, created_at, last_used_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
                            )?
                            .query_row(
                                params![
                                    &hash.as_bytes()[..],
                                    grant_id,
                                    client_id.as_str(),
                                    sub.as_str(),
                                    scopes.to_string(),
                                    code_id,
                                    now.as_unix(),
                                ],
                                |r| r.get(0),
                            )?;
                        // Past a limit the oldest tokens stop working, silently, as Google's do.
                        w.prepare_cached(
                            "DELETE FROM refresh_tokens WHERE id IN (
                               SELECT id FROM refresh_tokens WHERE sub = ?1 AND client_id = ?2 ORDER BY id DESC LIMIT -1 OFFSET ?3)",
                        )?
                        .execute(params![
                            sub.as_str(),
                            client_id.as_str(),
                            i64::from(limits.per_client),
                        ])?;
                        w.prepare_cached(
                            "DELETE FROM refresh_tokens WHERE id IN (
                               SELECT id FROM refresh_tokens WHERE sub = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)",
                        )?
                        .execute(params![sub.as_str(), i64::from(limits.per_user)])?;
                        Some(id)
                    }
                    None => None,
                };
                let access_token_id = insert_access_token(
                    w,
                    AccessRow {
                        grant_id,
                        client_id: &client_id,
                        sub: &sub,
                        access_type,
                        code_id: Some(code_id),
                        refresh_token_id,
                    },
                    &access,
                    now,
                )?;
                touch_grant(w, grant_id, now)?;
                Ok(Redemption::Redeemed {
                    access_token_id,
                    refresh_token_id,
                })
            })
            .await
    }

    async fn delete_code_tokens(&self, code_id: i64) -> StoreResult<u64> {
        self.db
            .write(move |w| {
                let mut removed = 0;
                for sql in [
                    "DELETE FROM access_tokens WHERE code_id = ?1",
                    "DELETE FROM refresh_tokens WHERE code_id = ?1",
                ] {
                    removed += w.prepare_cached(sql)?.execute(params![code_id])? as u64;
                }
                Ok(removed)
            })
            .await
    }

    async fn find_access_token(&self, hash: &SecretHash) -> StoreResult<Option<AccessTokenRecord>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                access_token_columns!(),
                " FROM access_tokens a
                 JOIN clients c ON c.client_id = a.client_id AND c.enabled
                 JOIN users u ON u.sub = a.sub AND NOT u.disabled
                 WHERE a.token_hash = ?1",
            ))?;
            first(stmt.query(params![&hash.as_bytes()[..]])?, access_token)
        })
    }

    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                refresh_token_columns!(),
                " FROM refresh_tokens r
                 JOIN clients c ON c.client_id = r.client_id AND c.enabled
                 JOIN users u ON u.sub = r.sub AND NOT u.disabled
                 WHERE r.token_hash = ?1",
            ))?
            .query_row(params![&hash.as_bytes()[..]], refresh_token)
            .optional()
        })
    }

    async fn insert_refreshed_access_token(
        &self,
        refresh: &RefreshTokenRecord,
        access: NewAccessToken,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let (refresh_id, grant_id) = (refresh.id, refresh.grant_id);
        let touch = last_use_is_stale(refresh.last_used_at, now);
        self.db
            .write(move |w| {
                // Copies who and what from the refresh token's row, if it is still there (a
                // revocation deletes it, with its grant); with one writer nothing can delete it
                // between this check and the commit.
                let id = w
                    .prepare_cached(
                        "INSERT INTO access_tokens (token_hash, grant_id, client_id, sub, scopes, access_type,
                           code_id, refresh_token_id, issued_at, expires_at)
                         SELECT ?1, r.grant_id, r.client_id, r.sub, ?2, 'offline', r.code_id, r.id, ?3, ?4
                         FROM refresh_tokens r WHERE r.id = ?5
                         RETURNING id",
                    )?
                    .query_row(
                        params![
                            &access.hash.as_bytes()[..],
                            access.scopes.to_string(),
                            now.as_unix(),
                            access.expires_at.as_unix(),
                            refresh_id
                        ],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?;
                if id.is_some() && touch {
                    // At most once a minute per token: see `LAST_USED_GRANULARITY_SECS`.
                    w.prepare_cached("UPDATE refresh_tokens SET last_used_at = ?2 WHERE id = ?1")?
                        .execute(params![refresh_id, now.as_unix()])?;
                    touch_grant(w, grant_id, now)?;
                }
                Ok(id)
            })
            .await
    }

    async fn has_refresh_token(&self, sub: &Subject, client: &ClientId) -> StoreResult<bool> {
        self.db.read(|c| {
            let found = c
                .prepare_cached(
                    "SELECT 1 FROM refresh_tokens WHERE sub = ?1 AND client_id = ?2 LIMIT 1",
                )?
                .exists(params![sub.as_str(), client.as_str()])?;
            Ok(found)
        })
    }

    async fn delete_expired(&self, now: Timestamp, code_retention_secs: i64) -> StoreResult<u64> {
        self.db
            .write(move |w| {
                let mut removed = 0;
                let steps: [(&'static str, i64); 5] = [
                    (
                        "DELETE FROM access_tokens WHERE expires_at <= ?1",
                        now.as_unix(),
                    ),
                    (
                        "DELETE FROM authorization_codes WHERE expires_at <= ?1",
                        now.as_unix() - code_retention_secs,
                    ),
                    (
                        "DELETE FROM browser_sessions WHERE expires_at <= ?1",
                        now.as_unix(),
                    ),
                    (
                        "DELETE FROM pending_authorizations WHERE expires_at <= ?1",
                        now.as_unix(),
                    ),
                    (
                        "DELETE FROM signin_failures WHERE at < ?1",
                        now.as_unix() - FAILURE_RETENTION_SECS,
                    ),
                ];
                for (sql, before) in steps {
                    removed += w.prepare_cached(sql)?.execute(params![before])? as u64;
                }
                Ok(removed)
            })
            .await
    }
}
