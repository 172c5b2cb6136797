//! Users.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::{Email, Subject};
use keyway_core::password::PasswordHash;
use keyway_core::store::{StoreResult, UserStore};
use keyway_core::user::{NewUser, User};
use rusqlite::params;

use crate::{Optional, SqliteStore, named};

macro_rules! columns {
    () => {
        "sub, email, email_verified, name, password_hash, disabled, created_at"
    };
}

fn user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        sub: Subject::from_stored(row.get("sub")?),
        email: Email::from_stored(row.get("email")?),
        email_verified: row.get("email_verified")?,
        name: row.get("name")?,
        password_hash: PasswordHash::from_stored(row.get("password_hash")?),
        disabled: row.get("disabled")?,
        created_at: Timestamp::from_unix(row.get("created_at")?),
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, u: NewUser, now: Timestamp) -> StoreResult<User> {
        let now = now.as_unix();
        self.db
            .write(move |w| {
                let mut stmt = w.prepare_cached(concat!(
                    "INSERT INTO users (",
                    columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) RETURNING ",
                    columns!()
                ))?;
                stmt.query_row(
                    params![
                        u.sub.as_str(),
                        u.email.as_str(),
                        u.email_verified,
                        u.name,
                        u.password_hash.as_str(),
                        now,
                    ],
                    user,
                )
                .map_err(named("user"))
            })
            .await
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                columns!(),
                " FROM users WHERE email = ?1"
            ))?;
            stmt.query_row(params![email.as_str()], user).optional()
        })
    }

    async fn find_user(&self, sub: &Subject) -> StoreResult<Option<User>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare_cached(concat!("SELECT ", columns!(), " FROM users WHERE sub = ?1"))?;
            stmt.query_row(params![sub.as_str()], user).optional()
        })
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare_cached(concat!("SELECT ", columns!(), " FROM users ORDER BY email"))?;
            Ok(stmt
                .query_map([], user)?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    async fn update_user_disabled(
        &self,
        sub: &Subject,
        disabled: bool,
    ) -> StoreResult<Option<User>> {
        let sub = sub.as_str().to_owned();
        self.db
            .write(move |w| {
                let row = w
                    .prepare_cached(concat!(
                        "UPDATE users SET disabled = ?2 WHERE sub = ?1 RETURNING ",
                        columns!()
                    ))?
                    .query_row(params![sub, disabled], user)
                    .optional()?;
                if row.is_some() && disabled {
                    // Grants cascade to their codes and tokens.
                    for sql in [
                        "DELETE FROM grants WHERE sub = ?1",
                        "DELETE FROM session_accounts WHERE sub = ?1",
                    ] {
                        w.prepare_cached(sql)?.execute(params![sub])?;
                    }
                }
                Ok(row)
            })
            .await
    }

    async fn update_user_password(&self, sub: &Subject, hash: &PasswordHash) -> StoreResult<bool> {
        let sub = sub.as_str().to_owned();
        let hash = hash.as_str().to_owned();
        self.db
            .write(move |w| {
                let n = w
                    .prepare_cached("UPDATE users SET password_hash = ?2 WHERE sub = ?1")?
                    .execute(params![sub, hash])?;
                Ok(n == 1)
            })
            .await
    }
}
