-- The web UI's sign-in sessions. A person signs in with an API token; the session then stands
-- for that token until it expires, the person signs out, or the token is revoked. Only a
-- SHA-256 of the session id (the cookie) is kept; csrf is the session's anti-forgery value,
-- which every form sends back. Keep this file and ../postgres/0012_ui_sessions.sql describing
-- the same table.
CREATE TABLE ui_sessions (
    id_hash    TEXT PRIMARY KEY,
    token_id   INTEGER NOT NULL REFERENCES api_tokens (id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX ui_sessions_token ON ui_sessions (token_id);
