//! People who sign in: their stable subject, email, password hash and disabled flag.

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::{Email, Subject};
use crate::password::PasswordHash;

/// A user account.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Stable identifier, the `sub` claim; never reused, never changes.
    pub sub: Subject,
    /// Sign-in address, lowercased and unique.
    pub email: Email,
    /// Whether the address is known to belong to the user (`email_verified`).
    pub email_verified: bool,
    /// Display name, the `name` claim.
    pub name: String,
    /// Argon2id hash of the password.
    #[serde(skip)]
    pub password_hash: PasswordHash,
    /// A disabled user cannot sign in, and its tokens stop working.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// What creating a user needs; the subject is assigned by the store's caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The subject to assign, normally [`Subject::generate`].
    pub sub: Subject,
    /// Sign-in address.
    pub email: Email,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// Display name.
    pub name: String,
    /// Argon2id hash of the initial password.
    pub password_hash: PasswordHash,
}
