//! Writes, on a connection so the apply and the single calls share them: one record of a
//! party, project, association or contact at a time, the mapping decisions and insurance
//! writes, and how the links follow the Procore ids the records carry.

use super::rows::to_json;
use super::{CustomFields, InsuranceWrite, MappingWrite, Ref};
use crate::db::{now, ts};
use crate::links::{self, insert_link_if_absent, linked_local_id};
use crate::models::{CompanyId, Link, LinkKind, LinkOrigin};
use crate::{Result, StoreError};
use domain::compliance::{Contact, Party, PartyId, PartyProject, Project, ProjectId};
use sqlx::AnyConnection;

pub(super) fn not_found(what: &'static str, id: i64, company: CompanyId) -> StoreError {
    StoreError::NotFound {
        what,
        id: format!("{id} of company {company}"),
    }
}

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

pub(super) async fn ensure_party(
    conn: &mut AnyConnection,
    company: CompanyId,
    id: PartyId,
) -> Result<()> {
    ensure(conn, company, Created::Party, id.0).await
}

/// Fails with [`StoreError::NotFound`] unless every project is the company's: a certificate or
/// waiver scoped to projects must not point at another company's.
pub(super) async fn ensure_projects(
    conn: &mut AnyConnection,
    company: CompanyId,
    projects: impl IntoIterator<Item = ProjectId>,
) -> Result<()> {
    for project in projects {
        ensure(conn, company, Created::Project, project.0).await?;
    }
    Ok(())
}

pub(super) async fn insert_party(
    conn: &mut AnyConnection,
    company: CompanyId,
    p: &Party,
) -> Result<i64> {
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

pub(super) async fn update_party(
    conn: &mut AnyConnection,
    company: CompanyId,
    p: &Party,
) -> Result<()> {
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
pub(super) async fn update_party_from_procore(
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

pub(super) async fn insert_project(
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

pub(super) async fn update_project(
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
pub(super) enum NoProfile {
    Clears,
    Keeps,
}

pub(super) async fn set_party_project(
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

pub(super) async fn insert_contact(
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

pub(super) async fn update_contact(
    conn: &mut AnyConnection,
    company: CompanyId,
    c: &Contact,
) -> Result<()> {
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

pub(super) async fn write_mapping(
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

pub(super) async fn write_insurance(
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
pub(super) enum Created {
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
pub(super) async fn resolve(
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

pub(super) fn party_ref(r: Ref<PartyId>) -> Ref<i64> {
    match r {
        Ref::Id(id) => Ref::Id(id.0),
        Ref::Procore(p) => Ref::Procore(p),
        Ref::Created(i) => Ref::Created(i),
    }
}

pub(super) fn project_ref(r: Ref<ProjectId>) -> Ref<i64> {
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
pub(super) async fn create_linked(
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
