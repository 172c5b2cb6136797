//! Browser sessions: one cookie can hold several signed-in accounts (Google's `authuser`).

use crate::clock::Timestamp;
use crate::ids::Subject;

/// A browser session as stored (the cookie value itself is only stored as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// Row id.
    pub id: i64,
    /// Accounts signed in, in `authuser` order.
    pub accounts: Vec<SessionAccount>,
    /// Creation time.
    pub created_at: Timestamp,
    /// When the session ends regardless of use.
    pub expires_at: Timestamp,
}

/// One account signed in within a browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAccount {
    /// The user.
    pub sub: Subject,
    /// Index in this browser, the `authuser` of the redirect.
    pub authuser: u32,
    /// When the user last entered their password here.
    pub signed_in_at: Timestamp,
}
