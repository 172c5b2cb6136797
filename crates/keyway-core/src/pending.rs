//! Authorization requests in flight: kept server-side between the pages of one flow (sign-in,
//! account chooser, consent), so nothing the browser could alter is trusted on the way.

use crate::clock::Timestamp;
use crate::ids::Subject;
use crate::secret::SecretHash;

/// A stored pending authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// Row id.
    pub id: i64,
    /// Hash of the handle the pages carry (`?req=`/hidden field).
    pub handle_hash: SecretHash,
    /// Hash of the CSRF token every form of this flow must return.
    pub csrf_hash: SecretHash,
    /// The browser session the flow belongs to; forms from another session are refused.
    pub session_id: i64,
    /// The validated request, serialized by `keyway-core` (opaque to stores).
    pub request_json: String,
    /// The account chosen for this flow, once known.
    pub sub: Option<Subject>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Expiry (a flow left open is abandoned).
    pub expires_at: Timestamp,
}

/// What starting a flow stores.
#[derive(Debug, Clone)]
pub struct NewPending {
    /// Hash of the handle.
    pub handle_hash: SecretHash,
    /// Hash of the CSRF token.
    pub csrf_hash: SecretHash,
    /// The browser session.
    pub session_id: i64,
    /// The account the flow continues with, when it is known from the start.
    pub sub: Option<Subject>,
    /// The serialized request.
    pub request_json: String,
    /// Expiry.
    pub expires_at: Timestamp,
}
