-- The REST API's tokens. Only a SHA-256 of each token is kept (the token is shown once, when
-- made); prefix is its first characters, so a person can tell tokens apart in a list. A worker
-- token belongs to one worker of one company; admin and read-only tokens to the deployment.
-- Revoked tokens stay, with when, so a list shows what was cut off. Keep this file and
-- ../postgres/0008_api_tokens.sql describing the same table.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('admin', 'read-only', 'worker')),
    company_id   INTEGER,
    worker_id    INTEGER,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    CHECK ((scope = 'worker') = (company_id IS NOT NULL AND worker_id IS NOT NULL))
);
