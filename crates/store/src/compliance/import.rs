//! [`Store::import_compliance`]: a compliance document written in one transaction, each record
//! found again among the stored ones first so a second import updates instead of adding.

use super::profiles::{
    certificate_key, insert_certificate, insert_waiver, numbers, update_certificate, update_waiver,
    upsert_profile_on, waiver_key,
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
use super::CustomFields;
use crate::links::linked_local_id;
use crate::models::{CompanyId, LinkKind};
use crate::{Result, Store, StoreError};
use domain::compliance::{
    AppliesTo, ComplianceData, Contact, Party, PartyId, PartyProject, ProfileId, ProjectId,
    WaiverScope,
};
use std::collections::HashMap;

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
}
