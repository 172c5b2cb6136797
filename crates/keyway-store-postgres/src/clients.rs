//! OAuth clients and their secrets.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::client::{ClientSecretRecord, ClientUpdate, NewClient, OAuthClient};
use keyway_core::ids::{ClientId, ProjectId};
use keyway_core::redirect_uri::{JavaScriptOrigin, RedirectUri};
use keyway_core::secret::SecretHash;
use keyway_core::store::{ClientStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, map_err, map_err_for};

macro_rules! client_columns {
    () => {
        "client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at"
    };
}

fn secret(row: &PgRow) -> StoreResult<ClientSecretRecord> {
    Ok(ClientSecretRecord {
        id: row.get("id"),
        hash: SecretHash::from_slice(row.get("secret_hash"))
            .ok_or_else(|| StoreError::Internal("client secret hash of the wrong length".into()))?,
        hint: row.get("hint"),
        created_at: Timestamp::from_unix(row.get("created_at")),
    })
}

fn client(row: &PgRow, secrets: Vec<ClientSecretRecord>) -> OAuthClient {
    OAuthClient {
        client_id: ClientId::from_stored(row.get("client_id")),
        project_id: ProjectId::from_stored(row.get("project_id")),
        name: row.get("name"),
        redirect_uris: row
            .get::<Vec<String>, _>("redirect_uris")
            .into_iter()
            .map(RedirectUri::from_stored)
            .collect(),
        javascript_origins: row
            .get::<Vec<String>, _>("javascript_origins")
            .into_iter()
            .map(JavaScriptOrigin::from_stored)
            .collect(),
        enabled: row.get("enabled"),
        secrets,
        created_at: Timestamp::from_unix(row.get("created_at")),
    }
}

fn uri_list(uris: &[RedirectUri]) -> Vec<&str> {
    uris.iter().map(RedirectUri::as_str).collect()
}

fn origin_list(origins: &[JavaScriptOrigin]) -> Vec<&str> {
    origins.iter().map(JavaScriptOrigin::as_str).collect()
}

async fn secrets_of<'e, E>(executor: E, id: &str) -> StoreResult<Vec<ClientSecretRecord>>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    let rows = sqlx::query("SELECT id, secret_hash, hint, created_at FROM client_secrets WHERE client_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(executor)
        .await
        .map_err(map_err)?;
    rows.iter().map(secret).collect()
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn insert_client(&self, c: NewClient, now: Timestamp) -> StoreResult<OAuthClient> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO clients (client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at)
             VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING ",
            client_columns!()
        ))
        .bind(c.client_id.as_str())
        .bind(c.project_id.as_str())
        .bind(&c.name)
        .bind(uri_list(&c.redirect_uris))
        .bind(origin_list(&c.javascript_origins))
        .bind(now.as_unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Missing(_) => StoreError::Missing("project"),
            StoreError::Conflict(_) => StoreError::Conflict("client"),
            other => other,
        })?;
        let secret_row = sqlx::query(
            "INSERT INTO client_secrets (client_id, secret_hash, hint, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, secret_hash, hint, created_at",
        )
        .bind(c.client_id.as_str())
        .bind(&c.secret_hash.as_bytes()[..])
        .bind(&c.secret_hint)
        .bind(now.as_unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let result = client(&row, vec![secret(&secret_row)?]);
        tx.commit().await.map_err(map_err)?;
        Ok(result)
    }

    async fn find_client(&self, id: &ClientId) -> StoreResult<Option<OAuthClient>> {
        // One round trip: the secrets come along as parallel arrays.
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            ", s.ids, s.hashes, s.hints, s.created
             FROM clients c, LATERAL (
               SELECT COALESCE(array_agg(id ORDER BY id), '{}') AS ids,
                      COALESCE(array_agg(secret_hash ORDER BY id), '{}') AS hashes,
                      COALESCE(array_agg(hint ORDER BY id), '{}') AS hints,
                      COALESCE(array_agg(created_at ORDER BY id), '{}') AS created
               FROM client_secrets WHERE client_id = c.client_id) s
             WHERE c.client_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?
        else {
            return Ok(None);
        };
        let ids: Vec<i64> = row.get("ids");
        let hashes: Vec<Vec<u8>> = row.get("hashes");
        let hints: Vec<String> = row.get("hints");
        let created: Vec<i64> = row.get("created");
        let secrets = ids
            .into_iter()
            .zip(hashes)
            .zip(hints)
            .zip(created)
            .map(|(((id, hash), hint), created_at)| {
                Ok(ClientSecretRecord {
                    id,
                    hash: SecretHash::from_slice(&hash).ok_or_else(|| {
                        StoreError::Internal("client secret hash of the wrong length".into())
                    })?,
                    hint,
                    created_at: Timestamp::from_unix(created_at),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(client(&row, secrets)))
    }

    async fn list_clients(&self, project: Option<&ProjectId>) -> StoreResult<Vec<OAuthClient>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE $1::TEXT IS NULL OR project_id = $1 ORDER BY created_at, client_id"
        ))
        .bind(project.map(ProjectId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let secrets = secrets_of(&self.pool, row.get("client_id")).await?;
            out.push(client(row, secrets));
        }
        Ok(out)
    }

    async fn update_client(
        &self,
        id: &ClientId,
        u: ClientUpdate,
    ) -> StoreResult<Option<OAuthClient>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE clients SET name = COALESCE($2, name), redirect_uris = COALESCE($3, redirect_uris),
             javascript_origins = COALESCE($4, javascript_origins), enabled = COALESCE($5, enabled)
             WHERE client_id = $1 RETURNING ",
            client_columns!()
        ))
        .bind(id.as_str())
        .bind(u.name)
        .bind(u.redirect_uris.as_deref().map(uri_list))
        .bind(u.javascript_origins.as_deref().map(origin_list))
        .bind(u.enabled)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let secrets = secrets_of(&mut *tx, id.as_str()).await?;
        let result = client(&row, secrets);
        tx.commit().await.map_err(map_err)?;
        Ok(Some(result))
    }

    async fn insert_client_secret(
        &self,
        id: &ClientId,
        hash: SecretHash,
        hint: &str,
        now: Timestamp,
    ) -> StoreResult<ClientSecretRecord> {
        let row = sqlx::query(
            "INSERT INTO client_secrets (client_id, secret_hash, hint, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, secret_hash, hint, created_at",
        )
        .bind(id.as_str())
        .bind(&hash.as_bytes()[..])
        .bind(hint)
        .bind(now.as_unix())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err_for("client"))?;
        secret(&row)
    }

    async fn delete_client_secret(&self, id: &ClientId, secret_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // Serializes deletes of one client's secrets: of two concurrent deletes of its last two
        // secrets, the second counts after the first committed and refuses. NO KEY UPDATE does
        // not block the key-share locks of concurrent inserts (tokens, new secrets) for it.
        sqlx::query("SELECT 1 FROM clients WHERE client_id = $1 FOR NO KEY UPDATE")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM client_secrets WHERE client_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        let exists = sqlx::query("SELECT 1 FROM client_secrets WHERE client_id = $1 AND id = $2")
            .bind(id.as_str())
            .bind(secret_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .is_some();
        if !exists {
            return Ok(false);
        }
        if count <= 1 {
            return Err(StoreError::Conflict("last client secret"));
        }
        sqlx::query("DELETE FROM client_secrets WHERE client_id = $1 AND id = $2")
            .bind(id.as_str())
            .bind(secret_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn delete_client(&self, id: &ClientId) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
