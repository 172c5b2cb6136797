-- Keyway schema, version 1 (PostgreSQL).
-- Times are Unix seconds (BIGINT). Secrets appear only as SHA-256 hashes (BYTEA, 32 bytes).
-- Applied by keyway-store-postgres inside one transaction holding the migration advisory lock.

CREATE TABLE users (
    sub            TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    email_verified BOOLEAN NOT NULL,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE organizations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain     TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    app_name        TEXT NOT NULL,
    support_email   TEXT NOT NULL,
    logo_url        TEXT,
    user_type       TEXT NOT NULL CHECK (user_type IN ('external', 'internal')),
    organization_id BIGINT REFERENCES organizations (id),
    verification    TEXT NOT NULL CHECK (verification IN ('unverified', 'verified')),
    owned_domains   TEXT[] NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    CHECK ((user_type = 'internal') = (organization_id IS NOT NULL))
);
CREATE INDEX projects_by_name ON projects (name);
CREATE INDEX projects_by_organization ON projects (organization_id) WHERE organization_id IS NOT NULL;

CREATE TABLE clients (
    client_id          TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    client_type        TEXT NOT NULL DEFAULT 'web' CHECK (client_type = 'web'),
    redirect_uris      TEXT[] NOT NULL,  -- exact strings
    javascript_origins TEXT[] NOT NULL,
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         BIGINT NOT NULL
);
CREATE INDEX clients_by_project ON clients (project_id);

CREATE TABLE client_secrets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    secret_hash BYTEA NOT NULL,
    hint        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

CREATE TABLE scopes (
    scope       TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('non-sensitive', 'sensitive', 'restricted'))
);

CREATE TABLE grants (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sub          TEXT NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    UNIQUE (sub, project_id)
);
CREATE INDEX grants_by_project ON grants (project_id);

-- One row per scope so that concurrent consents add scopes without losing any.
CREATE TABLE grant_scopes (
    grant_id BIGINT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scope    TEXT NOT NULL,
    PRIMARY KEY (grant_id, scope)
);

CREATE TABLE authorization_codes (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash             BYTEA NOT NULL UNIQUE,
    grant_id              BIGINT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub                   TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    access_type           TEXT NOT NULL CHECK (access_type IN ('online', 'offline')),
    issue_refresh_token   BOOLEAN NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IN ('S256', 'plain')),
    nonce                 TEXT,
    auth_time             BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    used_at               BIGINT
);
CREATE INDEX authorization_codes_by_grant ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_by_client ON authorization_codes (client_id);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

-- code_id has no foreign key: codes are purged after expiry, their tokens live on.
CREATE TABLE refresh_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    grant_id     BIGINT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub          TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    code_id      BIGINT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_by_user_client ON refresh_tokens (sub, client_id, id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (sub, id);
CREATE INDEX refresh_tokens_by_code ON refresh_tokens (code_id) WHERE code_id IS NOT NULL;

CREATE TABLE access_tokens (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash       BYTEA NOT NULL UNIQUE,
    grant_id         BIGINT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    sub              TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    access_type      TEXT NOT NULL CHECK (access_type IN ('online', 'offline')),
    code_id          BIGINT,
    refresh_token_id BIGINT,
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_by_client ON access_tokens (client_id);
CREATE INDEX access_tokens_by_code ON access_tokens (code_id) WHERE code_id IS NOT NULL;
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE browser_sessions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_hash BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX browser_sessions_by_expiry ON browser_sessions (expires_at);

CREATE TABLE session_accounts (
    session_id   BIGINT NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    sub          TEXT NOT NULL REFERENCES users (sub) ON DELETE CASCADE,
    authuser     INTEGER NOT NULL,
    signed_in_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, sub),
    UNIQUE (session_id, authuser)
);
CREATE INDEX session_accounts_by_user ON session_accounts (sub);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    public_key  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
