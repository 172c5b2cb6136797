//! The storage contract. Both stores (SQLite, PostgreSQL) implement these traits and pass one
//! conformance suite (`keyway-testkit`), so the rest of Keyway never knows which it runs on.
//!
//! Verbs say what happens: `find_*` reads, `insert_*`/`update_*`/`delete_*` write, and the
//! atomic steps have honest names (`redeem_code` burns a code and stores its tokens in one
//! transaction, so two concurrent redemptions cannot both succeed and a crash never leaves a
//! used code without its tokens). Every lookup on a hot path goes through a unique index.

use async_trait::async_trait;

use crate::client::{ClientSecretRecord, ClientUpdate, NewClient, OAuthClient};
use crate::clock::Timestamp;
use crate::grant::{
    AccessTokenRecord, AuthorizationCode, Grant, NewAccessToken, NewCode, Redemption,
    RefreshTokenLimits, RefreshTokenRecord,
};
use crate::ids::{ClientId, Email, ProjectId, Subject};
use crate::password::PasswordHash;
use crate::pending::{NewPending, PendingAuthorization};
use crate::project::{Organization, Project};
use crate::scope::{ScopeInfo, ScopeSet};
use crate::secret::SecretHash;
use crate::session::BrowserSession;
use crate::signing_key::SigningKey;
use crate::user::{NewUser, User};

/// A storage failure. The message is for logs only, never for clients.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. an email that already has an account).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A row the operation needs does not exist (e.g. a client of an unknown project).
    #[error("{0} not found")]
    Missing(&'static str),
    /// The database cannot be reached; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database holds a schema newer than this build knows.
    #[error(
        "the database schema is at version {found}, newer than this Keyway build knows (up to {known}); upgrade Keyway or point it at another database"
    )]
    SchemaTooNew {
        /// Version recorded in the database.
        found: i64,
        /// Highest version this build has.
        known: i64,
    },
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Internal(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict("user")` when the email is taken.
    async fn insert_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User>;
    /// Finds a user by (lowercased) email.
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    /// Finds a user by subject.
    async fn find_user(&self, sub: &Subject) -> StoreResult<Option<User>>;
    /// Every user, by email.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Disables or re-enables a user. Disabling also revokes every grant (and so every token)
    /// and signs the user out of every browser, in the same transaction.
    async fn update_user_disabled(
        &self,
        sub: &Subject,
        disabled: bool,
    ) -> StoreResult<Option<User>>;
    /// Replaces the password hash.
    async fn update_user_password(&self, sub: &Subject, hash: &PasswordHash) -> StoreResult<bool>;
}

/// Organizations and projects.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// The organization with this domain, created (with `name`) when there is none.
    async fn upsert_organization(
        &self,
        domain: &str,
        name: &str,
        now: Timestamp,
    ) -> StoreResult<Organization>;
    /// An organization by id.
    async fn find_organization(&self, id: i64) -> StoreResult<Option<Organization>>;
    /// An organization by (lowercased) domain: the organization of users under it.
    async fn find_organization_by_domain(&self, domain: &str) -> StoreResult<Option<Organization>>;
    /// Every organization, by domain.
    async fn list_organizations(&self) -> StoreResult<Vec<Organization>>;
    /// Replaces an organization's policy; `false` if unknown.
    async fn update_organization_policy(
        &self,
        id: i64,
        blocked_scopes: &ScopeSet,
        blocked_clients: &[ClientId],
    ) -> StoreResult<bool>;
    /// Creates a project; `Conflict("project")` when the id is taken.
    async fn insert_project(&self, project: &Project) -> StoreResult<()>;
    /// A project by id.
    async fn find_project(&self, id: &ProjectId) -> StoreResult<Option<Project>>;
    /// Projects whose display name is exactly `name`.
    async fn find_projects_by_name(&self, name: &str) -> StoreResult<Vec<Project>>;
    /// Every project, oldest first.
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    /// Writes every field of `project` except its id and creation time; `false` if unknown.
    async fn update_project(&self, project: &Project) -> StoreResult<bool>;
}

/// OAuth clients and their secrets.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client with its first secret; `Missing("project")` for an unknown project.
    async fn insert_client(&self, client: NewClient, now: Timestamp) -> StoreResult<OAuthClient>;
    /// A client with its live secrets. On the token endpoint's path: one indexed lookup.
    async fn find_client(&self, id: &ClientId) -> StoreResult<Option<OAuthClient>>;
    /// Clients, of one project or of all, oldest first.
    async fn list_clients(&self, project: Option<&ProjectId>) -> StoreResult<Vec<OAuthClient>>;
    /// Applies an update; `None` for an unknown client.
    async fn update_client(
        &self,
        id: &ClientId,
        update: ClientUpdate,
    ) -> StoreResult<Option<OAuthClient>>;
    /// Adds a secret (rotation); the old ones stay valid until deleted.
    async fn insert_client_secret(
        &self,
        id: &ClientId,
        hash: SecretHash,
        hint: &str,
        now: Timestamp,
    ) -> StoreResult<ClientSecretRecord>;
    /// Deletes one secret; refuses (`Conflict("last client secret")`) to delete the only one.
    async fn delete_client_secret(&self, id: &ClientId, secret_id: i64) -> StoreResult<bool>;
    /// Deletes a client and every code and token issued to it.
    async fn delete_client(&self, id: &ClientId) -> StoreResult<bool>;
}

/// The scope catalogue.
#[async_trait]
pub trait ScopeStore: Send + Sync {
    /// Every scope, sorted.
    async fn list_scopes(&self) -> StoreResult<Vec<ScopeInfo>>;
    /// The catalogue entries of the given scopes (unknown ones are simply absent).
    async fn find_scopes(&self, scopes: &ScopeSet) -> StoreResult<Vec<ScopeInfo>>;
    /// Adds a scope or updates its description and sensitivity.
    async fn upsert_scope(&self, scope: &ScopeInfo) -> StoreResult<()>;
}

/// Grants, codes and tokens: the hot paths.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Adds `scopes` to the user's grant to the project (creating it), returning the union.
    /// Concurrent calls never lose a scope.
    async fn upsert_grant(
        &self,
        sub: &Subject,
        project: &ProjectId,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> StoreResult<Grant>;
    /// The user's grant to a project.
    async fn find_grant(&self, sub: &Subject, project: &ProjectId) -> StoreResult<Option<Grant>>;
    /// Every grant of a user, newest first (the account page).
    async fn list_grants(&self, sub: &Subject) -> StoreResult<Vec<Grant>>;
    /// Revokes a grant: deletes it with every code and token hanging off it. `false` if it was
    /// already gone.
    async fn delete_grant(&self, grant_id: i64) -> StoreResult<bool>;

    /// Stores a new authorization code; `Missing("grant")` if the grant was revoked meanwhile.
    async fn insert_code(&self, code: NewCode, now: Timestamp) -> StoreResult<AuthorizationCode>;
    /// A code by hash, used or not (a used one is how replays are detected).
    async fn find_code(&self, hash: &SecretHash) -> StoreResult<Option<AuthorizationCode>>;
    /// In one transaction: marks the code used if it was not, and stores its access token
    /// (and refresh token, enforcing `limits` by dropping the oldest). If it was already used,
    /// stores nothing and says so.
    async fn redeem_code(
        &self,
        code: &AuthorizationCode,
        access: NewAccessToken,
        refresh: Option<SecretHash>,
        limits: RefreshTokenLimits,
        now: Timestamp,
    ) -> StoreResult<Redemption>;
    /// Deletes every token issued from a code (the answer to a replayed code). Returns how many.
    async fn delete_code_tokens(&self, code_id: i64) -> StoreResult<u64>;

    /// A live access token by hash, with its client enabled and user not disabled. Expiry is
    /// the caller's check (it has the clock). One indexed lookup.
    async fn find_access_token(&self, hash: &SecretHash) -> StoreResult<Option<AccessTokenRecord>>;
    /// A live refresh token by hash, with its client enabled and user not disabled.
    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
    ) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Stores an access token issued from a refresh token and notes the refresh's use; `None`
    /// if the refresh token was revoked meanwhile.
    async fn insert_refreshed_access_token(
        &self,
        refresh: &RefreshTokenRecord,
        access: NewAccessToken,
        now: Timestamp,
    ) -> StoreResult<Option<i64>>;
    /// Whether the user holds a live refresh token issued to this client.
    async fn has_refresh_token(&self, sub: &Subject, client: &ClientId) -> StoreResult<bool>;
    /// Deletes expired access tokens, browser sessions, pending requests and sign-in failures
    /// older than a day, and codes expired for longer than
    /// `code_retention_secs` (used codes are kept a while so replays are still recognised).
    /// Returns rows removed.
    async fn delete_expired(&self, now: Timestamp, code_retention_secs: i64) -> StoreResult<u64>;
}

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Starts a session (the cookie value is stored only as `hash`).
    async fn insert_session(
        &self,
        hash: SecretHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<i64>;
    /// An unexpired session by cookie hash.
    async fn find_session(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<BrowserSession>>;
    /// Gives the session a new id (after sign-in, against fixation); `false` if unknown.
    async fn update_session_id(&self, old: &SecretHash, new: SecretHash) -> StoreResult<bool>;
    /// Signs an account in within a session; returns its `authuser` index (kept if it was
    /// already signed in).
    async fn insert_session_account(
        &self,
        session_id: i64,
        sub: &Subject,
        now: Timestamp,
    ) -> StoreResult<u32>;
    /// Ends a session.
    async fn delete_session(&self, hash: &SecretHash) -> StoreResult<bool>;
    /// Signs a user out of every browser. Returns how many sessions it was in.
    async fn delete_user_sessions(&self, sub: &Subject) -> StoreResult<u64>;
}

/// Pending authorization requests (the server-side state of one sign-in/consent flow).
#[async_trait]
pub trait PendingStore: Send + Sync {
    /// Stores a new pending request; `Missing("session")` if the session is gone.
    async fn insert_pending(
        &self,
        pending: NewPending,
        now: Timestamp,
    ) -> StoreResult<PendingAuthorization>;
    /// An unexpired pending request by handle hash.
    async fn find_pending(
        &self,
        handle: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingAuthorization>>;
    /// Records the account chosen for the flow; `false` if the request is gone.
    async fn update_pending_account(&self, handle: &SecretHash, sub: &Subject)
    -> StoreResult<bool>;
    /// Ends a flow. Returns `false` if it had already ended: the caller that gets `true` is
    /// the only one that may issue a code for it (double submits get nothing).
    async fn delete_pending(&self, handle: &SecretHash) -> StoreResult<bool>;
}

/// Failed sign-in attempts, counted in the database so every replica sees them.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Records a failure for `key` (e.g. `account:<email>` or `ip:<address>`) at `now` and
    /// returns how many failures `key` has at or after `since`, this one included.
    async fn insert_failure(&self, key: &str, now: Timestamp, since: Timestamp)
    -> StoreResult<u32>;
    /// How many failures `key` has at or after `since`.
    async fn count_failures(&self, key: &str, since: Timestamp) -> StoreResult<u32>;
    /// Forgets the failures of `key` (after a successful sign-in).
    async fn delete_failures(&self, key: &str) -> StoreResult<()>;
}

/// ID-token signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new key.
    async fn insert_signing_key(&self, key: &SigningKey) -> StoreResult<()>;
    /// Every key not yet deleted, newest first.
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKey>>;
    /// Stops a key from signing; it stays published.
    async fn update_signing_key_retired(&self, kid: &str, at: Timestamp) -> StoreResult<bool>;
}

/// Everything Keyway stores.
#[async_trait]
pub trait Store:
    UserStore
    + ProjectStore
    + ClientStore
    + ScopeStore
    + GrantStore
    + SessionStore
    + PendingStore
    + ThrottleStore
    + KeyStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Answers when the database is reachable (`/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Which backend this is (`sqlite` or `postgres`), for logs and `/readyz`.
    fn backend(&self) -> &'static str;
}
