//! OAuth clients and their secrets.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::client::{ClientSecretRecord, ClientUpdate, NewClient, OAuthClient};
use keyway_core::ids::{ClientId, ProjectId};
use keyway_core::redirect_uri::{JavaScriptOrigin, RedirectUri};
use keyway_core::secret::SecretHash;
use keyway_core::store::{ClientStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::projects::json_array;
use crate::{SqliteStore, map_err, map_err_for};

macro_rules! client_columns {
    () => {
        "client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at"
    };
}

fn json_list(raw: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(raw)
        .map_err(|_| StoreError::Internal("malformed JSON list in clients".into()))
}

fn secret(row: &SqliteRow) -> StoreResult<ClientSecretRecord> {
    Ok(ClientSecretRecord {
        id: row.get("id"),
        hash: SecretHash::from_slice(row.get("secret_hash"))
            .ok_or_else(|| StoreError::Internal("client secret hash of the wrong length".into()))?,
        hint: row.get("hint"),
        created_at: Timestamp::from_unix(row.get("created_at")),
    })
}

fn client(row: &SqliteRow, secrets: Vec<ClientSecretRecord>) -> StoreResult<OAuthClient> {
    Ok(OAuthClient {
        client_id: ClientId::from_stored(row.get("client_id")),
        project_id: ProjectId::from_stored(row.get("project_id")),
        name: row.get("name"),
        redirect_uris: json_list(row.get("redirect_uris"))?
            .into_iter()
            .map(RedirectUri::from_stored)
            .collect(),
        javascript_origins: json_list(row.get("javascript_origins"))?
            .into_iter()
            .map(JavaScriptOrigin::from_stored)
            .collect(),
        enabled: row.get("enabled"),
        secrets,
        created_at: Timestamp::from_unix(row.get("created_at")),
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

impl SqliteStore {
    async fn secrets_of<'e, E>(&self, executor: E, id: &str) -> StoreResult<Vec<ClientSecretRecord>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let rows = sqlx::query("SELECT id, secret_hash, hint, created_at FROM client_secrets WHERE client_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(executor)
            .await
            .map_err(map_err)?;
        rows.iter().map(secret).collect()
    }
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn insert_client(&self, c: NewClient, now: Timestamp) -> StoreResult<OAuthClient> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO clients (client_id, project_id, name, redirect_uris, javascript_origins, enabled, created_at)
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING ",
            client_columns!()
        ))
        .bind(c.client_id.as_str())
        .bind(c.project_id.as_str())
        .bind(&c.name)
        .bind(uris_json(&c.redirect_uris))
        .bind(origins_json(&c.javascript_origins))
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
        let result = client(&row, vec![secret(&secret_row)?])?;
        tx.commit().await.map_err(map_err)?;
        Ok(result)
    }

    async fn find_client(&self, id: &ClientId) -> StoreResult<Option<OAuthClient>> {
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE client_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?
        else {
            return Ok(None);
        };
        let secrets = self.secrets_of(&self.reader, id.as_str()).await?;
        client(&row, secrets).map(Some)
    }

    async fn list_clients(&self, project: Option<&ProjectId>) -> StoreResult<Vec<OAuthClient>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE $1 IS NULL OR project_id = $1 ORDER BY created_at, client_id"
        ))
        .bind(project.map(ProjectId::as_str))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let secrets = self.secrets_of(&self.reader, row.get("client_id")).await?;
            out.push(client(row, secrets)?);
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
        .bind(u.redirect_uris.as_deref().map(uris_json))
        .bind(u.javascript_origins.as_deref().map(origins_json))
        .bind(u.enabled)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let secrets = self.secrets_of(&mut *tx, id.as_str()).await?;
        let result = client(&row, secrets)?;
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
        .fetch_one(&self.writer)
        .await
        .map_err(map_err_for("client"))?;
        secret(&row)
    }

    async fn delete_client_secret(&self, id: &ClientId, secret_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
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
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
