-- trestle serve: the shared work queue, the webhook deliveries it is fed from, the Procore hook
-- registered per company, and each company's health. Keep this file and
-- ../postgres/0007_service.sql describing the same tables.

-- A job: generic work the store does not interpret (kind, lane and payload are the caller's).
-- lease_token is bumped by every claim, so a holder whose lease was taken can be told from the
-- new one; coalesced counts the enqueues a pending job absorbed (0 right after its insert,
-- which is how one upsert statement tells a new job from a coalesced one).
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id   INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    lane         TEXT NOT NULL,
    dedupe_key   TEXT,
    payload_json TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TEXT NOT NULL,
    last_error   TEXT,
    leased_by    TEXT,
    lease_until  TEXT,
    lease_token  INTEGER NOT NULL DEFAULT 0,
    coalesced    INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
-- One running job per company and lane, whichever process claims it.
CREATE UNIQUE INDEX jobs_one_running_per_lane ON jobs (company_id, lane) WHERE state = 'running';
-- One pending job per company and dedupe key: later enqueues coalesce into it.
CREATE UNIQUE INDEX jobs_one_pending_per_key ON jobs (company_id, dedupe_key) WHERE state = 'pending';
-- The claim order, each lane's queue (only its first due job is claimable), and the leases
-- that may have run out.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_lane_queue ON jobs (company_id, lane, run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_leases ON jobs (lease_until, id) WHERE state = 'running';
CREATE INDEX jobs_by_company ON jobs (company_id, id);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state = 'done';

-- Webhook deliveries as received, once per (company, event key): Procore may deliver an event
-- more than once.
CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id    INTEGER NOT NULL,
    event_key     TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    resource_id   INTEGER,
    project_id    INTEGER,
    body_json     TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    processed_at  TEXT,
    UNIQUE (company_id, event_key)
);
CREATE INDEX webhook_deliveries_unprocessed ON webhook_deliveries (company_id, id)
    WHERE processed_at IS NULL;
CREATE INDEX webhook_deliveries_processed ON webhook_deliveries (processed_at)
    WHERE processed_at IS NOT NULL;

-- The Procore webhook hook trestle registered for a company; the signing secret is sealed.
CREATE TABLE hook_records (
    company_id      INTEGER PRIMARY KEY,
    hook_id         INTEGER,
    destination_url TEXT NOT NULL,
    secret_sealed   TEXT NOT NULL,
    triggers_json   TEXT NOT NULL,
    checked_at      TEXT,
    updated_at      TEXT NOT NULL
);

-- What is wrong with a company's integration, per aspect, and what fixes it.
CREATE TABLE company_health (
    company_id INTEGER NOT NULL,
    aspect     TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('ok', 'degraded', 'failing')),
    problem    TEXT NOT NULL,
    remedy     TEXT NOT NULL,
    since      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, aspect)
);
