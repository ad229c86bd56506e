//! [`Store::import_compliance`]: a compliance document written in one transaction. The store
//! reads what it holds, `matching` decides which stored record each record of the file is, and
//! this writes what it decided.

use super::matching::{import_problems, match_import, Matches, Stored};
use super::profiles::{
    insert_certificate, insert_waiver, update_certificate, update_waiver, upsert_profile_on,
};
use super::rows::{
    certificate_from_row, contact_from_row, list, party_from_row, party_project_from_row,
    profile_from_row, project_from_row, waiver_from_row, CERTIFICATES_SQL, CONTACTS_SQL,
    PARTIES_SQL, PARTY_PROJECTS_SQL, PROFILES_SQL, PROJECTS_SQL, WAIVERS_SQL,
};
use super::writes::{
    create_linked, insert_contact, insert_party, insert_project, set_party_project, update_contact,
    update_party, update_project, Created, NoProfile,
};
use crate::links::links_on;
use crate::models::{CompanyId, LinkKind};
use crate::{Result, Store, StoreError};
use domain::compliance::{
    AppliesTo, ComplianceData, Contact, Party, PartyId, PartyProject, ProfileId, ProjectId,
    WaiverScope,
};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// How many records of one kind an import added, and how many it found stored and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
}

/// What [`Store::import_compliance`] did, by kind; a second import of the same file adds
/// nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// [`StoreError::InvalidImport`] for a document that is wrong in itself (every problem is
    /// listed); [`StoreError::Conflict`] when a name finds several stored records;
    /// [`StoreError::Database`]. Nothing is written on error.
    pub async fn import_compliance(
        &self,
        company: CompanyId,
        data: &ComplianceData,
    ) -> Result<ImportSummary> {
        let problems = import_problems(data);
        if !problems.is_empty() {
            return Err(StoreError::InvalidImport(problems));
        }
        let mut tx = self.begin_write().await?;
        let stored = load(&mut tx, company).await?;
        let matches = match_import(data, &stored)?;
        write(&mut tx, company, data, &matches).await?;
        tx.commit().await?;
        Ok(matches.summary())
    }
}

/// Everything [`match_import`] compares the file with.
async fn load(conn: &mut AnyConnection, company: CompanyId) -> Result<Stored> {
    Ok(Stored {
        profiles: list(conn, PROFILES_SQL, company, profile_from_row).await?,
        parties: list(conn, PARTIES_SQL, company, party_from_row).await?,
        projects: list(conn, PROJECTS_SQL, company, project_from_row).await?,
        party_projects: list(conn, PARTY_PROJECTS_SQL, company, party_project_from_row).await?,
        contacts: list(conn, CONTACTS_SQL, company, contact_from_row).await?,
        certificates: list(conn, CERTIFICATES_SQL, company, certificate_from_row).await?,
        waivers: list(conn, WAIVERS_SQL, company, waiver_from_row).await?,
        party_links: links_on(conn, company, LinkKind::Party).await?,
        project_links: links_on(conn, company, LinkKind::ComplianceProject).await?,
        contact_links: links_on(conn, company, LinkKind::Contact).await?,
    })
}

/// Writes what [`match_import`] decided, turning the file's ids into stored ones as the
/// records they name are written.
async fn write(
    conn: &mut AnyConnection,
    company: CompanyId,
    data: &ComplianceData,
    matches: &Matches,
) -> Result<()> {
    let mut profiles = HashMap::new();
    for (p, m) in data.profiles.iter().zip(&matches.profiles) {
        profiles.insert(p.id, upsert_profile_on(conn, company, &m.record).await?);
    }
    let profile = |id: Option<ProfileId>| id.map(|id| profiles[&id]);

    let mut parties = HashMap::new();
    for (p, m) in data.parties.iter().zip(&matches.parties) {
        let party = Party {
            profile_id: profile(m.record.profile_id),
            ..m.record.clone()
        };
        let id = if m.found {
            update_party(conn, company, &party).await?;
            party.id.0
        } else {
            let party = &party;
            create_linked(
                conn,
                company,
                Created::Party,
                party.procore_vendor_id,
                async |conn| insert_party(conn, company, party).await,
            )
            .await?
        };
        parties.insert(p.id, PartyId(id));
    }

    let mut projects = HashMap::new();
    for (p, m) in data.projects.iter().zip(&matches.projects) {
        let project = &m.record.project;
        let fields = &m.record.custom_fields;
        let id = if m.found {
            update_project(conn, company, project, fields).await?;
            project.id.0
        } else {
            create_linked(
                conn,
                company,
                Created::Project,
                project.procore_project_id,
                async |conn| insert_project(conn, company, project, fields).await,
            )
            .await?
        };
        projects.insert(p.id, ProjectId(id));
    }

    for m in &matches.party_projects {
        let pp = PartyProject {
            party_id: parties[&m.record.party_id],
            project_id: projects[&m.record.project_id],
            profile_id: profile(m.record.profile_id),
            ..m.record.clone()
        };
        set_party_project(conn, company, &pp, NoProfile::Clears).await?;
    }

    for m in &matches.contacts {
        let party = parties[&m.record.party_id];
        let contact = Contact {
            party_id: party,
            ..m.record.clone()
        };
        if m.found {
            update_contact(conn, company, &contact).await?;
        } else {
            let contact = &contact;
            create_linked(
                conn,
                company,
                Created::Contact,
                contact.procore_contact_id,
                async |conn| insert_contact(conn, company, party, contact).await,
            )
            .await?;
        }
    }

    for m in &matches.certificates {
        let mut c = m.record.clone();
        c.party_id = parties[&c.party_id];
        if let AppliesTo::Projects(ids) = &mut c.applies_to {
            for id in ids {
                *id = projects[id];
            }
        }
        if m.found {
            update_certificate(conn, company, &c).await?;
        } else {
            insert_certificate(conn, company, &c).await?;
        }
    }

    for m in &matches.waivers {
        let mut w = m.record.clone();
        w.party_id = parties[&w.party_id];
        if let WaiverScope::Project(p) = &mut w.scope {
            *p = projects[p];
        }
        if m.found {
            update_waiver(conn, company, &w).await?;
        } else {
            insert_waiver(conn, company, &w).await?;
        }
    }
    Ok(())
}
