//! OAuth clients and their secrets.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::client::{ClientSecretRecord, ClientUpdate, NewClient, OAuthClient};
use keyway_core::ids::{ClientId, ProjectId};
use keyway_core::redirect_uri::{JavaScriptOrigin, RedirectUri};
use keyway_core::secret::SecretHash;
use keyway_core::store::{ClientStore, StoreError, StoreResult};
use rusqlite::{Connection, Row, params};

use crate::projects::json_array;
use crate::{DbError, DbResult, Optional, SqliteStore, named};

macro_rules! client_columns {
    () => {
        "client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at"
    };
}

const INSERT_SECRET: &str =
    "INSERT INTO client_secrets (client_id, secret_hash, hint, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id, secret_hash, hint, created_at";

fn json_list(raw: &str) -> DbResult<Vec<String>> {
    serde_json::from_str(raw)
        .map_err(|_| StoreError::Internal("malformed JSON list in clients".into()).into())
}

/// A `client_secrets` row as stored; [`SecretRow::record`] checks it.
struct SecretRow {
    id: i64,
    secret_hash: Vec<u8>,
    hint: String,
    created_at: i64,
}

fn secret_row(row: &Row<'_>) -> rusqlite::Result<SecretRow> {
    Ok(SecretRow {
        id: row.get("id")?,
        secret_hash: row.get("secret_hash")?,
        hint: row.get("hint")?,
        created_at: row.get("created_at")?,
    })
}

impl SecretRow {
    fn record(self) -> DbResult<ClientSecretRecord> {
        Ok(ClientSecretRecord {
            id: self.id,
            hash: SecretHash::from_slice(&self.secret_hash).ok_or_else(|| {
                StoreError::Internal("client secret hash of the wrong length".into())
            })?,
            hint: self.hint,
            created_at: Timestamp::from_unix(self.created_at),
        })
    }
}

/// A `clients` row as stored; [`client`] checks it and adds the secrets.
struct ClientRow {
    client_id: String,
    project_id: String,
    name: String,
    redirect_uris: String,
    javascript_origins: String,
    enabled: bool,
    created_at: i64,
}

fn client_row(row: &Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok(ClientRow {
        client_id: row.get("client_id")?,
        project_id: row.get("project_id")?,
        name: row.get("name")?,
        redirect_uris: row.get("redirect_uris")?,
        javascript_origins: row.get("javascript_origins")?,
        enabled: row.get("enabled")?,
        created_at: row.get("created_at")?,
    })
}

fn client(row: ClientRow, secrets: Vec<ClientSecretRecord>) -> DbResult<OAuthClient> {
    Ok(OAuthClient {
        client_id: ClientId::from_stored(row.client_id),
        project_id: ProjectId::from_stored(row.project_id),
        name: row.name,
        redirect_uris: json_list(&row.redirect_uris)?
            .into_iter()
            .map(RedirectUri::from_stored)
            .collect(),
        javascript_origins: json_list(&row.javascript_origins)?
            .into_iter()
            .map(JavaScriptOrigin::from_stored)
            .collect(),
        enabled: row.enabled,
        secrets,
        created_at: Timestamp::from_unix(row.created_at),
    })
}

fn uris_json(uris: &[RedirectUri]) -> String {
    json_array(&uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>())
}

fn origins_json(origins: &[JavaScriptOrigin]) -> String {
    json_array(
        &origins
            .iter()
            .map(JavaScriptOrigin::as_str)
            .collect::<Vec<_>>(),
    )
}

/// The secrets of client `id`, oldest first, read through `c` (a read connection, or a write's
/// own so that it sees the write's changes).
fn secrets_of(c: &Connection, id: &str) -> DbResult<Vec<ClientSecretRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, secret_hash, hint, created_at FROM client_secrets WHERE client_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![id], secret_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(SecretRow::record).collect()
}

/// A new client's failures: its project missing, or its id taken.
fn insert_client_err(e: rusqlite::Error) -> DbError {
    match named("client")(e) {
        DbError::Store(StoreError::Missing(_)) => StoreError::Missing("project").into(),
        other => other,
    }
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn insert_client(&self, c: NewClient, now: Timestamp) -> StoreResult<OAuthClient> {
        let now = now.as_unix();
        self.db
            .write(move |w| {
                let row = w
                    .prepare_cached(concat!(
                        "INSERT INTO clients (client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) RETURNING ",
                        client_columns!()
                    ))?
                    .query_row(
                        params![
                            c.client_id.as_str(),
                            c.project_id.as_str(),
                            c.name,
                            uris_json(&c.redirect_uris),
                            origins_json(&c.javascript_origins),
                            now,
                        ],
                        client_row,
                    )
                    .map_err(insert_client_err)?;
                let secret = w.prepare_cached(INSERT_SECRET)?.query_row(
                    params![
                        c.client_id.as_str(),
                        &c.secret_hash.as_bytes()[..],
                        c.secret_hint,
                        now,
                    ],
                    secret_row,
                )?;
                client(row, vec![secret.record()?])
            })
            .await
    }

    async fn find_client(&self, id: &ClientId) -> StoreResult<Option<OAuthClient>> {
        // On the token endpoint's path: the client and its secrets in one read.
        self.db.read(|c| {
            let Some(row) = c
                .prepare_cached(concat!(
                    "SELECT ",
                    client_columns!(),
                    " FROM clients WHERE client_id = ?1"
                ))?
                .query_row(params![id.as_str()], client_row)
                .optional()?
            else {
                return Ok(None);
            };
            let secrets = secrets_of(c, id.as_str())?;
            client(row, secrets).map(Some)
        })
    }

    async fn list_clients(&self, project: Option<&ProjectId>) -> StoreResult<Vec<OAuthClient>> {
        self.db.read(|c| {
            let rows = c
                .prepare_cached(concat!(
                    "SELECT ",
                    client_columns!(),
                    " FROM clients WHERE ?1 IS NULL OR project_id = ?1 ORDER BY created_at, client_id"
                ))?
                .query_map(params![project.map(ProjectId::as_str)], client_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let secrets = secrets_of(c, &row.client_id)?;
                out.push(client(row, secrets)?);
            }
            Ok(out)
        })
    }

    async fn update_client(
        &self,
        id: &ClientId,
        u: ClientUpdate,
    ) -> StoreResult<Option<OAuthClient>> {
        let id = id.as_str().to_owned();
        let redirect_uris = u.redirect_uris.as_deref().map(uris_json);
        let javascript_origins = u.javascript_origins.as_deref().map(origins_json);
        self.db
            .write(move |w| {
                let row = w
                    .prepare_cached(concat!(
                        "UPDATE clients SET name = COALESCE(?2, name), redirect_uris = COALESCE(?3, redirect_uris),
             javascript_origins = COALESCE(?4, javascript_origins), enabled = COALESCE(?5, enabled)
             WHERE client_id = ?1 RETURNING ",
                        client_columns!()
                    ))?
                    .query_row(
                        params![id, u.name, redirect_uris, javascript_origins, u.enabled],
                        client_row,
                    )
                    .optional()?;
                // No row matched: nothing was written.
                let Some(row) = row else {
                    return Ok(None);
                };
                let secrets = secrets_of(w, &id)?;
                client(row, secrets).map(Some)
            })
            .await
    }

    async fn insert_client_secret(
        &self,
        id: &ClientId,
        hash: SecretHash,
        hint: &str,
        now: Timestamp,
    ) -> StoreResult<ClientSecretRecord> {
        let id = id.as_str().to_owned();
        let hint = hint.to_owned();
        let now = now.as_unix();
        self.db
            .write(move |w| {
                w.prepare_cached(INSERT_SECRET)?
                    .query_row(params![id, &hash.as_bytes()[..], hint, now], secret_row)
                    .map_err(named("client"))?
                    .record()
            })
            .await
    }

    async fn delete_client_secret(&self, id: &ClientId, secret_id: i64) -> StoreResult<bool> {
        let id = id.as_str().to_owned();
        self.db
            .write(move |w| {
                let count: i64 = w
                    .prepare_cached("SELECT COUNT(*) FROM client_secrets WHERE client_id = ?1")?
                    .query_row(params![id], |r| r.get(0))?;
                let exists = w
                    .prepare_cached(
                        "SELECT 1 FROM client_secrets WHERE client_id = ?1 AND id = ?2",
                    )?
                    .query_row(params![id, secret_id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if !exists {
                    return Ok(false);
                }
                if count <= 1 {
                    return Err(StoreError::Conflict("last client secret").into());
                }
                w.prepare_cached("DELETE FROM client_secrets WHERE client_id = ?1 AND id = ?2")?
                    .execute(params![id, secret_id])?;
                Ok(true)
            })
            .await
    }

    async fn delete_client(&self, id: &ClientId) -> StoreResult<bool> {
        let id = id.as_str().to_owned();
        self.db
            .write(move |w| {
                let changed = w
                    .prepare_cached("DELETE FROM clients WHERE client_id = ?1")?
                    .execute(params![id])?;
                Ok(changed == 1)
            })
            .await
    }
}
