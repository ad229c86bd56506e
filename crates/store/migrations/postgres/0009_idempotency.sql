-- The REST API's idempotency keys: a POST sent again with the same Idempotency-Key (after a
-- timeout, a dropped connection) gets the first answer instead of doing the work twice.
-- scope is a hash of the caller's credentials, so two callers' keys never meet; fingerprint
-- a hash of the request, so a key reused for another request is refused. status is NULL while
-- the first request runs. Keep this file and ../sqlite/0009_idempotency.sql alike.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    body         TEXT,
    created_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
