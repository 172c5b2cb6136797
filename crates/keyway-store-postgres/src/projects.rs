//! Organizations, projects, the scope catalogue and signing keys: the slowly changing rows.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::{ClientId, Email, ProjectId};
use keyway_core::project::{Audience, ConsentScreen, Organization, Project, Verification};
use keyway_core::scope::{Scope, ScopeInfo, ScopeSet, Sensitivity};
use keyway_core::signing_key::SigningKey;
use keyway_core::store::{KeyStore, ProjectStore, ScopeStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, map_err, map_err_for};

macro_rules! project_columns {
    () => {
        "id, name, app_name, support_email, logo_url, user_type, organization_id, verification, owned_domains, created_at"
    };
}

fn organization(row: &PgRow) -> Organization {
    Organization {
        id: row.get("id"),
        domain: row.get("domain"),
        name: row.get("name"),
        blocked_scopes: ScopeSet::from_stored(row.get("blocked_scopes")),
        blocked_clients: row
            .get::<&str, _>("blocked_clients")
            .split(' ')
            .filter(|c| !c.is_empty())
            .map(|c| ClientId::from_stored(c.to_owned()))
            .collect(),
        created_at: Timestamp::from_unix(row.get("created_at")),
    }
}

fn project(row: &PgRow) -> StoreResult<Project> {
    let audience = match (
        row.get::<&str, _>("user_type"),
        row.get::<Option<i64>, _>("organization_id"),
    ) {
        ("internal", Some(organization_id)) => Audience::Internal { organization_id },
        _ => Audience::External,
    };
    let verification = Verification::parse(row.get("verification"))
        .ok_or_else(|| StoreError::Internal("unknown verification status in projects".into()))?;
    Ok(Project {
        id: ProjectId::from_stored(row.get("id")),
        name: row.get("name"),
        consent: ConsentScreen {
            app_name: row.get("app_name"),
            support_email: Email::from_stored(row.get("support_email")),
            logo_url: row.get("logo_url"),
            audience,
            verification,
        },
        owned_domains: row.get("owned_domains"),
        created_at: Timestamp::from_unix(row.get("created_at")),
    })
}

fn organization_id(a: &Audience) -> Option<i64> {
    match a {
        Audience::External => None,
        Audience::Internal { organization_id } => Some(*organization_id),
    }
}

#[async_trait]
impl ProjectStore for PostgresStore {
    async fn upsert_organization(
        &self,
        domain: &str,
        name: &str,
        now: Timestamp,
    ) -> StoreResult<Organization> {
        // The no-op update makes RETURNING yield the existing row on conflict (and, unlike
        // DO NOTHING, waits for a concurrent insert of the same domain instead of missing it).
        let row = sqlx::query(
            "INSERT INTO organizations (domain, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (domain) DO UPDATE SET domain = excluded.domain
             RETURNING id, domain, name, blocked_scopes, blocked_clients, created_at",
        )
        .bind(domain)
        .bind(name)
        .bind(now.as_unix())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(organization(&row))
    }

    async fn find_organization(&self, id: i64) -> StoreResult<Option<Organization>> {
        let row =
            sqlx::query("SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(row.as_ref().map(organization))
    }

    async fn find_organization_by_domain(&self, domain: &str) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(
            "SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations WHERE domain = $1",
        )
        .bind(domain)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.as_ref().map(organization))
    }

    async fn list_organizations(&self) -> StoreResult<Vec<Organization>> {
        let rows = sqlx::query(
            "SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations ORDER BY domain",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(organization).collect())
    }

    async fn update_organization_policy(
        &self,
        id: i64,
        blocked_scopes: &ScopeSet,
        blocked_clients: &[ClientId],
    ) -> StoreResult<bool> {
        let clients: Vec<&str> = blocked_clients.iter().map(ClientId::as_str).collect();
        let r = sqlx::query(
            "UPDATE organizations SET blocked_scopes = $2, blocked_clients = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(blocked_scopes.to_string())
        .bind(clients.join(" "))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_project(&self, p: &Project) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO projects (",
            project_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(p.id.as_str())
        .bind(&p.name)
        .bind(&p.consent.app_name)
        .bind(p.consent.support_email.as_str())
        .bind(&p.consent.logo_url)
        .bind(p.consent.audience.user_type())
        .bind(organization_id(&p.consent.audience))
        .bind(p.consent.verification.as_str())
        .bind(&p.owned_domains)
        .bind(p.created_at.as_unix())
        .execute(&self.pool)
        .await
        .map_err(map_err_for("project"))?;
        Ok(())
    }

    async fn find_project(&self, id: &ProjectId) -> StoreResult<Option<Project>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(project).transpose()
    }

    async fn find_projects_by_name(&self, name: &str) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE name = $1 ORDER BY created_at, id"
        ))
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(project).collect()
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(project).collect()
    }

    async fn update_project(&self, p: &Project) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE projects SET name = $2, app_name = $3, support_email = $4, logo_url = $5, user_type = $6,
             organization_id = $7, verification = $8, owned_domains = $9 WHERE id = $1",
        )
        .bind(p.id.as_str())
        .bind(&p.name)
        .bind(&p.consent.app_name)
        .bind(p.consent.support_email.as_str())
        .bind(&p.consent.logo_url)
        .bind(p.consent.audience.user_type())
        .bind(organization_id(&p.consent.audience))
        .bind(p.consent.verification.as_str())
        .bind(&p.owned_domains)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}

fn scope_info(row: &PgRow) -> StoreResult<ScopeInfo> {
    Ok(ScopeInfo {
        scope: Scope::from_stored(row.get("scope")),
        description: row.get("description"),
        sensitivity: row
            .get::<&str, _>("sensitivity")
            .parse::<Sensitivity>()
            .map_err(StoreError::Internal)?,
    })
}

#[async_trait]
impl ScopeStore for PostgresStore {
    async fn list_scopes(&self) -> StoreResult<Vec<ScopeInfo>> {
        let rows = sqlx::query("SELECT scope, description, sensitivity FROM scopes ORDER BY scope")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(scope_info).collect()
    }

    async fn find_scopes(&self, scopes: &ScopeSet) -> StoreResult<Vec<ScopeInfo>> {
        // One statement with one bound array, however many scopes.
        let list: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        let rows = sqlx::query(
            "SELECT scope, description, sensitivity FROM scopes
             WHERE scope = ANY($1) ORDER BY scope",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(scope_info).collect()
    }

    async fn upsert_scope(&self, s: &ScopeInfo) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO scopes (scope, description, sensitivity) VALUES ($1, $2, $3)
             ON CONFLICT (scope) DO UPDATE SET description = excluded.description, sensitivity = excluded.sensitivity",
        )
        .bind(s.scope.as_str())
        .bind(&s.description)
        .bind(s.sensitivity.as_str())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}

fn signing_key(row: &PgRow) -> SigningKey {
    SigningKey {
        kid: row.get("kid"),
        algorithm: row.get("algorithm"),
        private_key_der: row.get("private_key"),
        public_key_der: row.get("public_key"),
        created_at: Timestamp::from_unix(row.get("created_at")),
        retired_at: row
            .get::<Option<i64>, _>("retired_at")
            .map(Timestamp::from_unix),
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn insert_signing_key(&self, k: &SigningKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at, retired_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.kid)
        .bind(&k.algorithm)
        .bind(&k.private_key_der)
        .bind(&k.public_key_der)
        .bind(k.created_at.as_unix())
        .bind(k.retired_at.map(Timestamp::as_unix))
        .execute(&self.pool)
        .await
        .map_err(map_err_for("signing key"))?;
        Ok(())
    }

    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key, public_key, created_at, retired_at
             FROM signing_keys ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(signing_key).collect())
    }

    async fn update_signing_key_retired(&self, kid: &str, at: Timestamp) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL",
        )
        .bind(kid)
        .bind(at.as_unix())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
