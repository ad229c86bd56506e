//! The compliance app's records: parties, projects, party-project associations and contacts
//! (mirrored from Procore), compliance profiles, certificates and waivers (trestle is their
//! system of record), the decisions about which Procore records to bring in, the insurance
//! records trestle last wrote, the integration's settings, and [`Store::apply_compliance`], the
//! one-transaction apply of a compliance plan.
//!
//! Profiles, certificates and waivers are stored whole as JSON in the domain types' own serde
//! form (the import format): they are always read and written whole, never queried inside, and
//! one serde form means the CLI, the import file and the store cannot drift apart. Their row's
//! id and party are the truth; the copies inside the JSON are overwritten on read.

use crate::db::{flag, int, now, opt_int, opt_text, parse_date, text, timestamp, ts};
use crate::links::{self, insert_link_if_absent, linked_local_id};
use crate::models::{
    CompanyId, CursorUpdate, Link, LinkKind, LinkOrigin, NewOutboxItem, RunEntry, RunId,
};
use crate::{outbox, runlog, settings, Backend, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::compliance::{
    AppliesTo, Certificate, CertificateId, ComplianceData, ComplianceProfile, Contact, ContactId,
    InsuranceRecord, Party, PartyId, PartyProject, ProfileId, Project, ProjectId, Waiver, WaiverId,
    WaiverScope, WaiverTarget, FORMAT_VERSION,
};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A compliance project's custom fields (Procore's project number, total value, ...), by name.
///
/// Kept beside [`Project`] rather than in it because evaluation never reads them; they are
/// text so a money amount keeps every digit.
pub type CustomFields = BTreeMap<String, String>;

/// A compliance project with its custom fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceProjectRecord {
    pub project: Project,
    pub custom_fields: CustomFields,
}

/// How a change names a party or project it needs: by id, by the Procore id it is linked to,
/// or as the record an earlier create of the same batch made (its index in
/// [`ComplianceBatch::changes`]), whose id the caller cannot know beforehand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ref<I> {
    Id(I),
    Procore(i64),
    Created(usize),
}

/// One change to the compliance records that an apply writes.
///
/// A create's record id (and a contact's `party_id`) is ignored: the store assigns ids. A
/// create links the record's Procore id (`procore_vendor_id`, `procore_project_id`,
/// `procore_contact_id`) when it has one; if that Procore id is already linked nothing is
/// written and the linked id is returned, so applying a plan twice is harmless. Updates
/// replace every field with what is given, except a party's profile (see
/// [`ComplianceChange::UpdateParty`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplianceChange {
    CreateParty {
        party: Party,
    },
    /// Writes the party's Procore-owned columns (name, address, website, active, Procore
    /// company); its `profile_id` is ignored and the stored one kept, as the profile is a
    /// person's (see [`Store::set_party_profile`]).
    UpdateParty {
        party: Party,
    },
    CreateProject {
        project: Project,
        custom_fields: CustomFields,
    },
    UpdateProject {
        project: Project,
        custom_fields: CustomFields,
    },
    /// Creates or replaces the association of a party and a project (one per pair). A
    /// `profile_id` of `None` keeps the association's stored profile: a sync sets one only
    /// when a commitment names it, and must not undo one a person set after it read the
    /// association.
    SetPartyProject {
        party: Ref<PartyId>,
        project: Ref<ProjectId>,
        profile_id: Option<ProfileId>,
        active: bool,
        procore_commitment_ids: Vec<i64>,
    },
    CreateContact {
        party: Ref<PartyId>,
        contact: Contact,
    },
    /// Replaces a contact's fields; its party stays.
    UpdateContact {
        contact: Contact,
    },
}

/// The two kinds of Procore record a person decides about before they reach the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProcoreRecordKind {
    Project,
    /// A company of the Procore directory (a vendor): a party.
    Company,
}

impl ProcoreRecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcoreRecordKind::Project => "project",
            ProcoreRecordKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ProcoreRecordKind::Project, ProcoreRecordKind::Company]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What to do with a Procore project or company (TrustLayer's mapping screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingDecision {
    /// Seen, nobody decided yet.
    Undecided,
    /// Bring it in as a new party or project.
    Import,
    /// It is this existing party or project (the local id).
    LinkTo(i64),
    /// Ignore it for good: a sync never brings it back.
    DoNotAdd,
}

impl MappingDecision {
    fn as_str(self) -> &'static str {
        match self {
            MappingDecision::Undecided => "undecided",
            MappingDecision::Import => "import",
            MappingDecision::LinkTo(_) => "link_to",
            MappingDecision::DoNotAdd => "do_not_add",
        }
    }

    fn local_id(self) -> Option<i64> {
        match self {
            MappingDecision::LinkTo(id) => Some(id),
            _ => None,
        }
    }
}

/// A stored mapping decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcoreMapping {
    pub company_id: CompanyId,
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A mapping decision to write in an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingWrite {
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
    /// Write only when the record has no decision yet: how a sync records a newly seen record
    /// (as undecided, or import under auto-import) without overruling a person's decision,
    /// "Do not add" above all.
    pub keep_existing: bool,
}

/// An insurance record trestle has written (or is writing) to Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuranceWrite {
    /// Its `origin_id` is the key.
    pub record: InsuranceRecord,
    /// `None` keeps the id already stored: Procore's id is only known once a create answered.
    pub procore_insurance_id: Option<i64>,
    pub written_at: DateTime<Utc>,
    /// Where it was written: the Procore company, and the project for a project-level record.
    pub procore_vendor_id: Option<i64>,
    pub procore_project_id: Option<i64>,
}

/// The last insurance record written for one origin id, so a later sync can say "nothing
/// changed since the write on DATE" without asking Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuranceWriteState {
    pub company_id: CompanyId,
    pub origin_id: String,
    pub record: InsuranceRecord,
    /// `record.status_fingerprint()` as text when it was written.
    pub fingerprint: String,
    pub procore_insurance_id: Option<i64>,
    pub written_at: DateTime<Utc>,
    /// Where it was written; `None` for writes recorded before trestle kept it.
    pub procore_vendor_id: Option<i64>,
    pub procore_project_id: Option<i64>,
}

/// Everything one compliance apply writes in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplianceBatch<'a> {
    pub company_id: CompanyId,
    /// The run whose log receives `log`; no log is written without one.
    pub run: Option<RunId>,
    pub changes: &'a [ComplianceChange],
    pub mappings: &'a [MappingWrite],
    /// Insurance writes to Procore, for the drain.
    pub outbox: &'a [NewOutboxItem],
    pub insurance_writes: &'a [InsuranceWrite],
    pub cursors: &'a [CursorUpdate],
    pub log: &'a [RunEntry],
}

fn to_json<T: serde::Serialize + ?Sized>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

fn opt_date(row: &AnyRow, what: &'static str, col: &str) -> Result<Option<NaiveDate>> {
    opt_text(row, col)?
        .map(|s| parse_date(what, &s))
        .transpose()
}

fn not_found(what: &'static str, id: i64, company: CompanyId) -> StoreError {
    StoreError::NotFound {
        what,
        id: format!("{id} of company {company}"),
    }
}

// ---- rows ----

fn party_from_row(row: &AnyRow) -> Result<Party> {
    Ok(Party {
        id: PartyId(int(row, "id")?),
        name: text(row, "name")?,
        address: opt_text(row, "address")?,
        website: opt_text(row, "website")?,
        active: flag(row, "active")?,
        procore_vendor_id: opt_int(row, "procore_vendor_id")?,
        profile_id: opt_int(row, "profile_id")?.map(ProfileId),
    })
}

fn project_from_row(row: &AnyRow) -> Result<ComplianceProjectRecord> {
    Ok(ComplianceProjectRecord {
        project: Project {
            id: ProjectId(int(row, "id")?),
            name: text(row, "name")?,
            description: opt_text(row, "description")?,
            start_date: opt_date(row, "project start date", "start_date")?,
            completion_date: opt_date(row, "project completion date", "completion_date")?,
            active: flag(row, "active")?,
            procore_project_id: opt_int(row, "procore_project_id")?,
        },
        custom_fields: from_json("project custom fields", &text(row, "custom_fields_json")?)?,
    })
}

fn party_project_from_row(row: &AnyRow) -> Result<PartyProject> {
    Ok(PartyProject {
        party_id: PartyId(int(row, "party_id")?),
        project_id: ProjectId(int(row, "project_id")?),
        profile_id: opt_int(row, "profile_id")?.map(ProfileId),
        active: flag(row, "active")?,
        procore_commitment_ids: from_json(
            "commitment ids",
            &text(row, "procore_commitment_ids_json")?,
        )?,
    })
}

fn contact_from_row(row: &AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: ContactId(int(row, "id")?),
        party_id: PartyId(int(row, "party_id")?),
        first_name: opt_text(row, "first_name")?,
        last_name: opt_text(row, "last_name")?,
        email: opt_text(row, "email")?,
        phone: opt_text(row, "phone")?,
        fax: opt_text(row, "fax")?,
        primary: flag(row, "is_primary")?,
        procore_contact_id: opt_int(row, "procore_contact_id")?,
    })
}

fn profile_from_row(row: &AnyRow) -> Result<ComplianceProfile> {
    let mut p: ComplianceProfile = from_json("compliance profile", &text(row, "profile_json")?)?;
    p.id = ProfileId(int(row, "id")?);
    p.name = text(row, "name")?;
    Ok(p)
}

fn certificate_from_row(row: &AnyRow) -> Result<Certificate> {
    let mut c: Certificate = from_json("certificate", &text(row, "certificate_json")?)?;
    c.id = CertificateId(int(row, "id")?);
    c.party_id = PartyId(int(row, "party_id")?);
    Ok(c)
}

fn waiver_from_row(row: &AnyRow) -> Result<Waiver> {
    let mut w: Waiver = from_json("waiver", &text(row, "waiver_json")?)?;
    w.id = WaiverId(int(row, "id")?);
    w.party_id = PartyId(int(row, "party_id")?);
    Ok(w)
}

fn mapping_from_row(row: &AnyRow) -> Result<ProcoreMapping> {
    let kind = text(row, "record_kind")?;
    let decision = text(row, "decision")?;
    let local_id = opt_int(row, "local_id")?;
    let decision = match (decision.as_str(), local_id) {
        ("undecided", None) => MappingDecision::Undecided,
        ("import", None) => MappingDecision::Import,
        ("link_to", Some(id)) => MappingDecision::LinkTo(id),
        ("do_not_add", None) => MappingDecision::DoNotAdd,
        _ => {
            return Err(StoreError::Corrupt {
                what: "Procore mapping",
                detail: format!("decision \"{decision}\" with local id {local_id:?}"),
            })
        }
    };
    Ok(ProcoreMapping {
        company_id: int(row, "company_id")?,
        kind: ProcoreRecordKind::parse(&kind).ok_or(StoreError::Corrupt {
            what: "Procore mapping kind",
            detail: kind,
        })?,
        procore_id: int(row, "procore_id")?,
        decision,
        created_at: timestamp(row, "mapping time", "created_at")?,
        updated_at: timestamp(row, "mapping time", "updated_at")?,
    })
}

fn insurance_write_from_row(row: &AnyRow) -> Result<InsuranceWriteState> {
    Ok(InsuranceWriteState {
        company_id: int(row, "company_id")?,
        origin_id: text(row, "origin_id")?,
        record: from_json("insurance record", &text(row, "record_json")?)?,
        fingerprint: text(row, "fingerprint")?,
        procore_insurance_id: opt_int(row, "procore_insurance_id")?,
        written_at: timestamp(row, "insurance write time", "written_at")?,
        procore_vendor_id: opt_int(row, "procore_vendor_id")?,
        procore_project_id: opt_int(row, "procore_project_id")?,
    })
}

// ---- writes, on a connection so the apply and the single calls share them ----

/// Fails with [`StoreError::NotFound`] unless the company has record `id` in `table`: ids are
/// global, so a change or a certificate must not reach another company's record.
async fn ensure(
    conn: &mut AnyConnection,
    company: CompanyId,
    table: Created,
    id: i64,
) -> Result<()> {
    let sql = match table {
        Created::Party => "SELECT id FROM compliance_parties WHERE id = $1 AND company_id = $2",
        Created::Project => "SELECT id FROM compliance_projects WHERE id = $1 AND company_id = $2",
        Created::Contact => "SELECT id FROM compliance_contacts WHERE id = $1 AND company_id = $2",
    };
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(id)
        .bind(company)
        .fetch_optional(&mut *conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| not_found(table.what(), id, company))
}

async fn ensure_party(conn: &mut AnyConnection, company: CompanyId, id: PartyId) -> Result<()> {
    ensure(conn, company, Created::Party, id.0).await
}

async fn insert_party(conn: &mut AnyConnection, company: CompanyId, p: &Party) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_parties (company_id, name, address, website, active, procore_vendor_id, \
         profile_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(company)
    .bind(&p.name)
    .bind(&p.address)
    .bind(&p.website)
    .bind(p.active)
    .bind(p.procore_vendor_id)
    .bind(p.profile_id.map(|id| id.0))
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_party(conn: &mut AnyConnection, company: CompanyId, p: &Party) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_parties SET name = $3, address = $4, website = $5, active = $6, \
         procore_vendor_id = $7, profile_id = $8, updated_at = $9 WHERE id = $1 AND company_id = $2",
    )
    .bind(p.id.0)
    .bind(company)
    .bind(&p.name)
    .bind(&p.address)
    .bind(&p.website)
    .bind(p.active)
    .bind(p.procore_vendor_id)
    .bind(p.profile_id.map(|id| id.0))
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("party", p.id.0, company));
    }
    relink(conn, company, Created::Party, p.id.0, p.procore_vendor_id).await
}

/// A sync's update of a party: only the columns Procore owns (name, address, website, active
/// status, and which Procore company it stands for). The profile is a person's: a sync reads
/// the party at its start and applies minutes (hours, under rate limits) later, so writing the
/// whole row would undo a profile set in between.
async fn update_party_from_procore(
    conn: &mut AnyConnection,
    company: CompanyId,
    p: &Party,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_parties SET name = $3, address = $4, website = $5, active = $6, \
         procore_vendor_id = $7, updated_at = $8 WHERE id = $1 AND company_id = $2",
    )
    .bind(p.id.0)
    .bind(company)
    .bind(&p.name)
    .bind(&p.address)
    .bind(&p.website)
    .bind(p.active)
    .bind(p.procore_vendor_id)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("party", p.id.0, company));
    }
    relink(conn, company, Created::Party, p.id.0, p.procore_vendor_id).await
}

async fn insert_project(
    conn: &mut AnyConnection,
    company: CompanyId,
    p: &Project,
    custom_fields: &CustomFields,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_projects (company_id, name, description, start_date, completion_date, \
         active, procore_project_id, custom_fields_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(company)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.start_date.map(|d| d.to_string()))
    .bind(p.completion_date.map(|d| d.to_string()))
    .bind(p.active)
    .bind(p.procore_project_id)
    .bind(to_json("project custom fields", custom_fields)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_project(
    conn: &mut AnyConnection,
    company: CompanyId,
    p: &Project,
    custom_fields: &CustomFields,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_projects SET name = $3, description = $4, start_date = $5, completion_date = $6, \
         active = $7, procore_project_id = $8, custom_fields_json = $9, updated_at = $10 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(p.id.0)
    .bind(company)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.start_date.map(|d| d.to_string()))
    .bind(p.completion_date.map(|d| d.to_string()))
    .bind(p.active)
    .bind(p.procore_project_id)
    .bind(to_json("project custom fields", custom_fields)?)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("compliance project", p.id.0, company));
    }
    relink(
        conn,
        company,
        Created::Project,
        p.id.0,
        p.procore_project_id,
    )
    .await
}

/// Whether [`set_party_project`] replaces the stored profile with none, or keeps it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NoProfile {
    Clears,
    Keeps,
}

async fn set_party_project(
    conn: &mut AnyConnection,
    company: CompanyId,
    pp: &PartyProject,
    no_profile: NoProfile,
) -> Result<()> {
    let sql = match no_profile {
        NoProfile::Clears => {
            "INSERT INTO compliance_party_projects (company_id, party_id, project_id, profile_id, active, \
             procore_commitment_ids_json, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (party_id, project_id) DO UPDATE SET profile_id = excluded.profile_id, \
             active = excluded.active, procore_commitment_ids_json = excluded.procore_commitment_ids_json, \
             updated_at = excluded.updated_at"
        }
        NoProfile::Keeps => {
            "INSERT INTO compliance_party_projects (company_id, party_id, project_id, profile_id, active, \
             procore_commitment_ids_json, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (party_id, project_id) DO UPDATE SET \
             profile_id = COALESCE(excluded.profile_id, compliance_party_projects.profile_id), \
             active = excluded.active, procore_commitment_ids_json = excluded.procore_commitment_ids_json, \
             updated_at = excluded.updated_at"
        }
    };
    sqlx::query(sql)
        .bind(company)
        .bind(pp.party_id.0)
        .bind(pp.project_id.0)
        .bind(pp.profile_id.map(|id| id.0))
        .bind(pp.active)
        .bind(to_json("commitment ids", &pp.procore_commitment_ids)?)
        .bind(now())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_contact(
    conn: &mut AnyConnection,
    company: CompanyId,
    party: PartyId,
    c: &Contact,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_contacts (company_id, party_id, first_name, last_name, email, phone, fax, \
         is_primary, procore_contact_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(company)
    .bind(party.0)
    .bind(&c.first_name)
    .bind(&c.last_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.fax)
    .bind(c.primary)
    .bind(c.procore_contact_id)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_contact(conn: &mut AnyConnection, company: CompanyId, c: &Contact) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_contacts SET first_name = $3, last_name = $4, email = $5, phone = $6, fax = $7, \
         is_primary = $8, procore_contact_id = $9, updated_at = $10 WHERE id = $1 AND company_id = $2",
    )
    .bind(c.id.0)
    .bind(company)
    .bind(&c.first_name)
    .bind(&c.last_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.fax)
    .bind(c.primary)
    .bind(c.procore_contact_id)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("contact", c.id.0, company));
    }
    relink(
        conn,
        company,
        Created::Contact,
        c.id.0,
        c.procore_contact_id,
    )
    .await
}

/// A mapping write that overrules what is stored, and one that only fills a gap.
const MAPPING_UPSERT: &str =
    "INSERT INTO procore_mappings (company_id, record_kind, procore_id, decision, \
     local_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
     ON CONFLICT (company_id, record_kind, procore_id) DO UPDATE SET decision = excluded.decision, \
     local_id = excluded.local_id, updated_at = excluded.updated_at";
const MAPPING_INSERT_IF_ABSENT: &str =
    "INSERT INTO procore_mappings (company_id, record_kind, procore_id, \
     decision, local_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
     ON CONFLICT (company_id, record_kind, procore_id) DO NOTHING";

async fn write_mapping(
    conn: &mut AnyConnection,
    company: CompanyId,
    m: &MappingWrite,
) -> Result<()> {
    let sql = if m.keep_existing {
        MAPPING_INSERT_IF_ABSENT
    } else {
        MAPPING_UPSERT
    };
    sqlx::query(sql)
        .bind(company)
        .bind(m.kind.as_str())
        .bind(m.procore_id)
        .bind(m.decision.as_str())
        .bind(m.decision.local_id())
        .bind(now())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn write_insurance(
    conn: &mut AnyConnection,
    company: CompanyId,
    w: &InsuranceWrite,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO insurance_writes (company_id, origin_id, record_json, fingerprint, procore_insurance_id, \
         written_at, procore_vendor_id, procore_project_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (company_id, origin_id) DO UPDATE SET \
         record_json = excluded.record_json, fingerprint = excluded.fingerprint, \
         procore_insurance_id = COALESCE(excluded.procore_insurance_id, insurance_writes.procore_insurance_id), \
         written_at = excluded.written_at, procore_vendor_id = excluded.procore_vendor_id, \
         procore_project_id = excluded.procore_project_id",
    )
    .bind(company)
    .bind(&w.record.origin_id)
    .bind(to_json("insurance record", &w.record)?)
    .bind(w.record.status_fingerprint().to_string())
    .bind(w.procore_insurance_id)
    .bind(ts(w.written_at))
    .bind(w.procore_vendor_id)
    .bind(w.procore_project_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which table a created record lives in, so a lost link race can remove the spare row.
#[derive(Clone, Copy)]
enum Created {
    Party,
    Project,
    Contact,
}

impl Created {
    fn what(self) -> &'static str {
        match self {
            Created::Party => "party",
            Created::Project => "compliance project",
            Created::Contact => "contact",
        }
    }

    fn kind(self) -> LinkKind {
        match self {
            Created::Party => LinkKind::Party,
            Created::Project => LinkKind::ComplianceProject,
            Created::Contact => LinkKind::Contact,
        }
    }
}

/// Resolves a [`Ref`] to a local id of the company; `created` holds the batch's creates so far.
async fn resolve(
    conn: &mut AnyConnection,
    company: CompanyId,
    table: Created,
    r: Ref<i64>,
    created: &[(usize, i64)],
    kinds: &[Option<Created>],
) -> Result<i64> {
    let what = table.what();
    match r {
        Ref::Id(id) => {
            ensure(conn, company, table, id).await?;
            Ok(id)
        }
        Ref::Procore(procore_id) => linked_local_id(conn, company, table.kind(), procore_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what,
                id: format!("linked to Procore id {procore_id} in company {company}"),
            }),
        Ref::Created(index) => {
            let same_kind = kinds
                .get(index)
                .copied()
                .flatten()
                .is_some_and(|k| k.kind() == table.kind());
            created
                .iter()
                .find(|(i, _)| *i == index)
                .filter(|_| same_kind)
                .map(|(_, id)| *id)
                .ok_or_else(|| StoreError::NotFound {
                    what,
                    id: format!(
                        "created by change {index} of the batch (an earlier create of a {what})"
                    ),
                })
        }
    }
}

fn party_ref(r: Ref<PartyId>) -> Ref<i64> {
    match r {
        Ref::Id(id) => Ref::Id(id.0),
        Ref::Procore(p) => Ref::Procore(p),
        Ref::Created(i) => Ref::Created(i),
    }
}

fn project_ref(r: Ref<ProjectId>) -> Ref<i64> {
    match r {
        Ref::Id(id) => Ref::Id(id.0),
        Ref::Procore(p) => Ref::Procore(p),
        Ref::Created(i) => Ref::Created(i),
    }
}

/// Keeps `links` in step with the Procore id an updated record carries: a link made, moved or
/// dropped by an update moves the link row with it, so a later create finds (or no longer
/// finds) the record through its link as the record itself says.
///
/// A Procore record linked to another local record that still names it is a
/// [`StoreError::Conflict`]: the caller unlinks that one first (as a "Link" mapping does). A
/// link left by a record that no longer names it (written before links followed updates) is
/// taken over.
async fn relink(
    conn: &mut AnyConnection,
    company: CompanyId,
    table: Created,
    local_id: i64,
    procore_id: Option<i64>,
) -> Result<()> {
    let kind = table.kind();
    let stale = sqlx::query("DELETE FROM links WHERE company_id = $1 AND kind = $2 AND local_id = $3 AND procore_id <> $4");
    match procore_id {
        Some(procore_id) => stale
            .bind(company)
            .bind(kind.as_str())
            .bind(local_id)
            .bind(procore_id),
        None => {
            sqlx::query("DELETE FROM links WHERE company_id = $1 AND kind = $2 AND local_id = $3")
                .bind(company)
                .bind(kind.as_str())
                .bind(local_id)
        }
    }
    .execute(&mut *conn)
    .await?;
    let Some(procore_id) = procore_id else {
        return Ok(());
    };
    match linked_local_id(conn, company, kind, procore_id).await? {
        Some(id) if id == local_id => Ok(()),
        Some(other) => {
            let column = match table {
                Created::Party => "SELECT procore_vendor_id FROM compliance_parties WHERE id = $1",
                Created::Project => {
                    "SELECT procore_project_id FROM compliance_projects WHERE id = $1"
                }
                Created::Contact => {
                    "SELECT procore_contact_id FROM compliance_contacts WHERE id = $1"
                }
            };
            let named: Option<Option<i64>> = sqlx::query_scalar(column)
                .bind(other)
                .fetch_optional(&mut *conn)
                .await?;
            if named.flatten() == Some(procore_id) {
                return Err(StoreError::Conflict(format!(
                    "Procore {} {procore_id} is already linked to {} {other}; unlink that one first",
                    kind.as_str(),
                    table.what()
                )));
            }
            sqlx::query(
                "DELETE FROM links WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
            )
            .bind(company)
            .bind(kind.as_str())
            .bind(procore_id)
            .execute(&mut *conn)
            .await?;
            let link = Link::new(
                company,
                kind,
                procore_id,
                local_id,
                LinkOrigin::LinkedManually,
            );
            insert_link_if_absent(conn, &link).await?;
            Ok(())
        }
        None => {
            let link = Link::new(
                company,
                kind,
                procore_id,
                local_id,
                LinkOrigin::LinkedManually,
            );
            insert_link_if_absent(conn, &link).await?;
            Ok(())
        }
    }
}

/// Inserts a record unless its Procore id is linked already, then links it; a record without
/// a Procore id is simply inserted.
async fn create_linked(
    conn: &mut AnyConnection,
    company: CompanyId,
    table: Created,
    procore_id: Option<i64>,
    insert: impl AsyncFnOnce(&mut AnyConnection) -> Result<i64>,
) -> Result<i64> {
    match procore_id {
        Some(procore_id) => {
            let delete_spare = match table {
                Created::Party => "DELETE FROM compliance_parties WHERE id = $1",
                Created::Project => "DELETE FROM compliance_projects WHERE id = $1",
                Created::Contact => "DELETE FROM compliance_contacts WHERE id = $1",
            };
            links::create_linked(
                conn,
                company,
                table.kind(),
                delete_spare,
                procore_id,
                insert,
            )
            .await
        }
        None => insert(conn).await,
    }
}

// ---- profiles, certificates and waivers ----

async fn upsert_profile_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    profile: &ComplianceProfile,
) -> Result<ProfileId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO compliance_profiles (company_id, name, profile_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (company_id, name) DO UPDATE SET \
         profile_json = excluded.profile_json, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(company)
    .bind(&profile.name)
    .bind(to_json("compliance profile", profile)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(ProfileId(id))
}

/// What makes two certificates the same paper: the party and the numbers of its policies,
/// compared without case or surrounding spaces. The import format has no key of its own, and
/// these are the numbers a person reads off the ACORD form, so re-entering the same form finds
/// the stored one whatever its dates, limits or projects say now.
fn certificate_key(c: &Certificate) -> (PartyId, BTreeSet<String>) {
    let numbers = c
        .policies
        .iter()
        .map(|p| p.policy_number.trim().to_uppercase())
        .collect();
    (c.party_id, numbers)
}

/// What makes two waivers the same decision: the party, where it applies and what it covers.
/// Its kind, reason and end date are what a person changes about that decision.
fn waiver_key(w: &Waiver) -> (PartyId, WaiverScope, &WaiverTarget) {
    (w.party_id, w.scope, &w.target)
}

/// The policy numbers of a key as a reader lists them.
fn numbers(key: &BTreeSet<String>) -> String {
    key.iter().cloned().collect::<Vec<_>>().join(", ")
}

async fn refuse_same_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    certificate: &Certificate,
    except: Option<CertificateId>,
) -> Result<()> {
    let key = certificate_key(certificate);
    let same = list(conn, CERTIFICATES_SQL, company, certificate_from_row)
        .await?
        .into_iter()
        .find(|c| Some(c.id) != except && certificate_key(c) == key);
    match same {
        Some(same) => Err(StoreError::Conflict(format!(
            "party {} already has certificate {} with the policies {}; change that one instead",
            certificate.party_id,
            same.id,
            numbers(&key.1)
        ))),
        None => Ok(()),
    }
}

async fn insert_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    c: &Certificate,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_certificates (company_id, party_id, certificate_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(company)
    .bind(c.party_id.0)
    .bind(to_json("certificate", c)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_certificate(
    conn: &mut AnyConnection,
    company: CompanyId,
    c: &Certificate,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE compliance_certificates SET party_id = $3, certificate_json = $4, updated_at = $5 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(c.id.0)
    .bind(company)
    .bind(c.party_id.0)
    .bind(to_json("certificate", c)?)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_found("certificate", c.id.0, company));
    }
    Ok(())
}

async fn insert_waiver(conn: &mut AnyConnection, company: CompanyId, w: &Waiver) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO compliance_waivers (company_id, party_id, waiver_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(company)
    .bind(w.party_id.0)
    .bind(to_json("waiver", w)?)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?)
}

async fn update_waiver(conn: &mut AnyConnection, company: CompanyId, w: &Waiver) -> Result<()> {
    sqlx::query(
        "UPDATE compliance_waivers SET party_id = $3, waiver_json = $4, updated_at = $5 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(w.id.0)
    .bind(company)
    .bind(w.party_id.0)
    .bind(to_json("waiver", w)?)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- reads ----

/// The statements that read a company's records; shared by the single lists and the dataset.
const PARTIES_SQL: &str =
    "SELECT id, name, address, website, active, procore_vendor_id, profile_id \
     FROM compliance_parties WHERE company_id = $1 ORDER BY id";
const PROJECTS_SQL: &str = "SELECT id, name, description, start_date, completion_date, active, \
     procore_project_id, custom_fields_json FROM compliance_projects WHERE company_id = $1 ORDER BY id";
const PARTY_PROJECTS_SQL: &str =
    "SELECT party_id, project_id, profile_id, active, procore_commitment_ids_json \
     FROM compliance_party_projects WHERE company_id = $1 ORDER BY party_id, project_id";
const CONTACTS_SQL: &str =
    "SELECT id, party_id, first_name, last_name, email, phone, fax, is_primary, \
     procore_contact_id FROM compliance_contacts WHERE company_id = $1 ORDER BY id";
const PROFILES_SQL: &str =
    "SELECT id, name, profile_json FROM compliance_profiles WHERE company_id = $1 ORDER BY id";
const CERTIFICATES_SQL: &str =
    "SELECT id, party_id, certificate_json FROM compliance_certificates \
     WHERE company_id = $1 ORDER BY id";
const WAIVERS_SQL: &str =
    "SELECT id, party_id, waiver_json FROM compliance_waivers WHERE company_id = $1 ORDER BY id";

async fn list<T>(
    conn: &mut AnyConnection,
    sql: &'static str,
    company: CompanyId,
    read: fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = sqlx::query(sql).bind(company).fetch_all(&mut *conn).await?;
    rows.iter().map(read).collect()
}

impl Store {
    /// Applies a compliance plan in ONE transaction: the record changes, their links, the
    /// mapping decisions, the outbox items, the insurance write state, the cursors and the
    /// run-log entries are all written, or none is.
    ///
    /// Returns `(index in batch.changes, local id)` for every create. A create whose Procore id
    /// is already linked writes nothing and returns the linked id, so re-applying a plan after
    /// a crash (or two processes applying the same plan) never duplicates a record; a
    /// party-project is keyed by its pair, so setting it again replaces it. Log entries whose
    /// `change` names a create get that create's local id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when a change names a record the company does not have (or a
    /// [`Ref`] that does not resolve); [`StoreError::Conflict`]; [`StoreError::Database`].
    /// Nothing is written on error.
    pub async fn apply_compliance(&self, batch: &ComplianceBatch<'_>) -> Result<Vec<(usize, i64)>> {
        let company = batch.company_id;
        let kinds: Vec<Option<Created>> = batch
            .changes
            .iter()
            .map(|c| match c {
                ComplianceChange::CreateParty { .. } => Some(Created::Party),
                ComplianceChange::CreateProject { .. } => Some(Created::Project),
                ComplianceChange::CreateContact { .. } => Some(Created::Contact),
                _ => None,
            })
            .collect();
        let mut tx = self.begin_write().await?;
        let mut created = Vec::new();
        for (index, change) in batch.changes.iter().enumerate() {
            match change {
                ComplianceChange::CreateParty { party } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Party,
                        party.procore_vendor_id,
                        async |conn| insert_party(conn, company, party).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateParty { party } => {
                    update_party_from_procore(&mut tx, company, party).await?;
                }
                ComplianceChange::CreateProject {
                    project,
                    custom_fields,
                } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Project,
                        project.procore_project_id,
                        async |conn| insert_project(conn, company, project, custom_fields).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateProject {
                    project,
                    custom_fields,
                } => {
                    update_project(&mut tx, company, project, custom_fields).await?;
                }
                ComplianceChange::SetPartyProject {
                    party,
                    project,
                    profile_id,
                    active,
                    procore_commitment_ids,
                } => {
                    let party_id = resolve(
                        &mut tx,
                        company,
                        Created::Party,
                        party_ref(*party),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let project_id = resolve(
                        &mut tx,
                        company,
                        Created::Project,
                        project_ref(*project),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let pp = PartyProject {
                        party_id: PartyId(party_id),
                        project_id: ProjectId(project_id),
                        profile_id: *profile_id,
                        active: *active,
                        procore_commitment_ids: procore_commitment_ids.clone(),
                    };
                    set_party_project(&mut tx, company, &pp, NoProfile::Keeps).await?;
                }
                ComplianceChange::CreateContact { party, contact } => {
                    let party_id = resolve(
                        &mut tx,
                        company,
                        Created::Party,
                        party_ref(*party),
                        &created,
                        &kinds,
                    )
                    .await?;
                    let id = create_linked(
                        &mut tx,
                        company,
                        Created::Contact,
                        contact.procore_contact_id,
                        async |conn| {
                            insert_contact(conn, company, PartyId(party_id), contact).await
                        },
                    )
                    .await?;
                    created.push((index, id));
                }
                ComplianceChange::UpdateContact { contact } => {
                    update_contact(&mut tx, company, contact).await?;
                }
            }
        }
        for m in batch.mappings {
            write_mapping(&mut tx, company, m).await?;
        }
        for item in batch.outbox {
            outbox::enqueue_on(&mut tx, item).await?;
        }
        for w in batch.insurance_writes {
            write_insurance(&mut tx, company, w).await?;
        }
        for cursor in batch.cursors {
            settings::set_cursor_on(&mut tx, company, &cursor.collection, &cursor.value).await?;
        }
        if let Some(run) = batch.run {
            runlog::record_on(&mut tx, run, batch.log, &created).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Everything `evaluate` needs for a company, read in one consistent snapshot: parties,
    /// projects, associations, contacts, profiles, certificates and waivers, each by id
    /// (associations by party, then project). Project custom fields are not part of it; see
    /// [`Store::compliance_projects`].
    pub async fn compliance_dataset(&self, company: CompanyId) -> Result<ComplianceData> {
        // PostgreSQL's default isolation takes a new snapshot per statement; a record added
        // between two reads would otherwise show a certificate of a party the dataset lacks.
        // A SQLite read transaction keeps one snapshot from its first read.
        let mut tx = match self.backend() {
            Backend::Postgres => {
                self.pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
            Backend::Sqlite => self.pool().begin().await?,
        };
        let data = ComplianceData {
            version: FORMAT_VERSION,
            parties: list(&mut tx, PARTIES_SQL, company, party_from_row).await?,
            projects: list(&mut tx, PROJECTS_SQL, company, project_from_row)
                .await?
                .into_iter()
                .map(|r| r.project)
                .collect(),
            party_projects: list(&mut tx, PARTY_PROJECTS_SQL, company, party_project_from_row)
                .await?,
            contacts: list(&mut tx, CONTACTS_SQL, company, contact_from_row).await?,
            profiles: list(&mut tx, PROFILES_SQL, company, profile_from_row).await?,
            certificates: list(&mut tx, CERTIFICATES_SQL, company, certificate_from_row).await?,
            waivers: list(&mut tx, WAIVERS_SQL, company, waiver_from_row).await?,
        };
        tx.commit().await?;
        Ok(data)
    }

    /// The company's parties, by id.
    pub async fn parties(&self, company: CompanyId) -> Result<Vec<Party>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PARTIES_SQL, company, party_from_row).await
    }

    pub async fn party(&self, company: CompanyId, id: PartyId) -> Result<Option<Party>> {
        const SQL: &str =
            "SELECT id, name, address, website, active, procore_vendor_id, profile_id \
             FROM compliance_parties WHERE id = $1 AND company_id = $2";
        let row = sqlx::query(SQL)
            .bind(id.0)
            .bind(company)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(party_from_row).transpose()
    }

    /// The company's compliance projects with their custom fields, by id.
    pub async fn compliance_projects(
        &self,
        company: CompanyId,
    ) -> Result<Vec<ComplianceProjectRecord>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PROJECTS_SQL, company, project_from_row).await
    }

    pub async fn compliance_project(
        &self,
        company: CompanyId,
        id: ProjectId,
    ) -> Result<Option<ComplianceProjectRecord>> {
        let row = sqlx::query(
            "SELECT id, name, description, start_date, completion_date, active, procore_project_id, \
             custom_fields_json FROM compliance_projects WHERE id = $1 AND company_id = $2",
        )
        .bind(id.0)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(project_from_row).transpose()
    }

    /// The company's party-project associations, by party then project.
    pub async fn party_projects(&self, company: CompanyId) -> Result<Vec<PartyProject>> {
        let mut conn = self.pool().acquire().await?;
        list(
            &mut conn,
            PARTY_PROJECTS_SQL,
            company,
            party_project_from_row,
        )
        .await
    }

    /// The company's contacts, by id.
    pub async fn contacts(&self, company: CompanyId) -> Result<Vec<Contact>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, CONTACTS_SQL, company, contact_from_row).await
    }

    /// Saves a profile under its name: a new name inserts it, a known name (in this company)
    /// replaces that profile's requirements and keeps its id, so parties that use it follow.
    /// The given `id` is ignored; the stored one is returned.
    pub async fn upsert_profile(
        &self,
        company: CompanyId,
        profile: &ComplianceProfile,
    ) -> Result<ProfileId> {
        let mut conn = self.pool().acquire().await?;
        upsert_profile_on(&mut conn, company, profile).await
    }

    /// The company's profiles, by id.
    pub async fn profiles(&self, company: CompanyId) -> Result<Vec<ComplianceProfile>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, PROFILES_SQL, company, profile_from_row).await
    }

    pub async fn profile_by_name(
        &self,
        company: CompanyId,
        name: &str,
    ) -> Result<Option<ComplianceProfile>> {
        let row = sqlx::query(
            "SELECT id, name, profile_json FROM compliance_profiles WHERE company_id = $1 AND name = $2",
        )
        .bind(company)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// Adds a certificate of one of the company's parties; the given `id` is ignored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party; [`StoreError::Conflict`]
    /// when the party already has a certificate with the same policy numbers: that is the same paper entered twice, to be changed instead.
    pub async fn add_certificate(
        &self,
        company: CompanyId,
        certificate: &Certificate,
    ) -> Result<CertificateId> {
        let mut tx = self.begin_write().await?;
        ensure_party(&mut tx, company, certificate.party_id).await?;
        refuse_same_certificate(&mut tx, company, certificate, None).await?;
        let id = insert_certificate(&mut tx, company, certificate).await?;
        tx.commit().await?;
        Ok(CertificateId(id))
    }

    /// Replaces certificate `certificate.id` whole (a corrected entry, a renewal on the same
    /// paper).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such certificate or party;
    /// [`StoreError::Conflict`] when another certificate of the party has the same policy
    /// numbers.
    pub async fn replace_certificate(
        &self,
        company: CompanyId,
        certificate: &Certificate,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        ensure_party(&mut tx, company, certificate.party_id).await?;
        refuse_same_certificate(&mut tx, company, certificate, Some(certificate.id)).await?;
        update_certificate(&mut tx, company, certificate).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a certificate; `true` when there was one.
    pub async fn remove_certificate(&self, company: CompanyId, id: CertificateId) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM compliance_certificates WHERE id = $1 AND company_id = $2")
                .bind(id.0)
                .bind(company)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The company's certificates, by id.
    pub async fn certificates(&self, company: CompanyId) -> Result<Vec<Certificate>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, CERTIFICATES_SQL, company, certificate_from_row).await
    }

    /// Adds a waiver or override for one of the company's parties; the given `id` is ignored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party; [`StoreError::Conflict`]
    /// when the party already has a waiver with the same scope and target: evaluation would apply only one of them.
    pub async fn add_waiver(&self, company: CompanyId, waiver: &Waiver) -> Result<WaiverId> {
        let mut tx = self.begin_write().await?;
        ensure_party(&mut tx, company, waiver.party_id).await?;
        let same = list(&mut tx, WAIVERS_SQL, company, waiver_from_row)
            .await?
            .into_iter()
            .find(|w| waiver_key(w) == waiver_key(waiver));
        if let Some(same) = same {
            return Err(StoreError::Conflict(format!(
                "party {} already has waiver {} for the same target and scope; remove it first",
                waiver.party_id, same.id
            )));
        }
        let id = insert_waiver(&mut tx, company, waiver).await?;
        tx.commit().await?;
        Ok(WaiverId(id))
    }

    /// Removes a waiver; `true` when there was one.
    pub async fn remove_waiver(&self, company: CompanyId, id: WaiverId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM compliance_waivers WHERE id = $1 AND company_id = $2")
            .bind(id.0)
            .bind(company)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The company's waivers and overrides, by id.
    pub async fn waivers(&self, company: CompanyId) -> Result<Vec<Waiver>> {
        let mut conn = self.pool().acquire().await?;
        list(&mut conn, WAIVERS_SQL, company, waiver_from_row).await
    }

    /// Records a person's decision about a Procore project or company, replacing any earlier
    /// one. A decision stays until the next one: no sync changes it (see
    /// [`MappingWrite::keep_existing`]).
    pub async fn set_mapping(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
        procore_id: i64,
        decision: MappingDecision,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        write_mapping(
            &mut conn,
            company,
            &MappingWrite {
                kind,
                procore_id,
                decision,
                keep_existing: false,
            },
        )
        .await
    }

    pub async fn mapping(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
        procore_id: i64,
    ) -> Result<Option<ProcoreMapping>> {
        let row = sqlx::query(
            "SELECT company_id, record_kind, procore_id, decision, local_id, created_at, updated_at \
             FROM procore_mappings WHERE company_id = $1 AND record_kind = $2 AND procore_id = $3",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(mapping_from_row).transpose()
    }

    /// Every decision about one kind of Procore record, by Procore id.
    pub async fn mappings(
        &self,
        company: CompanyId,
        kind: ProcoreRecordKind,
    ) -> Result<Vec<ProcoreMapping>> {
        let rows = sqlx::query(
            "SELECT company_id, record_kind, procore_id, decision, local_id, created_at, updated_at \
             FROM procore_mappings WHERE company_id = $1 AND record_kind = $2 ORDER BY procore_id",
        )
        .bind(company)
        .bind(kind.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mapping_from_row).collect()
    }

    /// Forgets that a record was written (it was removed from Procore), so writing it again
    /// later is a first write. With `procore_insurance_id`, only the write of that Procore
    /// record is forgotten: one written since as a new Procore record stays. Forgetting a
    /// record not stored does nothing.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn forget_insurance_write(
        &self,
        company: CompanyId,
        origin_id: &str,
        procore_insurance_id: Option<i64>,
    ) -> Result<()> {
        match procore_insurance_id {
            Some(id) => sqlx::query(
                "DELETE FROM insurance_writes WHERE company_id = $1 AND origin_id = $2 \
                 AND procore_insurance_id = $3",
            )
            .bind(company)
            .bind(origin_id)
            .bind(id),
            None => {
                sqlx::query("DELETE FROM insurance_writes WHERE company_id = $1 AND origin_id = $2")
                    .bind(company)
                    .bind(origin_id)
            }
        }
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Remembers an insurance record as written (outside an apply: e.g. the drain, once Procore
    /// answered). A `None` Procore id keeps the one stored.
    pub async fn record_insurance_write(
        &self,
        company: CompanyId,
        write: &InsuranceWrite,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        write_insurance(&mut conn, company, write).await
    }

    /// Sets the Procore insurance id of a written record once a create answered with it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nothing was written for `origin_id`.
    pub async fn set_procore_insurance_id(
        &self,
        company: CompanyId,
        origin_id: &str,
        procore_insurance_id: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE insurance_writes SET procore_insurance_id = $3 WHERE company_id = $1 AND origin_id = $2",
        )
        .bind(company)
        .bind(origin_id)
        .bind(procore_insurance_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "insurance write",
                id: format!("{origin_id} of company {company}"),
            });
        }
        Ok(())
    }

    /// The last insurance record written for an origin id.
    pub async fn insurance_write(
        &self,
        company: CompanyId,
        origin_id: &str,
    ) -> Result<Option<InsuranceWriteState>> {
        let row = sqlx::query(
            "SELECT company_id, origin_id, record_json, fingerprint, procore_insurance_id, written_at, \
             procore_vendor_id, procore_project_id \
             FROM insurance_writes WHERE company_id = $1 AND origin_id = $2",
        )
        .bind(company)
        .bind(origin_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(insurance_write_from_row).transpose()
    }

    /// Every insurance record written for the company, by origin id.
    pub async fn insurance_writes(&self, company: CompanyId) -> Result<Vec<InsuranceWriteState>> {
        let rows = sqlx::query(
            "SELECT company_id, origin_id, record_json, fingerprint, procore_insurance_id, written_at, \
             procore_vendor_id, procore_project_id \
             FROM insurance_writes WHERE company_id = $1 ORDER BY origin_id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(insurance_write_from_row).collect()
    }

    /// Saves the company's compliance integration settings, replacing what it had. The typed
    /// form lives in the sync crate; the store keeps the JSON it is given.
    pub async fn save_compliance_settings(
        &self,
        company: CompanyId,
        settings: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO compliance_settings (company_id, settings_json, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET settings_json = excluded.settings_json, \
             updated_at = excluded.updated_at",
        )
        .bind(company)
        .bind(to_json("compliance settings", settings)?)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The company's compliance settings, `None` until saved once.
    pub async fn compliance_settings(
        &self,
        company: CompanyId,
    ) -> Result<Option<serde_json::Value>> {
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT settings_json FROM compliance_settings WHERE company_id = $1",
        )
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        stored
            .map(|s| from_json("compliance settings", &s))
            .transpose()
    }
}

// ---- import ----

/// How many records of one kind an import added, and how many it found stored and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
}

impl Imported {
    fn count(&mut self, found: bool) {
        if found {
            self.updated += 1;
        } else {
            self.added += 1;
        }
    }
}

/// What [`Store::import_compliance`] did, by kind; a second import of the same file adds
/// nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub profiles: Imported,
    pub parties: Imported,
    pub projects: Imported,
    pub party_projects: Imported,
    pub contacts: Imported,
    pub certificates: Imported,
    pub waivers: Imported,
}

impl ImportSummary {
    pub fn added(&self) -> usize {
        self.all().iter().map(|i| i.added).sum()
    }

    pub fn updated(&self) -> usize {
        self.all().iter().map(|i| i.updated).sum()
    }

    fn all(&self) -> [Imported; 7] {
        [
            self.profiles,
            self.parties,
            self.projects,
            self.party_projects,
            self.contacts,
            self.certificates,
            self.waivers,
        ]
    }
}

/// What the import format cannot say by itself but the store needs to find records again:
/// `problems()` plus names and keys an import would otherwise apply twice over one record.
fn import_problems(data: &ComplianceData) -> Vec<String> {
    let mut out: Vec<String> = data.problems().iter().map(ToString::to_string).collect();
    let mut seen = HashMap::new();
    for p in &data.profiles {
        if let Some(first) = seen.insert(p.name.as_str(), p.id) {
            out.push(format!(
                "profiles {first} and {} are both named \"{}\"; a profile is saved under its name",
                p.id, p.name
            ));
        }
    }
    let mut seen = HashMap::new();
    for p in data
        .parties
        .iter()
        .filter(|p| p.procore_vendor_id.is_none())
    {
        if let Some(first) = seen.insert(p.name.as_str(), p.id) {
            out.push(format!(
                "parties {first} and {} are both named \"{}\" and have no procore_vendor_id; \
                 a party without one is found again by its name",
                p.id, p.name
            ));
        }
    }
    let mut seen = HashMap::new();
    for p in data
        .projects
        .iter()
        .filter(|p| p.procore_project_id.is_none())
    {
        if let Some(first) = seen.insert(p.name.as_str(), p.id) {
            out.push(format!(
                "projects {first} and {} are both named \"{}\" and have no procore_project_id; \
                 a project without one is found again by its name",
                p.id, p.name
            ));
        }
    }
    let mut seen = HashMap::new();
    for c in &data.certificates {
        let key = certificate_key(c);
        let list = numbers(&key.1);
        if let Some(first) = seen.insert(key, c.id) {
            out.push(format!(
                "certificates {first} and {} of party {} list the same policies ({list}); a \
                 certificate is found again by its policy numbers, so merge them (applies_to \
                 can name several projects)",
                c.id, c.party_id
            ));
        }
    }
    for (i, w) in data.waivers.iter().enumerate() {
        if let Some(first) = data.waivers[..i]
            .iter()
            .find(|x| waiver_key(x) == waiver_key(w))
        {
            out.push(format!(
                "waivers {} and {} of party {} have the same target and scope; keep one",
                first.id, w.id, w.party_id
            ));
        }
    }
    out
}

/// The one stored record a name finds, if any; two are a question only a person can answer.
fn by_name<'a, T>(
    what: &str,
    name: &str,
    mut candidates: impl Iterator<Item = &'a T>,
    procore_field: &str,
) -> Result<Option<&'a T>> {
    let first = candidates.next();
    if first.is_some() && candidates.next().is_some() {
        return Err(StoreError::Conflict(format!(
            "several {what} are named \"{name}\"; give the one in the file its {procore_field}, \
             or rename one of them"
        )));
    }
    Ok(first)
}

fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

impl Store {
    /// Imports a compliance document (`docs/compliance-import.md`) in ONE transaction: all of
    /// it is written, or nothing is.
    ///
    /// Importing the same document again updates what the first import wrote instead of adding
    /// to it, because every record is looked up first: a profile by name; a party or project by
    /// its Procore id, else by its name; an association by its pair; a contact by its Procore
    /// id, else within its party by email (ignoring case), else by first and last name; a
    /// certificate by its party and the set of its policy numbers; a waiver by its party, scope
    /// and target. A found record takes the file's fields, except a Procore id the file leaves
    /// out, which is kept. The file's own ids only connect its records to each other.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a document that is wrong in itself (every problem is
    /// listed); [`StoreError::Conflict`] when a name finds several stored records;
    /// [`StoreError::Database`]. Nothing is written on error.
    pub async fn import_compliance(
        &self,
        company: CompanyId,
        data: &ComplianceData,
    ) -> Result<ImportSummary> {
        let problems = import_problems(data);
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems.join("; ")));
        }
        let mut summary = ImportSummary::default();
        let mut tx = self.begin_write().await?;

        let stored = list(&mut tx, PROFILES_SQL, company, profile_from_row).await?;
        let mut profiles = HashMap::new();
        for p in &data.profiles {
            summary
                .profiles
                .count(stored.iter().any(|s| s.name == p.name));
            profiles.insert(p.id, upsert_profile_on(&mut tx, company, p).await?);
        }
        let profile = |id: Option<ProfileId>| id.map(|id| profiles[&id]);

        let stored = list(&mut tx, PARTIES_SQL, company, party_from_row).await?;
        let mut parties = HashMap::new();
        for p in &data.parties {
            let found = match p.procore_vendor_id {
                Some(v) => match linked_local_id(&mut tx, company, LinkKind::Party, v).await? {
                    Some(id) => stored.iter().find(|s| s.id.0 == id),
                    None => stored.iter().find(|s| s.procore_vendor_id == Some(v)),
                },
                None => by_name(
                    "parties",
                    &p.name,
                    stored.iter().filter(|s| s.name == p.name),
                    "procore_vendor_id",
                )?,
            };
            summary.parties.count(found.is_some());
            let mut party = Party {
                profile_id: profile(p.profile_id),
                ..p.clone()
            };
            let id = match found {
                Some(s) => {
                    party.id = s.id;
                    party.procore_vendor_id = party.procore_vendor_id.or(s.procore_vendor_id);
                    // Procore owns a linked party's address and website: a file that leaves
                    // them out keeps what the sync wrote.
                    if party.procore_vendor_id.is_some() {
                        party.address = party.address.or_else(|| s.address.clone());
                        party.website = party.website.or_else(|| s.website.clone());
                    }
                    update_party(&mut tx, company, &party).await?;
                    s.id.0
                }
                None => {
                    let party = &party;
                    create_linked(
                        &mut tx,
                        company,
                        Created::Party,
                        party.procore_vendor_id,
                        async |conn| insert_party(conn, company, party).await,
                    )
                    .await?
                }
            };
            parties.insert(p.id, PartyId(id));
        }

        let stored = list(&mut tx, PROJECTS_SQL, company, project_from_row).await?;
        let mut projects = HashMap::new();
        for p in &data.projects {
            let found = match p.procore_project_id {
                Some(v) => {
                    match linked_local_id(&mut tx, company, LinkKind::ComplianceProject, v).await? {
                        Some(id) => stored.iter().find(|s| s.project.id.0 == id),
                        None => stored
                            .iter()
                            .find(|s| s.project.procore_project_id == Some(v)),
                    }
                }
                None => by_name(
                    "projects",
                    &p.name,
                    stored.iter().filter(|s| s.project.name == p.name),
                    "procore_project_id",
                )?,
            };
            summary.projects.count(found.is_some());
            let mut project = p.clone();
            let id = match found {
                Some(s) => {
                    project.id = s.project.id;
                    project.procore_project_id =
                        project.procore_project_id.or(s.project.procore_project_id);
                    // Procore owns a linked project's description and dates: a file that
                    // leaves them out keeps what the sync wrote.
                    if project.procore_project_id.is_some() {
                        project.description = project
                            .description
                            .or_else(|| s.project.description.clone());
                        project.start_date = project.start_date.or(s.project.start_date);
                        project.completion_date =
                            project.completion_date.or(s.project.completion_date);
                    }
                    update_project(&mut tx, company, &project, &s.custom_fields).await?;
                    s.project.id.0
                }
                None => {
                    let project = &project;
                    let fields = CustomFields::new();
                    create_linked(
                        &mut tx,
                        company,
                        Created::Project,
                        project.procore_project_id,
                        async |conn| insert_project(conn, company, project, &fields).await,
                    )
                    .await?
                }
            };
            projects.insert(p.id, ProjectId(id));
        }

        let stored = list(&mut tx, PARTY_PROJECTS_SQL, company, party_project_from_row).await?;
        for pp in &data.party_projects {
            let mut pp = PartyProject {
                party_id: parties[&pp.party_id],
                project_id: projects[&pp.project_id],
                profile_id: profile(pp.profile_id),
                ..pp.clone()
            };
            let before = stored
                .iter()
                .find(|s| (s.party_id, s.project_id) == (pp.party_id, pp.project_id));
            // The commitments that made an association are Procore's to say: a file without
            // them keeps those the sync recorded, or the sync would take the association for
            // one made by hand and never end it.
            if let Some(before) = before {
                if pp.procore_commitment_ids.is_empty() {
                    pp.procore_commitment_ids = before.procore_commitment_ids.clone();
                }
            }
            summary.party_projects.count(before.is_some());
            set_party_project(&mut tx, company, &pp, NoProfile::Clears).await?;
        }

        let stored = list(&mut tx, CONTACTS_SQL, company, contact_from_row).await?;
        for c in &data.contacts {
            let party = parties[&c.party_id];
            let linked = match c.procore_contact_id {
                Some(v) => linked_local_id(&mut tx, company, LinkKind::Contact, v).await?,
                None => None,
            };
            let found = stored.iter().find(|s| match linked {
                Some(id) => s.id.0 == id,
                None if c.procore_contact_id.is_some() => false,
                None if c.email.is_some() => s.party_id == party && same_text(&s.email, &c.email),
                None => {
                    s.party_id == party
                        && s.email.is_none()
                        && (c.first_name.is_some() || c.last_name.is_some())
                        && (&s.first_name, &s.last_name) == (&c.first_name, &c.last_name)
                }
            });
            summary.contacts.count(found.is_some());
            let mut contact = Contact {
                party_id: party,
                ..c.clone()
            };
            match found {
                Some(s) => {
                    contact.id = s.id;
                    contact.procore_contact_id =
                        contact.procore_contact_id.or(s.procore_contact_id);
                    update_contact(&mut tx, company, &contact).await?;
                }
                None => {
                    let contact = &contact;
                    create_linked(
                        &mut tx,
                        company,
                        Created::Contact,
                        contact.procore_contact_id,
                        async |conn| insert_contact(conn, company, party, contact).await,
                    )
                    .await?;
                }
            }
        }

        let stored = list(&mut tx, CERTIFICATES_SQL, company, certificate_from_row).await?;
        for c in &data.certificates {
            let mut c = c.clone();
            c.party_id = parties[&c.party_id];
            if let AppliesTo::Projects(ids) = &mut c.applies_to {
                for id in ids {
                    *id = projects[id];
                }
            }
            let key = certificate_key(&c);
            match stored.iter().find(|s| certificate_key(s) == key) {
                Some(s) => {
                    c.id = s.id;
                    update_certificate(&mut tx, company, &c).await?;
                    summary.certificates.count(true);
                }
                None => {
                    insert_certificate(&mut tx, company, &c).await?;
                    summary.certificates.count(false);
                }
            }
        }

        let stored = list(&mut tx, WAIVERS_SQL, company, waiver_from_row).await?;
        for w in &data.waivers {
            let mut w = w.clone();
            w.party_id = parties[&w.party_id];
            if let WaiverScope::Project(p) = &mut w.scope {
                *p = projects[p];
            }
            match stored.iter().find(|s| waiver_key(s) == waiver_key(&w)) {
                Some(s) => {
                    w.id = s.id;
                    update_waiver(&mut tx, company, &w).await?;
                    summary.waivers.count(true);
                }
                None => {
                    insert_waiver(&mut tx, company, &w).await?;
                    summary.waivers.count(false);
                }
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Gives a party the profile of its global compliance (also the fallback for its
    /// projects), or none. Only that column is written, so a sync applying at the same time
    /// keeps it and this keeps the sync's fields.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such party or profile.
    pub async fn set_party_profile(
        &self,
        company: CompanyId,
        party: PartyId,
        profile: Option<ProfileId>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(profile) = profile {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM compliance_profiles WHERE id = $1 AND company_id = $2",
            )
            .bind(profile.0)
            .bind(company)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(not_found("profile", profile.0, company));
            }
        }
        let done = sqlx::query(
            "UPDATE compliance_parties SET profile_id = $3, updated_at = $4 \
             WHERE id = $1 AND company_id = $2",
        )
        .bind(party.0)
        .bind(company)
        .bind(profile.map(|p| p.0))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("party", party.0, company));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a profile nobody uses; `false` when the company has none of that name.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] while a party or a party-project still names it: removing it
    /// would silently stop tracking their compliance.
    pub async fn remove_profile(&self, company: CompanyId, name: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM compliance_profiles WHERE company_id = $1 AND name = $2",
        )
        .bind(company)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        let parties: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM compliance_parties WHERE company_id = $1 AND profile_id = $2",
        )
        .bind(company)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let associations: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM compliance_party_projects WHERE company_id = $1 AND profile_id = $2",
        )
        .bind(company)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if parties + associations > 0 {
            return Err(StoreError::Conflict(format!(
                "profile \"{name}\" is used by {parties} parties and {associations} party-projects; \
                 give them another profile first"
            )));
        }
        sqlx::query("DELETE FROM compliance_profiles WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
