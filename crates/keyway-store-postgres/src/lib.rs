//! Keyway's PostgreSQL store, for running many replicas against one database.
//!
//! Every replica has its own pool and nothing is coordinated in memory, so each use-once or
//! counted step is made atomic by the database itself, in a transaction at PostgreSQL's default
//! READ COMMITTED isolation (each statement sees everything committed before it started, and a
//! statement that finds a row locked waits for the holder, then re-checks its `WHERE` on the
//! row's newest version):
//!
//! - **Redeeming a code** is `UPDATE authorization_codes SET used_at = .. WHERE id = .. AND
//!   used_at IS NULL`. Of two replicas redeeming the same code at once, the second waits for
//!   the first's row lock, re-checks, finds `used_at` set and updates nothing: it gets
//!   [`Redemption::AlreadyUsed`](keyway_core::grant::Redemption) and stores nothing. The
//!   tokens are stored in the same transaction, so a crash never leaves a used code without
//!   them.
//! - **Refresh-token limits** are counted under a lock on the user's row (`SELECT .. FROM users
//!   .. FOR NO KEY UPDATE`, taken first thing in the redemption), so two redemptions for one
//!   user insert and prune one after the other and never both keep a token past the limit.
//!   (`NO KEY UPDATE` rather than `UPDATE`: it excludes the other lockers and writers of the
//!   row, but not the key-share locks that inserting a grant or a session account for the user
//!   takes, so sign-ins and consents do not queue behind token issuance.)
//! - **Using a refresh token** updates its row (`last_used_at`) before storing the access
//!   token: a concurrent revocation either came first (no row: nothing is stored) or waits.
//! - **Grants** are `INSERT .. ON CONFLICT (sub, project_id) DO UPDATE`, and scopes are one row
//!   each, added with `ON CONFLICT DO NOTHING`: concurrent consents never lose a scope.
//! - **`authuser` indexes** are allocated under a lock on the browser session's row, and
//!   **deleting a client secret** counts the secrets under a lock on the client's row, so two
//!   deletes cannot both pass the "not the last one" check.
//! - **Ending a pending authorization request** is `DELETE .. WHERE handle_hash = ..`: of two
//!   replicas handling a double submit, the second waits for the first's row lock, then finds
//!   the row gone and is told so; only the first may issue a code.
//! - **Sign-in failures** are inserted and counted in one transaction holding an advisory lock
//!   on the throttle key, so concurrent failures for one key are all counted, in turn.
//! - **Migrations** run under `pg_advisory_xact_lock`, so replicas starting together migrate
//!   once; the expired-row sweep takes another advisory lock so sweeps queue instead of
//!   deadlocking on each other's rows.
//!
//! Transactions lock rows in one order (user, grant, client, then codes and tokens), the order
//! in which disabling a user, revoking a grant or deleting a client cascade: a redemption or a
//! refresh locks its grant and client before touching the code or token, so one racing a
//! revocation either finishes first or waits and then finds the grant gone (`AlreadyUsed`,
//! `None`), instead of deadlocking with it halfway through the cascade. Likewise a browser
//! session comes before its pending requests (deleting a session cascades to them), and the
//! sweep deletes expired sessions before expired pending requests.
//! Should PostgreSQL still report a serialization failure or a deadlock, the error is
//! [`StoreError::Unavailable`]: nothing was stored and the caller may retry.
//!
//! Connection strings are never logged or put into errors with their password.

mod clients;
mod grants;
mod migrate;
mod pending;
mod projects;
mod sessions;
mod throttle;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use keyway_core::store::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

pub use migrate::LATEST_VERSION;

/// The PostgreSQL store. Cloning shares the pool. `Debug` shows the pool's size and settings,
/// never its connect options (so never the password).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:5432/db`) and applies pending
    /// migrations. Refuses a database whose schema is newer than this build.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating (for status checks). At most 16 connections; waiting longer
    /// than 10 seconds for one is [`StoreError::Unavailable`].
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = parse_url(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(|e| connect_error(&options, &e))?;
        Ok(Self { pool })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Borrows a connection and opens a transaction on it.
    ///
    /// `BEGIN` runs in a task of its own because sqlx 0.9's `Pool::begin` is not cancel-safe
    /// (transact-rs/sqlx#4385): a caller dropped while `BEGIN` is on the wire (a handler whose
    /// client went away) returns the connection to the pool inside a transaction sqlx no longer
    /// tracks, and the next borrower's statements run in it, uncommitted and holding their
    /// locks. In a task, `BEGIN` completes; if nobody awaits the result any more, dropping the
    /// transaction queues its `ROLLBACK` before the connection goes back. The price: a caller
    /// that gives up while waiting for a connection leaves its task waiting (at most the
    /// pool's 10 s) and then running `BEGIN` and `ROLLBACK` for nothing. sqlx offers no
    /// public way to begin on a connection acquired beforehand, which would avoid it. Remove
    /// this once a sqlx release carries the upstream fix.
    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        let pool = self.pool.clone();
        match tokio::spawn(async move { pool.begin().await }).await {
            Ok(begun) => begun.map_err(map_err),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // Only when the runtime is shutting down.
            Err(_) => Err(StoreError::Unavailable(
                "the runtime is shutting down".into(),
            )),
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// Creates the database `name` on the server of `admin_url` (a URL of any database there that
/// the user may connect to). `name` must match `[a-z0-9_]{1,63}`; `Conflict("database")` when
/// it exists. For test kits giving every run its own database.
pub async fn create_database(admin_url: &str, name: &str) -> StoreResult<()> {
    check_database_name(name)?;
    admin_statement(admin_url, format!("CREATE DATABASE \"{name}\"")).await
}

/// Drops the database `name` if it exists, disconnecting its sessions (`WITH (FORCE)`).
/// `name` must match `[a-z0-9_]{1,63}`.
pub async fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
    check_database_name(name)?;
    admin_statement(
        admin_url,
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await
}

/// `url` with its database (the path) replaced by `name`; everything else (credentials, host,
/// query parameters) is kept as written.
///
/// ```
/// use keyway_store_postgres::database_url_with_name;
///
/// assert_eq!(
///     database_url_with_name("postgres://u:p@db:5432/keyway?sslmode=require", "run_1"),
///     "postgres://u:p@db:5432/run_1?sslmode=require"
/// );
/// assert_eq!(database_url_with_name("postgres://localhost", "run_2"), "postgres://localhost/run_2");
/// ```
pub fn database_url_with_name(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let path_end = url[authority_end..]
        .find(['?', '#'])
        .map_or(url.len(), |i| authority_end + i);
    format!("{}/{name}{}", &url[..authority_end], &url[path_end..])
}

fn check_database_name(name: &str) -> StoreResult<()> {
    let valid = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Internal(format!(
            "invalid database name {name:?}: use [a-z0-9_]{{1,63}}"
        )))
    }
}

/// Runs one statement that cannot run in a transaction, on a connection of its own.
async fn admin_statement(admin_url: &str, sql: String) -> StoreResult<()> {
    let options = parse_url(admin_url)?;
    let mut conn = options
        .connect()
        .await
        .map_err(|e| connect_error(&options, &e))?;
    let result = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
    // Closing politely is best effort: the statement's outcome is what matters.
    let _ = conn.close().await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {
            Err(StoreError::Conflict("database"))
        }
        Err(e) => Err(map_err(e)),
    }
}

fn parse_url(url: &str) -> StoreResult<PgConnectOptions> {
    // The parser's message never quotes the URL, but scrub it anyway: it is in the config.
    PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Unavailable(format!(
            "invalid PostgreSQL URL: {}",
            scrub(&e.to_string(), url)
        ))
    })
}

/// `postgres://user@host:port/db`: where we tried to connect, without the password.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!(
        "postgres://{}@{host}/{}",
        options.get_username(),
        options.get_database().unwrap_or_default()
    )
}

fn connect_error(options: &PgConnectOptions, e: &sqlx::Error) -> StoreError {
    let detail = match map_err_ref(e) {
        StoreError::Unavailable(m) | StoreError::Internal(m) => m,
        other => other.to_string(),
    };
    StoreError::Unavailable(format!("cannot connect to {}: {detail}", describe(options)))
}

/// Removes anything that looks like the URL's password from `text`.
fn scrub(text: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => text.replace(p, "[redacted]"),
        None => text.to_owned(),
    }
}

/// SQLSTATEs after which a retry may well succeed: serialization failure, deadlock, lock or
/// statement timeout, too many connections, server shutting down or starting, and the whole
/// connection-exception class (`08`).
fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "57014" | "53300" | "57P01" | "57P02" | "57P03"
    ) || code.starts_with("08")
}

fn map_err_ref(e: &sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict("row"),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Missing("referenced row")
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|c| is_transient(&c)) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Maps a database error to the store's vocabulary; the text goes to logs only. PostgreSQL's
/// messages never contain bound values (those are in the error's `detail`, which is not shown).
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    map_err_ref(&e)
}

/// Like [`map_err`], naming what a uniqueness or reference failure was about.
pub(crate) fn map_err_for(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(what),
        StoreError::Missing(_) => StoreError::Missing(what),
        other => other,
    }
}
