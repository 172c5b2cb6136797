//! Users.

use async_trait::async_trait;
use keyway_core::Timestamp;
use keyway_core::ids::{Email, Subject};
use keyway_core::password::PasswordHash;
use keyway_core::store::{StoreResult, UserStore};
use keyway_core::user::{NewUser, User};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, map_err, map_err_for};

macro_rules! columns {
    () => {
        "sub, email, email_verified, name, password_hash, disabled, created_at"
    };
}

fn user(row: &PgRow) -> User {
    User {
        sub: Subject::from_stored(row.get("sub")),
        email: Email::from_stored(row.get("email")),
        email_verified: row.get("email_verified"),
        name: row.get("name"),
        password_hash: PasswordHash::from_stored(row.get("password_hash")),
        disabled: row.get("disabled"),
        created_at: Timestamp::from_unix(row.get("created_at")),
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, u: NewUser, now: Timestamp) -> StoreResult<User> {
        let row = sqlx::query(concat!(
            "INSERT INTO users (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, FALSE, $6) RETURNING ",
            columns!()
        ))
        .bind(u.sub.as_str())
        .bind(u.email.as_str())
        .bind(u.email_verified)
        .bind(&u.name)
        .bind(u.password_hash.as_str())
        .bind(now.as_unix())
        .fetch_one(&self.pool)
        .await
        .map_err(map_err_for("user"))?;
        Ok(user(&row))
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM users WHERE email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.as_ref().map(user))
    }

    async fn find_user(&self, sub: &Subject) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM users WHERE sub = $1"))
            .bind(sub.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.as_ref().map(user))
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM users ORDER BY email"))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(rows.iter().map(user).collect())
    }

    async fn update_user_disabled(
        &self,
        sub: &Subject,
        disabled: bool,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.begin().await?;
        // Locks the user's row first, as redemptions do, so the cascade below never deadlocks
        // with a redemption in flight: it waits for it, or the redemption finds the grant gone.
        let row = sqlx::query(concat!(
            "UPDATE users SET disabled = $2 WHERE sub = $1 RETURNING ",
            columns!()
        ))
        .bind(sub.as_str())
        .bind(disabled)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        if row.is_some() && disabled {
            // Grants cascade to their codes and tokens.
            for sql in [
                "DELETE FROM grants WHERE sub = $1",
                "DELETE FROM session_accounts WHERE sub = $1",
            ] {
                sqlx::query(sql)
                    .bind(sub.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(row.as_ref().map(user))
    }

    async fn update_user_password(&self, sub: &Subject, hash: &PasswordHash) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE users SET password_hash = $2 WHERE sub = $1")
            .bind(sub.as_str())
            .bind(hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
