-- The last known state of the Procore records the compliance integration reads, so a sync can
-- ask Procore only for what changed and still plan over every record (an association ends when
-- no active commitment remains, which a partial read cannot tell from "unchanged").
CREATE TABLE procore_mirror (
    company_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    procore_id INTEGER NOT NULL,
    -- The record that holds this one: a commitment's project, a contact's company.
    scope      INTEGER,
    body       TEXT NOT NULL,
    PRIMARY KEY (company_id, kind, procore_id)
);
