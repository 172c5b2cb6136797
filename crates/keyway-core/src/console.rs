//! The developer console's operations: projects, OAuth clients, users and scopes. The CLI
//! (`keyway project|client|user|scope …`) and, later, the web console call these, so both
//! enforce the same rules. Each validates everything before its first write, so a refused
//! command changes nothing.

use crate::client::{ClientSecretRecord, ClientUpdate, NewClient, OAuthClient, secret_hint};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{ClientId, Email, ProjectId, Subject, parse_domain};
use crate::password::{PasswordHash, hash_password};
use crate::project::{Audience, ConsentScreen, Project, Verification};
use crate::redirect_uri::{JavaScriptOrigin, RedirectUri, RedirectUriPolicy};
use crate::scope::{ScopeInfo, default_catalogue};
use crate::secret::{Secret, SecretKind};
use crate::store::{Store, StoreError};
use crate::user::{NewUser, User};

/// Settings the console rules depend on.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// Domain of generated client ids (`<digits>-<random>.<domain>`).
    pub client_id_domain: String,
    /// Redirect-URI registration rules.
    pub redirect_policy: RedirectUriPolicy,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            client_id_domain: "apps.keyway.test".into(),
            redirect_policy: RedirectUriPolicy::default(),
        }
    }
}

/// The consent-screen audience as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceInput {
    /// Any user.
    External,
    /// Only users whose email is under this domain.
    Internal {
        /// The organization's domain.
        domain: String,
    },
}

/// Fields of a project; on update, `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    /// Display name (required on create).
    pub name: Option<String>,
    /// App name on the consent screen (defaults to the name).
    pub app_name: Option<String>,
    /// Support email (required on create).
    pub support_email: Option<String>,
    /// Logo URL; `Some("")` clears it.
    pub logo_url: Option<String>,
    /// Audience.
    pub audience: Option<AudienceInput>,
    /// Verification status.
    pub verification: Option<Verification>,
    /// Owned domains (replaces the list).
    pub owned_domains: Option<Vec<String>>,
}

fn check_text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "invalid {field}: use 1 to {max} characters without control characters"
        )));
    }
    Ok(v.to_owned())
}

fn check_logo(url: &str) -> Result<Option<String>> {
    if url.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" && url.len() <= 2048 => Ok(Some(url.to_owned())),
        _ => Err(Error::Invalid(format!(
            "invalid logo URL {url:?}: use an https URL"
        ))),
    }
}

fn check_email(value: &str) -> Result<Email> {
    Email::parse(value).map_err(|e| Error::Invalid(e.to_string()))
}

async fn resolve_audience(
    store: &dyn Store,
    clock: &dyn Clock,
    input: &AudienceInput,
) -> Result<Audience> {
    Ok(match input {
        AudienceInput::External => Audience::External,
        AudienceInput::Internal { domain } => {
            let domain = parse_domain(domain).map_err(|e| Error::Invalid(e.to_string()))?;
            let org = store
                .upsert_organization(&domain, &domain, clock.now())
                .await?;
            Audience::Internal {
                organization_id: org.id,
            }
        }
    })
}

fn check_domains(domains: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for d in domains {
        let d = parse_domain(d).map_err(|e| Error::Invalid(e.to_string()))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Creates a project.
pub async fn create_project(
    store: &dyn Store,
    clock: &dyn Clock,
    input: ProjectInput,
) -> Result<Project> {
    let name = check_text("project name", input.name.as_deref().unwrap_or(""), 100)?;
    let app_name = check_text("app name", input.app_name.as_deref().unwrap_or(&name), 100)?;
    let support_email = check_email(input.support_email.as_deref().ok_or_else(|| {
        Error::Invalid("a project needs a support email (--support-email)".into())
    })?)?;
    let logo_url = check_logo(input.logo_url.as_deref().unwrap_or(""))?;
    let owned_domains = check_domains(input.owned_domains.as_deref().unwrap_or(&[]))?;
    let audience = resolve_audience(
        store,
        clock,
        input.audience.as_ref().unwrap_or(&AudienceInput::External),
    )
    .await?;
    let project = Project {
        id: ProjectId::from_name(&name),
        name,
        consent: ConsentScreen {
            app_name,
            support_email,
            logo_url,
            audience,
            verification: input.verification.unwrap_or(Verification::Unverified),
        },
        owned_domains,
        created_at: clock.now(),
    };
    store.insert_project(&project).await?;
    Ok(project)
}

/// Finds a project by id, or else by its exact name (which must then be unambiguous).
pub async fn resolve_project(store: &dyn Store, id_or_name: &str) -> Result<Project> {
    if let Ok(id) = ProjectId::parse(id_or_name)
        && let Some(p) = store.find_project(&id).await?
    {
        return Ok(p);
    }
    let mut found = store.find_projects_by_name(id_or_name).await?;
    match found.len() {
        0 => Err(Error::NotFound(format!("unknown project {id_or_name:?}"))),
        1 => Ok(found.remove(0)),
        n => Err(Error::Invalid(format!(
            "{n} projects are named {id_or_name:?}: name one by its id"
        ))),
    }
}

/// Updates a project's fields.
pub async fn update_project(
    store: &dyn Store,
    clock: &dyn Clock,
    id_or_name: &str,
    input: ProjectInput,
) -> Result<Project> {
    let mut p = resolve_project(store, id_or_name).await?;
    if let Some(n) = &input.name {
        p.name = check_text("project name", n, 100)?;
    }
    if let Some(n) = &input.app_name {
        p.consent.app_name = check_text("app name", n, 100)?;
    }
    if let Some(e) = &input.support_email {
        p.consent.support_email = check_email(e)?;
    }
    if let Some(l) = &input.logo_url {
        p.consent.logo_url = check_logo(l)?;
    }
    if let Some(d) = &input.owned_domains {
        p.owned_domains = check_domains(d)?;
    }
    if let Some(v) = input.verification {
        p.consent.verification = v;
    }
    if let Some(a) = &input.audience {
        p.consent.audience = resolve_audience(store, clock, a).await?;
    }
    if !store.update_project(&p).await? {
        return Err(Error::NotFound(format!("unknown project {id_or_name:?}")));
    }
    Ok(p)
}

fn validate_uris(
    settings: &ConsoleSettings,
    project: &Project,
    uris: &[String],
    origins: &[String],
) -> Result<(Vec<RedirectUri>, Vec<JavaScriptOrigin>)> {
    let mut redirect_uris: Vec<RedirectUri> = Vec::new();
    for raw in uris {
        let uri = settings
            .redirect_policy
            .validate_redirect_uri(raw, &project.owned_domains)
            .map_err(|e| Error::Invalid(format!("invalid redirect URI {raw:?}: {e}")))?;
        if !redirect_uris.contains(&uri) {
            redirect_uris.push(uri);
        }
    }
    let mut js: Vec<JavaScriptOrigin> = Vec::new();
    for raw in origins {
        let o = settings
            .redirect_policy
            .validate_origin(raw)
            .map_err(|e| Error::Invalid(format!("invalid JavaScript origin {raw:?}: {e}")))?;
        if !js.contains(&o) {
            js.push(o);
        }
    }
    if redirect_uris.len() > 100 || js.len() > 100 {
        return Err(Error::Invalid(
            "a client has at most 100 redirect URIs and 100 origins".into(),
        ));
    }
    Ok((redirect_uris, js))
}

/// Registers a web client and returns it with its first secret, which is shown once and
/// never stored.
pub async fn create_client(
    store: &dyn Store,
    clock: &dyn Clock,
    settings: &ConsoleSettings,
    project: &str,
    name: &str,
    redirect_uris: &[String],
    origins: &[String],
) -> Result<(OAuthClient, Secret)> {
    let project = resolve_project(store, project).await?;
    let name = check_text("client name", name, 100)?;
    let (redirect_uris, javascript_origins) =
        validate_uris(settings, &project, redirect_uris, origins)?;
    let secret = SecretKind::ClientSecret.generate();
    let client = store
        .insert_client(
            NewClient {
                client_id: ClientId::generate(&settings.client_id_domain),
                project_id: project.id,
                name,
                redirect_uris,
                javascript_origins,
                secret_hash: secret.hash(),
                secret_hint: secret_hint(&secret),
            },
            clock.now(),
        )
        .await?;
    Ok((client, secret))
}

/// A client by id, or a clear error.
pub async fn find_client(store: &dyn Store, id: &str) -> Result<OAuthClient> {
    let not_found = || Error::NotFound(format!("unknown client {id:?}"));
    let id = ClientId::parse(id).map_err(|_| not_found())?;
    store.find_client(&id).await?.ok_or_else(not_found)
}

/// Changes to a client as the CLI takes them.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    /// New name.
    pub name: Option<String>,
    /// Redirect URIs to add.
    pub add_redirect_uris: Vec<String>,
    /// Redirect URIs to remove (exact strings).
    pub remove_redirect_uris: Vec<String>,
    /// Origins to add.
    pub add_origins: Vec<String>,
    /// Origins to remove.
    pub remove_origins: Vec<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Updates a client.
pub async fn update_client(
    store: &dyn Store,
    settings: &ConsoleSettings,
    id: &str,
    changes: ClientChanges,
) -> Result<OAuthClient> {
    let client = find_client(store, id).await?;
    let project = store
        .find_project(&client.project_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("unknown project {}", client.project_id)))?;
    for (what, list, current) in [
        (
            "redirect URI",
            &changes.remove_redirect_uris,
            client
                .redirect_uris
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "JavaScript origin",
            &changes.remove_origins,
            client
                .javascript_origins
                .iter()
                .map(|o| o.as_str())
                .collect(),
        ),
    ] {
        if let Some(missing) = list.iter().find(|r| !current.contains(&r.as_str())) {
            return Err(Error::Invalid(format!(
                "the client has no {what} {missing:?}"
            )));
        }
    }
    let keep = |all: Vec<String>, remove: &[String], add: &[String]| -> Vec<String> {
        all.into_iter()
            .filter(|u| !remove.contains(u))
            .chain(add.iter().cloned())
            .collect()
    };
    let uris = keep(
        client.redirect_uris.iter().map(|u| u.to_string()).collect(),
        &changes.remove_redirect_uris,
        &changes.add_redirect_uris,
    );
    let origins = keep(
        client
            .javascript_origins
            .iter()
            .map(|o| o.to_string())
            .collect(),
        &changes.remove_origins,
        &changes.add_origins,
    );
    // Already-registered URIs are re-checked too: a policy change (say, a new shortener
    // domain) should surface when a client is next edited, not be silently kept.
    let (redirect_uris, javascript_origins) = validate_uris(settings, &project, &uris, &origins)?;
    let update = ClientUpdate {
        name: changes
            .name
            .as_deref()
            .map(|n| check_text("client name", n, 100))
            .transpose()?,
        redirect_uris: Some(redirect_uris),
        javascript_origins: Some(javascript_origins),
        enabled: changes.enabled,
    };
    store
        .update_client(&client.client_id, update)
        .await?
        .ok_or_else(|| Error::NotFound(format!("unknown client {id:?}")))
}

/// Adds a new secret to a client; the old ones keep working until deleted.
pub async fn rotate_client_secret(
    store: &dyn Store,
    clock: &dyn Clock,
    id: &str,
) -> Result<(OAuthClient, ClientSecretRecord, Secret)> {
    let client = find_client(store, id).await?;
    if client.secrets.len() >= 5 {
        return Err(Error::Invalid(
            "the client already has 5 secrets: delete an old one first (keyway client delete-secret)".into(),
        ));
    }
    let secret = SecretKind::ClientSecret.generate();
    let record = store
        .insert_client_secret(
            &client.client_id,
            secret.hash(),
            &secret_hint(&secret),
            clock.now(),
        )
        .await?;
    let client = find_client(store, id).await?;
    Ok((client, record, secret))
}

/// Deletes one of a client's secrets (never the last one).
pub async fn delete_client_secret(store: &dyn Store, id: &str, secret_id: i64) -> Result<()> {
    let client = find_client(store, id).await?;
    match store
        .delete_client_secret(&client.client_id, secret_id)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::NotFound(format!(
            "client {id:?} has no secret {secret_id}"
        ))),
        Err(StoreError::Conflict(_)) => Err(Error::Invalid(
            "that is the client's only secret: rotate first, then delete the old one".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Creates a user. Hashing the password is slow: on an async runtime call this from
/// `spawn_blocking` or hash first with [`hash_password`] and use [`insert_user`].
pub async fn create_user(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    name: &str,
    password: &Secret,
) -> Result<User> {
    let hash = hash_password(password).map_err(|e| Error::Invalid(e.to_string()))?;
    insert_user(store, clock, email, name, hash).await
}

/// Creates a user with an already computed password hash.
pub async fn insert_user(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    name: &str,
    password_hash: PasswordHash,
) -> Result<User> {
    let email = check_email(email)?;
    let name = check_text("name", name, 100)?;
    match store
        .insert_user(
            NewUser {
                sub: Subject::generate(),
                email: email.clone(),
                email_verified: true,
                name,
                password_hash,
            },
            clock.now(),
        )
        .await
    {
        Err(StoreError::Conflict(_)) => Err(Error::Invalid(format!(
            "a user with email {email} already exists"
        ))),
        other => Ok(other?),
    }
}

/// A user by email or subject, or a clear error.
pub async fn resolve_user(store: &dyn Store, email_or_sub: &str) -> Result<User> {
    let found = if email_or_sub.contains('@') {
        match Email::parse(email_or_sub) {
            Ok(e) => store.find_user_by_email(&e).await?,
            Err(_) => None,
        }
    } else {
        match Subject::parse(email_or_sub) {
            Ok(s) => store.find_user(&s).await?,
            Err(_) => None,
        }
    };
    found.ok_or_else(|| Error::NotFound(format!("unknown user {email_or_sub:?}")))
}

/// Disables (or re-enables) a user. Disabling ends their sessions and revokes their grants.
pub async fn set_user_disabled(
    store: &dyn Store,
    email_or_sub: &str,
    disabled: bool,
) -> Result<User> {
    let user = resolve_user(store, email_or_sub).await?;
    store
        .update_user_disabled(&user.sub, disabled)
        .await?
        .ok_or_else(|| Error::NotFound(format!("unknown user {email_or_sub:?}")))
}

/// Adds the default scopes a database is missing; existing entries (perhaps edited) are kept.
pub async fn seed_default_scopes(store: &dyn Store) -> Result<usize> {
    let existing = store.list_scopes().await?;
    let mut added = 0;
    for s in default_catalogue() {
        if !existing.iter().any(|e| e.scope == s.scope) {
            store.upsert_scope(&s).await?;
            added += 1;
        }
    }
    Ok(added)
}

/// Adds a scope to the catalogue or changes its description and sensitivity.
pub async fn add_scope(store: &dyn Store, scope: ScopeInfo) -> Result<()> {
    check_text("scope description", &scope.description, 300)?;
    store.upsert_scope(&scope).await?;
    Ok(())
}

/// Changes to an organization's policy; the lists say what to add and remove.
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    /// Scopes to block.
    pub block_scopes: Vec<String>,
    /// Scopes to allow again.
    pub unblock_scopes: Vec<String>,
    /// Client ids to block.
    pub block_clients: Vec<String>,
    /// Client ids to allow again.
    pub unblock_clients: Vec<String>,
}

/// Creates an organization (its users are those whose email is under `domain`).
pub async fn create_organization(
    store: &dyn Store,
    clock: &dyn Clock,
    domain: &str,
    name: Option<&str>,
) -> Result<crate::project::Organization> {
    let domain = parse_domain(domain).map_err(|e| Error::Invalid(e.to_string()))?;
    if store.find_organization_by_domain(&domain).await?.is_some() {
        return Err(Error::Invalid(format!(
            "an organization with domain {domain} already exists"
        )));
    }
    let name = check_text("organization name", name.unwrap_or(&domain), 100)?;
    Ok(store
        .upsert_organization(&domain, &name, clock.now())
        .await?)
}

/// An organization by domain, or a clear error.
pub async fn find_organization(
    store: &dyn Store,
    domain: &str,
) -> Result<crate::project::Organization> {
    let not_found = || Error::NotFound(format!("unknown organization {domain:?}"));
    let domain = parse_domain(domain).map_err(|_| not_found())?;
    store
        .find_organization_by_domain(&domain)
        .await?
        .ok_or_else(not_found)
}

/// Updates an organization's policy (blocked scopes and apps).
pub async fn update_organization_policy(
    store: &dyn Store,
    domain: &str,
    changes: PolicyChanges,
) -> Result<crate::project::Organization> {
    let mut org = find_organization(store, domain).await?;
    let parse = |list: &[String]| -> Result<crate::scope::ScopeSet> {
        crate::scope::ScopeSet::parse(&list.join(" ")).map_err(|e| Error::Invalid(e.to_string()))
    };
    org.blocked_scopes = org
        .blocked_scopes
        .union(&parse(&changes.block_scopes)?)
        .difference(&parse(&changes.unblock_scopes)?);
    for c in &changes.block_clients {
        let id = ClientId::parse(c).map_err(|e| Error::Invalid(e.to_string()))?;
        if !org.blocked_clients.contains(&id) {
            org.blocked_clients.push(id);
        }
    }
    org.blocked_clients
        .retain(|c| !changes.unblock_clients.iter().any(|u| u == c.as_str()));
    if !store
        .update_organization_policy(org.id, &org.blocked_scopes, &org.blocked_clients)
        .await?
    {
        return Err(Error::NotFound(format!("unknown organization {domain:?}")));
    }
    Ok(org)
}
