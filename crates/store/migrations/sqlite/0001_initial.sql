-- trestle store, schema 1, SQLite.
-- Timestamps are TEXT in one fixed UTC format (YYYY-MM-DDTHH:MM:SS.fffffffffZ) so they sort as
-- text; flags are INTEGER 0/1; JSON is TEXT. Keep this file and ../postgres/0001_initial.sql
-- describing the same tables.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE connections (
    company_id            INTEGER PRIMARY KEY,
    client_id             TEXT NOT NULL,
    client_secret_sealed  TEXT NOT NULL,
    sync_employees_only   INTEGER NOT NULL,
    auto_activate_workers INTEGER NOT NULL,
    sync_forms            INTEGER NOT NULL,
    forms_folder          TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE TABLE procore_tokens (
    company_id    INTEGER PRIMARY KEY,
    tokens_sealed TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE projects (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id          INTEGER NOT NULL,
    name                TEXT NOT NULL,
    project_number      TEXT,
    private_description TEXT,
    public_info         TEXT,
    street_address      TEXT,
    city                TEXT,
    state               TEXT,
    zip                 TEXT,
    country             TEXT,
    status              TEXT NOT NULL CHECK (status IN ('Active', 'Upcoming', 'Completed')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX projects_by_company ON projects (company_id);

CREATE TABLE workers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id      INTEGER NOT NULL,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    phone           TEXT,
    employee_number TEXT,
    email           TEXT,
    activation      TEXT NOT NULL CHECK (activation IN ('PendingAccountActivation',
                        'PendingEmailVerification', 'Active', 'ActiveForKiosk')),
    blocked         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX workers_by_company ON workers (company_id);

CREATE TABLE form_templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id    INTEGER NOT NULL,
    name          TEXT NOT NULL,
    sections_json TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX form_templates_by_company ON form_templates (company_id);

CREATE TABLE form_submissions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id     INTEGER NOT NULL REFERENCES form_templates (id),
    project_id      INTEGER NOT NULL REFERENCES projects (id),
    form_date       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('Draft', 'Completed')),
    answers_json    TEXT NOT NULL,
    signatures_json TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    completed_at    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX form_submissions_by_project ON form_submissions (project_id);

CREATE TABLE links (
    company_id        INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    procore_id        INTEGER NOT NULL,
    local_id          INTEGER NOT NULL,
    local_key         TEXT NOT NULL DEFAULT '',
    origin            TEXT NOT NULL CHECK (origin IN ('created_from_procore', 'linked_manually',
                          'created_in_procore')),
    uploaded_revision INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (company_id, kind, procore_id),
    UNIQUE (company_id, kind, local_id, local_key)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id      INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload_json    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    available_at    TEXT NOT NULL,
    last_error      TEXT,
    result_json     TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX outbox_claimable ON outbox (state, available_at, id);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id   INTEGER NOT NULL,
    integration  TEXT NOT NULL,
    dry_run      INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    summary_json TEXT
);
CREATE INDEX runs_by_company ON runs (company_id, id);

CREATE TABLE run_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    kind        TEXT NOT NULL,
    procore_id  INTEGER,
    local_id    INTEGER,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail_json TEXT,
    outcome     TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX run_entries_by_subject ON run_entries (kind, procore_id, id);
CREATE INDEX run_entries_by_run ON run_entries (run_id, id);

CREATE TABLE sync_cursors (
    company_id INTEGER NOT NULL,
    collection TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, collection)
);
