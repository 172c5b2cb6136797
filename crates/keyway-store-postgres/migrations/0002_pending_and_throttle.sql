-- Keyway schema, version 2 (PostgreSQL): pending authorization requests and sign-in failures.
-- Times are Unix seconds (BIGINT). Secrets appear only as SHA-256 hashes (BYTEA, 32 bytes).
-- Applied by keyway-store-postgres inside one transaction holding the migration advisory lock.

-- The server-side state of one sign-in/consent flow. It belongs to a browser session: signing
-- out or the session's expiry ends the flow with it.
CREATE TABLE pending_authorizations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handle_hash  BYTEA NOT NULL UNIQUE,
    csrf_hash    BYTEA NOT NULL,
    session_id   BIGINT NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    request_json TEXT NOT NULL,
    sub          TEXT REFERENCES users (sub) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX pending_authorizations_by_expiry ON pending_authorizations (expires_at);
CREATE INDEX pending_authorizations_by_session ON pending_authorizations (session_id);

-- One row per failed sign-in, counted per key (account or address) over a window.
CREATE TABLE signin_failures (
    id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures (key, at);
