//! Reading rows: the statements that read a company's records (shared by the lists, the
//! dataset and the import), each row's decoder, and the JSON codec of the columns stored whole.

use super::{
    ComplianceProjectRecord, InsuranceWriteState, MappingDecision, ProcoreMapping,
    ProcoreRecordKind,
};
use crate::db::{flag, int, opt_int, opt_text, parse_date, text, timestamp};
use crate::models::CompanyId;
use crate::{Result, StoreError};
use chrono::NaiveDate;
use domain::compliance::{
    Certificate, CertificateId, ComplianceProfile, Contact, ContactId, Party, PartyId,
    PartyProject, ProfileId, Project, ProjectId, Waiver, WaiverId,
};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

pub(super) fn to_json<T: serde::Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T> {
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
pub(super) fn party_from_row(row: &AnyRow) -> Result<Party> {
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

pub(super) fn project_from_row(row: &AnyRow) -> Result<ComplianceProjectRecord> {
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

pub(super) fn party_project_from_row(row: &AnyRow) -> Result<PartyProject> {
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

pub(super) fn contact_from_row(row: &AnyRow) -> Result<Contact> {
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

pub(super) fn profile_from_row(row: &AnyRow) -> Result<ComplianceProfile> {
    let mut p: ComplianceProfile = from_json("compliance profile", &text(row, "profile_json")?)?;
    p.id = ProfileId(int(row, "id")?);
    p.name = text(row, "name")?;
    Ok(p)
}

pub(super) fn certificate_from_row(row: &AnyRow) -> Result<Certificate> {
    let mut c: Certificate = from_json("certificate", &text(row, "certificate_json")?)?;
    c.id = CertificateId(int(row, "id")?);
    c.party_id = PartyId(int(row, "party_id")?);
    Ok(c)
}

pub(super) fn waiver_from_row(row: &AnyRow) -> Result<Waiver> {
    let mut w: Waiver = from_json("waiver", &text(row, "waiver_json")?)?;
    w.id = WaiverId(int(row, "id")?);
    w.party_id = PartyId(int(row, "party_id")?);
    Ok(w)
}

pub(super) fn mapping_from_row(row: &AnyRow) -> Result<ProcoreMapping> {
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

pub(super) fn insurance_write_from_row(row: &AnyRow) -> Result<InsuranceWriteState> {
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

/// The statements that read a company's records; shared by the single lists and the dataset.
pub(super) const PARTIES_SQL: &str =
    "SELECT id, name, address, website, active, procore_vendor_id, profile_id \
     FROM compliance_parties WHERE company_id = $1 ORDER BY id";
pub(super) const PROJECTS_SQL: &str = "SELECT id, name, description, start_date, completion_date, active, \
     procore_project_id, custom_fields_json FROM compliance_projects WHERE company_id = $1 ORDER BY id";
pub(super) const PARTY_PROJECTS_SQL: &str =
    "SELECT party_id, project_id, profile_id, active, procore_commitment_ids_json \
     FROM compliance_party_projects WHERE company_id = $1 ORDER BY party_id, project_id";
pub(super) const CONTACTS_SQL: &str =
    "SELECT id, party_id, first_name, last_name, email, phone, fax, is_primary, \
     procore_contact_id FROM compliance_contacts WHERE company_id = $1 ORDER BY id";
pub(super) const PROFILES_SQL: &str =
    "SELECT id, name, profile_json FROM compliance_profiles WHERE company_id = $1 ORDER BY id";
pub(super) const CERTIFICATES_SQL: &str =
    "SELECT id, party_id, certificate_json FROM compliance_certificates \
     WHERE company_id = $1 ORDER BY id";
pub(super) const WAIVERS_SQL: &str =
    "SELECT id, party_id, waiver_json FROM compliance_waivers WHERE company_id = $1 ORDER BY id";

pub(super) async fn list<T>(
    conn: &mut AnyConnection,
    sql: &'static str,
    company: CompanyId,
    read: fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = sqlx::query(sql).bind(company).fetch_all(&mut *conn).await?;
    rows.iter().map(read).collect()
}
