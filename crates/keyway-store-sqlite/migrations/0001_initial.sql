-- Keyway schema, version 1 (SQLite).
-- Times are Unix seconds (INTEGER). Secrets appear only as SHA-256 hashes (BLOB, 32 bytes).

CREATE TABLE users (
    sub            TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    domain     TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    app_name        TEXT NOT NULL,
    support_email   TEXT NOT NULL,
    logo_url        TEXT,
    user_type       TEXT NOT NULL CHECK (user_type IN ('external', 'internal')),
    organization_id INTEGER REFERENCES organizations (id),
    verification    TEXT NOT NULL CHECK (verification IN ('unverified', 'verified')),
    owned_domains   TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    CHECK ((user_type = 'internal') = (organization_id IS NOT NULL))
) STRICT;
CREATE INDEX projects_by_name ON projects (name);

CREATE TABLE clients (
    client_id          TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    client_type        TEXT NOT NULL DEFAULT 'web' CHECK (client_type = 'web'),
    redirect_uris      TEXT NOT NULL,  -- JSON array of exact strings
    javascript_origins TEXT NOT NULL,  -- JSON array
    enabled            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX clients_by_project ON clients (project_id);

CREATE TABLE client_secrets (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    hint        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

CREATE TABLE scopes (
    scope       TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('non-sensitive', 'sensitive', 'restricted'))
) STRICT;

CREATE TABLE grants (
    id           INTEGER PRIMARY KEY,
    sub          TEXT NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    UNIQUE (sub, project_id)
) STRICT;

-- One row per scope so that concurrent consents add scopes without losing any.
CREATE TABLE grant_scopes (
    grant_id INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scope    TEXT NOT NULL,
    PRIMARY KEY (grant_id, scope)
) STRICT, WITHOUT ROWID;

CREATE TABLE authorization_codes (
    id                    INTEGER PRIMARY KEY,
    code_hash             BLOB NOT NULL UNIQUE,
    grant_id              INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub                   TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    access_type           TEXT NOT NULL CHECK (access_type IN ('online', 'offline')),
    issue_refresh_token   INTEGER NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IN ('S256', 'plain')),
    nonce                 TEXT,
    auth_time             INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
) STRICT;
CREATE INDEX authorization_codes_by_grant ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

-- code_id has no foreign key: codes are purged after expiry, their tokens live on.
CREATE TABLE refresh_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    grant_id     INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub          TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    code_id      INTEGER,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_user_client ON refresh_tokens (sub, client_id, id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (sub, id);
CREATE INDEX refresh_tokens_by_code ON refresh_tokens (code_id) WHERE code_id IS NOT NULL;

CREATE TABLE access_tokens (
    id               INTEGER PRIMARY KEY,
    token_hash       BLOB NOT NULL UNIQUE,
    grant_id         INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub              TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    access_type      TEXT NOT NULL CHECK (access_type IN ('online', 'offline')),
    code_id          INTEGER,
    refresh_token_id INTEGER,
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_by_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_by_code ON access_tokens (code_id) WHERE code_id IS NOT NULL;
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE browser_sessions (
    id           INTEGER PRIMARY KEY,
    session_hash BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE session_accounts (
    session_id   INTEGER NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    sub          TEXT NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
    authuser     INTEGER NOT NULL,
    signed_in_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, sub),
    UNIQUE (session_id, authuser)
) STRICT;
CREATE INDEX session_accounts_by_user ON session_accounts (sub);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
