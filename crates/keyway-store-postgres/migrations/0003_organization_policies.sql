-- Organization policies: scopes and clients an organization's users may not authorize.
-- Space-separated lists (neither scopes nor client ids contain spaces).
ALTER TABLE organizations ADD COLUMN blocked_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN blocked_clients TEXT NOT NULL DEFAULT '';
