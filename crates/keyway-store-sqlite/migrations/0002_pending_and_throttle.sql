-- Keyway schema, version 2 (SQLite): pending authorization requests and sign-in failures.
-- Times are Unix seconds (INTEGER). Secrets appear only as SHA-256 hashes (BLOB, 32 bytes).

-- The server-side state of one sign-in/consent flow. It belongs to a browser session: signing
-- out or the session's expiry ends the flow with it.
CREATE TABLE pending_authorizations (
    id           INTEGER PRIMARY KEY,
    handle_hash  BLOB NOT NULL UNIQUE,
    csrf_hash    BLOB NOT NULL,
    session_id   INTEGER NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    request_json TEXT NOT NULL,
    sub          TEXT REFERENCES users (sub) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_authorizations_by_expiry ON pending_authorizations (expires_at);
CREATE INDEX pending_authorizations_by_session ON pending_authorizations (session_id);

-- One row per failed sign-in, counted per key (account or address) over a window.
CREATE TABLE signin_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX signin_failures_by_key ON signin_failures (key, at);
