//! Organizations, projects, the scope catalogue and signing keys: the slowly changing rows.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::{ClientId, Email, ProjectId};
use keyway_core::project::{Audience, ConsentScreen, Organization, Project, Verification};
use keyway_core::scope::{Scope, ScopeInfo, ScopeSet, Sensitivity};
use keyway_core::signing_key::SigningKey;
use keyway_core::store::{KeyStore, ProjectStore, ScopeStore, StoreError, StoreResult};
use rusqlite::{Row, params};

use crate::{DbResult, Optional, SqliteStore, named};

macro_rules! project_columns {
    () => {
        "id, name, app_name, support_email, logo_url, user_type, organization_id, verification, owned_domains, created_at"
    };
}

fn organization(row: &Row<'_>) -> rusqlite::Result<Organization> {
    Ok(Organization {
        id: row.get("id")?,
        domain: row.get("domain")?,
        name: row.get("name")?,
        blocked_scopes: ScopeSet::from_stored(&row.get::<_, String>("blocked_scopes")?),
        blocked_clients: row
            .get::<_, String>("blocked_clients")?
            .split(' ')
            .filter(|c| !c.is_empty())
            .map(|c| ClientId::from_stored(c.to_owned()))
            .collect(),
        created_at: Timestamp::from_unix(row.get("created_at")?),
    })
}

fn project(row: &Row<'_>) -> DbResult<Project> {
    let audience = match (
        row.get::<_, String>("user_type")?.as_str(),
        row.get::<_, Option<i64>>("organization_id")?,
    ) {
        ("internal", Some(organization_id)) => Audience::Internal { organization_id },
        _ => Audience::External,
    };
    let verification = Verification::parse(&row.get::<_, String>("verification")?)
        .ok_or_else(|| StoreError::Internal("unknown verification status in projects".into()))?;
    Ok(Project {
        id: ProjectId::from_stored(row.get("id")?),
        name: row.get("name")?,
        consent: ConsentScreen {
            app_name: row.get("app_name")?,
            support_email: Email::from_stored(row.get("support_email")?),
            logo_url: row.get("logo_url")?,
            audience,
            verification,
        },
        owned_domains: row
            .get::<_, String>("owned_domains")?
            .split(' ')
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: Timestamp::from_unix(row.get("created_at")?),
    })
}

fn organization_id(a: &Audience) -> Option<i64> {
    match a {
        Audience::External => None,
        Audience::Internal { organization_id } => Some(*organization_id),
    }
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn upsert_organization(
        &self,
        domain: &str,
        name: &str,
        now: Timestamp,
    ) -> StoreResult<Organization> {
        let domain = domain.to_owned();
        let name = name.to_owned();
        let now = now.as_unix();
        self.db
            .write(move |w| {
                // The no-op update makes RETURNING yield the existing row on conflict.
                Ok(w.prepare_cached(
                    "INSERT INTO organizations (domain, name, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (domain) DO UPDATE SET domain = excluded.domain
             RETURNING id, domain, name, blocked_scopes, blocked_clients, created_at",
                )?
                .query_row(params![domain, name, now], organization)?)
            })
            .await
    }

    async fn find_organization(&self, id: i64) -> StoreResult<Option<Organization>> {
        self.db.read(|c| {
            c.prepare_cached("SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations WHERE id = ?1")?
                .query_row(params![id], organization)
                .optional()
        })
    }

    async fn find_organization_by_domain(&self, domain: &str) -> StoreResult<Option<Organization>> {
        self.db.read(|c| {
            c.prepare_cached(
                "SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations WHERE domain = ?1",
            )?
            .query_row(params![domain], organization)
            .optional()
        })
    }

    async fn list_organizations(&self) -> StoreResult<Vec<Organization>> {
        self.db.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id, domain, name, blocked_scopes, blocked_clients, created_at FROM organizations ORDER BY domain",
            )?
            .query_map([], organization)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    async fn update_organization_policy(
        &self,
        id: i64,
        blocked_scopes: &ScopeSet,
        blocked_clients: &[ClientId],
    ) -> StoreResult<bool> {
        let clients: Vec<&str> = blocked_clients.iter().map(ClientId::as_str).collect();
        let blocked_scopes = blocked_scopes.to_string();
        let blocked_clients = clients.join(" ");
        self.db
            .write(move |w| {
                let changed = w
                    .prepare_cached(
                        "UPDATE organizations SET blocked_scopes = ?2, blocked_clients = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, blocked_scopes, blocked_clients])?;
                Ok(changed == 1)
            })
            .await
    }

    async fn insert_project(&self, p: &Project) -> StoreResult<()> {
        let p = p.clone();
        self.db
            .write(move |w| {
                w.prepare_cached(concat!(
                    "INSERT INTO projects (",
                    project_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?
                .execute(params![
                    p.id.as_str(),
                    p.name,
                    p.consent.app_name,
                    p.consent.support_email.as_str(),
                    p.consent.logo_url,
                    p.consent.audience.user_type(),
                    organization_id(&p.consent.audience),
                    p.consent.verification.as_str(),
                    p.owned_domains.join(" "),
                    p.created_at.as_unix(),
                ])
                .map_err(named("project"))?;
                Ok(())
            })
            .await
    }

    async fn find_project(&self, id: &ProjectId) -> StoreResult<Option<Project>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects WHERE id = ?1"
            ))?
            .query_and_then(params![id.as_str()], project)?
            .next()
            .transpose()
        })
    }

    async fn find_projects_by_name(&self, name: &str) -> StoreResult<Vec<Project>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects WHERE name = ?1 ORDER BY created_at, id"
            ))?
            .query_and_then(params![name], project)?
            .collect()
        })
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        self.db.read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects ORDER BY created_at, id"
            ))?
            .query_and_then([], project)?
            .collect()
        })
    }

    async fn update_project(&self, p: &Project) -> StoreResult<bool> {
        let p = p.clone();
        self.db
            .write(move |w| {
                let changed = w
                    .prepare_cached(
                        "UPDATE projects SET name = ?2, app_name = ?3, support_email = ?4, logo_url = ?5, user_type = ?6,
             organization_id = ?7, verification = ?8, owned_domains = ?9 WHERE id = ?1",
                    )?
                    .execute(params![
                        p.id.as_str(),
                        p.name,
                        p.consent.app_name,
                        p.consent.support_email.as_str(),
                        p.consent.logo_url,
                        p.consent.audience.user_type(),
                        organization_id(&p.consent.audience),
                        p.consent.verification.as_str(),
                        p.owned_domains.join(" "),
                    ])?;
                Ok(changed == 1)
            })
            .await
    }
}

fn scope_info(row: &Row<'_>) -> DbResult<ScopeInfo> {
    Ok(ScopeInfo {
        scope: Scope::from_stored(row.get("scope")?),
        description: row.get("description")?,
        sensitivity: row
            .get::<_, String>("sensitivity")?
            .parse::<Sensitivity>()
            .map_err(StoreError::Internal)?,
    })
}

#[async_trait]
impl ScopeStore for SqliteStore {
    async fn list_scopes(&self) -> StoreResult<Vec<ScopeInfo>> {
        self.db.read(|c| {
            c.prepare_cached("SELECT scope, description, sensitivity FROM scopes ORDER BY scope")?
                .query_and_then([], scope_info)?
                .collect()
        })
    }

    async fn find_scopes(&self, scopes: &ScopeSet) -> StoreResult<Vec<ScopeInfo>> {
        // json_each keeps this one statement with one bound parameter, however many scopes.
        let list: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        let json = json_array(&list);
        self.db.read(|c| {
            c.prepare_cached(
                "SELECT scope, description, sensitivity FROM scopes
             WHERE scope IN (SELECT value FROM json_each(?1)) ORDER BY scope",
            )?
            .query_and_then(params![json], scope_info)?
            .collect()
        })
    }

    async fn upsert_scope(&self, s: &ScopeInfo) -> StoreResult<()> {
        let scope = s.scope.as_str().to_owned();
        let description = s.description.clone();
        let sensitivity = s.sensitivity.as_str();
        self.db
            .write(move |w| {
                w.prepare_cached(
                    "INSERT INTO scopes (scope, description, sensitivity) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope) DO UPDATE SET description = excluded.description, sensitivity = excluded.sensitivity",
                )?
                .execute(params![scope, description, sensitivity])?;
                Ok(())
            })
            .await
    }
}

/// A JSON array of strings, for lists kept in one TEXT column.
pub(crate) fn json_array(items: &[&str]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

fn signing_key(row: &Row<'_>) -> rusqlite::Result<SigningKey> {
    Ok(SigningKey {
        kid: row.get("kid")?,
        algorithm: row.get("algorithm")?,
        private_key_der: row.get("private_key")?,
        public_key_der: row.get("public_key")?,
        created_at: Timestamp::from_unix(row.get("created_at")?),
        retired_at: row
            .get::<_, Option<i64>>("retired_at")?
            .map(Timestamp::from_unix),
    })
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert_signing_key(&self, k: &SigningKey) -> StoreResult<()> {
        let k = k.clone();
        self.db
            .write(move |w| {
                w.prepare_cached(
                    "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at, retired_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    k.kid,
                    k.algorithm,
                    k.private_key_der,
                    k.public_key_der,
                    k.created_at.as_unix(),
                    k.retired_at.map(Timestamp::as_unix),
                ])
                .map_err(named("signing key"))?;
                Ok(())
            })
            .await
    }

    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        self.db.read(|c| {
            Ok(c.prepare_cached(
                "SELECT kid, algorithm, private_key, public_key, created_at, retired_at
             FROM signing_keys ORDER BY created_at DESC, kid",
            )?
            .query_map([], signing_key)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    async fn update_signing_key_retired(&self, kid: &str, at: Timestamp) -> StoreResult<bool> {
        let kid = kid.to_owned();
        let at = at.as_unix();
        self.db
            .write(move |w| {
                let changed = w
                    .prepare_cached(
                        "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL",
                    )?
                    .execute(params![kid, at])?;
                Ok(changed == 1)
            })
            .await
    }
}
