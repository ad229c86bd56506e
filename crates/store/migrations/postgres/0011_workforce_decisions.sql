-- The workforce app's side of a clash: a Procore project or user the sync left alone because
-- an unlinked app record already has its number, name or email waits here, with what Procore
-- sent, until an administrator links it, imports it or ignores it (workforce_decisions; a link
-- is a row of links). A worker an administrator blocked stays blocked whatever Procore says.
-- A form template is versioned: changing it makes a new template that replaces it, and the
-- submissions filled on the old one keep it.
-- Keep this file and ../sqlite/0010_workforce_decisions.sql alike.
ALTER TABLE workers ADD COLUMN blocked_by_admin BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE workforce_waiting (
    company_id   BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    procore_id   BIGINT NOT NULL,
    record_json  TEXT NOT NULL,
    reason_json  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    seen_at      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (company_id, kind, procore_id)
);

CREATE TABLE workforce_decisions (
    company_id   BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    procore_id   BIGINT NOT NULL,
    decision     TEXT NOT NULL,
    decided_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (company_id, kind, procore_id)
);

ALTER TABLE form_templates ADD COLUMN replaced_by BIGINT;
