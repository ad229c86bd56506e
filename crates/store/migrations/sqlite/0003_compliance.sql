-- trestle store, schema 3, SQLite: the compliance app. trestle is the system of record for
-- compliance, so profiles, certificates and waivers live only here; parties, projects,
-- associations and contacts mirror Procore (their links are rows of `links`).
-- Nested domain records (profiles, certificates, waivers, insurance records, commitment ids) are
-- JSON TEXT: they are always read and written whole. Keep this file and
-- ../postgres/0003_compliance.sql describing the same tables.

CREATE TABLE compliance_profiles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id   INTEGER NOT NULL,
    name         TEXT NOT NULL,
    profile_json TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE compliance_parties (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       INTEGER NOT NULL,
    name             TEXT NOT NULL,
    address          TEXT,
    website          TEXT,
    active           INTEGER NOT NULL,
    procore_vendor_id INTEGER,
    profile_id       INTEGER REFERENCES compliance_profiles (id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX compliance_parties_by_company ON compliance_parties (company_id);

CREATE TABLE compliance_projects (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id         INTEGER NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    start_date         TEXT,
    completion_date    TEXT,
    active             INTEGER NOT NULL,
    procore_project_id INTEGER,
    custom_fields_json TEXT NOT NULL DEFAULT '{}',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX compliance_projects_by_company ON compliance_projects (company_id);

CREATE TABLE compliance_party_projects (
    company_id                  INTEGER NOT NULL,
    party_id                    INTEGER NOT NULL REFERENCES compliance_parties (id),
    project_id                  INTEGER NOT NULL REFERENCES compliance_projects (id),
    profile_id                  INTEGER REFERENCES compliance_profiles (id),
    active                      INTEGER NOT NULL,
    procore_commitment_ids_json TEXT NOT NULL DEFAULT '[]',
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    PRIMARY KEY (party_id, project_id)
);
CREATE INDEX compliance_party_projects_by_company ON compliance_party_projects (company_id);

CREATE TABLE compliance_contacts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id         INTEGER NOT NULL,
    party_id           INTEGER NOT NULL REFERENCES compliance_parties (id),
    first_name         TEXT,
    last_name          TEXT,
    email              TEXT,
    phone              TEXT,
    fax                TEXT,
    is_primary         INTEGER NOT NULL,
    procore_contact_id INTEGER,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX compliance_contacts_by_company ON compliance_contacts (company_id);

CREATE TABLE compliance_certificates (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       INTEGER NOT NULL,
    party_id         INTEGER NOT NULL REFERENCES compliance_parties (id),
    certificate_json TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX compliance_certificates_by_company ON compliance_certificates (company_id);

CREATE TABLE compliance_waivers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL,
    party_id    INTEGER NOT NULL REFERENCES compliance_parties (id),
    waiver_json TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX compliance_waivers_by_company ON compliance_waivers (company_id);

-- What an administrator (or auto-import) decided about each Procore project or company, so a
-- "Do not add" survives every later sync.
CREATE TABLE procore_mappings (
    company_id  INTEGER NOT NULL,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('project', 'company')),
    procore_id  INTEGER NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('undecided', 'import', 'link_to', 'do_not_add')),
    local_id    INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (company_id, record_kind, procore_id),
    CHECK ((decision = 'link_to') = (local_id IS NOT NULL))
);

-- The last insurance record trestle wrote to Procore per origin id, so a later sync can tell
-- "nothing changed since the write on DATE" without asking Procore.
CREATE TABLE insurance_writes (
    company_id           INTEGER NOT NULL,
    origin_id            TEXT NOT NULL,
    record_json          TEXT NOT NULL,
    fingerprint          TEXT NOT NULL,
    procore_insurance_id INTEGER,
    written_at           TEXT NOT NULL,
    PRIMARY KEY (company_id, origin_id)
);

-- The compliance integration's settings per company; the typed form lives in the sync crate.
CREATE TABLE compliance_settings (
    company_id    INTEGER PRIMARY KEY,
    settings_json TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
